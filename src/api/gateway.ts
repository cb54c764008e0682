/**
 * The one way the API reaches running work: find a workflow of an expected type, load it
 * (its description and its status query, once), and send it an update. Every answer is one of
 * a few outcomes, which admin routes turn into HTTP errors and pages into pages:
 * - `ok`: the workflow accepted the update (with its acknowledgement);
 * - `refused`: the workflow's validator refused it, with the reason a person reads;
 * - `closed`: the workflow is no longer running (its status says how it ended);
 * - `gone`: there is no such workflow (or it was archived).
 * The workflow's validator is the only place that refuses; callers do not repeat its checks.
 *
 * A query and an update are answered by a worker, a description and the history by the Temporal
 * service itself. With `timeouts`, each call has a deadline: `read` gives the workflow as last
 * published (search attributes, memo, start input) when no worker answers its query in time,
 * and an update that no worker takes in time throws WorkflowUpdateRPCTimeoutOrCancelledError.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  type Client,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import type { QueryDefinition, UpdateDefinition } from '@temporalio/common';

export interface FoundWorkflow {
  workflowId: string;
  handle: WorkflowHandle;
  description: WorkflowExecutionDescription;
  running: boolean;
}

/** A workflow with its live status, or, when no worker answered in time, as last published. */
export type ReadWorkflow<S> = FoundWorkflow & ({ live: true; status: S } | { live: false; status?: undefined; unanswered: string });

export type UpdateOutcome<R> =
  | { kind: 'ok'; result: R }
  | { kind: 'refused'; reason: string }
  | { kind: 'closed'; status: string }
  | { kind: 'gone' };

/** Deadlines of the gateway's calls, in milliseconds; none: the SDK's own. */
export interface GatewayTimeouts {
  /** Describe and history reads (answered by the Temporal service). */
  callMs?: number;
  /** A status query (answered by a worker). */
  queryMs?: number;
  /** An update (taken by a worker). */
  updateMs?: number;
}

export class WorkflowGateway {
  constructor(
    readonly client: Client,
    readonly timeouts: GatewayTimeouts = {},
  ) {}

  /** Runs `call` with a deadline `ms` from now (none when `ms` is undefined). */
  private within<R>(ms: number | undefined, call: () => Promise<R>): Promise<R> {
    return ms === undefined ? call() : this.client.connection.withDeadline(Date.now() + ms, call);
  }

