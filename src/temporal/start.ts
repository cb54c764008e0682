/**
 * What every starter shares: input errors that name each bad field, ad-hoc workflow ids, the
 * check of people and roles against the organization, and the search attributes work starts
 * with. Each process's own starter lives in its folder (e.g. src/task/start.ts).
 */
import { randomBytes } from 'node:crypto';
import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import type { z } from 'zod';
import { OrganizationLookupError, resolveAssignees, type AssigneeRef, type Organization } from '../organization/schema.js';
import { searchAttributes } from './search-attributes.js';
import { consolePathOf, consoleUrl } from '../console/paths.js';

export interface StartIssue {
  /** Dotted path of the failing field, e.g. `assignee.person` or `approvers.1`. */
  path: string;
  message: string;
}

/** The input was refused before anything started; `issues` names every bad field. */
export class StartInputError extends Error {
  readonly issues: StartIssue[];

  constructor(what: string, issues: StartIssue[]) {
    super(`Invalid ${what}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`);
    this.name = 'StartInputError';
    this.issues = issues;
  }
}

export interface StartOptions {
  /** The workflow id; defaults to `task/adhoc/<yyyy>/<random>` or `approval/adhoc/<yyyy>/<random>`. */
  workflowId?: string;
  /**
   * The organization, when the caller has it: people and roles are then checked before the
   * workflow starts, so an unknown person is a field error rather than a failed workflow.
   */
  organization?: Organization;
  /**
   * The public base URL of the API (`PUBLIC_BASE_URL`): the workflow then carries a link to its
   * console page as its static details, shown by the Temporal UI (see `consoleDetails`).
   */
  publicBaseUrl?: string | undefined;
}

/**
 * The static details of a workflow started from a client: a markdown link to the console page
 * of the item it runs (src/console/paths.ts), which the Temporal UI shows with the workflow. No
 * details without a base URL. Spread into the start (or schedule action) options.
 */
export function consoleDetails(publicBaseUrl: string | undefined, workflowId: string, path = consolePathOf(workflowId)): { staticDetails?: string } {
  if (!publicBaseUrl) return {};
  return { staticDetails: `[Open in the AIMS console](${consoleUrl(publicBaseUrl, path)})` };
}

const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

/** Eight characters from an alphabet without look-alikes (no l, o, 0, 1): about 40 bits. */
export function shortRandomId(length = 8): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ID_ALPHABET[byte % ID_ALPHABET.length];
  return out;
}

/** `<prefix>/adhoc/<year>/<random>`, e.g. `task/adhoc/2027/k3m9x2qa`. */
export function adhocWorkflowId(prefix: 'task' | 'approval', now = new Date()): string {
  return `${prefix}/adhoc/${now.getUTCFullYear()}/${shortRandomId()}`;
}

/** Every problem of a zod error as an issue naming its field (under `prefix`). */
export function zodIssues(error: z.ZodError, prefix = ''): StartIssue[] {
  return error.issues.map((issue) => ({ path: `${prefix}${issue.path.map(String).join('.')}` || '(input)', message: issue.message }));
}

/** Parses a start input; throws StartInputError naming every bad field. */
export function parseStartInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (!parsed.success) throw new StartInputError(what, zodIssues(parsed.error));
  return parsed.data;
}

/**
 * A start input checked against the organization: each check that fails adds an issue naming
 * its field; `done` throws them all at once (StartInputError). Without an organization (an API
 * run without its file) the people checks are skipped.
 */
export class StartCheck {
  readonly issues: StartIssue[] = [];

  constructor(
    private readonly what: string,
    private readonly org: Organization | undefined,
  ) {}

  /** A person id from the organization file. */
  person(path: string, id: string, suffix = ''): this {
    if (this.org && !this.org.people.some((p) => p.id === id)) this.issues.push({ path, message: `unknown person "${id}"${suffix}` });
    return this;
  }

  /** An actor: a person, `system`, or a service (`service:<name>`). */
  actor(path: string, id: string, suffix = ''): this {
    return id === 'system' || id.startsWith('service:') ? this : this.person(path, id, suffix);
  }

  /** An AI system of the inventory, when one is named. */
  aiSystem(path: string, id: string | undefined): this {
    if (this.org && id !== undefined && !this.org.aiSystems.some((s) => s.id === id)) {
      this.issues.push({ path, message: `unknown AI system "${id}" (not in the inventory)` });
    }
    return this;
  }

  /** The people a person or role reference resolves to (none when it does not resolve). */
  ref(path: string, ref: AssigneeRef): string[] {
    if (!this.org) return [];
    try {
      const ids = resolveAssignees(this.org, ref);
      if (ids.length === 0) this.issues.push({ path, message: 'nobody holds that role' });
      return ids;
    } catch (err) {
      if (!(err instanceof OrganizationLookupError)) throw err;
      this.issues.push({ path, message: err.message });
      return [];
    }
  }

  /** Adds an issue the caller found itself. */
  add(path: string, message: string): this {
    this.issues.push({ path, message });
    return this;
  }

  /** Throws every issue found, naming its field. */
  done(): void {
    if (this.issues.length) throw new StartInputError(this.what, this.issues);
  }
}

export function initialAttributes(
  spec: { process: string; dueAt: string; clauses: string[] },
  state: string,
  people: { owner?: string; assignees?: string[] },
): SearchAttributePair[] {
  return [
    { key: searchAttributes.process, value: spec.process },
    { key: searchAttributes.state, value: state },
    { key: searchAttributes.dueDate, value: new Date(spec.dueAt) },
    { key: searchAttributes.clauses, value: spec.clauses },
    ...(people.owner ? [{ key: searchAttributes.owner, value: people.owner }] : []),
    ...(people.assignees?.length ? [{ key: searchAttributes.assignees, value: people.assignees }] : []),
  ];
}

/** The description of workflow `workflowId` when it exists (undefined when it does not). */
export function describeIfExists(client: Client, workflowId: string): Promise<WorkflowExecutionDescription | undefined> {
  return client.workflow
    .getHandle(workflowId)
    .describe()
    .catch((err: unknown) => {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    });
}

/** The description of workflow `workflowId` while it runs (undefined otherwise). */
export async function describeIfRunning(client: Client, workflowId: string): Promise<WorkflowExecutionDescription | undefined> {
  const d = await describeIfExists(client, workflowId);
  return d?.status.name === 'RUNNING' ? d : undefined;
}
