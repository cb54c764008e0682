/**
 * The reported concern's contract: workflow type and id prefix. Workflow-safe.
 */
import type { ConcernInput, ConcernResult } from './schema.js';

export const CONCERN_WORKFLOW = 'concern';
export type ConcernWorkflow = (input: ConcernInput) => Promise<ConcernResult>;

/** The prefix of a concern's workflow id: `concern/<yyyy>/<short-random>`. */
export const CONCERN_WORKFLOW_PREFIX = 'concern/';
