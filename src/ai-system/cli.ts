/**
 * `aimsflow ai-systems ...`: the AI systems inventory and its impact assessments
 * (ISO/IEC 42001 6.1.4, 8.4, Annex A.5).
 *
 *   aimsflow ai-systems sync
 *   aimsflow ai-systems list [--state overdue] [--owner marco.rossi]
 *   aimsflow ai-systems register --file system.yaml [--by priya.raman]
 *   aimsflow ai-systems show credit-scoring
 *   aimsflow ai-systems update credit-scoring [--owner sofia.lind] [--impact-tier high] [--reason ...]
 *   aimsflow ai-systems change credit-scoring --type model --why "Retrained on 2027 Q1 data" [--by marco.rossi]
 *   aimsflow ai-systems retire credit-scoring --reason "Replaced" [--by priya.raman]
 *   aimsflow ai-systems assessments credit-scoring
 *   aimsflow ai-systems assessment credit-scoring 2027-1
 */
import type { Command } from 'commander';
import { BY_HELP, CliError } from '../cli/client.js';
import type { CliContext } from '../cli/context.js';

interface ListItem {
  systemId: string;
  name: string;
  owner?: string;
  impactTier?: string;
  state: string;
  nextDueAt?: string;
  lastAssessment?: { assessmentRef: string; level: number };
  currentAssessment?: string;
}

interface Ack {
  systemId: string;
  message: string;
}

const path = (systemId: string) => `/admin/ai-systems/${encodeURIComponent(systemId)}`;

