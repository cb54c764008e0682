/**
 * The steps of a certification cycle: an external audit (reminders with a calendar invitation
 * and readiness checks before it, its outcome awaited within its window, a missed window
 * escalated), the body's decision (escalated when late), the watch on the certificate's expiry,
 * and the management review started when a readiness check finds none complete.
 */
import { condition, isCancellation, log, patched } from '@temporalio/workflow';
import { auditNames, DAY_MS, dateEndMs, dateMs, dayOf, isReady, readinessLines, type AuditKey, type ReadinessReport } from '../../src/certification/schema.js';
import { MANAGEMENT_REVIEW_WORKFLOW, managementReviewWorkflowId } from '../../src/management-review/contract.js';
import type { ManagementReviewInput } from '../../src/management-review/schema.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts } from '../lib/activities.js';
import { FAILED_CHILD_PATCH, startDetached, STEP_ATTEMPTS } from '../lib/children.js';
import type { Certification, Step } from './state.js';
const abbreviations: Record<AuditKey, string> = { stage1: 'st1', stage2: 'st2', surveillance1: 'sv1', surveillance2: 'sv2', recertification: 'rc' };

/**
 * Runs one external audit: reminders and readiness checks before it, then waits for its
 * outcome within its window; a missed window is escalated once. Does nothing once the cycle
 * has stopped.
 */
export async function externalAudit(c: Certification, key: AuditKey): Promise<void> {
  if (c.finished()) return;
  c.current = key;
  const a = c.ensureAudit(key);
  c.publish();
  const fired = new Set<string>();
  let armedVersion = -1;
  let armedAt = 0;
  for (;;) {
    if (a.completedOn || c.finished()) return;
    c.publish();
    if (armedVersion !== c.planVersion) {
      // The first arming counts from the run's start, so a reminder due while the cycle was
      // setting up is sent late rather than skipped; a move re-arms from now.
      armedAt = armedVersion === -1 && key === c.sequence[0] ? Math.min(Date.now(), c.runStartMs) : Date.now();
      armedVersion = c.planVersion;
    }
    const due = dateMs(c.plannedOf(key));
    const version = c.planVersion;
    const wake = () => c.planVersion !== version || a.completedOn !== undefined || c.finished();
    const now = Date.now();
    if (now < due) {
      const next = beforeAudit(c, due, armedAt, fired)[0];
      if (await condition(wake, Math.max(1, (next?.at ?? due) - now))) continue;
      if (next) {
        fired.add(next.id);
        if (next.kind === 'reminder') await remind(c, key, next.offsetMs);
        else await checkReadiness(c, key, next.offsetMs);
      }
      c.publish();
      continue;
    }
    const windowEnd = c.windowEndMs(key);
    if (!a.missed && now < windowEnd) {
      await condition(wake, windowEnd - now);
      continue;
    }
    if (!a.missed) {
      a.missed = true;
      const problem = `the ${auditNames[key]} planned for ${c.plannedOf(key)} has no recorded outcome and its window closed on ${dayOf(windowEnd)}`;
      await escalate(c, key, problem, 'certification.window-missed');
      continue;
    }
    await condition(wake);
  }
}

/** The reminders and readiness checks still ahead of an audit due at `due`, soonest first (a reminder before a check at the same time). */
function beforeAudit(c: Certification, due: number, armedAt: number, fired: Set<string>) {
  return [
    ...c.reminderOffsetsMs().map((offsetMs) => ({ id: `r:${offsetMs}:${due}`, at: due - offsetMs, kind: 'reminder' as const, offsetMs })),
    ...c.readinessOffsetsMs().map((offsetMs) => ({ id: `c:${offsetMs}:${due}`, at: due - offsetMs, kind: 'readiness' as const, offsetMs })),
  ]
    .filter((e) => !fired.has(e.id) && e.at >= armedAt)
    .sort((x, y) => x.at - y.at || (x.kind === 'reminder' ? -1 : 1));
}

