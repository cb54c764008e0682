/**
 * `aimsflow`: the admin CLI. A thin client of the admin HTTP API (AIMSFLOW_API_URL,
 * AIMSFLOW_ADMIN_KEY): start cycles, manage their yearly schedules, raise nonconformities,
 * look at what runs. Each area registers its commands from its own module.
 *
 *   npm run cli -- --help
 */
import { Command, CommanderError } from 'commander';
import { CliError } from './client.js';
import { createCliContext, type CliContext } from './context.js';
import { registerAiSystemCommands } from '../ai-system/cli.js';
import { registerCertificationCommands } from '../certification/cli.js';
import { registerInternalAuditCommands } from '../internal-audit/cli.js';
import { registerManagementReviewCommands } from '../management-review/cli.js';
import { registerNonconformityCommands } from '../corrective-action/cli.js';
import { registerScheduleCommands } from '../schedules/cli.js';
import { registerPeopleCommands } from '../people/cli.js';
import { registerRecordsCommands } from '../records/cli.js';
import { registerKeyCommands } from '../auth/cli.js';
import { registerObjectiveCommands } from '../objectives/cli.js';
import { registerRiskCommands } from '../risk/cli.js';

/** An area's commands, added to the program. */
export type RegisterCommands = (program: Command, ctx: CliContext) => void;

/** One entry per area; each lives in its own module beside this one. */
const areas: RegisterCommands[] = [
  registerScheduleCommands,
  registerNonconformityCommands,
  registerManagementReviewCommands,
  registerAiSystemCommands,
  registerCertificationCommands,
  registerInternalAuditCommands,
  registerPeopleCommands,
  registerRecordsCommands,
  registerKeyCommands,
  registerObjectiveCommands,
  registerRiskCommands,
];

export function buildProgram(
  ctx: CliContext,
  options: { exitOverride?: boolean; out?: (line: string) => void; err?: (line: string) => void } = {},
): Command {
  const program = new Command('aimsflow')
    .description('aimsflow admin CLI: talks to the admin API at AIMSFLOW_API_URL with AIMSFLOW_ADMIN_KEY')
    .option('--json', 'print results as JSON')
    .showHelpAfterError();
  // Set before the commands are added: subcommands inherit both.
  if (options.exitOverride) program.exitOverride();
  const { out, err } = options;
  if (out && err) {
    program.configureOutput({ writeOut: (s) => out(s.replace(/\n$/, '')), writeErr: (s) => err(s.replace(/\n$/, '')) });
  }
  for (const register of areas) register(program, ctx);
  return program;
}

/** Runs the CLI; returns the exit code (0 done, 1 refused or failed, 2 usage error). */
export async function runCli(
  argv: string[],
  io: { env: NodeJS.ProcessEnv; out: (line: string) => void; err: (line: string) => void; stdin?: () => Promise<string> },
): Promise<number> {
  const ctx = createCliContext({
    env: io.env,
    json: () => program.opts<{ json?: boolean }>().json === true,
    out: io.out,
    ...(io.stdin ? { stdin: io.stdin } : {}),
  });
  const program = buildProgram(ctx, { exitOverride: true, out: io.out, err: io.err });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof CliError) {
      io.err(`aimsflow: ${err.message}`);
      for (const detail of err.details) io.err(`  ${detail}`);
      return 1;
    }
    throw err;
  }
}
