/**
 * Development secrets for the local stack: generated once (crypto random) into
 * `<data dir>/dev-secrets.json` with mode 0600 and reused on later runs, so signed links, the
 * API keys and sign-in sessions stay valid across restarts. Values set in the environment win.
 * A file written before a secret existed gets the missing ones added.
 *
 * The payload keys (PAYLOAD_KEYS) are generated too: a data directory's workflows stay readable
 * across restarts, and the public development key is never what `npm start` runs with.
 *
 * Two dev keys: `ADMIN_API_KEY` belongs to the organization's AIMS manager (a person, who gets
 * their roles from the organization file) and `OPERATIONS_API_KEY` to the service `operations`
 * (role operations-admin). The API is configured with their hashes only (API_KEYS).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { hashKey } from '../src/auth/api-keys.js';
import { newPayloadKeyEntry } from '../src/temporal/codec.js';
import path from 'node:path';
import { z } from 'zod';

export const DEV_SECRETS_FILE = 'dev-secrets.json';

/** Secrets added after the first release of this file: generated when an older file lacks them. */
const laterSecrets = {
  /** The API's session cookie key. */
  SESSION_SECRET: () => randomBytes(48).toString('base64url'),
  /** The API's client secret at the local OpenID provider. */
  OIDC_CLIENT_SECRET: () => randomBytes(32).toString('base64url'),
  /** Signs the local OpenID provider's own cookies. */
  OIDC_PROVIDER_COOKIE_SECRET: () => randomBytes(48).toString('base64url'),
  /** The dev key of the service `operations`. */
  OPERATIONS_API_KEY: () => `aims_ops_${randomBytes(24).toString('base64url')}`,
  /** The key that encrypts workflow payloads (PAYLOAD_KEYS), named by the day it was made. */
  PAYLOAD_KEYS: () => newPayloadKeyEntry(`dev-${new Date().toISOString().slice(0, 10).replaceAll('-', '')}`),
} as const;

const devSecretsSchema = z.object({
  LINK_SECRET: z.string().min(32),
  /** The AIMS manager's dev key. */
  ADMIN_API_KEY: z.string().min(24),
  SESSION_SECRET: z.string().min(32),
  OIDC_CLIENT_SECRET: z.string().min(24),
  OIDC_PROVIDER_COOKIE_SECRET: z.string().min(32),
  OPERATIONS_API_KEY: z.string().min(24),
  PAYLOAD_KEYS: z.string().min(40),
  createdAt: z.string(),
});

const storedSchema = devSecretsSchema.partial({ SESSION_SECRET: true, OIDC_CLIENT_SECRET: true, OIDC_PROVIDER_COOKIE_SECRET: true, OPERATIONS_API_KEY: true, PAYLOAD_KEYS: true });

export type DevSecrets = z.infer<typeof devSecretsSchema>;

export interface LoadedDevSecrets {
  secrets: DevSecrets;
  file: string;
  /** True when this call generated the file. */
  created: boolean;
}

export class DevSecretsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DevSecretsError';
  }
}

export function generateDevSecrets(now = new Date()): DevSecrets {
  return {
    LINK_SECRET: randomBytes(48).toString('base64url'),
    ADMIN_API_KEY: `aims_dev_${randomBytes(24).toString('base64url')}`,
    SESSION_SECRET: laterSecrets.SESSION_SECRET(),
    OIDC_CLIENT_SECRET: laterSecrets.OIDC_CLIENT_SECRET(),
    OIDC_PROVIDER_COOKIE_SECRET: laterSecrets.OIDC_PROVIDER_COOKIE_SECRET(),
    OPERATIONS_API_KEY: laterSecrets.OPERATIONS_API_KEY(),
    PAYLOAD_KEYS: laterSecrets.PAYLOAD_KEYS(),
    createdAt: now.toISOString(),
  };
}

