/**
 * People as the directory answers them (activities/directory.ts): a person no longer in the
 * organization comes back `unknown`, without an address, instead of failing the look-up. Where
 * a look-up checks input (an action plan's owners, a reassignment target) such a person is
 * refused, named as before; where it routes work, the workflow takes the fallback.
 */
import type { PersonRef } from '../../src/common/schemas.js';
import { reject } from './util.js';

/** A person from the directory: `unknown` when not in the organization; `insteadOf` when standing in for someone. */
export type Person = PersonRef & { unknown?: boolean; insteadOf?: string };

/** The ids of the people the directory did not know. */
export function unknownIds(people: readonly Person[]): string[] {
  return people.filter((p) => p.unknown).map((p) => p.id);
}

/** `unknown person "a"; unknown person "b"`, the wording the look-ups used when they failed; empty when all are known. */
export function unknownText(people: readonly Person[]): string {
  return unknownIds(people)
    .map((id) => `unknown person "${id}"`)
    .join('; ');
}

/** Rejects an update naming the people the directory did not know. */
export function rejectUnknown(people: readonly Person[], prefix = ''): void {
  const text = unknownText(people);
  if (text) reject(`${prefix}${text}`);
}

/** A person's id, name and address only (what workflow state and mails keep). */
export function ref(p: Person): PersonRef {
  return { id: p.id, name: p.name, email: p.email };
}
