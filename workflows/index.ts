// Workflow entry points registered with the worker. Deterministic code only.
export { humanTask } from './human-task.js';
export { approval } from './approval.js';
export { correctiveAction } from './corrective-action.js';
export { concern } from './concern.js';
