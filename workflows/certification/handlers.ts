/**
 * What the AIMS manager (or the admin API as the system) can do to a running cycle: move audit
 * dates, record an audit's outcome with the body's findings, record the body's decision, and end
 * the cycle. Each update's validator refuses with a reason naming the field and the rule.
 */
import { patched, setHandler } from '@temporalio/workflow';
import {
  certificationStatusQuery,
  endCycleUpdate,
  moveAuditDatesUpdate,
  recordAuditOutcomeUpdate,
  recordDecisionUpdate,
  type CertificationAck,
  type MoveDates,
  type RecordDecision,
  type RecordOutcome,
} from '../../src/certification/contract.js';
import {
  auditNames,
  checkCycleDates,
  dateEndMs,
  dateMs,
  endCycleSchema,
  moveDatesSchema,
  recordDecisionSchema,
  recordOutcomeSchema,
  type AuditKey,
  type AuditPlan,
  type AuditStatus,
  type CycleHistoryEntry,
  type DateIssue,
} from '../../src/certification/schema.js';
import { completionIssues, decisionIssues, issuesText } from '../../src/certification/rules.js';
import type { CorrectiveActionResult } from '../../src/corrective-action/schema.js';
import { raiseNonconformity } from '../lib/children.js';
import { onUpdate } from '../lib/handlers.js';
import { reject } from '../lib/util.js';
import type { Certification } from './state.js';
import { registerCertificationHandover } from './handover.js';

export function registerCertificationHandlers(c: Certification): void {
  const ready = () => c.settings !== undefined;

  setHandler(certificationStatusQuery, () => c.status());
  registerCertificationHandover(c);

  onUpdate(moveAuditDatesUpdate, {
    schema: moveDatesSchema,
    ready,
    check: (input) => checkMove(c, input),
    apply: async (input) => {
      const before = { ...c.plan };
      Object.assign(c.plan, input.dates);
      c.planVersion += 1;
      c.warnings = checkCycleDates(c.cycleDates(), { risky: c.people().risky, pathOf: (f) => `dates.${f}` }).warnings;
      for (const a of c.audits) {
        // A missed audit moved to a window still open is expected again.
        if (a.missed && !a.completedOn && c.windowEndMs(a.audit) > Date.now()) a.missed = false;
        c.ensureAudit(a.audit);
      }
      const changes = Object.entries(input.dates).map(([k, v]) => `${k} ${before[k as keyof AuditPlan] ?? '(none)'} → ${v}`);
      c.event('dates-moved', input.by, `${changes.join(', ')}: ${input.reason}`, { before, after: { ...c.plan } });
      c.publish();
      const { warnings } = c;
      await c.append('certification.dates-moved', input.by, { before, after: { ...c.plan }, reason: input.reason, warnings });
      return c.ack(`Audit dates moved (${changes.join(', ')}).`, { warnings });
    },
  });

  onUpdate(recordAuditOutcomeUpdate, {
    schema: recordOutcomeSchema,
    ready,
    check: (input) => checkOutcome(c, input),
    apply: (input) => recordOutcome(c, input),
  });

  onUpdate(recordDecisionUpdate, {
    schema: recordDecisionSchema,
    ready,
    check: (input) => checkDecision(c, input),
    apply: async (input) => {
      let warnings: DateIssue[] = [];
      const entry: CycleHistoryEntry['decisions'][number] = {
        decision: input.decision,
        decidedOn: input.decidedOn,
        by: input.by,
        ...(input.reason ? { reason: input.reason } : {}),
        ...(input.acceptedPlans?.length ? { acceptedPlans: input.acceptedPlans } : {}),
      };
      if (input.decision === 'granted') {
        const { grant, dates } = c.grantOf(input);
        entry.expiresOn = grant.expiresOn;
        c.grant = grant;
        warnings = checkCycleDates(dates, { risky: c.people().risky }).warnings;
        c.warnings = warnings;
      } else {
        c.standing = standingAfter[input.decision];
      }
      c.decisions.push(entry);
      const plans = entry.acceptedPlans ? ` (the body accepted the plans of ${entry.acceptedPlans.join(', ')})` : '';
      c.event('decision', input.by, `${input.decision} on ${input.decidedOn}${plans}${input.reason ? `: ${input.reason}` : ''}`, { ...entry });
      c.publish();
      await c.append('certification.decision', input.by, { ...entry, ...(c.grant?.nextPlan ? { nextPlan: c.grant.nextPlan } : {}), warnings });
      return c.ack(`Decision recorded: ${input.decision}.`, { warnings });
    },
  });

  onUpdate(endCycleUpdate, {
    schema: endCycleSchema,
    ready,
    check: (input) => {
      c.checkActor(input.by, 'end the certification cycle');
      if (c.ended) reject('the cycle has already ended');
    },
    apply: (input) => {
      c.ended = { by: input.by, at: new Date().toISOString(), reason: input.reason };
      c.event('ended', input.by, `cycle ended: ${input.reason}`);
      c.publish();
      return c.ack('The certification cycle is ending.');
    },
  });
}