async function readExisting(file: string): Promise<DevSecrets | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new DevSecretsError(`${file} is not valid JSON; fix it or delete it to generate new secrets`);
  }
  const parsed = storedSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(file)').join(', ');
    throw new DevSecretsError(
      `${file} has missing or invalid fields (${fields}); fix it or delete it to generate new secrets`,
    );
  }
  // Keep the file private even if someone loosened its permissions.
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) await chmod(file, 0o600);
  const stored = parsed.data;
  const missing = (Object.keys(laterSecrets) as Array<keyof typeof laterSecrets>).filter((name) => stored[name] === undefined);
  if (missing.length === 0) return stored as DevSecrets;
  const completed = { ...stored } as DevSecrets;
  for (const name of missing) completed[name] = laterSecrets[name]();
  // Written aside and renamed over, so a crash never leaves half a file.
  const partial = `${file}.${process.pid}.tmp`;
  await writeFile(partial, `${JSON.stringify(completed, null, 2)}\n`, { mode: 0o600 });
  await rename(partial, file);
  return completed;
}

/** Reads the data directory's dev secrets, generating and saving them on first use. */
export async function loadOrCreateDevSecrets(dataDir: string): Promise<LoadedDevSecrets> {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, DEV_SECRETS_FILE);
  const existing = await readExisting(file);
  if (existing) return { secrets: existing, file, created: false };

  const secrets = generateDevSecrets();
  try {
    // 'wx': never overwrite a file another process created in the meantime.
    await writeFile(file, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      const raced = await readExisting(file);
      if (raced) return { secrets: raced, file, created: false };
    }
    throw err;
  }
  return { secrets, file, created: true };
}

/** The principals of the dev keys, as `npm start` prints them. */
export function devKeyPrincipals(aimsManager: string): { ADMIN_API_KEY: string; OPERATIONS_API_KEY: string } {
  return { ADMIN_API_KEY: `person ${aimsManager} (the AIMS manager)`, OPERATIONS_API_KEY: 'service operations (role operations-admin)' };
}

type FromFile = 'LINK_SECRET' | 'API_KEYS' | 'SESSION_SECRET' | 'PAYLOAD_KEYS';

/**
 * The secret variables for the worker and the API: the user's environment first, then the
 * dev secrets (API_KEYS lists the dev keys by hash: the AIMS manager `aimsManager` and the
 * service `operations`). Returns which ones came from the file.
 */
export function secretEnv(
  secrets: DevSecrets,
  env: NodeJS.ProcessEnv,
  aimsManager: string,
): { LINK_SECRET: string; API_KEYS: string; SESSION_SECRET: string; PAYLOAD_KEYS: string; fromFile: FromFile[] } {
  const fromFile: FromFile[] = [];
  let linkSecret = env.LINK_SECRET?.trim();
  if (!linkSecret) {
    linkSecret = secrets.LINK_SECRET;
    fromFile.push('LINK_SECRET');
  }
  let apiKeys = env.API_KEYS?.trim();
  if (!apiKeys) {
    const keys = [
      { name: 'dev-aims-manager', sha256: hashKey(secrets.ADMIN_API_KEY), person: aimsManager },
      { name: 'dev-operations', sha256: hashKey(secrets.OPERATIONS_API_KEY), service: 'operations', roles: ['operations-admin'] },
    ];
    apiKeys = JSON.stringify(keys);
    fromFile.push('API_KEYS');
  }
  let sessionSecret = env.SESSION_SECRET?.trim();
  if (!sessionSecret) {
    sessionSecret = secrets.SESSION_SECRET;
    fromFile.push('SESSION_SECRET');
  }
  let payloadKeys = env.PAYLOAD_KEYS?.trim();
  if (!payloadKeys) {
    payloadKeys = secrets.PAYLOAD_KEYS;
    fromFile.push('PAYLOAD_KEYS');
  }
  return { LINK_SECRET: linkSecret, API_KEYS: apiKeys, SESSION_SECRET: sessionSecret, PAYLOAD_KEYS: payloadKeys, fromFile };
}
