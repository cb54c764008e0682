/**
 * Certification cycle (ISO/IEC 17021-1 as applied with ISO/IEC 42006): one workflow per
 * certificate, `certification/iso42001/<certificateId>`. It runs Stage 1 → Stage 2 → the
 * certification decision → surveillance 1 → surveillance 2 → recertification and the
 * recertification decision, then continues as new for the next three-year cycle, carrying the
 * certificate's history.
 *
 * Before each external audit the AIMS manager gets reminders (with a calendar invitation) and
 * readiness checks run (internal audit and management review covering the period, open major
 * nonconformities; a missing review is started). After each audit the AIMS manager records the
 * outcome and the body's findings; each nonconformity starts a corrective action with the
 * body's deadline. A missed audit window and an expired certificate are escalated to top
 * management. The certificate's state is in `AimsState`, the memo and the status query.
 */
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  ParentClosePolicy,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import {
  addMonths,
  auditNames,
  certificationInputSchema,
  certificationState,
  checkCycleDates,
  dateMs,
  dayOf,
  defaultExpiry,
  defaultNextPlan,
  endCycleSchema,
  moveDatesSchema,
  readinessLines,
  recordDecisionSchema,
  recordOutcomeSchema,
  type AuditKey,
  type AuditPlan,
  type AuditStatus,
  type CertificateDates,
  type CertificateStanding,
  type CertificationEvent,
  type CertificationInput,
  type CertificationResult,
  type CertificationSettings,
  type CertificationState,
  type CertificationStatus,
  type CycleDates,
  type CycleHistoryEntry,
  type DateIssue,
  type NextPlan,
  type ReadinessReport,
} from '../../src/certification/schema.js';
import { isCalendarDate } from '../../src/common/dates.js';
import { durationMs } from '../../src/common/duration.js';
import type { ManagementReviewInput } from '../../src/management-review/schema.js';
import { managementReviewWorkflowId } from '../../src/management-review/contract.js';
import type { PersonRef } from '../../src/common/schemas.js';
import {
  certificationStatusQuery,
  endCycleUpdate,
  moveAuditDatesUpdate,
  recordAuditOutcomeUpdate,
  recordDecisionUpdate,
  type CertificationAck,
} from '../../src/certification/contract.js';
import { searchAttributes } from '../../src/temporal/search-attributes.js';
import { acts, notify } from '../lib/activities.js';
import { raiseNonconformity } from '../lib/children.js';
import { formatDay, parseOrThrow, reject } from '../lib/util.js';
import { guardedUpdate } from '../lib/handlers.js';
import { ledgerWriter } from '../lib/ledger.js';

const DAY_MS = 86_400_000;
const CLAUSES = ['9.2', '9.3', '10.2'];
const abbreviations: Record<AuditKey, string> = { stage1: 'st1', stage2: 'st2', surveillance1: 'sv1', surveillance2: 'sv2', recertification: 'rc' };

const stateText: Record<CertificationState, string> = {
  'stage-1': 'Stage 1 audit ahead',
  'stage-2': 'Stage 2 audit ahead',
  decision: 'awaiting the certification decision',
  valid: 'valid',
  'surveillance-due': 'surveillance audit due',
  overdue: 'audit window missed',
  suspended: 'suspended',
  withdrawn: 'withdrawn',
  expired: 'expired',
  recertification: 'recertification due',
  refused: 'certification refused',
  ended: 'cycle ended',
};

/** The end of a date's day, or the instant itself. */
const endOf = (value: string) => dateMs(value) + (isCalendarDate(value) ? DAY_MS : 0);