/** Reminds the AIMS manager of the audit, with the calendar invitation. */
async function remind(c: Certification, key: AuditKey, offsetMs: number): Promise<void> {
  const a = c.ensureAudit(key);
  const label = `${Math.round(offsetMs / 1000)}s-v${c.planVersion}`;
  a.remindersSent.push(new Date().toISOString());
  c.event('reminded', 'system', `reminder: ${auditNames[key]} on ${c.plannedOf(key)}`);
  c.publish();
  await c.send(
    'certification.reminder',
    `${key}/reminder-${label}`,
    [c.aimsManager()],
    { title: c.auditTitle(key), dueDate: c.plannedOf(key), auditName: auditNames[key], bodyName: c.body?.name ?? 'the certification body' },
    c.invite(key),
  );
}

/**
 * Checks readiness for the audit (the period's internal audits covering the AIMS scope, a
 * management review in the period, open major nonconformities), starts a management review when
 * none is complete, records the report and tells the AIMS manager and top management.
 */
async function checkReadiness(c: Certification, key: AuditKey, offsetMs: number): Promise<void> {
  const a = c.ensureAudit(key);
  const check = `${Math.round(offsetMs / 1000)}s`;
  const found = await acts.certificationReadiness({ audit: key, check, period: c.periodOf(key) });
  let reviewStarted: ReadinessReport['reviewStarted'];
  if (found.managementReview.available && !found.managementReview.complete) reviewStarted = await startReview(c, key);
  const report: ReadinessReport = { ...found, at: new Date().toISOString(), ...(reviewStarted ? { reviewStarted } : {}), ready: isReady(found) };
  a.readiness.push(report);
  c.event('readiness', 'system', `readiness for the ${auditNames[key]}: ${report.ready ? 'ready' : 'not ready'}`, { check, ready: report.ready });
  c.publish();
  await c.append('certification.readiness', 'system', { ...report }, `readiness-${key}-${check}-v${c.planVersion}`);
  await c.send('certification.readiness', `${key}/readiness-${check}-v${c.planVersion}`, c.management(), {
    title: c.auditTitle(key),
    dueDate: c.plannedOf(key),
    auditName: auditNames[key],
    ready: report.ready,
    checks: readinessLines(report),
  });
}

/**
 * Starts a management review covering the period before the audit, as a child that outlives the
 * cycle; one already started (an earlier check, a retried task) is the review asked for.
 */
async function startReview(c: Certification, key: AuditKey, ask = 1): Promise<{ reviewId: string; workflowId: string }> {
  const due = dateMs(c.plannedOf(key));
  const base = `${c.spec.certificateId.toLowerCase()}-c${c.cycle}-${abbreviations[key]}`;
  // A review asked again after a failure: a fresh one, `...-r<n>`.
  const qualifier = ask === 1 ? base.slice(0, 31).replace(/-+$/, '') : `${base.slice(0, 28).replace(/-+$/, '')}-r${ask}`;
  const reviewId = `${new Date(due).getUTCFullYear()}-${qualifier}`;
  const workflowId = managementReviewWorkflowId(reviewId);
  const input: ManagementReviewInput = {
    reviewId,
    // Two weeks before the audit; at least two days ahead, so the inputs can still be asked for.
    meetingDate: dayOf(Math.max(Date.now() + 2 * DAY_MS, due - 14 * DAY_MS)),
    requestedBy: 'system',
    trigger: 'certification',
    triggerRef: c.workflowId,
  };
  await startDetached(MANAGEMENT_REVIEW_WORKFLOW, {
    workflowId,
    args: [input],
    staticSummary: `Management review ${reviewId} before the ${auditNames[key]} of ${c.spec.certificateId}`,
    typedSearchAttributes: [
      { key: searchAttributes.process, value: 'management-review' },
      { key: searchAttributes.ref, value: reviewId },
    ],
    onClosed: (result) => {
      if (result !== undefined) return;
      reviewFailed(c, key, reviewId, ask).catch((err: unknown) => {
        if (!isCancellation(err)) log.error('a failed management review could not be asked again', { reviewId, error: err instanceof Error ? err.message : String(err) });
      });
    },
  });
  return { reviewId, workflowId };
}

