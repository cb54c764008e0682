/**
 * The shared Temporal dev server from test/global-setup.ts: reachable, with every custom search
 * attribute of src/temporal/shared.ts registered under its type, and usable in visibility queries.
 */
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { listCustomSearchAttributes } from '../scripts/lib/temporal-admin.js';
import { waitFor } from '../scripts/lib/wait.js';
import { searchAttributeRegistrations, searchAttributes } from '../src/temporal/search-attributes.js';
import { aimsDataConverter, payloadKeysFromEnv } from '../src/temporal/codec.js';

describe('Temporal dev server for tests', () => {
  const address = inject('temporalAddress');
  const namespace = inject('temporalNamespace');
  let connection: Connection;

  beforeAll(async () => {
    connection = await Connection.connect({ address, connectTimeout: 10_000 });
  });

  afterAll(async () => {
    await connection?.close();
  });

  it('is provided on an ephemeral local port', () => {
    expect(address).toMatch(/^(127\.0\.0\.1|localhost):\d+$/);
    expect(Number(address.split(':')[1])).not.toBe(7233);
    expect(namespace).toBe('default');
  });

  it('has every project search attribute registered with its type', async () => {
    const registered = await listCustomSearchAttributes(connection, namespace);
    const expected = searchAttributeRegistrations();
    expect(expected.length).toBeGreaterThan(0);
    for (const { name, type } of expected) {
      expect(registered.get(name), `search attribute ${name}`).toBe(type);
    }
  });

  it('indexes a workflow by the custom search attributes', async () => {
    const client = new Client({ connection, namespace, dataConverter: aimsDataConverter(payloadKeysFromEnv({})) });
    const marker = `probe-${randomUUID()}`;
    const due = new Date('2031-05-04T03:02:01.000Z');
    // No worker polls this queue: the workflow stays Running, which is all visibility needs.
    const handle = await client.workflow.start('VisibilityProbe', {
      taskQueue: `visibility-probe-${randomUUID()}`,
      workflowId: `test/visibility/${marker}`,
      workflowRunTimeout: '5 minutes',
      typedSearchAttributes: [
        { key: searchAttributes.process, value: marker },
        { key: searchAttributes.dueDate, value: due },
        { key: searchAttributes.clauses, value: ['9.2', 'A.5.4'] },
      ],
    });
    try {
      const query =
        `${searchAttributes.process.name} = '${marker}' AND ` +
        `${searchAttributes.clauses.name} = 'A.5.4' AND ` +
        `${searchAttributes.dueDate.name} > '2031-01-01T00:00:00Z'`;
      const count = await waitFor(
        'the probe workflow to become visible',
        async () => {
          const { count: n } = await client.workflow.count(query);
          return n > 0 ? n : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 250 },
      );
      expect(count).toBe(1);

      const description = await handle.describe();
      expect(description.status.name).toBe('RUNNING');
      expect(description.typedSearchAttributes.get(searchAttributes.process)).toBe(marker);
      expect(description.typedSearchAttributes.get(searchAttributes.dueDate)?.toISOString()).toBe(
        due.toISOString(),
      );
    } finally {
      await handle.terminate('test finished');
    }
  });
});
