/**
 * The real API for tests: `buildTestApp()` builds it on a real records store (PGlite in
 * memory unless one is passed), the example organization (unless one is passed), test
 * secrets and keys (./keys.ts), and a Temporal readiness probe that
 * answers ok (pass `readiness` to change it). Drive it with `app.inject`; call `close()`.
 *
 * `captureLogs()` gives a pino logger (configured like the process logger) whose JSON lines
 * are kept in memory, for asserting what is and is not logged.
 */
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { buildApp, type ApiInstance, type AppDeps } from '../../src/api/app.js';
import { parseConfig, type Config } from '../../src/config.js';
import { loggerOptions, type Logger } from '../../src/logger.js';
import { loadOrganization } from '../../src/organization/load.js';
import { IN_MEMORY, openRecordsStore } from '../../src/records/store.js';
import type { RecordsStore } from '../../src/records/types.js';

import { TEST_ADMIN_KEY, TEST_API_KEYS } from './keys.js';

export { headersOf, keyOf, TEST_ADMIN_KEY, TEST_ADMIN_PERSON } from './keys.js';
export const TEST_LINK_SECRET = 'test-link-secret-0123456789abcdef0123456789';

/** A valid configuration for tests; `env` overrides single variables. */
export function testConfig(env: Record<string, string> = {}): Config {
  return parseConfig({
    LINK_SECRET: TEST_LINK_SECRET,
    API_KEYS: TEST_API_KEYS,
    LOG_LEVEL: 'silent',
    DATA_DIR: IN_MEMORY,
    PUBLIC_BASE_URL: 'http://localhost:3000',
    ...env,
  });
}

export interface TestAppOptions extends Partial<Omit<AppDeps, 'config'>> {
  /** Environment overrides for the configuration. */
  env?: Record<string, string>;
}

export interface TestApp {
  app: ApiInstance;
  records: RecordsStore;
  config: Config;
  /** Headers carrying the API key of the example organization's AIMS manager. */
  adminHeaders: { authorization: string };
  /** Closes the app and the store it opened (a passed-in store is left open). */
  close(): Promise<void>;
}

export async function buildTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const { env, records: givenRecords, ...rest } = options;
  const config = testConfig(env);
  const records = givenRecords ?? (await openRecordsStore({ dataDir: IN_MEMORY }));
  // The example organization, whose people hold the roles the test keys are checked against.
  const organization = await loadOrganization(path.resolve(import.meta.dirname, '../../config/organization.example.yaml'));
  const app = await buildApp({
    config,
    logger: false,
    readiness: { temporal: () => Promise.resolve() },
    organization: () => organization,
    ...rest,
    records,
  });
  return {
    app,
    records,
    config,
    adminHeaders: { authorization: `Bearer ${TEST_ADMIN_KEY}` },
    async close() {
      await app.close();
      if (!givenRecords) await records.close();
    },
  };
}

export interface CapturedLogs {
  logger: Logger;
  /** Everything logged so far, one string per line. */
  text(): string;
  /** Everything logged so far, parsed. */
  entries(): Array<Record<string, unknown>>;
}

export function captureLogs(level = 'info'): CapturedLogs {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = pino(loggerOptions(level, false), stream);
  const text = () => chunks.join('');
  return {
    logger,
    text,
    entries: () =>
      text()
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
