/**
 * "My open tasks" (`/me?token=`): the person's open tasks and approvals from Temporal
 * visibility, overdue first, then by due date, each with a freshly signed link for them.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { linkPaths } from '../../links/paths.js';
import { personIdSchema } from '../../common/schemas.js';
import { listWork } from '../../task/work.js';
import {
  dayText,
  invalidLink,
  personName,
  pageGateway,
  sendPage,
  verifyPageLink,
  type PageContext,
} from './common.js';

/** More than anyone should have open at once; the page says when the list is cut. */
const MAX_SHOWN = 200;

/** The person's open tasks and approvals, most urgent first, each with a freshly signed link for them, and a count line. */
export async function openWorkOf(ctx: PageContext, person: string): Promise<{ items: OpenWorkItem[]; countText: string }> {
  const client = pageGateway(ctx).client;
  const work = await listWork(client, ctx.config.TEMPORAL_TASK_QUEUE, { assignee: person }, MAX_SHOWN);
  const items = await Promise.all(
    work.map(async (item) => {
      const action = item.kind === 'approval' ? 'approval.decide' : 'task.view';
      const token = await ctx.links.sign({ wf: item.id, action, person });
      return {
        workflowId: item.id,
        url: ctx.links.url(linkPaths[action], token),
        title: item.title,
        kindLabel: item.kind === 'approval' ? 'Approval' : 'Task',
        dueAt: item.dueAt,
        dueText: item.dueAt ? dayText(item.dueAt) : 'no due date',
        overdue: item.overdue,
        process: item.process && item.process !== 'adhoc' ? item.process : undefined,
      };
    }),
  );
  const overdue = items.filter((i) => i.overdue).length;
  const countText = `${items.length === MAX_SHOWN ? 'At least ' : ''}${items.length} open item${items.length === 1 ? '' : 's'}${overdue ? ` (${overdue} overdue)` : ''}`;
  return { items, countText };
}

export interface OpenWorkItem {
  workflowId: string;
  url: string;
  title: string;
  kindLabel: string;
  dueAt: string | undefined;
  dueText: string;
  overdue: boolean;
  process: string | undefined;
}

export function showMyTasks(ctx: PageContext) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const claims = await verifyPageLink(ctx, request, 'tasks.mine');
    // Person ids go into a visibility query: only well-formed ids are accepted.
    if (!personIdSchema.safeParse(claims.person).success) throw invalidLink();
    const { items, countText } = await openWorkOf(ctx, claims.person);
    return sendPage(
      ctx,
      request,
      reply,
      200,
      'myTasks',
      { greeting: `Hello ${personName(ctx, claims.person)}, this is what is waiting for you.`, items, countText },
      { pageTitle: 'Your open tasks' },
    );
  };
}
