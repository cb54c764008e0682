/**
 * What reaches a running audit: the status query, and the changes its programme sends (a moved
 * window, another lead auditor), queued for the audit to apply between and during its steps.
 */
import { setHandler } from '@temporalio/workflow';
import { auditChangeSignal, auditStatusQuery } from '../../src/internal-audit/contract.js';
import { registerAuditHandover } from './audit-handover.js';
import type { Audit } from './audit-state.js';

export function registerAuditHandlers(audit: Audit): void {
  setHandler(auditStatusQuery, () => audit.status());
  setHandler(auditChangeSignal, (change) => {
    if (audit.isClosed()) return;
    audit.pendingChanges.push(change);
  });
  registerAuditHandover(audit);
}
