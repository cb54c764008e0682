/**
 * The admin routes every process has over its own workflows, written once. A process binds
 * `workflowRoutes` to its workflow type and to the path parameter that names one workflow;
 * its list route (Temporal visibility, filtered by the query), its detail route (find the
 * workflow, read its status query, answer with its execution facts) and each of its update
 * routes (find it, send it one update, turn the outcome into HTTP) then say only what
 * differs: summaries, schemas, the update and its argument.
 *
 * Every admin route declares the same scaffolding: its tag, the API key, and the responses of
 * a route working through Temporal (`adminSchema`). Who acts in an update is decided in one
 * place, `actingPerson`; how a refused start is answered, in `startRefused`.
 */
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { QueryDefinition, UpdateDefinition } from '@temporalio/common';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { StartInputError } from '../../temporal/start.js';
import { executionFacts } from '../../temporal/visibility.js';
import { errorResponseSchema, HttpError } from '../errors.js';
import type { FoundWorkflow } from '../gateway.js';
import type { Permission } from '../../auth/permissions.js';
import { adminSecurity, requestActor, requirePermission } from './admin-auth.js';
import { findWorkflow, temporalClient, temporalRouteResponses, updateRunning } from './temporal-routes.js';
import '../deps.js';

/**
 * Who acts in an admin request: its principal (the signed-in person, or the key's person or
 * service). The admin scope has already refused (403) a body naming someone else in an actor
 * field such as `by` or `requestedBy`; see `requestActor`.
 */
export function actingPerson(request: FastifyRequest): string {
  return requestActor(request);
}

/**
 * A refused start (or check of a start's input) as HTTP: bad input is a 400 naming every bad
 * field, a workflow that already exists a 409 saying `alreadyStarted` (when the route treats
 * it as an error); anything else is rethrown.
 */
export function startRefused(err: unknown, alreadyStarted?: (workflowId: string) => string): never {
  if (err instanceof StartInputError) throw new HttpError(400, err.message, { issues: err.issues, cause: err });
  if (alreadyStarted && err instanceof WorkflowExecutionAlreadyStartedError) throw new HttpError(409, alreadyStarted(err.workflowId), { cause: err });
  throw err;
}

/** A response: a JSON body's schema, or bodies by content type (e.g. `{ content: { 'text/html': { schema } } }`). */
export type ResponseSchema = z.ZodType | { description?: string; content: Record<string, { schema: z.ZodType }> };

/**
 * An admin route's schema: `schema` with the process's tag, the security schemes, and besides
 * the route's own responses those of every route working through Temporal (400, 401, 403, 500, 503).
 */
export function adminSchema<const S extends { summary: string; response: Record<number, ResponseSchema> }>(tag: string, schema: S) {
  return { tags: [tag], security: adminSecurity, ...schema, response: { ...schema.response, ...temporalRouteResponses } };
}

/** What one process's workflow routes have in common. `P` is what its path parameters give. */
export interface WorkflowRoutesOptions<P, K extends keyof P, S> {
  /** The OpenAPI tag of the process's routes. */
  tag: string;
  /** The permission of its list and detail routes (e.g. `corrective-action.read`). */
  read: Permission;
  /** The workflow type the routes serve (or the types); a workflow of another type is not found. */
  type: string | readonly string[];
  /** The path parameters that name one workflow... */
  params: z.ZodType<P>;
  /** ... by this one, which also names the workflow in every answer (e.g. `ncId`). */
  key: K;
  workflowId: (key: P[K]) => string;
  /** Its status query (or, for several types, which query the workflow found answers). */
  query: QueryDefinition<S> | ((workflow: FoundWorkflow) => QueryDefinition<S>);
  /** The answer of every update route: the key and the workflow's acknowledgement. */
  ack: z.ZodType;
  /** The 404 message. */
  notFound: (key: P[K]) => string;
  /** Why an update was not sent, after `Not <what>: `: the workflow has closed (`status` in lower case)... */
  closed: (key: P[K], status: string) => string;
  /** ... or closed while the update was on its way. */
  gone: (key: P[K]) => string;
}

/** A request to an update route, as its hooks see it. */
export interface UpdateRequest<P, B> {
  params: P;
  body: B;
  /** Who acts: the principal (see `actingPerson`). */
  by: string;
}

export interface UpdateRoute<Q, B, A, R> {
  method?: 'POST' | 'PUT' | 'PATCH';
  summary: string;
  description?: string;
  /** Path parameters naming the workflow and more (e.g. one audit of a programme); default the process's. */
  params?: z.ZodType<Q>;
  body: z.ZodType<B>;
  /** The update sent. */
  update: UpdateDefinition<R, [A]>;
  /** Its argument, built from the request and the workflow found (to check the request against it). */
  arg: (request: UpdateRequest<Q, B> & { workflow: FoundWorkflow }) => NoInfer<A> | Promise<NoInfer<A>>;
  /** What the update does, as in `Not <what>: <why not>.` */
  what: string;
  /** The permission the route needs. */
  permission: Permission;
  /** Checks of the request before the workflow is looked up (so a bad request is a 400 before a 404). */
  check?: (request: UpdateRequest<Q, B>) => void;
  /** Logged once the workflow accepted it: `message` with `fields` (default: the key and `by`). */
  log?: { message: string; fields?: (request: UpdateRequest<Q, B>, ack: NoInfer<R>) => object };
}

