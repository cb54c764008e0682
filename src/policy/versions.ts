/**
 * The AI policy's versions and acknowledgements as the evidence ledger holds them: every
 * approved version (`policy.version-approved`), the people asked to acknowledge it
 * (`policy.acknowledgements-requested`) and who did (`policy.acknowledged`), and a line diff
 * between two versions.
 */
import { recordsOfKind } from '../objectives/figures.js';
import type { RecordsStore } from '../records/types.js';
import type { PolicyVersion } from './schema.js';

const obj = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

/** Every approved version, oldest first. */
export async function policyVersions(records: Pick<RecordsStore, 'list'>): Promise<PolicyVersion[]> {
  const found = await recordsOfKind(records, 'policy.version-approved');
  return found.map((r) => obj(r.content) as unknown as PolicyVersion).sort((a, b) => a.version - b.version);
}

export interface AcknowledgementList {
  version: number;
  requestedAt: string;
  acknowledged: Array<{ person: string; at: string }>;
  pending: string[];
  rate: number | null;
}

/** Who has and has not acknowledged `version` (undefined when none was requested for it). */
export async function acknowledgementsOf(records: Pick<RecordsStore, 'list'>, version: number): Promise<AcknowledgementList | undefined> {
  const requested = (await recordsOfKind(records, 'policy.acknowledgements-requested')).filter((r) => obj(r.content).version === version).at(-1);
  if (!requested) return undefined;
  const people = (obj(requested.content).people as string[] | undefined) ?? [];
  const acks = (await recordsOfKind(records, 'policy.acknowledged')).map((r) => ({ c: obj(r.content), at: r.occurredAt })).filter(({ c }) => c.version === version);
  const acknowledged = people.flatMap((person) => {
    const found = acks.find(({ c }) => c.person === person);
    return found ? [{ person, at: typeof found.c.at === 'string' ? found.c.at : found.at }] : [];
  });
  return {
    version,
    requestedAt: requested.occurredAt,
    acknowledged,
    pending: people.filter((p) => !acknowledged.some((a) => a.person === p)),
    rate: people.length ? acknowledged.length / people.length : null,
  };
}

/**
 * A line diff of two versions' texts (`+` added, `-` removed, ` ` kept), from the longest common
 * subsequence of their lines. A policy is a few hundred lines, so the quadratic table is small;
 * the `diff` package would do the same and is named in the README as the replacement if texts grow.
 */
export function policyDiff(from: string, to: string): Array<{ op: '+' | '-' | ' '; line: string }> {
  const a = from.split('\n');
  const b = to.split('\n');
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i -= 1) {
    for (let j = b.length - 1; j >= 0; j -= 1) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  const out: Array<{ op: '+' | '-' | ' '; line: string }> = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      out.push({ op: ' ', line: a[i]! });
      i += 1;
      j += 1;
    } else if (lcs[i + 1]![j]! >= lcs[i]![j + 1]!) {
      out.push({ op: '-', line: a[i]! });
      i += 1;
    } else {
      out.push({ op: '+', line: b[j]! });
      j += 1;
    }
  }
  for (; i < a.length; i += 1) out.push({ op: '-', line: a[i]! });
  for (; j < b.length; j += 1) out.push({ op: '+', line: b[j]! });
  return out;
}
