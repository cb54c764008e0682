/**
 * The organization in force, shared by every process of a deployment: the newest version
 * accepted in the records store (after the checks against running work in src/people/). Each
 * process reads it once at start and again every few seconds, so an organization file
 * accepted by one process (a reload through the API, a worker started with a new file) reaches
 * the others without a restart. A version that no longer parses (a newer release wrote it) is
 * skipped with a warning; the one in force stays.
 */
import type { Logger } from '../logger.js';
import { contentHashOf } from '../records/hash.js';
import type { RecordsStore } from '../records/types.js';
import { parseOrganization } from './load.js';
import type { Organization } from './schema.js';

/** How often a process looks for a newer accepted version. */
export const ORGANIZATION_REFRESH_MS = 5_000;

/** The hash a version of the organization is known by. */
export const organizationHash = (org: Organization): string => contentHashOf(org);

export class OrganizationHolder {
  private org: Organization;
  private seq = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    initial: Organization,
    private readonly store: Pick<RecordsStore, 'organizations'>,
    private readonly logger?: Logger,
  ) {
    this.org = initial;
  }

  /** The organization in force, for synchronous readers (activities, pages). */
  current(): Organization {
    return this.org;
  }

  /** A getter bound to this holder, for dependencies typed `() => Organization`. */
  readonly get = (): Organization => this.org;

  /** Takes the newest accepted version when it is newer than the one held; true when it changed. */
  async refresh(): Promise<boolean> {
    const latest = await this.store.organizations.latest();
    if (!latest || latest.seq <= this.seq) return false;
    try {
      this.org = parseOrganization(latest.document, `accepted organization version ${latest.seq}`);
      this.seq = latest.seq;
      this.logger?.info({ seq: latest.seq, hash: latest.hash, acceptedBy: latest.acceptedBy }, 'organization version in force');
      return true;
    } catch (err) {
      this.seq = latest.seq;
      this.logger?.warn({ seq: latest.seq, err }, 'accepted organization version does not parse; keeping the one in force');
      return false;
    }
  }

  /** Refreshes every ORGANIZATION_REFRESH_MS until stopped; a failed read is retried next time. */
  watch(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.refresh().catch((err: unknown) => this.logger?.warn({ err }, 'could not read the organization in force'));
    }, ORGANIZATION_REFRESH_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
