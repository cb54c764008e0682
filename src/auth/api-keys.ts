/**
 * API keys by name and hash (`API_KEYS`). Each key belongs to one principal: a person of the
 * organization file (who gets their roles from it), or a service such as `scheduler`, `ci` or
 * `operations` (whose roles the entry lists). Only the SHA-256 of a key is configured, so the
 * configuration holds no secret; logs name the key, never show it.
 *
 * `API_KEYS` is an inline JSON array, or the path of a YAML or JSON file holding that array
 * (or `{ keys: [...] }`):
 *
 * ```yaml
 * - { name: priya-laptop, sha256: 5e88…, person: priya.raman }
 * - { name: ci-deploy, sha256: 9f86…, service: ci, roles: [operations-admin] }
 * ```
 *
 * `npm run cli -- keys hash` prints the hash of a key (and can make one).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { SERVICE_ROLES, type Role } from './permissions.js';
import type { Principal } from './principal.js';

const ID = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const idField = z.string().regex(ID, 'must be lowercase letters, digits, ".", "_" or "-" (max 64)');

export const apiKeyEntrySchema = z
  .strictObject({
    name: idField.describe('shown in logs and in the ledger instead of the key'),
    sha256: z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, 'must be the SHA-256 of the key in hex (64 characters); `npm run cli -- keys hash` prints it')
      .transform((h) => h.toLowerCase()),
    person: idField.optional(),
    service: idField.optional(),
    roles: z.array(z.enum(SERVICE_ROLES)).min(1, 'a service needs at least one role').optional(),
  })
  .superRefine((entry, ctx) => {
    if ((entry.person === undefined) === (entry.service === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['person'], message: 'name either a person or a service' });
    }
    if (entry.service !== undefined && entry.roles === undefined) {
      ctx.addIssue({ code: 'custom', path: ['roles'], message: `a service needs its roles (${SERVICE_ROLES.join(', ')})` });
    }
    if (entry.person !== undefined && entry.roles !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['roles'], message: 'a person gets their roles from the organization file' });
    }
  });
export type ApiKeyEntry = z.output<typeof apiKeyEntrySchema>;

export const apiKeysSchema = z
  .array(apiKeyEntrySchema)
  .min(1, 'needs at least one key')
  .superRefine((entries, ctx) => {
    const names = new Set<string>();
    const hashes = new Set<string>();
    entries.forEach((entry, i) => {
      if (names.has(entry.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate key name "${entry.name}"` });
      if (hashes.has(entry.sha256)) ctx.addIssue({ code: 'custom', path: [i, 'sha256'], message: 'the same key is listed twice' });
      names.add(entry.name);
      hashes.add(entry.sha256);
    });
  });

/** The SHA-256 of a key, in hex, as `API_KEYS` lists it. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** A fresh random key (32 bytes, base64url). */
export function newKey(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The text of `API_KEYS` as JSON: itself when it is inline JSON, else the file it names
 * (YAML or JSON). Throws an Error saying what is wrong.
 */
export function readApiKeysSource(value: string): unknown {
  const text = value.trim();
  if (text.startsWith('[') || text.startsWith('{')) {
    try {
      return unwrap(JSON.parse(text));
    } catch (err) {
      throw new Error(`is not valid JSON: ${(err as Error).message}`, { cause: err });
    }
  }
  let content: string;
  try {
    content = readFileSync(text, 'utf8');
  } catch (err) {
    throw new Error(`is neither an inline JSON list nor a readable file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}: ${text})`, { cause: err });
  }
  try {
    return unwrap(parseYaml(content));
  } catch (err) {
    throw new Error(`file ${text} is not valid YAML or JSON: ${(err as Error).message}`, { cause: err });
  }
}

function unwrap(value: unknown): unknown {
  return value && typeof value === 'object' && !Array.isArray(value) && 'keys' in value ? value.keys : value;
}

/** What a presented key is: the principal it authenticates, or nothing. */
export interface KeyRing {
  /** The principal of the key (compared in constant time against every entry), or undefined. */
  principal: (presented: string) => Principal | undefined;
  /** The roles of a service key, by name (none for a person's key or an unknown name). */
  serviceRoles: (name: string) => readonly Role[];
}

export function keyRing(entries: readonly ApiKeyEntry[]): KeyRing {
  const digests = entries.map((e) => Buffer.from(e.sha256, 'hex'));
  const byName = new Map(entries.map((e) => [e.name, e]));
  return {
    principal(presented) {
      const digest = createHash('sha256').update(presented, 'utf8').digest();
      let found: ApiKeyEntry | undefined;
      // Every entry is compared, so the time does not depend on which one matched.
      digests.forEach((known, i) => {
        if (timingSafeEqual(digest, known) && !found) found = entries[i];
      });
      if (!found) return undefined;
      return found.person !== undefined
        ? { kind: 'person', id: found.person, via: 'api-key', key: found.name }
        : { kind: 'service', id: found.service ?? found.name, via: 'api-key', key: found.name };
    },
    serviceRoles(name) {
      const entry = byName.get(name);
      return entry?.service !== undefined ? (entry.roles ?? []) : [];
    },
  };
}
