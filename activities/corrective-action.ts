/**
 * Activities for corrective actions: the organization's timing defaults for a severity, the
 * content hash an approval is bound to, and readable NC ids allocated once per key.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { CorrectiveActionTiming, Severity } from '../src/corrective-action/schema.js';
import { allocateNcId } from '../src/corrective-action/nc-id.js';
import { durationMs } from '../src/common/duration.js';
import type { Organization } from '../src/organization/schema.js';
import { RecordValidationError } from '../src/records/errors.js';
import { contentHashOf } from '../src/records/hash.js';
import type { RecordsStore } from '../src/records/types.js';

export interface CorrectiveActionDeps {
  organization: () => Organization;
  records: Pick<RecordsStore, 'allocateSequence'>;
}

export function createCorrectiveActionActivities({ organization, records }: CorrectiveActionDeps) {
  return {
    /** Step due, effectiveness wait and overall target for a severity, from the organization file. */
    async correctiveActionTiming(severity: Severity): Promise<CorrectiveActionTiming> {
      const org = organization();
      const d = org.defaults.correctiveAction;
      return {
        stepDueMs: durationMs(d.stepDue[severity]),
        effectivenessWaitMs: durationMs(d.effectivenessWait),
        overallTargetMs: durationMs(d.overallTarget[severity]),
        aimsManagerId: org.roles.aimsManager,
      };
    },

    /** sha256 of the canonical JSON of `content`, as the ledger computes it. */
    async contentHash(content: unknown): Promise<string> {
      return contentHashOf(content);
    },

    /** Allocates (or finds again) the NC id for a business key, e.g. an audit finding's id. */
    async allocateNonconformityId(input: { year: number; key: string }): Promise<string> {
      try {
        return await allocateNcId(records, input.year, input.key);
      } catch (err) {
        if (err instanceof RecordValidationError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidInput');
        throw err;
      }
    },
  };
}

export type CorrectiveActionActivities = ReturnType<typeof createCorrectiveActionActivities>;
