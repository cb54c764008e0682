import path from 'node:path';
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..');

/** Lints source text as if it were a file at `file`, with the project's rules (type-aware ones off). */
async function lint(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root, overrideConfig: [tseslint.configs.disableTypeChecked] });
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? []).map((m) => `${m.line}: ${m.message}`);
}

describe('workflow fence (lint)', () => {
  const offending = [
    "import { readFileSync } from 'node:fs';",
    "import crypto from 'crypto';",
    "import { createActivities } from '../activities/index.js';",
    "import { config } from '../src/config.js';",
    "import { openRecordsStore } from '../src/records/store.js';",
    "import nodemailer from 'nodemailer';",
    'export const x = [readFileSync, crypto, createActivities, config, openRecordsStore, nodemailer];',
    'setTimeout(() => undefined, 1);',
  ].join('\n');

  it('refuses Node built-ins, activity implementations, side-effecting modules and timers in workflows/', async () => {
    const messages = await lint('workflows/probe.ts', offending);
    expect(messages.filter((m) => m.includes('no Node built-ins'))).toHaveLength(2);
    expect(messages.some((m) => m.startsWith('3:') && m.includes('activities by type only'))).toBe(true);
    expect(messages.filter((m) => m.includes('Not workflow-safe'))).toHaveLength(3);
    expect(messages.some((m) => m.startsWith('8:') && m.includes('sleep() or condition()'))).toBe(true);
  });

  it('allows type-only activity imports, domain schemas and the workflow SDK', async () => {
    const ok = [
      "import type { Activities } from '../activities/index.js';",
      "import { proxyActivities } from '@temporalio/workflow';",
      "import { humanTaskInputSchema } from '../src/task/schema.js';",
      "import { searchAttributes } from '../src/temporal/search-attributes.js';",
      "export const acts = proxyActivities<Activities>({ startToCloseTimeout: '1 minute' });",
      'export const y = [humanTaskInputSchema, searchAttributes];',
    ].join('\n');
    expect(await lint('workflows/probe.ts', ok)).toEqual([]);
  });

  it('applies the fence only to workflows/', async () => {
    expect(await lint('activities/probe.ts', "import { readFileSync } from 'node:fs';\nexport const r = readFileSync;")).toEqual([]);
  });
});