export async function certificationCycle(rawInput: CertificationInput): Promise<CertificationResult> {
  const spec = parseOrThrow(certificationInputSchema, rawInput, 'certification cycle input');
  const info = workflowInfo();
  const workflowId = info.workflowId;
  const cycle = spec.cycle;
  const idBase = `${workflowId}/${info.firstExecutionRunId}/c${cycle}`;

  const plan: AuditPlan = { ...spec.plan };
  let certificate: CertificateDates | undefined = spec.certificate ? { ...spec.certificate } : undefined;
  let standing: CertificateStanding = certificate ? 'valid' : 'none';
  const sequence: AuditKey[] = certificate ? ['surveillance1', 'surveillance2', 'recertification'] : ['stage1', 'stage2', 'surveillance1', 'surveillance2', 'recertification'];
  const audits: AuditStatus[] = [];
  let current: AuditKey | 'decision' | undefined = sequence[0];
  let planVersion = 0;
  let ended: CertificationStatus['ended'];
  let settings: CertificationSettings | undefined = undefined;
  let warnings: DateIssue[] = [];
  let grant: { decidedOn: string; expiresOn: string; nextPlan?: NextPlan } | undefined;
  let body = spec.body;
  const decisions: CycleHistoryEntry['decisions'] = [];
  const timeline: CertificationEvent[] = [];

  const event = (type: string, by: string, detail: string, data?: Record<string, unknown>) =>
    timeline.push({ at: new Date().toISOString(), type, by, detail, ...(data ? { data } : {}) });
  const terminal = () => standing === 'withdrawn' || standing === 'expired' || standing === 'refused';
  const finished = () => ended !== undefined || terminal();
  const auditOf = (key: AuditKey) => audits.find((a) => a.audit === key);

  // Timing: organization settings, overridden by the input's policy.
  const offsets = (given: string[] | undefined, fallback: number[] | undefined) => (given ? given.map(durationMs) : (fallback ?? []));
  const reminderOffsetsMs = () => offsets(spec.policy.reminderOffsets, settings?.reminderOffsetsMs);
  const readinessOffsetsMs = () => offsets(spec.policy.readinessChecks, settings?.readinessChecksMs);
  const auditWindowMs = () => (spec.policy.auditWindow ? durationMs(spec.policy.auditWindow) : (settings?.auditWindowMs ?? 30 * DAY_MS));
  const ncDeadlineMs = (severity: 'major' | 'minor') => {
    const given = spec.policy.ncDeadlines?.[severity];
    return given ? durationMs(given) : (settings?.ncDeadlinesMs[severity] ?? (severity === 'major' ? 90 : 180) * DAY_MS);
  };

  /** The dates the rules look at: held audits at their actual date, the rest as planned. */
  const cycleDates = (p: AuditPlan = plan): CycleDates => ({
    stage1: auditOf('stage1')?.completedOn ?? p.stage1,
    stage2: auditOf('stage2')?.completedOn ?? p.stage2,
    decision: certificate?.decisionDate ?? grant?.decidedOn ?? p.decision,
    surveillance1: auditOf('surveillance1')?.completedOn ?? p.surveillance1,
    surveillance2: auditOf('surveillance2')?.completedOn ?? p.surveillance2,
    recertification: auditOf('recertification')?.completedOn ?? p.recertification,
    expiresOn: certificate?.expiresOn,
    renewalOf: spec.certificate ? spec.history.at(-1)?.certificate?.expiresOn : undefined,
  });

  const plannedOf = (key: AuditKey): string => plan[key] ?? '';

  /** When the outcome of `key` is expected at the latest: planned + window, capped by the rule's limit. */
  const windowEndMs = (key: AuditKey): number => {
    const planned = plannedOf(key);
    let end = endOf(planned) + auditWindowMs();
    const decision = certificate?.decisionDate;
    if (decision && key === 'surveillance1') end = Math.min(end, addMonths(endOf(decision), 12));
    if (decision && key === 'surveillance2') end = Math.min(end, addMonths(endOf(decision), 24));
    if (certificate && key === 'recertification') end = Math.min(end, endOf(certificate.expiresOn));
    return Math.max(end, dateMs(planned));
  };

  const ensureAudit = (key: AuditKey): AuditStatus => {
    let a = auditOf(key);
    if (!a) {
      a = { audit: key, name: auditNames[key], planned: plannedOf(key), windowEndsAt: '', findings: [], missed: false, remindersSent: [], readiness: [] };
      audits.push(a);
    }
    a.planned = plannedOf(key);
    a.windowEndsAt = new Date(windowEndMs(key)).toISOString();
    return a;
  };

  const dueMs = (): number | undefined => {
    if (current === undefined) return undefined;
    if (current === 'decision') return plan.decision ? dateMs(plan.decision) : undefined;
    return dateMs(plannedOf(current));
  };

  const stateNow = (): CertificationState =>
    certificationState({
      standing,
      ended: ended !== undefined,
      current: ended ? undefined : current,
      missed: current !== undefined && current !== 'decision' && (auditOf(current)?.missed ?? false),
      nowMs: Date.now(),
      dueMs: dueMs(),
      dueHorizonMs: Math.max(0, ...reminderOffsetsMs()),
    });

  const status = (): CertificationStatus => ({
    certificateId: spec.certificateId,
    workflowId,
    standard: spec.standard,
    body: body ?? { name: '(not set)' },
    cycle,
    state: stateNow(),
    standing,
    ...(certificate ? { certificate } : {}),
    plan,
    ...(current !== undefined && !finished() ? { current } : {}),
    audits,
    decisions,
    warnings,
    history: spec.history,
    ...(ended ? { ended } : {}),
    timeline,
  });

  const publish = () => {
    const state = stateNow();
    const due = dueMs();
    const currentAudit = current !== undefined && current !== 'decision' ? auditOf(current) : undefined;
    const dueAt = currentAudit?.missed ? undefined : due;
    upsertSearchAttributes([
      { key: searchAttributes.process, value: 'certification' },
      { key: searchAttributes.ref, value: spec.certificateId },
      { key: searchAttributes.state, value: state },
      { key: searchAttributes.clauses, value: CLAUSES },
      ...(settings ? [{ key: searchAttributes.owner, value: settings.aimsManager.id }] : []),
      ...(dueAt !== undefined && !finished() ? [{ key: searchAttributes.dueDate, value: new Date(dueAt) }] : []),
    ]);
    upsertMemo({ kind: 'certification', certificateId: spec.certificateId, cycle, state, body: body?.name ?? null, expiresOn: certificate?.expiresOn ?? null });
    const what =
      current === undefined || finished()
        ? ''
        : current === 'decision'
          ? ' · awaiting the decision'
          : ` · next: ${auditNames[current]} ${formatDay(dateMs(plannedOf(current)))}`;
    const cert = certificate ? ` · expires ${formatDay(dateMs(certificate.expiresOn))}` : '';
    setCurrentDetails(`**${spec.certificateId}** · ${stateText[state]} · cycle ${cycle}${what}${cert}${body ? ` · ${body.name}` : ''}`);
  };

  const records = ledgerWriter({ clauses: CLAUSES, identity: () => ({ certificateId: spec.certificateId, cycle }), idBase: idBase });
  const ledger = records.append;

  const people = () => {
    if (!settings) throw new Error('settings not loaded');
    return settings;
  };

  // Updates and the query.
  setHandler(certificationStatusQuery, status);
  const ready = () => settings !== undefined;
  const ack = (message: string, extra: Partial<CertificationAck> = {}): CertificationAck => ({ ok: true, state: stateNow(), message, warnings: [], ...extra });
  const checkActor = (by: string, what: string) => {
    if (by !== 'system' && by !== settings?.aimsManager.id) reject(`only the AIMS manager can ${what}`);
  };
  const ensureRunning = () => {
    if (ended) reject(`the cycle of ${spec.certificateId} has ended`);
    if (terminal()) reject(`the certificate ${spec.certificateId} is ${standing}`);
  };
  const issuesText = (issues: DateIssue[]) => issues.map((i) => `${i.path}: ${i.message} (rule ${i.rule})`).join('; ');

  setHandler(
    moveAuditDatesUpdate,
    ...guardedUpdate({
      schema: moveDatesSchema,
      ready,
      check: (input) => {
        checkActor(input.by, 'move audit dates');
        ensureRunning();
        const moved = Object.keys(input.dates) as Array<keyof AuditPlan>;
        for (const field of moved) {
          if (field === 'decision') {
            if (certificate || grant) reject('dates.decision: the certification decision is already recorded');
            continue;
          }
          if (!sequence.includes(field)) reject(`dates.${field}: this cycle has no ${auditNames[field]} (the certificate is already granted)`);
          const held = auditOf(field)?.completedOn;
          if (held) reject(`dates.${field}: the ${auditNames[field]} was already held on ${held}`);
        }
        const merged = { ...plan, ...input.dates };
        const result = checkCycleDates(cycleDates(merged), {
          risky: people().risky,
          nowMs: Date.now(),
          future: moved.filter((f) => f !== 'decision'),
          pathOf: (f) => (f === 'expiresOn' ? 'certificate.expiresOn' : `dates.${f}`),
        });
        // Rules broken by audits already held are history; only pending dates can be refused.
        const pending = result.errors.filter((e) => {
          const field = e.path.replace(/^dates\./, '') as AuditKey;
          return !auditOf(field)?.completedOn;
        });
        if (pending.length) reject(`the dates break the certification rules: ${issuesText(pending)}`);
      },
      apply: async (input) => {
        const before = { ...plan };
        Object.assign(plan, input.dates);
        planVersion += 1;
        const result = checkCycleDates(cycleDates(), { risky: people().risky, pathOf: (f) => `dates.${f}` });
        warnings = result.warnings;
        for (const a of audits) {
          if (a.missed && !a.completedOn && windowEndMs(a.audit) > Date.now()) a.missed = false;
          ensureAudit(a.audit);
        }
        const changes = Object.entries(input.dates).map(([k, v]) => `${k} ${before[k as keyof AuditPlan] ?? '(none)'} → ${v}`);
        event('dates-moved', input.by, `${changes.join(', ')}: ${input.reason}`, { before, after: { ...plan } });
        publish();
        await ledger('certification.dates-moved', input.by, { before, after: { ...plan }, reason: input.reason, warnings });
        return ack(`Audit dates moved (${changes.join(', ')}).`, { warnings });
      },
    }),
  );

  setHandler(
    recordAuditOutcomeUpdate,
    ...guardedUpdate({
      schema: recordOutcomeSchema,
      ready,
      check: (input) => {
        checkActor(input.by, 'record an audit outcome');
        ensureRunning();
        if (current === 'decision') reject(`the cycle awaits the certification decision; the ${auditNames[input.audit]} cannot be recorded now`);
        if (input.audit !== current) {
          const held = auditOf(input.audit)?.completedOn;
          reject(
            held
              ? `audit: the ${auditNames[input.audit]} was already recorded (held on ${held})`
              : `audit: the cycle is at the ${current ? auditNames[current] : 'end'}, not the ${auditNames[input.audit]}`,
          );
        }
        if (dateMs(input.completedOn) > Date.now() + 60_000) reject(`completedOn: ${input.completedOn} is in the future`);
        const decisionAt = input.audit === 'stage2' ? plan.decision : input.audit === 'recertification' ? certificate?.expiresOn : undefined;
        input.findings.forEach((f, i) => {
          if (f.owner && !people().people.includes(f.owner)) reject(`findings.${i}.owner: unknown person "${f.owner}"`);
          if (!f.deadline) return;
          const deadline = endOf(f.deadline);
          if (deadline <= Date.now()) reject(`findings.${i}.deadline: ${f.deadline} is in the past`);
          if (f.severity === 'major' && decisionAt && deadline > endOf(decisionAt)) {
            reject(`findings.${i}.deadline: a major nonconformity must be corrected before the certification decision (${decisionAt})`);
          }
        });
      },
      apply: async (input) => {
        const a = ensureAudit(input.audit);
        a.completedOn = input.completedOn;
        a.result = input.result;
        a.recordedBy = input.by;
        if (input.summary) a.summary = input.summary;
        const raisedAt = new Date().toISOString();
        const decisionAt = input.audit === 'stage2' ? plan.decision : input.audit === 'recertification' ? certificate?.expiresOn : undefined;
        const raised: NonNullable<CertificationAck['nonconformities']> = [];
        for (const [i, f] of input.findings.entries()) {
          const entry: AuditStatus['findings'][number] = { ...f };
          a.findings.push(entry);
          if (f.severity !== 'major' && f.severity !== 'minor') continue;
          let deadline = f.deadline ? endOf(f.deadline) : Date.now() + ncDeadlineMs(f.severity);
          // A major found before a certification decision is due before that decision.
          if (!f.deadline && f.severity === 'major' && decisionAt && endOf(decisionAt) > Date.now()) deadline = Math.min(deadline, endOf(decisionAt));
          const title = `${spec.certificateId} ${auditNames[input.audit]} ${f.ref}: ${f.title}`.slice(0, 200);
          const nc = await raiseNonconformity(`c${cycle}-${input.audit}-finding-${i + 1}-${info.firstExecutionRunId.slice(0, 8)}`, {
            title,
            description: `${f.description}\n\nFinding ${f.ref} of ${body?.name ?? 'the certification body'} in the ${auditNames[input.audit]} of certificate ${spec.certificateId}, held on ${input.completedOn}.`,
            severity: f.severity,
            source: 'certification-audit',
            sourceRef: `${spec.certificateId}/${input.audit}/${f.ref}`.slice(0, 200),
            clauses: f.clauses,
            owner: f.owner ?? people().aimsManager.id,
            raisedBy: input.by,
            raisedAt,
            policy: { ...(spec.policy.correctiveAction ?? {}), overallTarget: `${Math.max(1000, deadline - Date.parse(raisedAt))}ms` },
          });
          entry.ncId = nc.ncId;
          entry.workflowId = nc.workflowId;
          entry.deadlineAt = new Date(deadline).toISOString();
          raised.push({ ref: f.ref, ncId: nc.ncId, workflowId: nc.workflowId, severity: f.severity, deadlineAt: entry.deadlineAt });
        }
        event('audit-recorded', input.by, `${auditNames[input.audit]} held on ${input.completedOn}: ${input.result}, ${input.findings.length} finding(s), ${raised.length} nonconformit${raised.length === 1 ? 'y' : 'ies'}`, {
          audit: input.audit,
          ncIds: raised.map((r) => r.ncId),
        });
        publish();
        await ledger('certification.audit-recorded', input.by, {
          audit: input.audit,
          planned: a.planned,
          completedOn: input.completedOn,
          result: input.result,
          summary: input.summary ?? null,
          findings: a.findings,
        }, `audit-${input.audit}`);
        return ack(`${auditNames[input.audit]} recorded${raised.length ? `; ${raised.length} corrective action(s) started` : ''}.`, { nonconformities: raised });
      },
    }),
  );

  setHandler(
    recordDecisionUpdate,
    ...guardedUpdate({
      schema: recordDecisionSchema,
      ready,
      check: (input) => {
        checkActor(input.by, 'record a certification decision');
        ensureRunning();
        switch (input.decision) {
          case 'granted': {
            if (current !== 'decision') reject('decision: a certificate is granted after the Stage 2 or recertification audit is recorded');
            const audited = auditOf(certificate ? 'recertification' : 'stage2')?.completedOn;
            if (audited && dateMs(input.decidedOn) < dateMs(audited)) reject(`decidedOn: the decision must come after the audit (${audited})`);
            const expiresOn = input.expiresOn ?? (certificate ? defaultExpiry(certificate.expiresOn) : defaultExpiry(input.decidedOn));
            const dates: CycleDates = certificate
              ? { decision: input.decidedOn, expiresOn, renewalOf: certificate.expiresOn, ...(input.nextPlan ?? defaultNextPlan(input.decidedOn, expiresOn)) }
              : { ...cycleDates(), decision: input.decidedOn, expiresOn };
            const pathOf = (f: keyof CycleDates) =>
              f === 'expiresOn' ? 'expiresOn' : f === 'decision' ? 'decidedOn' : certificate ? `nextPlan.${f}` : `plan.${f}`;
            const result = checkCycleDates(dates, { risky: people().risky, pathOf });
            if (certificate && dateMs(expiresOn) <= dateMs(certificate.expiresOn)) {
              reject(`expiresOn: the renewed certificate must run past the current expiry (${certificate.expiresOn})`);
            }
            if (result.errors.length) {
              reject(
                `the decision leaves dates that break the certification rules: ${issuesText(result.errors)}${certificate ? '' : ' (move the audit dates first)'}`,
              );
            }
            break;
          }
          case 'refused':
            if (current !== 'decision') reject('decision: a certification is refused only when the decision is due');
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
      },
      apply: async (input) => {
        let resultWarnings: DateIssue[] = [];
        const entry: CycleHistoryEntry['decisions'][number] = {
          decision: input.decision,
          decidedOn: input.decidedOn,
          by: input.by,
          ...(input.reason ? { reason: input.reason } : {}),
        };
        if (input.decision === 'granted') {
          const expiresOn = input.expiresOn ?? (certificate ? defaultExpiry(certificate.expiresOn) : defaultExpiry(input.decidedOn));
          entry.expiresOn = expiresOn;
          grant = { decidedOn: input.decidedOn, expiresOn, ...(certificate ? { nextPlan: input.nextPlan ?? defaultNextPlan(input.decidedOn, expiresOn) } : {}) };
          const dates: CycleDates = grant.nextPlan
            ? { decision: input.decidedOn, expiresOn, ...(certificate ? { renewalOf: certificate.expiresOn } : {}), ...grant.nextPlan }
            : { ...cycleDates(), decision: input.decidedOn, expiresOn };
          resultWarnings = checkCycleDates(dates, { risky: people().risky }).warnings;
          warnings = resultWarnings;
        } else if (input.decision === 'refused') {
          standing = 'refused';
        } else if (input.decision === 'suspended') {
          standing = 'suspended';
        } else if (input.decision === 'reinstated') {
          standing = 'valid';
        } else {
          standing = 'withdrawn';
        }
        decisions.push(entry);
        event('decision', input.by, `${input.decision} on ${input.decidedOn}${input.reason ? `: ${input.reason}` : ''}`, { ...entry });
        publish();
        await ledger('certification.decision', input.by, { ...entry, ...(grant?.nextPlan ? { nextPlan: grant.nextPlan } : {}), warnings: resultWarnings });
        return ack(`Decision recorded: ${input.decision}.`, { warnings: resultWarnings });
      },
    }),
  );

  setHandler(
    endCycleUpdate,
    ...guardedUpdate({
      schema: endCycleSchema,
      ready,
      check: (input) => {
        checkActor(input.by, 'end the certification cycle');
        if (ended) reject('the cycle has already ended');
      },
      apply: (input) => {
        ended = { by: input.by, at: new Date().toISOString(), reason: input.reason };
        event('ended', input.by, `cycle ended: ${input.reason}`);
        publish();
        return ack('The certification cycle is ending.');
      },
    }),
  );

  // Set-up.
  publish();
  settings = await acts.certificationSettings();
  body ??= settings.body;
  const start = checkCycleDates(cycleDates(), { risky: settings.risky });
  warnings = start.warnings;
  event(
    cycle === 1 && !certificate ? 'started' : 'cycle-started',
    spec.startedBy,
    certificate
      ? `cycle ${cycle} of certificate ${spec.certificateId} (decision ${certificate.decisionDate}, expires ${certificate.expiresOn})`
      : `initial certification of ${spec.certificateId} with ${body?.name ?? 'the certification body'}`,
    { warnings: start.warnings },
  );
  publish();
  await ledger('certification.cycle-started', spec.startedBy, { plan, certificate: certificate ?? null, body: body ?? null, warnings: start.warnings, errors: start.errors }, 'started');

  const aimsManager = (): PersonRef => people().aimsManager;
  const topManagement = (): PersonRef[] => people().topManagement;
  const auditTitle = (key: AuditKey) => `${spec.certificateId}: ${auditNames[key]}`;

  const send = (
    kind: 'certification.reminder' | 'certification.readiness' | 'certification.escalated',
    key: string,
    to: PersonRef[],
    data: Record<string, unknown>,
    invite?: Parameters<typeof notify>[0]['invite'],
  ) =>
    notify({
      notificationId: `${idBase}/${key}`,
      kind,
      to,
      data: { certificateId: spec.certificateId, clauses: CLAUSES, ...data },
      ...(invite ? { invite } : {}),
    });

  const inviteFor = (key: AuditKey) => {
    const planned = plannedOf(key);
    const allDay = isCalendarDate(planned);
    return {
      uid: `${workflowId}/c${cycle}/${key}`,
      title: `${auditNames[key]} of ${spec.certificateId}${body ? ` by ${body.name}` : ''}`,
      start: planned,
      end: allDay ? planned : new Date(dateMs(planned) + 8 * 3_600_000).toISOString(),
      sequence: planVersion,
      description: `External ${auditNames[key]} of the AI management system (certificate ${spec.certificateId}).`,
      organizer: aimsManager(),
    };
  };

  const remind = async (key: AuditKey, offsetMs: number) => {
    const a = ensureAudit(key);
    const label = `${Math.round(offsetMs / 1000)}s-v${planVersion}`;
    a.remindersSent.push(new Date().toISOString());
    event('reminded', 'system', `reminder: ${auditNames[key]} on ${plannedOf(key)}`);
    publish();
    await send(
      'certification.reminder',
      `${key}/reminder-${label}`,
      [aimsManager()],
      { title: auditTitle(key), dueDate: plannedOf(key), auditName: auditNames[key], bodyName: body?.name ?? 'the certification body' },
      inviteFor(key),
    );
  };

  /** The period an audit's readiness looks at: since the previous external audit (or a year before). */
  const periodOf = (key: AuditKey) => {
    const index = sequence.indexOf(key);
    const previous = index > 0 ? auditOf(sequence[index - 1]!)?.completedOn : undefined;
    const due = dateMs(plannedOf(key));
    const from = previous ? dateMs(previous) : certificate && index === 0 ? dateMs(certificate.decisionDate) : addMonths(due, -12);
    return { from: new Date(Math.min(from, Date.now())).toISOString(), to: new Date(Math.max(due, Date.now() + 1000)).toISOString() };
  };

  const startReview = async (key: AuditKey): Promise<{ reviewId: string; workflowId: string }> => {
    const due = dateMs(plannedOf(key));
    const qualifier = `${spec.certificateId.toLowerCase()}-c${cycle}-${abbreviations[key]}`.slice(0, 31).replace(/-+$/, '');
    const reviewId = `${new Date(due).getUTCFullYear()}-${qualifier}`;
    const reviewWorkflowId = managementReviewWorkflowId(reviewId);
    const input: ManagementReviewInput = {
      reviewId,
      // Two weeks before the audit; at least two days ahead, so the inputs can still be asked for.
      meetingDate: dayOf(Math.max(Date.now() + 2 * DAY_MS, due - 14 * DAY_MS)),
      requestedBy: 'system',
      trigger: 'certification',
      triggerRef: workflowId,
    };
    try {
      await startChild('managementReview', {
        workflowId: reviewWorkflowId,
        args: [input],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `Management review ${reviewId} before the ${auditNames[key]} of ${spec.certificateId}`,
        typedSearchAttributes: [
          { key: searchAttributes.process, value: 'management-review' },
          { key: searchAttributes.ref, value: reviewId },
        ],
      });
    } catch (err) {
      // Already started (an earlier check, a retried task): the review is there, which is what was asked.
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    }
    return { reviewId, workflowId: reviewWorkflowId };
  };

  const checkReadiness = async (key: AuditKey, offsetMs: number) => {
    const a = ensureAudit(key);
    const check = `${Math.round(offsetMs / 1000)}s`;
    const found = await acts.certificationReadiness({ audit: key, check, period: periodOf(key) });
    let reviewStarted: ReadinessReport['reviewStarted'];
    if (found.managementReview.available && !found.managementReview.complete) reviewStarted = await startReview(key);
    const report: ReadinessReport = {
      ...found,
      at: new Date().toISOString(),
      ...(reviewStarted ? { reviewStarted } : {}),
      ready:
        found.internalAudit.available &&
        found.internalAudit.complete &&
        found.managementReview.available &&
        found.managementReview.complete &&
        found.openMajors.available &&
        found.openMajors.items.length === 0,
    };
    a.readiness.push(report);
    const lines = readinessLines(report);
    event('readiness', 'system', `readiness for the ${auditNames[key]}: ${report.ready ? 'ready' : 'not ready'}`, { check, ready: report.ready });
    publish();
    await ledger('certification.readiness', 'system', { ...report }, `readiness-${key}-${check}-v${planVersion}`);
    await send('certification.readiness', `${key}/readiness-${check}-v${planVersion}`, [aimsManager(), ...topManagement()], {
      title: auditTitle(key),
      dueDate: plannedOf(key),
      auditName: auditNames[key],
      ready: report.ready,
      checks: lines,
    });
  };

  const escalate = async (key: AuditKey | 'decision', problem: string, recordKind: string) => {
    const name = key === 'decision' ? 'certification decision' : auditNames[key];
    const planned = key === 'decision' ? (plan.decision ?? '') : plannedOf(key);
    event('escalated', 'system', problem);
    publish();
    await ledger(recordKind, 'system', { audit: key, planned, problem }, `${recordKind}-${key}-v${planVersion}`);
    await send('certification.escalated', `${key}/escalated-${recordKind}-v${planVersion}`, [aimsManager(), ...topManagement()], {
      title: `${spec.certificateId}: ${name}`,
      dueDate: planned,
      auditName: name,
      problem,
    });
  };

  /** Runs one external audit: reminders and readiness before it, then waits for its outcome within its window. */
  const runAudit = async (key: AuditKey) => {
    current = key;
    const a = ensureAudit(key);
    publish();
    const fired = new Set<string>();
    let armedVersion = -1;
    let armedAt = 0;
    for (;;) {
      if (a.completedOn || finished()) return;
      publish();
      if (armedVersion !== planVersion) {
        // The first arming counts from the run's start, so a reminder due while the cycle was
        // setting up is sent late rather than skipped; a move re-arms from now.
        armedAt = armedVersion === -1 && key === sequence[0] ? Math.min(Date.now(), info.runStartTime.getTime()) : Date.now();
        armedVersion = planVersion;
      }
      const due = dateMs(plannedOf(key));
      const version = planVersion;
      const wake = () => planVersion !== version || a.completedOn !== undefined || finished();
      const now = Date.now();
      if (now < due) {
        const events = [
          ...reminderOffsetsMs().map((offsetMs) => ({ id: `r:${offsetMs}:${due}`, at: due - offsetMs, kind: 'reminder' as const, offsetMs })),
          ...readinessOffsetsMs().map((offsetMs) => ({ id: `c:${offsetMs}:${due}`, at: due - offsetMs, kind: 'readiness' as const, offsetMs })),
        ]
          .filter((e) => !fired.has(e.id) && e.at >= armedAt)
          .sort((x, y) => x.at - y.at || (x.kind === 'reminder' ? -1 : 1));
        const next = events[0];
        if (await condition(wake, Math.max(1, (next?.at ?? due) - now))) continue;
        if (next) {
          fired.add(next.id);
          if (next.kind === 'reminder') await remind(key, next.offsetMs);
          else await checkReadiness(key, next.offsetMs);
        }
        publish();
        continue;
      }
      const windowEnd = windowEndMs(key);
      if (!a.missed && now < windowEnd) {
        await condition(wake, windowEnd - now);
        continue;
      }
      if (!a.missed) {
        a.missed = true;
        await escalate(
          key,
          `the ${auditNames[key]} planned for ${plannedOf(key)} has no recorded outcome and its window closed on ${dayOf(windowEnd)}`,
          'certification.window-missed',
        );
        continue;
      }
      await condition(wake);
    }
  };

  /** Waits for the certification (or recertification) decision. */
  const awaitDecision = async () => {
    current = 'decision';
    publish();
    // The initial decision is expected by its planned date plus the audit window; past it the
    // AIMS manager and top management are told once per planned date.
    let escalatedVersion = -1;
    for (;;) {
      if (grant !== undefined || finished()) return;
      const version = planVersion;
      const wake = () => grant !== undefined || finished() || planVersion !== version;
      const expected = !certificate && plan.decision ? endOf(plan.decision) + auditWindowMs() : undefined;
      if (expected === undefined || escalatedVersion === version) {
        await condition(wake);
        continue;
      }
      if (Date.now() < expected) {
        await condition(wake, expected - Date.now());
        continue;
      }
      escalatedVersion = version;
      await escalate('decision', `no certification decision is recorded although it was expected by ${dayOf(expected)}`, 'certification.decision-late');
    }
  };

  /** A certificate past its expiry without a recertification decision expires. */
  let done = false;
  const watchExpiry = async () => {
    for (;;) {
      if (done || finished()) return;
      if (!certificate) {
        await condition(() => certificate !== undefined || done || finished());
        continue;
      }
      const expiry = endOf(certificate.expiresOn);
      // A recertification decision (the grant) ends the watch: the next cycle watches the renewed certificate.
      if (await condition(() => done || finished() || grant !== undefined, Math.max(1, expiry - Date.now()))) return;
      standing = 'expired';
      await escalate('recertification', `the certificate expired on ${certificate.expiresOn} without a recertification decision`, 'certification.expired');
      return;
    }
  };
  const watching = watchExpiry();

  for (const key of sequence) {
    if (finished()) break;
    await runAudit(key);
    if (finished()) break;
    if (key === 'stage2' || key === 'recertification') {
      await awaitDecision();
      if (finished() || !grant) break;
      if (key === 'stage2') {
        const granted: CertificateDates = { decisionDate: grant.decidedOn, expiresOn: grant.expiresOn };
        // The certificate now exists: later rules and windows count from its decision.
        certificate = granted;
        standing = 'valid';
        grant = undefined;
        event('certified', 'system', `certificate granted on ${granted.decisionDate}, expires ${granted.expiresOn}`);
        publish();
      }
    }
  }

  done = true;
  await watching;

  const historyEntry = (): CycleHistoryEntry => ({
    cycle,
    ...(certificate ? { certificate } : {}),
    audits: audits.map((a) => ({
      audit: a.audit,
      planned: a.planned,
      ...(a.completedOn ? { completedOn: a.completedOn } : {}),
      ...(a.result ? { result: a.result } : {}),
      findings: a.findings.length,
      ncIds: a.findings.flatMap((f) => (f.ncId ? [f.ncId] : [])),
      missed: a.missed,
    })),
    decisions,
    endedAt: new Date().toISOString(),
  });

  if (!finished() && grant?.nextPlan) {
    // Recertified: the next three-year cycle continues as new, carrying the history.
    const renewed: CertificateDates = { decisionDate: grant.decidedOn, expiresOn: grant.expiresOn };
    const entry = historyEntry();
    await ledger('certification.recertified', 'system', { certificate: renewed, nextPlan: grant.nextPlan, history: entry }, 'recertified');
    event('recertified', 'system', `recertified on ${renewed.decisionDate}, expires ${renewed.expiresOn}; cycle ${cycle + 1} begins`);
    await condition(allHandlersFinished);
    return continueAsNew<typeof certificationCycle>({
      certificateId: spec.certificateId,
      standard: spec.standard,
      ...(body ? { body } : {}),
      startedBy: 'system',
      certificate: renewed,
      plan: grant.nextPlan,
      cycle: cycle + 1,
      history: [...spec.history, entry],
      policy: rawInput.policy ?? {},
    });
  }

  const finalState = stateNow();
  publish();
  const entry = historyEntry();
  await ledger('certification.cycle-ended', ended?.by ?? 'system', { state: finalState, ended: ended ?? null, history: entry }, 'ended');
  await condition(allHandlersFinished);
  return { certificateId: spec.certificateId, cycle, state: finalState, history: [...spec.history, entry] };
}
