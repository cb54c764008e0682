/**
 * Names shared by workflows, workers, the API, the local stack and docker-compose:
 * the task queue and the typed custom search attributes.
 *
 * Workflow-safe: imports nothing from Node.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const DEFAULT_TASK_QUEUE = 'aimsflow';

/** Custom search attributes, as registered on the Temporal server. */
export const searchAttributes = {
  /** The PDCA process a workflow belongs to, e.g. `corrective-action`, `human-task`. */
  process: defineSearchAttributeKey('AimsProcess', SearchAttributeType.KEYWORD),
  /** Person id of whoever is accountable for the work (a task's assignee, an approval's preparer). */
  owner: defineSearchAttributeKey('AimsOwner', SearchAttributeType.KEYWORD),
  /** Person ids who must act now (a task's assignee and delegate, an approval's pending approvers). */
  assignees: defineSearchAttributeKey('AimsAssignees', SearchAttributeType.KEYWORD_LIST),
  /** Lifecycle state, e.g. `open`, `overdue`, `completed`. */
  state: defineSearchAttributeKey('AimsState', SearchAttributeType.KEYWORD),
  /** When the current step is due. */
  dueDate: defineSearchAttributeKey('AimsDueDate', SearchAttributeType.DATETIME),
  /** AI system id from the inventory, when the work concerns one. */
  aiSystem: defineSearchAttributeKey('AimsAiSystem', SearchAttributeType.KEYWORD),
  /** ISO/IEC 42001 clauses and Annex A controls, e.g. `10.2`, `A.5.4`. */
  clauses: defineSearchAttributeKey('AimsClauses', SearchAttributeType.KEYWORD_LIST),
  /** The business id of the work, e.g. `NC-2027-004` for a nonconformity. */
  ref: defineSearchAttributeKey('AimsRef', SearchAttributeType.KEYWORD),
  /** Severity of a nonconformity: `major` or `minor`. */
  severity: defineSearchAttributeKey('AimsSeverity', SearchAttributeType.KEYWORD),
  /** Where the work came from, e.g. `internal-audit`, `incident`, `concern`. */
  source: defineSearchAttributeKey('AimsSource', SearchAttributeType.KEYWORD),
} as const;

/** Temporal CLI / operator spelling of each attribute type, for registration. */
const cliTypeNames: Record<string, string> = {
  [SearchAttributeType.KEYWORD]: 'Keyword',
  [SearchAttributeType.DATETIME]: 'Datetime',
  [SearchAttributeType.KEYWORD_LIST]: 'KeywordList',
  [SearchAttributeType.TEXT]: 'Text',
  [SearchAttributeType.INT]: 'Int',
  [SearchAttributeType.DOUBLE]: 'Double',
  [SearchAttributeType.BOOL]: 'Bool',
};

/** `Name=Type` pairs for `temporal server start-dev --search-attribute` and `temporal operator search-attribute create`. */
export function searchAttributeRegistrations(): { name: string; type: string }[] {
  return Object.values(searchAttributes).map((key) => {
    const type = cliTypeNames[key.type];
    if (!type) throw new Error(`no CLI name for search attribute type ${key.type}`);
    return { name: key.name, type };
  });
}
