/**
 * All activities the worker registers, built from their dependencies.
 */
import type { Client } from '@temporalio/client';
import type { Logger } from '../src/logger.js';
import type { Organization } from '../src/organization/schema.js';
import type { LinkSigner } from '../src/links/signer.js';
import type { MailTransport } from '../src/mail/transport.js';
import type { RecordsStore } from '../src/records/types.js';
import { createCertificationActivities } from './certification.js';
import { createAiSystemActivities } from './ai-system.js';
import { createConcernActivities } from './concern.js';
import { createCorrectiveActionActivities } from './corrective-action.js';
import { createDirectoryActivities } from './directory.js';
import { createInternalAuditActivities } from './internal-audit.js';
import { createManagementReviewActivities } from './management-review.js';
import { createOperationsActivities } from './operations.js';
import { createPeopleActivities } from './people.js';
import { createNotificationActivities, createNotifyActivities } from './notifications.js';
import { createRecordActivities } from './records.js';
import { createRiskActivities } from './risk.js';
import { createLedgerAnchorActivities } from './ledger-anchor.js';
import { createPolicyActivities } from './policy.js';
import { createCompetenceActivities } from './competence.js';

export interface ActivityDeps {
  organization: () => Organization;
  records: RecordsStore;
  transport: Pick<MailTransport, 'send'>;
  links: LinkSigner;
  mailFrom: string;
  logger: Logger;
  /** For activities that read Temporal visibility or start work (aggregates, schedules). */
  temporal: { client: Client; taskQueue: string };
  /** Where operations are told about a failed workflow (none: logged only). */
  alertEmail?: string | undefined;
}

export function createActivities(deps: ActivityDeps) {
  const notifications = createNotificationActivities({
    transport: deps.transport,
    notifications: deps.records.notifications,
    from: deps.mailFrom,
    logger: deps.logger,
  });
  return {
    ...createDirectoryActivities({ organization: deps.organization }),
    ...createPeopleActivities({ organization: deps.organization, temporal: deps.temporal }),
    ...createRecordActivities({ store: deps.records }),
    ...createCorrectiveActionActivities({ organization: deps.organization, records: deps.records }),
    ...createInternalAuditActivities({ organization: deps.organization, records: deps.records, temporal: deps.temporal }),
    ...createAiSystemActivities({ organization: deps.organization, records: deps.records }),
    ...createRiskActivities({ organization: deps.organization, records: deps.records }),
    ...createCertificationActivities({ organization: deps.organization, records: deps.records, temporal: deps.temporal }),
    ...notifications,
    ...createOperationsActivities({
      sendNotification: (input) => notifications.sendNotification(input),
      organizationName: () => deps.organization().organization.name,
      alertEmail: deps.alertEmail,
      logger: deps.logger,
    }),
    ...createConcernActivities({
      sendNotification: (input) => notifications.sendNotification(input),
      organizationName: () => deps.organization().organization.name,
    }),
    ...createManagementReviewActivities({
      organization: deps.organization,
      records: deps.records,
      temporal: deps.temporal,
      sendNotification: (input) => notifications.sendNotification(input),
      links: deps.links,
    }),
    ...createPolicyActivities({ organization: deps.organization, records: deps.records }),
    ...createCompetenceActivities({ organization: deps.organization }),
    ...createLedgerAnchorActivities({
      organization: deps.organization,
      records: deps.records,
      sendNotification: (input) => notifications.sendNotification(input),
    }),
    ...createNotifyActivities({
      sendNotification: (input) => notifications.sendNotification(input),
      links: deps.links,
      organizationName: () => deps.organization().organization.name,
      logger: deps.logger,
    }),
  };
}

export type Activities = ReturnType<typeof createActivities>;