/** Moved dates keep the rules, move only audits still ahead in this cycle, and leave a recorded decision alone. */
function checkMove(c: Certification, input: MoveDates): void {
  c.checkActor(input.by, 'move audit dates');
  c.ensureRunning();
  const moved = Object.keys(input.dates) as Array<keyof AuditPlan>;
  for (const field of moved) {
    if (field === 'decision') {
      if (c.certificate || c.grant) reject('dates.decision: the certification decision is already recorded');
      continue;
    }
    if (!c.sequence.includes(field)) reject(`dates.${field}: this cycle has no ${auditNames[field]} (the certificate is already granted)`);
    const held = c.auditOf(field)?.completedOn;
    if (held) reject(`dates.${field}: the ${auditNames[field]} was already held on ${held}`);
  }
  const result = checkCycleDates(c.cycleDates({ ...c.plan, ...input.dates }), {
    risky: c.people().risky,
    nowMs: Date.now(),
    future: moved.filter((f) => f !== 'decision'),
    pathOf: (f) => (f === 'expiresOn' ? 'certificate.expiresOn' : `dates.${f}`),
  });
  // Rules broken by audits already held are history; only pending dates can be refused.
  const pending = result.errors.filter((e) => !c.auditOf(e.path.replace(/^dates\./, '') as AuditKey)?.completedOn);
  if (pending.length) reject(`the dates break the certification rules: ${issuesText(pending)}`);
}

/** An outcome is for the audit the cycle is at and held by now; its findings are owned by known people and due in time. */
function checkOutcome(c: Certification, input: RecordOutcome): void {
  c.checkActor(input.by, 'record an audit outcome');
  c.ensureRunning();
  const { current } = c;
  if (current === 'decision') reject(`the cycle awaits the certification decision; the ${auditNames[input.audit]} cannot be recorded now`);
  if (input.audit !== current) {
    const held = c.auditOf(input.audit)?.completedOn;
    reject(
      held
        ? `audit: the ${auditNames[input.audit]} was already recorded (held on ${held})`
        : `audit: the cycle is at the ${current ? auditNames[current] : 'end'}, not the ${auditNames[input.audit]}`,
    );
  }
  if (dateMs(input.completedOn) > Date.now() + 60_000) reject(`completedOn: ${input.completedOn} is in the future`);
  const order = completionIssues(input.audit, input.completedOn, c.heldBefore(input.audit));
  if (order.length) reject(issuesText(order));
  const decisionAt = c.decisionDueAfter(input.audit, input.completedOn);
  input.findings.forEach((f, i) => {
    if (f.owner && !c.people().people.includes(f.owner)) reject(`findings.${i}.owner: unknown person "${f.owner}"`);
    if (!f.deadline) return;
    const deadline = dateEndMs(f.deadline);
    if (deadline <= Date.now()) reject(`findings.${i}.deadline: ${f.deadline} is in the past`);
    if (f.severity === 'major' && decisionAt && deadline > dateEndMs(decisionAt)) {
      reject(`findings.${i}.deadline: a major nonconformity must be corrected before the certification decision (${decisionAt})`);
    }
  });
}

/**
 * A decision fits where the cycle is and the certificate's standing, and keeps the decision
 * rules (rules.ts: taken by now; a grant after a recommending audit, every open major's plan
 * accepted by the body); a grant leaves dates that keep the rules.
 */
function checkDecision(c: Certification, input: RecordDecision): void {
  c.checkActor(input.by, 'record a certification decision');
  c.ensureRunning();
  const { certificate, standing } = c;
  switch (input.decision) {
    case 'granted': {
      if (c.current !== 'decision') reject('decision: a certificate is granted after the Stage 2 or recertification audit is recorded');
      const issues = decisionIssues(input, { nowMs: Date.now(), audit: c.grantAudit() });
      if (issues.length) reject(`the grant breaks the decision rules: ${issuesText(issues)}`);
      const { grant, dates } = c.grantOf(input);
      const pathOf = (f: keyof typeof dates) =>
        f === 'expiresOn' ? 'expiresOn' : f === 'decision' ? 'decidedOn' : certificate ? `nextPlan.${f}` : `plan.${f}`;
      const result = checkCycleDates(dates, { risky: c.people().risky, pathOf });
      if (certificate && dateMs(grant.expiresOn) <= dateMs(certificate.expiresOn)) {
        reject(`expiresOn: the renewed certificate must run past the current expiry (${certificate.expiresOn})`);
      }
      if (result.errors.length) {
        reject(`the decision leaves dates that break the certification rules: ${issuesText(result.errors)}${certificate ? '' : ' (move the audit dates first)'}`);
      }
      break;
    }
    case 'refused':
      if (c.current !== 'decision') reject('decision: a certification is refused only when the decision is due');
      break;
    case 'suspended':
      if (standing !== 'valid') reject(`decision: only a valid certificate can be suspended (it is ${standing === 'none' ? 'not granted yet' : standing})`);
      break;
    case 'reinstated':
      if (standing !== 'suspended') reject('decision: only a suspended certificate can be reinstated');
      break;
    case 'withdrawn':
      if (standing !== 'valid' && standing !== 'suspended') reject('decision: only a granted certificate can be withdrawn');
      break;
  }
  if (input.decision !== 'granted') {
    const issues = decisionIssues(input, { nowMs: Date.now() });
    if (issues.length) reject(issuesText(issues));
  }
}