  /** The workflow `workflowId` when it exists and is of `type` (or one of the types); undefined otherwise. */
  async find(workflowId: string, type: string | readonly string[]): Promise<FoundWorkflow | undefined> {
    const handle = this.client.workflow.getHandle(workflowId);
    try {
      const description = await this.within(this.timeouts.callMs, () => handle.describe());
      if (typeof type === 'string' ? description.type !== type : !type.includes(description.type)) return undefined;
      return { workflowId, handle, description, running: description.status.name === 'RUNNING' };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /** The workflow and its status from `query`, read once; undefined when there is no such workflow. */
  async load<S>(workflowId: string, type: string, query: QueryDefinition<S>): Promise<(FoundWorkflow & { status: S }) | undefined> {
    const found = await this.find(workflowId, type);
    if (!found) return undefined;
    try {
      return { ...found, status: await this.within(this.timeouts.queryMs, () => found.handle.query(query)) };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * The workflow and its status from `query` when a worker answers within `timeouts.queryMs`;
   * otherwise the workflow as last published, with why the query went unanswered (no worker in
   * time, or the query failed). Undefined when there is no such workflow.
   */
  async read<S>(workflowId: string, type: string | readonly string[], query: QueryDefinition<S>): Promise<ReadWorkflow<S> | undefined> {
    const found = await this.find(workflowId, type);
    if (!found) return undefined;
    try {
      return { ...found, live: true, status: await this.within(this.timeouts.queryMs, () => found.handle.query(query)) };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      if (err instanceof ServiceError) {
        const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
        return { ...found, live: false, unanswered: `${err.message}${cause}` };
      }
      throw err;
    }
  }

  /**
   * The arguments the workflow run was started with (the first event of its history, kept by the
   * Temporal service: no worker needed).
   */
  async startArgs(found: FoundWorkflow): Promise<unknown[]> {
    const { client } = this;
    const { history } = await this.within(this.timeouts.callMs, () =>
      client.workflowService.getWorkflowExecutionHistory({
        namespace: client.options.namespace,
        execution: { workflowId: found.workflowId, runId: found.description.runId },
        maximumPageSize: 1,
      }),
    );
    const payloads = history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    const converter = client.options.loadedDataConverter;
    let decoded = payloads;
    for (const codec of [...converter.payloadCodecs].reverse()) decoded = await codec.decode(decoded);
    return decoded.map((payload) => converter.payloadConverter.fromPayload(payload));
  }

  /** Runs `send` against a running workflow and says what happened (see `sendToRunning`). */
  run<R>(found: FoundWorkflow, send: (handle: WorkflowHandle) => Promise<R>): Promise<UpdateOutcome<R>> {
    return sendToRunning(found, send);
  }

  /**
   * Sends `definition` with `arg` to a running workflow (see `sendToRunning`), within
   * `timeouts.updateMs`. An update that times out may still be taken later, once a worker
   * picks the workflow up: callers say "not confirmed", never "failed".
   */
  update<R, A>(found: FoundWorkflow, definition: UpdateDefinition<R, [A]>, arg: A): Promise<UpdateOutcome<R>> {
    return this.run(found, (handle) => this.within(this.timeouts.updateMs, () => handle.executeUpdate(definition, { args: [arg] })));
  }
}

/**
 * Runs `send` against a running workflow and says what happened. A workflow that is not
 * running is `closed` without sending anything.
 */
export async function sendToRunning<R>(found: FoundWorkflow, send: (handle: WorkflowHandle) => Promise<R>): Promise<UpdateOutcome<R>> {
  if (!found.running) return { kind: 'closed', status: found.description.status.name.toLowerCase() };
  for (let attempt = 1; ; attempt++) {
    try {
      return { kind: 'ok', result: await send(found.handle) };
    } catch (err) {
      if (err instanceof WorkflowUpdateFailedError) return { kind: 'refused', reason: (err.cause?.message ?? err.message).replace(/\.$/, '') };
      if (err instanceof WorkflowNotFoundError) return { kind: 'gone' };
      if (attempt >= UPDATE_ATTEMPTS || !lostWithWorkflowTask(err)) throw err;
      // The update was never applied: send it again, unless the workflow has closed meanwhile.
      await sleep(100 * attempt);
      const status = await found.handle.describe().then(
        (d) => d.status.name,
        (describeErr: unknown) => {
          if (describeErr instanceof WorkflowNotFoundError) return undefined;
          throw describeErr;
        },
      );
      if (status === undefined) return { kind: 'gone' };
      if (status !== 'RUNNING') return { kind: 'closed', status: status.toLowerCase() };
    }
  }
}

/** Tries of an update lost with a failed workflow task. */
const UPDATE_ATTEMPTS = 3;

/**
 * The server drops an update whose workflow task failed (e.g. another update or signal arrived
 * while the workflow was closing, and the server refused the task's commands) with
 * FAILED_PRECONDITION; the update had no effect, so sending it again is safe.
 */
function lostWithWorkflowTask(err: unknown): boolean {
  if (!(err instanceof ServiceError)) return false;
  const cause = err.cause as { code?: unknown; details?: unknown } | undefined;
  return cause?.code === GRPC_FAILED_PRECONDITION && typeof cause.details === 'string' && /workflow task failure/i.test(cause.details);
}

/** gRPC's status code FAILED_PRECONDITION (fixed by the gRPC specification). */
const GRPC_FAILED_PRECONDITION = 9;
