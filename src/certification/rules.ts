/**
 * The certification body's decision and the audit outcomes as pure rules (ISO/IEC 17021-1
 * 9.4-9.6 as applied with ISO/IEC 42006): what the cycle's update validators refuse, each
 * issue naming the field and the rule. Workflow-safe.
 *
 * - A decision is recorded once it is taken: `decidedOn` is not in the future.
 * - A grant follows its audit (Stage 2, or the recertification), which recommended
 *   certification, and comes only once the body has reviewed and accepted the corrections and
 *   corrective actions of every major nonconformity from that audit: each major still open is
 *   named in `acceptedPlans`, which the decision's record keeps.
 * - The external audits are held in order: an audit's completion date is after the one before.
 */
import { auditNames, dateEndMs, dateMs, type AuditKey, type Decision } from './schema.js';

export type OutcomeRule =
  | 'decided-not-in-the-future'
  | 'decision-after-audit'
  | 'grant-needs-recommendation'
  | 'majors-accepted-before-grant'
  | 'accepted-plan-of-this-audit'
  | 'accepted-plans-with-a-grant'
  | 'audits-in-order';

export interface RuleIssue {
  /** The field of the request, e.g. `acceptedPlans.0`. */
  path: string;
  rule: OutcomeRule;
  message: string;
}

/** One line naming every issue's field and rule, as a refusal reads. */
export function issuesText(issues: Array<{ path: string; rule: string; message: string }>): string {
  return issues.map((i) => `${i.path}: ${i.message} (rule ${i.rule})`).join('; ');
}

/** How far ahead of the workflow's clock a date may be and still count as now (clock skew). */
const NOW_SKEW_MS = 60_000;

/** A nonconformity raised from a finding of the body, and whether its corrective action still runs. */
export interface NcOfAudit {
  ncId: string;
  /** The body's finding reference, e.g. `F-3`. */
  ref: string;
  severity: 'major' | 'minor';
  /** Neither closed nor cancelled yet. */
  open: boolean;
}

export interface DecisionFacts {
  nowMs: number;
  /** For a grant: the audit it follows, when and with what result it was held, and the NCs raised from it. */
  audit?: { key: AuditKey; completedOn?: string | undefined; result?: string | undefined; ncs: NcOfAudit[] } | undefined;
}

/** The decision rules broken by `input`, given where the cycle is (`facts`). */
export function decisionIssues(input: { decision: Decision; decidedOn: string; acceptedPlans?: string[] | undefined }, facts: DecisionFacts): RuleIssue[] {
  const issues: RuleIssue[] = [];
  const issue = (path: string, rule: OutcomeRule, message: string) => issues.push({ path, rule, message });
  if (dateMs(input.decidedOn) > facts.nowMs + NOW_SKEW_MS) {
    issue('decidedOn', 'decided-not-in-the-future', `${input.decidedOn} is in the future`);
  }
  const accepted = input.acceptedPlans ?? [];
  if (input.decision !== 'granted') {
    if (accepted.length) issue('acceptedPlans', 'accepted-plans-with-a-grant', 'only given with a granted decision');
    return issues;
  }
  const audit = facts.audit;
  if (!audit) return issues;
  const name = auditNames[audit.key];
  if (audit.completedOn && dateMs(input.decidedOn) < dateMs(audit.completedOn)) {
    issue('decidedOn', 'decision-after-audit', `the decision must come after the ${name} (held on ${audit.completedOn})`);
  }
  if (audit.result === 'not-recommended') {
    issue('decision', 'grant-needs-recommendation', `the ${name} did not recommend certification (not-recommended): a certificate cannot be granted on it`);
  }
  accepted.forEach((ncId, i) => {
    if (!audit.ncs.some((nc) => nc.ncId === ncId)) issue(`acceptedPlans.${i}`, 'accepted-plan-of-this-audit', `${ncId} is not a nonconformity raised from the ${name}`);
  });
  const open = audit.ncs.filter((nc) => nc.severity === 'major' && nc.open && !accepted.includes(nc.ncId));
  if (open.length) {
    const list = open.map((nc) => `${nc.ncId} (${nc.ref})`).join(', ');
    issue(
      'acceptedPlans',
      'majors-accepted-before-grant',
      `major nonconformit${open.length === 1 ? 'y' : 'ies'} ${list} from the ${name} ${open.length === 1 ? 'is' : 'are'} open: ` +
        'a certificate is granted once the body has accepted the corrections and corrective actions of every major (name each accepted one in acceptedPlans)',
    );
  }
  return issues;
}

/** An audit's completion date keeps the order of the cycle: after the audit held before it. */
export function completionIssues(audit: AuditKey, completedOn: string, previous: { key: AuditKey; completedOn: string } | undefined): RuleIssue[] {
  if (!previous) return [];
  const at = dateMs(completedOn);
  const before = dateMs(previous.completedOn);
  // Stage 2 is a separate visit after Stage 1 (as the plan rule stage2-after-stage1); later audits may follow on the same day.
  const outOfOrder = audit === 'stage2' ? at <= before : at < before;
  if (!outOfOrder) return [];
  return [
    {
      path: 'completedOn',
      rule: 'audits-in-order',
      message: `the ${auditNames[audit]} must come after the ${auditNames[previous.key]} (held on ${previous.completedOn})`,
    },
  ];
}

/** When the decision after Stage 2 is expected if the plan names no date: Stage 2 plus the audit window. */
export function defaultDecisionDue(stage2: string, auditWindowMs: number): string {
  return new Date(dateEndMs(stage2) + auditWindowMs).toISOString();
}