export interface DetailRoute<P> {
  summary: string;
  description?: string;
  /** The answer: the key, the workflow id, execution facts and status, and `more`. */
  response: z.ZodType;
  more?: (params: P, workflow: FoundWorkflow) => object;
}

export interface ListRoute<Q extends { limit?: number | undefined }> {
  summary: string;
  description: string;
  querystring: z.ZodType<Q>;
  /** One item of the answer `{ items }`. */
  item: z.ZodType;
  /** The items from Temporal visibility: the query without `limit` filters; without a `limit` the list's own default applies. */
  list: (client: Client, taskQueue: string, filter: Omit<Q, 'limit'>, limit?: number) => Promise<unknown[]>;
}

/** The routes of one process over its workflows (see the module comment). */
export function workflowRoutes<P, K extends keyof P, S>(app: FastifyInstance, options: WorkflowRoutesOptions<P, K, S>) {
  const { tag, key } = options;
  const named = (params: P) => ({ [key]: params[key] });
  const find = (params: P): Promise<FoundWorkflow> =>
    findWorkflow(temporalClient(app), options.workflowId(params[key]), options.type, options.notFound(params[key]));
  const status = (workflow: FoundWorkflow): Promise<S> =>
    workflow.handle.query(typeof options.query === 'function' ? options.query(workflow) : options.query);

  return {
    /** `adminSchema` with the process's tag. */
    schema: <const T extends { summary: string; response: Record<number, ResponseSchema> }>(schema: T) => adminSchema(tag, schema),

    /** The workflow the parameters name; a 404 when there is none. */
    find,

    /** The workflow's status query. */
    status,

    /** GET `path`: the process's workflows from Temporal visibility, filtered by the query. */
    list<Q extends { limit?: number | undefined }>(path: string, route: ListRoute<Q>): void {
      app.get(
        path,
        {
          preValidation: requirePermission(options.read),
          schema: adminSchema(tag, {
            summary: route.summary,
            description: route.description,
            querystring: route.querystring,
            response: { 200: z.object({ items: z.array(route.item) }) },
          }),
        },
        async (request) => {
          const { limit, ...filter } = request.query as Q;
          return { items: await route.list(temporalClient(app), app.deps.config.TEMPORAL_TASK_QUEUE, filter, limit) };
        },
      );
    },

    /** GET `path`: the workflow with its execution facts and status. */
    detail(path: string, route: DetailRoute<P>): void {
      app.get(
        path,
        {
          preValidation: requirePermission(options.read),
          schema: adminSchema(tag, {
            summary: route.summary,
            description: route.description,
            params: options.params,
            response: { 200: route.response, 404: errorResponseSchema },
          }),
        },
        async (request) => {
          const params = request.params as P;
          const workflow = await find(params);
          return {
            ...named(params),
            workflowId: workflow.workflowId,
            ...executionFacts(workflow.description),
            status: await status(workflow),
            ...route.more?.(params, workflow),
          };
        },
      );
    },

    /**
     * `path` (POST unless `method` says otherwise): sends the workflow one update and answers
     * with its acknowledgement. Not found is a 404; refused by the workflow, closed, or closed
     * in the meantime a 409 saying why.
     */
    update<B, A, R extends object, Q extends P = P>(path: string, route: UpdateRoute<Q, B, A, R>): void {
      app.route({
        method: route.method ?? 'POST',
        url: path,
        preValidation: requirePermission(route.permission),
        schema: adminSchema(tag, {
          summary: route.summary,
          description: route.description,
          params: route.params ?? options.params,
          body: route.body,
          response: { 200: options.ack, 404: errorResponseSchema, 409: errorResponseSchema },
        }),
        handler: async (request) => {
          const params = request.params as Q;
          const input = { params, body: request.body as B, by: actingPerson(request) };
          route.check?.(input);
          const workflow = await find(params);
          const arg = await route.arg({ ...input, workflow });
          const ack = await updateRunning(
            workflow,
            route.what,
            { closed: (s) => options.closed(params[key], s), gone: options.gone(params[key]) },
            (handle) => handle.executeUpdate(route.update, { args: [arg] }),
          );
          if (route.log) request.log.info(route.log.fields?.(input, ack) ?? { ...named(params), by: input.by }, route.log.message);
          return { ...named(params), ...ack };
        },
      });
    },
  };
}
