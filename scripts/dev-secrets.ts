/**
 * Development secrets for the local stack: generated once (crypto random) into
 * `<data dir>/dev-secrets.json` with mode 0600 and reused on later runs, so signed links and
 * the admin API key stay valid across restarts. Values set in the environment win.
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export const DEV_SECRETS_FILE = 'dev-secrets.json';

const devSecretsSchema = z.object({
  LINK_SECRET: z.string().min(32),
  ADMIN_API_KEY: z.string().min(24),
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

/**
 * The secret variables for the worker and the API: the user's environment first, then the
 * dev secrets. Returns which ones came from the file.
 */
export function secretEnv(
  secrets: DevSecrets,
  env: NodeJS.ProcessEnv,
): { LINK_SECRET: string; ADMIN_API_KEYS: string; fromFile: ('LINK_SECRET' | 'ADMIN_API_KEYS')[] } {
  const fromFile: ('LINK_SECRET' | 'ADMIN_API_KEYS')[] = [];
  let linkSecret = env.LINK_SECRET?.trim();
  if (!linkSecret) {
    linkSecret = secrets.LINK_SECRET;
    fromFile.push('LINK_SECRET');
  }
  let adminKeys = env.ADMIN_API_KEYS?.trim();
  if (!adminKeys) {
    adminKeys = secrets.ADMIN_API_KEY;
    fromFile.push('ADMIN_API_KEYS');
  }
  return { LINK_SECRET: linkSecret, ADMIN_API_KEYS: adminKeys, fromFile };
}