export function registerAiSystemCommands(program: Command, ctx: CliContext): void {
  const ai = program.command('ai-systems').description('AI systems and their impact assessments (ISO/IEC 42001 6.1.4, 8.4, A.5)');

  ai.command('sync')
    .description("start the workflow of every AI system in the organization file's inventory that does not run yet")
    .action(async () => {
      const r = await ctx.api().request<{ started: string[]; running: string[]; updated: string[]; retired: string[]; failed: { systemId: string; reason: string }[] }>('POST', '/admin/ai-systems/sync');
      const lines = [
        `started: ${r.started.join(', ') || 'none'}`,
        `already running: ${r.running.join(', ') || 'none'}`,
        ...(r.updated.length ? [`updated from the file: ${r.updated.join(', ')}`] : []),
        ...(r.retired.length ? [`retired: ${r.retired.join(', ')}`] : []),
        ...r.failed.map((f) => `FAILED ${f.systemId}: ${f.reason}`),
      ];
      ctx.print(r, lines.join('\n'));
      if (r.failed.length) throw new CliError(`${r.failed.length} system(s) could not be started`);
    });

  ai.command('list')
    .description('list AI systems with their assessment status (current, due, in-progress, overdue, retired)')
    .option('--state <state>', 'current, due, in-progress, overdue or retired')
    .option('--owner <person>', "the system owner's person id")
    .action(async (o: { state?: string; owner?: string }) => {
      const query = new URLSearchParams();
      for (const [k, v] of Object.entries(o)) if (v !== undefined) query.set(k, String(v));
      const { items } = await ctx.api().request<{ items: ListItem[] }>('GET', `/admin/ai-systems${query.size ? `?${query.toString()}` : ''}`);
      ctx.print(
        items,
        items.length
          ? items
              .map((i) =>
                [
                  i.systemId.padEnd(24),
                  i.state.padEnd(11),
                  (i.impactTier ?? '').padEnd(8),
                  (i.owner ?? '').padEnd(16),
                  i.nextDueAt ? `due ${i.nextDueAt.slice(0, 10)}` : 'due -         ',
                  i.lastAssessment ? `last ${i.lastAssessment.assessmentRef} (level ${i.lastAssessment.level})` : 'never assessed',
                  ...(i.currentAssessment ? [`running ${i.currentAssessment}`] : []),
                ].join('  '),
              )
              .join('\n')
          : 'No AI systems match.',
      );
    });

  ai.command('register')
    .description('register an AI system from a YAML or JSON file (id, name, owner, purpose, impactTier, lifecycle)')
    .requiredOption('-f, --file <path>', 'the system, YAML or JSON (- for standard input)')
    .option('--by <person>', BY_HELP)
    .action(async (o: { file: string; by?: string }) => {
      const body = (await ctx.readInput(o.file)) as Record<string, unknown> | null;
      if (!body || typeof body !== 'object' || Array.isArray(body)) throw new CliError(`${o.file}: must hold one AI system (a mapping)`);
      const r = await ctx.api().request<{ systemId: string; workflowId: string }>('POST', '/admin/ai-systems', { ...body, ...(o.by ? { by: o.by } : {}) });
      ctx.print(r, `${r.systemId} registered (${r.workflowId})`);
    });

  ai.command('show')
    .argument('<systemId>')
    .description('one AI system: status, last result, next due date and history')
    .action(async (systemId: string) => {
      const d = await ctx.api().request<{
        status: {
          state: string;
          system: { name: string; owner: string; impactTier: string };
          nextDueAt?: string;
          last?: { assessmentRef: string; level: number; signedOffAt: string };
          current?: { assessmentRef: string; trigger: string };
          pendingChanges: { type: string; why: string }[];
          history: { at: string; type: string; by: string; detail: string }[];
        };
      }>('GET', path(systemId));
      const s = d.status;
      const lines = [
        `${systemId}: ${s.system.name} (${s.state}; ${s.system.impactTier} tier; owner ${s.system.owner})`,
        `  next reassessment due: ${s.nextDueAt ?? '-'}`,
        `  last assessment: ${s.last ? `${s.last.assessmentRef}, level ${s.last.level}, signed off ${s.last.signedOffAt}` : 'none'}`,
        ...(s.current ? [`  running: ${s.current.assessmentRef} (${s.current.trigger})`] : []),
        ...s.pendingChanges.map((c) => `  pending change: ${c.type}: ${c.why}`),
        ...s.history.map((e) => `  ${e.at}  ${e.type}  ${e.by}: ${e.detail}`),
      ];
      ctx.print(d, lines.join('\n'));
    });

  ai.command('update')
    .argument('<systemId>')
    .description("change an AI system's registration")
    .option('--name <name>')
    .option('--owner <person>')
    .option('--purpose <text>')
    .option('--impact-tier <tier>', 'low, medium, high or critical')
    .option('--lifecycle <stage>', 'design, development, deployed or retired')
    .option('--reason <text>')
    .option('--by <person>', BY_HELP)
    .action(async (systemId: string, o: { name?: string; owner?: string; purpose?: string; impactTier?: string; lifecycle?: string; reason?: string; by?: string }) => {
      const { reason, by, ...fields } = o;
      const changes = Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined));
      const r = await ctx.api().request<Ack>('PATCH', path(systemId), { changes, ...(reason ? { reason } : {}), ...(by ? { by } : {}) });
      ctx.print(r, r.message);
    });

  ai.command('change')
    .argument('<systemId>')
    .description('announce a significant change (it starts a reassessment, or is attached to the running one)')
    .requiredOption('--type <type>', 'model, data-source, intended-use, deployment-context or jurisdiction')
    .requiredOption('--why <text>', 'what changed')
    .option('--by <person>', BY_HELP)
    .action(async (systemId: string, o: { type: string; why: string; by?: string }) => {
      const r = await ctx.api().request<Ack>('POST', `${path(systemId)}/changes`, { type: o.type, why: o.why, ...(o.by ? { by: o.by } : {}) });
      ctx.print(r, r.message);
    });

  ai.command('retire')
    .argument('<systemId>')
    .description('retire an AI system (a running assessment is cancelled; a final record is written)')
    .requiredOption('--reason <text>')
    .option('--by <person>', BY_HELP)
    .action(async (systemId: string, o: { reason: string; by?: string }) => {
      const r = await ctx.api().request<Ack>('POST', `${path(systemId)}/retire`, { reason: o.reason, ...(o.by ? { by: o.by } : {}) });
      ctx.print(r, r.message);
    });

  ai.command('assessments')
    .argument('<systemId>')
    .description('every impact assessment of an AI system, from the ledger')
    .action(async (systemId: string) => {
      const { items } = await ctx.api().request<{
        items: { assessmentRef: string; trigger: string; startedAt: string; changes: number; outcome: string; level?: number; signedOffBy?: string }[];
      }>('GET', `${path(systemId)}/assessments`);
      ctx.print(
        items,
        items.length
          ? items
              .map((i) =>
                [i.assessmentRef.padEnd(9), i.startedAt.slice(0, 10), i.trigger.padEnd(9), i.outcome.padEnd(9), i.level !== undefined ? `level ${i.level}, signed off by ${i.signedOffBy ?? '?'}` : '', i.changes ? `${i.changes} change(s)` : '']
                  .filter(Boolean)
                  .join('  '),
              )
              .join('\n')
          : `No assessments of ${systemId} yet.`,
      );
    });

  ai.command('assessment')
    .argument('<systemId>')
    .argument('<assessmentRef>', 'e.g. 2027-1')
    .description("one impact assessment's full content and history")
    .action(async (systemId: string, ref: string) => {
      const d = await ctx.api().request<{
        assessmentId: string;
        status?: { state: string; timeline: { at: string; type: string; by: string; detail: string }[] };
        recorded?: { level?: number; signOff?: { role: string; by: string } };
        records: { occurredAt: string; kind: string; actor: string; verified?: boolean }[];
      }>('GET', `${path(systemId)}/assessments/${encodeURIComponent(ref)}`);
      const lines = [
        `${d.assessmentId}: ${d.status?.state ?? (d.recorded ? 'recorded' : 'unknown')}${d.recorded ? ` (level ${d.recorded.level ?? '?'}, signed off by ${d.recorded.signOff?.by ?? '?'})` : ''}`,
        ...(d.status?.timeline ?? []).map((e) => `  ${e.at}  ${e.type}  ${e.by}: ${e.detail}`),
        `  ledger: ${d.records.map((r) => (r.verified === false ? `${r.kind} (UNVERIFIED)` : r.kind)).join(', ') || 'no records'}`,
        ...(d.records.some((r) => r.verified === false) ? ['  Note: the hash chain of the ledger is broken; `aimsflow records verify` lists every break.'] : []),
      ];
      ctx.print(d, lines.join('\n'));
    });
}
