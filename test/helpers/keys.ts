/**
 * API keys for tests, each of a known principal, configured by hash as `API_KEYS` says.
 *
 * `TEST_ADMIN_KEY` belongs to the example organization's AIMS manager (priya.raman); every other
 * person of config/organization.example.yaml has `keyOf(personId)`, and so do two services:
 * `operations` (operations-admin) and `audit-reader` (external-auditor).
 */
import { hashKey } from '../../src/auth/api-keys.js';

export const TEST_ADMIN_KEY = 'test-admin-key-0123456789abcdef';

/** The AIMS manager of the example organization, whom `TEST_ADMIN_KEY` authenticates. */
export const TEST_ADMIN_PERSON = 'priya.raman';

/** The people of the example organization. */
export const EXAMPLE_PEOPLE = [
  'hannah.okafor',
  'david.chen',
  'priya.raman',
  'marco.rossi',
  'sofia.lind',
  'tom.baker',
  'aisha.khan',
  'liam.walsh',
  'elena.petrova',
  'ines.moreau',
] as const;

export const TEST_SERVICES = { operations: ['operations-admin'], 'audit-reader': ['external-auditor'] } as const;

/** The test key of a person of the example organization, or of a test service. */
export function keyOf(principal: string): string {
  return principal === TEST_ADMIN_PERSON ? TEST_ADMIN_KEY : `test-key-${principal}-0123456789abcdef`;
}

/** `Authorization` headers with the key of `principal`. */
export function headersOf(principal: string): { authorization: string } {
  return { authorization: `Bearer ${keyOf(principal)}` };
}

/** `API_KEYS` for tests: every person of the example organization and the test services. */
export const TEST_API_KEYS = JSON.stringify([
  ...EXAMPLE_PEOPLE.map((person) => ({ name: `test-${person}`, sha256: hashKey(keyOf(person)), person })),
  ...Object.entries(TEST_SERVICES).map(([service, roles]) => ({ name: `test-${service}`, sha256: hashKey(keyOf(service)), service, roles })),
]);
