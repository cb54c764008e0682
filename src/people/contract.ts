/**
 * The organization change's contract: the workflow that hands over the running work of people
 * who left (or whose AI system changed hands, or whose work is handed over on purpose), one
 * handover update per workflow they hold a part in. Workflow-safe.
 */
import type { PersonMove, PersonWorkItem } from './rules.js';

export const ORGANIZATION_CHANGE_WORKFLOW = 'organizationChange';

/**
 * How long a change waits before its first handover: twice the interval at which every process
 * reads the version in force (ORGANIZATION_REFRESH_MS in src/organization/holder.ts), so the
 * workflows taking over look people up in the new version.
 */
export const ORGANIZATION_SETTLE_MS = 10_000;

export interface OrganizationChangeInput {
  /** What the change is known by: the accepted organization version, or a handover request. */
  ref: string;
  /** Who asked for it (a person, or `system` for an organization file taking effect). */
  by: string;
  reason: string;
  moves: PersonMove[];
}

/** What happened to one part of someone's work. */
export interface HandoverOutcome {
  workflowId: string;
  type: string;
  title: string;
  from: string;
  /** Who was asked to take over. */
  to: string;
  moved: boolean;
  /** Who took over each part, as the workflow answered (it may name someone else than `to`). */
  parts: Array<{ part: string; to: string; note?: string }>;
  /** Why it was not moved: the workflow refused, or it closed in the meantime. */
  reason?: string;
}

export interface OrganizationChangeResult {
  ref: string;
  outcomes: HandoverOutcome[];
}

export type OrganizationChangeWorkflow = (input: OrganizationChangeInput) => Promise<OrganizationChangeResult>;

export const organizationChangeWorkflowId = (ref: string): string => `organization-change/${ref}`;

/** A planned handover: one item of someone's work and who is asked to take it. */
export interface PlannedHandover {
  item: PersonWorkItem;
  to: string;
}
