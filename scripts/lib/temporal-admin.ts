/**
 * Small Temporal operations the local stack needs before the worker and the API start:
 * waiting for the frontend and the namespace, and making sure the project's custom search
 * attributes are registered.
 */
import { Connection } from '@temporalio/client';
import { searchAttributeRegistrations } from '../../src/temporal/search-attributes.js';
import { waitFor, type WaitOptions } from './wait.js';

/**
 * CLI type names (as in searchAttributeRegistrations) → the server's IndexedValueType enum
 * values (temporal.api.enums.v1.IndexedValueType; fixed by the API's protobuf definition).
 */
export const INDEXED_VALUE_TYPES: Readonly<Record<string, number>> = {
  Text: 1,
  Keyword: 2,
  Int: 3,
  Double: 4,
  Bool: 5,
  Datetime: 6,
  KeywordList: 7,
};

/** Connects once the frontend answers and the namespace exists. */
export async function connectWhenReady(
  address: string,
  namespace: string,
  options: WaitOptions,
): Promise<Connection> {
  return waitFor(
    `Temporal at ${address} (namespace ${namespace})`,
    async () => {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.withDeadline(Date.now() + 5_000, () =>
          connection.workflowService.describeNamespace({ namespace }),
        );
        return connection;
      } catch (err) {
        await connection.close();
        throw err;
      }
    },
    options,
  );
}

/** Custom search attributes currently registered in the namespace, as name → CLI type name. */
export async function listCustomSearchAttributes(
  connection: Connection,
  namespace: string,
): Promise<Map<string, string>> {
  const res = await connection.withDeadline(Date.now() + 10_000, () =>
    connection.operatorService.listSearchAttributes({ namespace }),
  );
  const byValue = new Map(Object.entries(INDEXED_VALUE_TYPES).map(([name, v]) => [v, name]));
  const result = new Map<string, string>();
  for (const [name, type] of Object.entries(res.customAttributes ?? {})) {
    result.set(name, byValue.get(type) ?? `unknown(${type})`);
  }
  return result;
}

/**
 * Registers any of the project's search attributes missing from the namespace; an attribute
 * registered meanwhile by someone else counts as success. Throws when an attribute exists with
 * a different type. Returns the names it added.
 */
export async function ensureSearchAttributes(
  connection: Connection,
  namespace: string,
): Promise<string[]> {
  const wanted = searchAttributeRegistrations();
  const existing = await listCustomSearchAttributes(connection, namespace);
  const wrongType = wanted.filter(
    ({ name, type }) => existing.has(name) && existing.get(name) !== type,
  );
  if (wrongType.length > 0) {
    throw new Error(
      `search attributes registered with another type in namespace ${namespace}: ` +
        wrongType.map(({ name, type }) => `${name} is ${existing.get(name)}, expected ${type}`).join('; '),
    );
  }
  const missing = wanted.filter(({ name }) => !existing.has(name));
  if (missing.length === 0) return [];
  const searchAttributes: Record<string, number> = {};
  for (const { name, type } of missing) {
    const value = INDEXED_VALUE_TYPES[type];
    if (value === undefined) throw new Error(`unknown search attribute type ${type} for ${name}`);
    searchAttributes[name] = value;
  }
  try {
    await connection.withDeadline(Date.now() + 15_000, () =>
      connection.operatorService.addSearchAttributes({ namespace, searchAttributes }),
    );
  } catch (err) {
    if (!/already exists/i.test(err instanceof Error ? err.message : String(err))) throw err;
  }
  return missing.map(({ name }) => name);
}
