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
import { allHandlersFinished, condition, continueAsNew } from '@temporalio/workflow';
import { certificationInputSchema, type CertificationInput, type CertificationResult } from '../../src/certification/schema.js';
import { acts } from '../lib/activities.js';
import { parseOrThrow } from '../lib/util.js';
import { registerCertificationHandlers } from './handlers.js';
import { Certification } from './state.js';
import { certificationDecision, externalAudit, watchExpiry } from './steps.js';

export async function certificationCycle(rawInput: CertificationInput): Promise<CertificationResult> {
  const c = new Certification(parseOrThrow(certificationInputSchema, rawInput, 'certification cycle input'));
  registerCertificationHandlers(c);

  // Set up: the organization's people and timing; the plan checked against the certification rules.
  c.publish();
  await c.start(await acts.certificationSettings());

  // Whatever step the cycle is at, a certificate past its expiry without a recertification decision expires.
  const watching = watchExpiry(c);

  // Each step does nothing once the cycle has stopped (ended, or the certificate refused, withdrawn or expired).
  if (!c.certificate) {
    // Initial certification: Stage 1, Stage 2, and the body's decision granting the certificate.
    await externalAudit(c, 'stage1');
    await externalAudit(c, 'stage2');
    if (await certificationDecision(c)) c.certify();
  }
  // Surveillance in certificate years 1 and 2, the recertification audit before the expiry, and its decision.
  await externalAudit(c, 'surveillance1');
  await externalAudit(c, 'surveillance2');
  await externalAudit(c, 'recertification');
  await certificationDecision(c);

  c.done = true;
  await watching;

  const grant = c.grant;
  if (!c.finished() && grant?.nextPlan) {
    // Recertified: the next three-year cycle continues as new, carrying the history.
    const { renewed, entry } = await c.recertify({ ...grant, nextPlan: grant.nextPlan });
    await condition(allHandlersFinished);
    return continueAsNew<typeof certificationCycle>({
      certificateId: c.spec.certificateId,
      standard: c.spec.standard,
      ...(c.body ? { body: c.body } : {}),
      startedBy: 'system',
      certificate: renewed,
      plan: grant.nextPlan,
      cycle: c.cycle + 1,
      history: [...c.spec.history, entry],
      policy: rawInput.policy ?? {},
    });
  }

  // Ended (by the AIMS manager, or the certificate refused, withdrawn or expired): the final state and history.
  const result = await c.close();
  await condition(allHandlersFinished);
  return result;
}
