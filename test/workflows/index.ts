// Test-only workflow bundle: the real workflows plus parents used to test how they are started.
export * from '../../workflows/index.js';
export { raisingParent } from './raising-parent.js';
