/**
 * The local OpenID provider as a process (`npm start` runs it; src/auth/dev-provider.ts): the
 * organization file's people sign in with ANY password. Development only; it listens on the
 * loopback interface.
 *
 * Environment: ORG_FILE (default the example organization), OIDC_PROVIDER_PORT (default 3100),
 * OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, OIDC_PROVIDER_COOKIE_SECRET (required), PUBLIC_BASE_URL
 * (the API, default http://localhost:3000), OIDC_REDIRECT_URL (default
 * `<PUBLIC_BASE_URL>/auth/callback`), DATA_DIR (the signing key is kept in
 * `<DATA_DIR>/oidc-provider-key.json`, so ID tokens stay verifiable across restarts).
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { JWK } from 'oidc-provider';
import { z } from 'zod';
import { DEV_PROVIDER_WARNING, generateSigningKey, startDevProvider } from '../src/auth/dev-provider.js';
import { loadOrganization } from '../src/organization/load.js';
import type { Organization } from '../src/organization/schema.js';

export const SIGNING_KEY_FILE = 'oidc-provider-key.json';

/** How often the organization file is read again, so edits are picked up. */
const ORGANIZATION_REFRESH_MS = 5_000;

const settingsSchema = z.object({
  ORG_FILE: z.string().min(1).default('./config/organization.example.yaml'),
  OIDC_PROVIDER_PORT: z.coerce.number().int().min(1).max(65535).default(3100),
  OIDC_CLIENT_ID: z.string().min(1).default('aimsflow-local'),
  OIDC_CLIENT_SECRET: z.string().min(24, 'must be at least 24 characters (npm start generates one)'),
  OIDC_PROVIDER_COOKIE_SECRET: z.string().min(32, 'must be at least 32 characters (npm start generates one)'),
  PUBLIC_BASE_URL: z.url().default('http://localhost:3000').transform((u) => u.replace(/\/+$/, '')),
  OIDC_REDIRECT_URL: z.url().optional(),
  DATA_DIR: z.string().min(1).default('./data'),
});

function log(message: string, level: 'info' | 'warn' = 'info'): void {
  const line = JSON.stringify({ level: level === 'warn' ? 40 : 30, time: Date.now(), name: 'oidc-provider', msg: message });
  (level === 'warn' ? process.stderr : process.stdout).write(`${line}\n`);
}

async function signingKey(dataDir: string): Promise<JWK> {
  const file = path.join(dataDir, SIGNING_KEY_FILE);
  try {
    return JSON.parse(await readFile(file, 'utf8')) as JWK;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await mkdir(dataDir, { recursive: true });
  const key = generateSigningKey();
  await writeFile(file, `${JSON.stringify(key)}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
  return key;
}

async function main(): Promise<void> {
  const parsed = settingsSchema.safeParse(process.env);
  if (!parsed.success) {
    process.stderr.write(`Invalid configuration:\n${parsed.error.issues.map((i) => `  ${String(i.path[0])}: ${i.message}`).join('\n')}\n`);
    process.exit(1);
  }
  const settings = parsed.data;
  const orgFile = path.resolve(settings.ORG_FILE);
  let organization: Organization = await loadOrganization(orgFile);
  const refresh = setInterval(() => {
    loadOrganization(orgFile).then(
      (next) => {
        organization = next;
      },
      (err: unknown) => log(`keeping the previous organization: ${err instanceof Error ? err.message : String(err)}`, 'warn'),
    );
  }, ORGANIZATION_REFRESH_MS);
  refresh.unref();

  const provider = await startDevProvider({
    organization: () => organization,
    port: settings.OIDC_PROVIDER_PORT,
    cookieSecret: settings.OIDC_PROVIDER_COOKIE_SECRET,
    signingKey: await signingKey(path.resolve(settings.DATA_DIR)),
    client: {
      clientId: settings.OIDC_CLIENT_ID,
      clientSecret: settings.OIDC_CLIENT_SECRET,
      redirectUrl: settings.OIDC_REDIRECT_URL ?? `${settings.PUBLIC_BASE_URL}/auth/callback`,
      postLogoutRedirectUrl: `${settings.PUBLIC_BASE_URL}/auth/session`,
    },
  });
  log(DEV_PROVIDER_WARNING.toUpperCase(), 'warn');
  log(`local OpenID provider listening: issuer ${provider.issuer}, people from ${orgFile}`);

  const stop = (signal: NodeJS.Signals) => {
    log(`${signal} received: stopping`);
    provider.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`local OpenID provider failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