/**
 * A management review the cycle started failed (or was terminated) while the cycle runs: recorded,
 * and a fresh one is started (`...-r<n>`), up to `STEP_ATTEMPTS` in all.
 */
async function reviewFailed(c: Certification, key: AuditKey, reviewId: string, ask: number): Promise<void> {
  if (c.finished() || !patched(FAILED_CHILD_PATCH)) return;
  const again = ask < STEP_ATTEMPTS;
  c.event('review-failed', 'system', `management review ${reviewId} failed; ${again ? 'a fresh one is started' : `it failed ${ask} times and is given up`}`, { reviewId });
  c.publish();
  await c.append('certification.review-failed', 'system', { audit: key, reviewId, failures: ask, askedAgain: again }, `review-failed-${reviewId}`);
  if (!again) return;
  const started = await startReview(c, key, ask + 1);
  c.event('readiness', 'system', `management review ${started.reviewId} started in place of ${reviewId}`, { reviewId: started.reviewId });
  c.publish();
}

/**
 * Waits for the certification (or recertification) decision: true when granted, false when the
 * cycle stopped. The initial decision is expected by its planned date plus the audit window;
 * past it the AIMS manager and top management are told once per planned date.
 */
export async function certificationDecision(c: Certification): Promise<boolean> {
  if (c.finished()) return false;
  c.current = 'decision';
  c.publish();
  let escalatedVersion = -1;
  for (;;) {
    if (c.grant !== undefined || c.finished()) return c.grant !== undefined && !c.finished();
    const version = c.planVersion;
    const wake = () => c.grant !== undefined || c.finished() || c.planVersion !== version;
    const expected = !c.certificate && c.plan.decision ? dateEndMs(c.plan.decision) + c.auditWindowMs() : undefined;
    if (expected === undefined || escalatedVersion === version) {
      await condition(wake);
      continue;
    }
    if (Date.now() < expected) {
      await condition(wake, expected - Date.now());
      continue;
    }
    escalatedVersion = version;
    await escalate(c, 'decision', `no certification decision is recorded although it was expected by ${dayOf(expected)}`, 'certification.decision-late');
  }
}

/**
 * A certificate past its expiry without a recertification decision expires (and is escalated).
 * A recertification decision ends the watch: the next cycle watches the renewed certificate.
 */
export async function watchExpiry(c: Certification): Promise<void> {
  for (;;) {
    if (c.done || c.finished()) return;
    const certificate = c.certificate;
    if (!certificate) {
      await condition(() => c.certificate !== undefined || c.done || c.finished());
      continue;
    }
    const expiry = dateEndMs(certificate.expiresOn);
    if (await condition(() => c.done || c.finished() || c.grant !== undefined, Math.max(1, expiry - Date.now()))) return;
    c.standing = 'expired';
    await escalate(c, 'recertification', `the certificate expired on ${certificate.expiresOn} without a recertification decision`, 'certification.expired');
    return;
  }
}

/** Records a problem with a step (`recordKind`) and tells the AIMS manager and top management, once per plan version. */
async function escalate(c: Certification, key: Step, problem: string, recordKind: string): Promise<void> {
  const name = key === 'decision' ? 'certification decision' : auditNames[key];
  const planned = key === 'decision' ? (c.plan.decision ?? '') : c.plannedOf(key);
  c.event('escalated', 'system', problem);
  c.publish();
  await c.append(recordKind, 'system', { audit: key, planned, problem }, `${recordKind}-${key}-v${c.planVersion}`);
  await c.send('certification.escalated', `${key}/escalated-${recordKind}-v${c.planVersion}`, c.management(), {
    title: `${c.spec.certificateId}: ${name}`,
    dueDate: planned,
    auditName: name,
    problem,
  });
}
