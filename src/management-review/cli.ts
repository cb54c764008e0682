/**
 * `aimsflow review ...`: management reviews (ISO/IEC 42001 9.3).
 *
 *   aimsflow review start 2027 --meeting 2027-03-15 [--by priya.raman] [--period-from 2026-03-10]
 *   aimsflow review list
 *   aimsflow review show 2027
 *   aimsflow review minutes 2027 --file minutes.yaml     (again to edit them: approval is asked again)
 *   aimsflow review cancel 2027 --reason "..."
 *
 * The yearly schedule that starts reviews is managed with `aimsflow schedules`.
 */
import type { Command } from 'commander';
import { BY_HELP, CliError } from '../cli/client.js';
import type { CliContext } from '../cli/context.js';

interface ReviewListItem {
  reviewId: string;
  state: string;
  meetingDate?: string;
  approvedAt?: string;
  actions: { n: number; title: string; owner: string; state: string }[];
}

interface ReviewDetail {
  reviewId: string;
  executionStatus: string;
  status: {
    state: string;
    meetingDate: string;
    inputsDueAt?: string;
    inputs: { key: string; title: string; owner: string; state: string; suppliedBy?: string }[];
    pack?: { contentHash: string };
    approval?: { workflowId: string; state: string };
    actions: { n: number; title: string; owner: string; workflowId: string }[];
    timeline: { at: string; type: string; by: string; detail: string }[];
  };
  links: { pack: string };
}

const object = (value: unknown, file: string): Record<string, unknown> => {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new CliError(`${file}: must hold an object (the minutes)`);
  return value as Record<string, unknown>;
};

export function registerManagementReviewCommands(program: Command, ctx: CliContext): void {
  const review = program.command('review').description('management reviews (ISO/IEC 42001 9.3)');

  review
    .command('start')
    .argument('<reviewId>', 'e.g. 2027 or 2027-H1')
    .requiredOption('--meeting <date>', 'the meeting date, YYYY-MM-DD')
    .option('--by <person>', BY_HELP)
    .option('--period-from <date>', 'start of the period the performance figures cover')
    .description('start a management review: input tasks to their owners, the invitation to the attendees')
    .action(async (reviewId: string, o: { meeting: string; by?: string; periodFrom?: string }) => {
      const started = await ctx.api().request<{ reviewId: string; workflowId: string }>('POST', '/admin/management-reviews', {
        reviewId,
        meetingDate: o.meeting,
        ...(o.by ? { requestedBy: o.by } : {}),
        ...(o.periodFrom ? { periodFrom: o.periodFrom } : {}),
        trigger: 'admin',
      });
      ctx.print(started, `management review ${started.reviewId} started (${started.workflowId})`);
    });

  review
    .command('list')
    .description('management reviews with their decisions and the state of their actions')
    .action(async () => {
      const { items } = await ctx.api().request<{ items: ReviewListItem[] }>('GET', '/admin/management-reviews');
      const lines = items.flatMap((r) => [
        `${r.reviewId}  ${r.state}  meeting ${r.meetingDate ?? '?'}${r.approvedAt ? `  approved ${r.approvedAt.slice(0, 10)}` : ''}`,
        ...r.actions.map((a) => `    action ${a.n}: ${a.title} (${a.owner}): ${a.state}`),
      ]);
      ctx.print(items, lines.length ? lines.join('\n') : 'No management reviews.');
    });

  review
    .command('show')
    .argument('<reviewId>', 'e.g. 2027')
    .description('a review: inputs, pack, approval, actions and timeline')
    .action(async (reviewId: string) => {
      const d = await ctx.api().request<ReviewDetail>('GET', `/admin/management-reviews/${encodeURIComponent(reviewId)}`);
      const s = d.status;
      const lines = [
        `management review ${reviewId}: ${s.state} (meeting ${s.meetingDate}${s.inputsDueAt ? `, inputs due ${s.inputsDueAt}` : ''})`,
        ...s.inputs.map((i) => `  (${i.key}) ${i.state.padEnd(9)} ${i.owner}${i.suppliedBy && i.suppliedBy !== i.owner ? ` (supplied by ${i.suppliedBy})` : ''}  ${i.title}`),
        ...(s.pack ? [`  pack ${s.pack.contentHash}: ${d.links.pack}`] : []),
        ...(s.approval ? [`  approval ${s.approval.state}: ${s.approval.workflowId}`] : []),
        ...s.actions.map((a) => `  action ${a.n}: ${a.title} (${a.owner}) ${a.workflowId}`),
        ...s.timeline.map((e) => `  ${e.at}  ${e.type}  ${e.by}: ${e.detail}`),
      ];
      ctx.print(d, lines.join('\n'));
    });

  review
    .command('minutes')
    .argument('<reviewId>', 'e.g. 2027')
    .requiredOption('-f, --file <path>', 'the minutes, YAML or JSON (- for standard input): attendees, improvementDecisions, changeDecisions, actions, missingInputs, notes')
    .description('record the minutes of the meeting (again to edit them; top management is asked to approve again)')
    .action(async (reviewId: string, o: { file: string }) => {
      const body = object(await ctx.readInput(o.file), o.file);
      const ack = await ctx.api().request<{ message: string }>('POST', `/admin/management-reviews/${encodeURIComponent(reviewId)}/minutes`, body);
      ctx.print(ack, ack.message);
    });

  review
    .command('cancel')
    .argument('<reviewId>', 'e.g. 2027')
    .requiredOption('--reason <text>', 'why (goes to the ledger)')
    .option('--by <person>', BY_HELP)
    .description('cancel a review that is not approved yet')
    .action(async (reviewId: string, o: { reason: string; by?: string }) => {
      const ack = await ctx.api().request<{ message: string }>('POST', `/admin/management-reviews/${encodeURIComponent(reviewId)}/cancel`, {
        reason: o.reason,
        ...(o.by ? { by: o.by } : {}),
      });
      ctx.print(ack, ack.message);
    });
}
