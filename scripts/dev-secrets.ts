/**
 * Development secrets for the local stack: generated once (crypto random) into
 * `<data dir>/dev-secrets.json` with mode 0600 and reused on later runs, so signed links and
 * the API keys stay valid across restarts. Values set in the environment win.
 *
 * Two dev keys: `ADMIN_API_KEY` belongs to the organization's AIMS manager (a person, who gets
 * their roles from the organization file) and `OPERATIONS_API_KEY` to the service `operations`
 * (role operations-admin). The API is configured with their hashes only (API_KEYS).
 */
import { randomBytes } from 'node:crypto';
import { hashKey } from '../src/auth/api-keys.js';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const DEV_SECRETS_FILE = 'dev-secrets.json';

const devSecretsSchema = z.object({
  LINK_SECRET: z.string().min(32),
  /** The AIMS manager's dev key. */
  ADMIN_API_KEY: z.string().min(24),
  /** The dev key of the service `operations` (files from before it get one on the next start). */
  OPERATIONS_API_KEY: z.string().min(24).optional(),
  createdAt: z.string(),
});

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
    OPERATIONS_API_KEY: `aims_ops_${randomBytes(24).toString('base64url')}`,
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
  const parsed = devSecretsSchema.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join('.') || '(file)').join(', ');
    throw new DevSecretsError(
      `${file} has missing or invalid fields (${fields}); fix it or delete it to generate new secrets`,
    );
  }
  // Keep the file private even if someone loosened its permissions.
  const { mode } = await stat(file);
  if ((mode & 0o077) !== 0) await chmod(file, 0o600);
  return parsed.data;
}

/** Reads the data directory's dev secrets, generating and saving them on first use. */
export async function loadOrCreateDevSecrets(dataDir: string): Promise<LoadedDevSecrets> {
  await mkdir(dataDir, { recursive: true });
  const file = path.join(dataDir, DEV_SECRETS_FILE);
  const existing = await readExisting(file);
  if (existing?.OPERATIONS_API_KEY) return { secrets: existing, file, created: false };
  if (existing) {
    // A file from before the operations key: add one, keep the rest.
    const upgraded = { ...existing, OPERATIONS_API_KEY: `aims_ops_${randomBytes(24).toString('base64url')}` };
    await writeFile(file, `${JSON.stringify(upgraded, null, 2)}\n`, { mode: 0o600 });
    return { secrets: upgraded, file, created: false };
  }

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

/**
 * The secret variables for the worker and the API: the user's environment first, then the
 * dev secrets (API_KEYS lists the dev keys by hash: the AIMS manager `aimsManager` and the
 * service `operations`). Returns which ones came from the file.
 */
export function secretEnv(
  secrets: DevSecrets,
  env: NodeJS.ProcessEnv,
  aimsManager: string,
): { LINK_SECRET: string; API_KEYS: string; fromFile: ('LINK_SECRET' | 'API_KEYS')[] } {
  const fromFile: ('LINK_SECRET' | 'API_KEYS')[] = [];
  let linkSecret = env.LINK_SECRET?.trim();
  if (!linkSecret) {
    linkSecret = secrets.LINK_SECRET;
    fromFile.push('LINK_SECRET');
  }
  let apiKeys = env.API_KEYS?.trim();
  if (!apiKeys) {
    const keys: object[] = [{ name: 'dev-aims-manager', sha256: hashKey(secrets.ADMIN_API_KEY), person: aimsManager }];
    if (secrets.OPERATIONS_API_KEY) keys.push({ name: 'dev-operations', sha256: hashKey(secrets.OPERATIONS_API_KEY), service: 'operations', roles: ['operations-admin'] });
    apiKeys = JSON.stringify(keys);
    fromFile.push('API_KEYS');
  }
  return { LINK_SECRET: linkSecret, API_KEYS: apiKeys, fromFile };
}
