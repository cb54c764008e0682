/**
 * Top management's acceptance of a risk's residual level as it stands, outside a risk
 * assessment: shared by the admin API (`POST /admin/risks/<id>/accept`) and the console's risk
 * page. Refused (403, naming the rule) unless the person is top management and not the risk's
 * owner; a closed or unrated risk is a 409. The acceptance is bound to the content hash of the
 * risk as it stands, and recorded (`risk.accepted`) with the next review date of its level.
 */
import { randomUUID } from 'node:crypto';
import { HttpError } from '../api/errors.js';
import { durationMs } from '../common/duration.js';
import type { Organization } from '../organization/schema.js';
import { residualAcceptanceRefusal } from '../people/duties.js';
import { contentHashOf } from '../records/hash.js';
import type { RecordsStore } from '../records/types.js';
import { needsTopManagementAcceptance, reviewInterval } from './criteria.js';
import { appendRisk, readRisk } from './register.js';
import type { Risk } from './schema.js';

export interface RiskAcceptance {
  risk: Risk;
  contentHash: string;
}

/** Accepts `riskId`'s residual level as `by`, with `comment`; `approvalId` names where it was given (e.g. `api:<request id>`). */
export async function acceptRisk(
  deps: { records: Pick<RecordsStore, 'list' | 'append'>; organization: Organization },
  request: { riskId: string; by: string; comment: string; approvalId: string },
): Promise<RiskAcceptance> {
  const found = await readRisk(deps.records, request.riskId);
  if (!found) throw new HttpError(404, `No risk ${request.riskId}.`);
  const { by } = request;
  const o = deps.organization;
  const refusal = residualAcceptanceRefusal({ person: by, topManagement: o.roles.topManagement, riskOwner: found.risk.owner });
  if (refusal) throw new HttpError(403, `Not accepted: ${refusal}.`);
  if (found.risk.state === 'closed') throw new HttpError(409, `${found.risk.riskId} is closed.`);
  const rating = found.risk.residual ?? found.risk.inherent;
  if (!rating) throw new HttpError(409, `${found.risk.riskId} is not rated yet: nothing to accept.`);
  const { recordId: _, version: __, acceptance: ___, ...base } = found.risk;
  const contentHash = contentHashOf({ riskId: base.riskId, title: base.title, description: base.description, owner: base.owner, inherent: base.inherent, residual: base.residual, controls: base.controls, treatment: base.treatment });
  const now = new Date().toISOString();
  const risk: Risk = {
    ...base,
    state: 'accepted',
    residual: rating,
    acceptance: { by, at: now, approvalId: request.approvalId, contentHash, role: 'top-management' },
    reviewDueAt: new Date(Date.now() + durationMs(reviewInterval(o.riskCriteria, rating.level))).toISOString(),
    updatedAt: now,
    updatedBy: by,
  };
  const level = needsTopManagementAcceptance(o.riskCriteria, rating.level) ? `residual ${rating.level}` : `residual ${rating.level} (below the criterion)`;
  await appendRisk(deps.records, {
    id: `risk/${risk.riskId}/api/${randomUUID()}`,
    kind: 'risk.accepted',
    risk,
    actor: by,
    change: `${level} accepted by ${by}: ${request.comment}`,
    clauses: risk.controls.filter((c) => c.annexA).map((c) => c.ref),
  });
  return { risk, contentHash };
}
