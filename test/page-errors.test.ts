/**
 * A page whose call to the Temporal service goes unanswered answers 503 with Retry-After (safe
 * to open again), never 500: also when the call is a raw service call that reports a bare gRPC
 * status rather than the SDK's ServiceError. The error is a real one: a call with a deadline to
 * a server that accepts the connection and never answers.
 */
import net from 'node:net';
import { Connection } from '@temporalio/client';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pageHandler, type PageContext } from '../src/api/pages/common.js';
import { createLinkSigner } from '../src/links/signer.js';
import { testConfig, TEST_LINK_SECRET } from './helpers/api.js';

let silent: net.Server;
let connection: Connection;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  silent = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as net.AddressInfo;
  connection = Connection.lazy({ address: `127.0.0.1:${port}` });
});

afterAll(async () => {
  await connection?.close();
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => silent.close(() => resolve()));
});

/** The error a history read with a 300 ms deadline gives against the silent server. */
async function unansweredCallError(): Promise<unknown> {
  try {
    await connection.withDeadline(Date.now() + 300, () =>
      connection.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: 'task/adhoc/2031/none' } }),
    );
  } catch (err) {
    return err;
  }
  throw new Error('the silent server answered');
}

describe('a page whose Temporal call goes unanswered', () => {
  it('answers 503 with Retry-After and the try-again page, not 500', async () => {
    const failure = await unansweredCallError();
    expect(failure).toMatchObject({ code: 4 });
    const config = testConfig();
    const ctx: PageContext = {
      config,
      links: createLinkSigner({ secret: TEST_LINK_SECRET, ttlHours: 24, baseUrl: config.PUBLIC_BASE_URL }),
      temporal: undefined,
      organization: undefined,
      sendNotification: () => Promise.reject(new Error('no mail in this test')),
      linkRefused: () => undefined,
      records: undefined,
    };
    const app = Fastify({ logger: false });
    app.get(
      '/page',
      pageHandler(ctx, () => Promise.reject(failure as Error)),
    );
    const res = await app.inject({ method: 'GET', url: '/page' });
    await app.close();
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.body).toContain('Please try again in a minute');
  });
});
