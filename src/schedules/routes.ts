/**
 * Admin routes for the yearly schedules of the recurring cycles: put (create or update, the
 * same request twice changes nothing), read, pause, resume, run now and delete. Each schedule
 * starts the year's cycle through the `scheduledCycle` launcher, which never starts a year's
 * cycle twice.
 */
import type { FastifyPluginCallbackZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { scheduledCycleKindSchema, scheduledCycleKinds, scheduleSettingsSchema } from './schema.js';
import {
  deleteCycleSchedule,
  getCycleSchedule,
  putCycleSchedule,
  ScheduleWriteConflict,
  setCycleSchedulePaused,
  triggerCycleSchedule,
  type ScheduleDeps,
} from './manage.js';
import { errorResponseSchema, HttpError } from '../api/errors.js';
import { guardTemporalRoutes, temporalClient } from '../api/plugins/temporal-routes.js';
import { requirePermission } from '../api/plugins/admin-auth.js';
import { adminSchema, startRefused } from '../api/plugins/workflow-routes.js';
import '../api/deps.js';

const paramsSchema = z.strictObject({ kind: scheduledCycleKindSchema });

const scheduleSchema = z
  .object({
    kind: z.enum(scheduledCycleKinds),
    scheduleId: z.string().describe('The Temporal schedule id, e.g. yearly/internal-audit-programme'),
    settings: z.looseObject({ month: z.number(), day: z.number(), hour: z.number(), minute: z.number() }),
    paused: z.boolean(),
    note: z.string().optional(),
    nextRuns: z.array(z.string()).describe('The next times it fires'),
    recentRuns: z.array(z.object({ scheduledAt: z.string(), takenAt: z.string(), launcherWorkflowId: z.string() })),
    createdAt: z.string(),
    updatedAt: z.string().optional(),
  })
  .describe('CycleSchedule');

/** The answer of a route naming a kind that has no schedule yet. */
const noSchedule = errorResponseSchema.describe('No schedule of that kind: create it with PUT');

const noteBodySchema = z
  .strictObject({ note: z.string().trim().min(1).max(500).optional().describe('Why; shown in the Temporal UI') })
  .optional();

export const scheduleRoutes: FastifyPluginCallbackZod = (app, _options, done) => {
  guardTemporalRoutes(app, 'schedule');
  const deps = (): ScheduleDeps => ({
    client: temporalClient(app),
    taskQueue: app.deps.config.TEMPORAL_TASK_QUEUE,
    defaultTimezone: app.deps.organization?.().organization.timezone ?? 'UTC',
    publicBaseUrl: app.deps.config.PUBLIC_BASE_URL,
  });
  const notFound = (kind: string) => new HttpError(404, `No yearly ${kind} schedule; create it with PUT /admin/schedules/${kind}.`);

  app.get(
    '/schedules',
    {
      preValidation: requirePermission('schedules.read'),
      schema: adminSchema('schedules', {
        summary: 'The yearly schedules of the recurring cycles',
        response: { 200: z.object({ items: z.array(scheduleSchema) }) },
      }),
    },
    async () => {
      const items = await Promise.all(scheduledCycleKinds.map((kind) => getCycleSchedule(deps(), kind)));
      return { items: items.filter((s) => s !== undefined) };
    },
  );

  app.get(
    '/schedules/:kind',
    {
      preValidation: requirePermission('schedules.read'),
      schema: adminSchema('schedules', {
        summary: 'One yearly schedule: its settings, next runs and what it started recently',
        params: paramsSchema,
        response: { 200: scheduleSchema, 404: noSchedule },
      }),
    },
    async (request) => {
      const schedule = await getCycleSchedule(deps(), request.params.kind);
      if (!schedule) throw notFound(request.params.kind);
      return schedule;
    },
  );

  app.put(
    '/schedules/:kind',
    {
      preValidation: requirePermission('schedules.manage'),
      schema: adminSchema('schedules', {
        summary: 'Create or update the yearly schedule of a cycle',
        description:
          'Fires every year on `month`/`day` at `hour`:`minute` in `timezone` (default: the organization\'s) and starts that ' +
          "year's cycle (`internal-audit-programme/<year>` or `management-review/<year>`) unless it was already started. " +
          'Idempotent: the same settings again change nothing. `paused: true` keeps it without firing.',
        params: paramsSchema,
        body: scheduleSettingsSchema,
        response: { 200: scheduleSchema, 201: scheduleSchema, 409: errorResponseSchema.describe('A delete of the same schedule won the race: send it again') },
      }),
    },
    async (request, reply) => {
      try {
        const { created, schedule } = await putCycleSchedule(deps(), request.params.kind, request.body);
        request.log.info({ scheduleId: schedule.scheduleId, created }, 'yearly schedule written');
        return reply.code(created ? 201 : 200).send(schedule);
      } catch (err) {
        if (err instanceof ScheduleWriteConflict) throw new HttpError(409, err.message, { cause: err });
        return startRefused(err);
      }
    },
  );

  for (const [action, paused] of [
    ['pause', true],
    ['resume', false],
  ] as const) {
    app.post(
      `/schedules/:kind/${action}`,
      {
        preValidation: requirePermission('schedules.manage'),
        schema: adminSchema('schedules', {
          summary: paused ? 'Pause a yearly schedule (it keeps its settings)' : 'Resume a paused yearly schedule',
          params: paramsSchema,
          body: noteBodySchema,
          response: { 200: scheduleSchema, 404: noSchedule },
        }),
      },
      async (request) => {
        const schedule = await setCycleSchedulePaused(deps(), request.params.kind, paused, request.body?.note);
        if (!schedule) throw notFound(request.params.kind);
        return schedule;
      },
    );
  }

  app.post(
    '/schedules/:kind/run',
    {
      preValidation: requirePermission('schedules.manage'),
      schema: adminSchema('schedules', {
        summary: 'Run a yearly schedule now',
        description: "As if it fired now: this year's cycle is started unless it already was.",
        params: paramsSchema,
        response: { 202: z.object({ kind: z.enum(scheduledCycleKinds), triggered: z.literal(true) }), 404: noSchedule },
      }),
    },
    async (request, reply) => {
      if (!(await triggerCycleSchedule(deps(), request.params.kind))) throw notFound(request.params.kind);
      return reply.code(202).send({ kind: request.params.kind, triggered: true as const });
    },
  );

  app.delete(
    '/schedules/:kind',
    {
      preValidation: requirePermission('schedules.manage'),
      schema: adminSchema('schedules', {
        summary: 'Delete a yearly schedule (cycles it started keep running)',
        params: paramsSchema,
        response: { 204: z.null().describe('Deleted'), 404: noSchedule },
      }),
    },
    async (request, reply) => {
      if (!(await deleteCycleSchedule(deps(), request.params.kind))) throw notFound(request.params.kind);
      return reply.code(204).send(null);
    },
  );

  done();
};