/** The certificate's standing after a decision other than a grant. */
const standingAfter = { refused: 'refused', suspended: 'suspended', reinstated: 'valid', withdrawn: 'withdrawn' } as const;

/** Marks a finding's corrective action closed or cancelled when it ends; a failed or terminated one stays open. */
function whenClosed(c: Certification, entry: AuditStatus['findings'][number], audit: AuditKey) {
  return (result: CorrectiveActionResult | undefined): void => {
    if (!result) return;
    entry.ncClosedAs = result.status;
    c.event('nonconformity-closed', 'system', `${result.ncId} (${entry.ref}, ${auditNames[audit]}) ${result.status}`, { ncId: result.ncId, status: result.status });
  };
}

/**
 * The decision majors found in this audit are due by (`decisionDueAfter`). A Stage 2 without a
 * planned decision gave its majors only the default NC deadline before the decision defaulted to
 * Stage 2 plus the audit window: cycles that recorded such an outcome keep the deadlines their
 * corrective actions were started with (patch).
 */
function majorsDueBy(c: Certification, input: RecordOutcome): string | undefined {
  if (input.audit === 'stage2' && c.plan.decision === undefined && !patched('certification-stage2-default-decision')) return undefined;
  return c.decisionDueAfter(input.audit, input.completedOn);
}

/**
 * Records an audit's outcome: the body's findings are kept on the audit and each nonconformity
 * starts a corrective action due by the body's deadline (by default from the settings; a major
 * found before a decision is due before that decision).
 */
async function recordOutcome(c: Certification, input: RecordOutcome): Promise<CertificationAck> {
  const a = c.ensureAudit(input.audit);
  a.completedOn = input.completedOn;
  a.result = input.result;
  a.recordedBy = input.by;
  if (input.summary) a.summary = input.summary;
  const raisedAt = new Date().toISOString();
  const decisionAt = majorsDueBy(c, input);
  const raised: NonNullable<CertificationAck['nonconformities']> = [];
  for (const [i, f] of input.findings.entries()) {
    const entry: AuditStatus['findings'][number] = { ...f };
    a.findings.push(entry);
    if (f.severity !== 'major' && f.severity !== 'minor') continue;
    let deadline = f.deadline ? dateEndMs(f.deadline) : Date.now() + c.ncDeadlineMs(f.severity);
    if (!f.deadline && f.severity === 'major' && decisionAt && dateEndMs(decisionAt) > Date.now()) deadline = Math.min(deadline, dateEndMs(decisionAt));
    const nc = await raiseNonconformity(`c${c.cycle}-${input.audit}-finding-${i + 1}-${c.firstRunId.slice(0, 8)}`, {
      title: `${c.spec.certificateId} ${auditNames[input.audit]} ${f.ref}: ${f.title}`.slice(0, 200),
      description: `${f.description}\n\nFinding ${f.ref} of ${c.body?.name ?? 'the certification body'} in the ${auditNames[input.audit]} of certificate ${c.spec.certificateId}, held on ${input.completedOn}.`,
      severity: f.severity,
      source: 'certification-audit',
      sourceRef: `${c.spec.certificateId}/${input.audit}/${f.ref}`.slice(0, 200),
      clauses: f.clauses,
      owner: f.owner ?? c.people().aimsManager.id,
      raisedBy: input.by,
      raisedAt,
      policy: { ...(c.spec.policy.correctiveAction ?? {}), overallTarget: `${Math.max(1000, deadline - Date.parse(raisedAt))}ms` },
    }, whenClosed(c, entry, input.audit));
    entry.ncId = nc.ncId;
    entry.workflowId = nc.workflowId;
    entry.deadlineAt = new Date(deadline).toISOString();
    raised.push({ ref: f.ref, ncId: nc.ncId, workflowId: nc.workflowId, severity: f.severity, deadlineAt: entry.deadlineAt });
  }
  const ncs = `${raised.length} nonconformit${raised.length === 1 ? 'y' : 'ies'}`;
  c.event('audit-recorded', input.by, `${auditNames[input.audit]} held on ${input.completedOn}: ${input.result}, ${input.findings.length} finding(s), ${ncs}`, {
    audit: input.audit,
    ncIds: raised.map((r) => r.ncId),
  });
  c.publish();
  await c.append(
    'certification.audit-recorded',
    input.by,
    { audit: input.audit, planned: a.planned, completedOn: input.completedOn, result: input.result, summary: input.summary ?? null, findings: a.findings },
    `audit-${input.audit}`,
  );
  return c.ack(`${auditNames[input.audit]} recorded${raised.length ? `; ${raised.length} corrective action(s) started` : ''}.`, { nonconformities: raised });
}
