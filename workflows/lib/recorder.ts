/**
 * The process recorder every PDCA workflow keeps: its timeline (what happened, who did it),
 * its published status (search attributes, memo and the summary line operations read in the
 * Temporal UI), its evidence in the ledger (record ids derived from the workflow, so a retried
 * activity appends once) and its notifications (ids derived the same way, so a retried
 * activity never mails twice).
 */
import type { SearchAttributePair } from '@temporalio/common';
import { setCurrentDetails, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { AppendedRecord } from '../../activities/records.js';
import type { NotifyInput } from '../../activities/notifications.js';
import { notify } from './activities.js';
import { ledgerWriter, type LedgerWriter } from './ledger.js';

export interface TimelineEntry<T extends string = string> {
  at: string;
  type: T;
  by: string;
  detail: string;
  /** The child workflow the entry is about. */
  workflowId?: string;
  data?: Record<string, unknown>;
}

/** What a workflow publishes about itself. */
export interface PublishedView {
  attributes: SearchAttributePair[];
  memo: Record<string, unknown>;
  /** The summary line shown in the Temporal UI (markdown). */
  details: string;
}

export interface RecorderOptions<T extends string> {
  view: () => PublishedView;
  /** Clauses every ledger record is filed under. */
  clauses: readonly string[];
  /** The fields every ledger record's content starts with. */
  identity: () => Record<string, unknown>;
  /** Prefix of record ids; default `<workflow id>/<first run id>`. */
  idBase?: string;
  /** The record numbering to continue from (a workflow that continued as new). */
  numberedBefore?: number;
  /** The timeline carried over from an earlier run. */
  timeline?: TimelineEntry<T>[];
  /** Keep only the newest entries. */
  keep?: number;
}

export type Notification = Omit<NotifyInput, 'notificationId'>;

export class Recorder<T extends string = string> {
  readonly timeline: TimelineEntry<T>[];
  readonly workflowId: string;
  /** `<workflow id>/<first run id>`: the base of notification ids. */
  readonly base: string;
  private readonly ledger: LedgerWriter;
  private notificationSeq = 0;

  constructor(private readonly options: RecorderOptions<T>) {
    const info = workflowInfo();
    this.workflowId = info.workflowId;
    this.base = `${info.workflowId}/${info.firstExecutionRunId}`;
    this.timeline = options.timeline ?? [];
    this.ledger = ledgerWriter({
      clauses: options.clauses,
      identity: options.identity,
      ...(options.idBase ? { idBase: options.idBase } : {}),
      ...(options.numberedBefore ? { numberedBefore: options.numberedBefore } : {}),
    });
  }

  /** Adds a timeline entry. */
  event(type: T, by: string, detail: string, extra: { workflowId?: string | undefined; data?: Record<string, unknown> | undefined } = {}): void {
    this.timeline.push({
      at: new Date().toISOString(),
      type,
      by,
      detail,
      ...(extra.workflowId ? { workflowId: extra.workflowId } : {}),
      ...(extra.data ? { data: extra.data } : {}),
    });
    const keep = this.options.keep;
    if (keep !== undefined && this.timeline.length > keep) this.timeline.splice(0, this.timeline.length - keep);
  }

  /** Publishes the current view: search attributes, memo and summary line. */
  publish(): void {
    const view = this.options.view();
    upsertSearchAttributes(view.attributes);
    upsertMemo(view.memo);
    setCurrentDetails(view.details);
  }

  /**
   * Appends a ledger record; `key` (default `<n>-<kind>`, numbered in order) makes its id unique
   * within the workflow.
   */
  append(kind: string, actor: string, content: Record<string, unknown>, key?: string, occurredAt?: string): Promise<AppendedRecord> {
    return this.ledger.append(kind, actor, content, key, occurredAt);
  }

  /** How many records were numbered so far (carried when continuing as new). */
  numbered(): number {
    return this.ledger.numbered();
  }

  /**
   * Sends a notification, best effort, as `<base>/<key>`; the key defaults to
   * `<n>-<kind>`, numbered in order.
   */
  notify(notification: Notification, key?: string): Promise<boolean> {
    return notify({ notificationId: this.notificationId(key ?? this.sequenced(notification.kind)), ...notification });
  }

  /** The next numbered key, `<n>-<suffix>`, from the same numbering as `notify`. */
  sequenced(suffix: string): string {
    return `${++this.notificationSeq}-${suffix}`;
  }

  /** The full id of a notification with `key`. */
  notificationId(key: string): string {
    return `${this.base}/${key}`;
  }
}
