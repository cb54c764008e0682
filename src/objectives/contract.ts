/**
 * Messages of the objective measurement workflow (6.2, 9.1): its type name, id, query and
 * updates. Workflow-safe.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { UpdateAck } from '../common/messages.js';
import type { ChangeObjective, ObjectiveInput, ObjectiveResult, ObjectiveStatus, RetireObjective } from './schema.js';

export const OBJECTIVE_WORKFLOW = 'objectiveMeasurement';
export type ObjectiveWorkflow = (input: ObjectiveInput) => Promise<ObjectiveResult>;

export const OBJECTIVES_PREFIX = 'objective/';

/** `objective/model-accuracy`. */
export function objectiveWorkflowId(objectiveId: string): string {
  return `${OBJECTIVES_PREFIX}${objectiveId}`;
}

export const objectiveStatusQuery = defineQuery<ObjectiveStatus>('objectiveStatus');
export const changeObjectiveUpdate = defineUpdate<UpdateAck, [ChangeObjective]>('changeObjective');
export const retireObjectiveUpdate = defineUpdate<UpdateAck, [RetireObjective]>('retireObjective');
