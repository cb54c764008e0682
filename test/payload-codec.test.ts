/**
 * Payload encryption end to end: what Temporal stores (read raw through its service API, no
 * codec) holds no e-mail address, name, form answer or failure message in plain text; the same
 * payloads through `POST /codec/decode` show them; key rotation keeps a running workflow
 * readable; the codec endpoint's access rules and CORS; the PAYLOAD_KEYS format.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import proto from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HumanTaskInput, HumanTaskResult, TaskStatus } from '../src/task/schema.js';
import { completeTaskUpdate, taskStatusQuery } from '../src/task/contract.js';
import { SESSION_COOKIE } from '../src/auth/session.js';
import { AesGcmPayloadCodec, ENCRYPTED_ENCODING, KEY_ID_METADATA, parsePayloadKeys, PayloadCodecError } from '../src/temporal/codec.js';
import { parseConfig } from '../src/config.js';
import { buildTestApp, headersOf, type TestApp } from './helpers/api.js';
import { HISTORY_PAYLOAD_KEYS, recordHistory } from './helpers/histories.js';
import { TEST_API_KEYS } from './helpers/keys.js';
import { signInEnv } from './helpers/oidc.js';
import { isNotification } from './helpers/smtp.js';
import { eventually, exampleOrganization, inMs, startTestStack, type TestStack } from './helpers/temporal.js';

const { temporal } = proto;

const UI_ORIGIN = 'http://127.0.0.1:8233';
const key = () => randomBytes(32).toString('base64');

interface WirePayload {
  metadata: Record<string, string>;
  data: string;
}

/**
 * Every payload (an object with `data` bytes) anywhere in a decoded protobuf message, but for
 * search attributes (plain by design: the operations view, ids only) and what the SDK's core
 * writes into markers outside the codec: the patch ids of `patched()` (`patch-data`) and a local
 * activity's bookkeeping (`data`: its sequence number, attempt, type and times; its result is a
 * payload of its own, encrypted).
 */
function payloadsIn(value: unknown, found: Payload[] = [], path = ''): Payload[] {
  if (!value || typeof value !== 'object') return found;
  if (value instanceof Uint8Array) return found;
  const record = value as Record<string, unknown>;
  if (record.data instanceof Uint8Array && (record.metadata === undefined || typeof record.metadata === 'object')) {
    found.push(Object.assign(record as Payload, { path }));
    return found;
  }
  for (const [name, child] of Object.entries(record)) {
    if (name === 'searchAttributes' || name === 'patch-data' || (name === 'data' && path.endsWith('markerRecordedEventAttributes.details'))) continue;
    payloadsIn(child, found, `${path}.${name}`);
  }
  return found;
}

const toWire = (p: Payload): WirePayload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

/** The raw history of a workflow as Temporal's frontend returns it (every page), and its bytes. */
async function rawHistory(stack: TestStack, workflowId: string) {
  const events: proto.temporal.api.history.v1.IHistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await stack.connection.workflowService.getWorkflowExecutionHistory({
      namespace: stack.config.TEMPORAL_NAMESPACE,
      execution: { workflowId },
      ...(nextPageToken ? { nextPageToken } : {}),
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  const bytes = Buffer.from(temporal.api.history.v1.History.encode({ events }).finish());
  return { events, bytes, payloads: payloadsIn(events) };
}

/** Decodes payloads through the API's codec endpoint with the operations key; returns the decoded texts joined. */
async function decodeThroughEndpoint(t: TestApp, payloads: Payload[]): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: '/codec/decode', headers: headersOf('operations'), payload: { payloads: payloads.map(toWire) } });
  expect(res.statusCode, res.body).toBe(200);
  const decoded = res.json<{ payloads: WirePayload[] }>().payloads;
  expect(decoded).toHaveLength(payloads.length);
  return decoded.map((p) => Buffer.from(p.data, 'base64').toString('utf8')).join('\n');
}

function taskInput(marker: string): HumanTaskInput {
  return {
    title: `Review the drift report ${marker}`,
    instructions: 'Attach the monitoring dashboard.',
    clauses: ['9.1'],
    process: 'ai-system-lifecycle',
    assignee: { person: 'sofia.lind' },
    dueAt: inMs(3_600_000),
    form: 'evidence',
  };
}


describe('payloads in Temporal', () => {
  let stack: TestStack;
  let t: TestApp;

  beforeAll(async () => {
    stack = await startTestStack({ payloadKeys: HISTORY_PAYLOAD_KEYS });
    const organization = await exampleOrganization();
    t = await buildTestApp({ env: { PAYLOAD_KEYS: HISTORY_PAYLOAD_KEYS }, temporal: stack.client, organization: () => organization });
  }, 60_000);

  afterAll(async () => {
    await t?.close();
    await stack?.stop();
  });

  it('stores no e-mail address, name or form answer in plain text; the codec endpoint shows them', { timeout: 60_000 }, async () => {
    const marker = randomUUID().slice(0, 8);
    const answer = `Drift within bounds for every segment ${marker}`;
    const task = await stack.start<[HumanTaskInput], HumanTaskResult>('humanTask', [taskInput(marker)]);
    await eventually(() => task.query(taskStatusQuery), (s: TaskStatus) => s.state === 'open');
    await stack.smtp.waitFor((m) => isNotification(m, task.workflowId, 'task.assigned', 'sofia.lind@northwind.example'), 20_000);
    await task.executeUpdate(completeTaskUpdate, { args: [{ by: 'sofia.lind', data: { summary: answer, links: ['https://wiki.northwind.example/drift'] } }] });
    const result = await task.result();
    // The client, with the keys, reads everything back.
    expect(JSON.stringify(result)).toContain(answer);

    const raw = await rawHistory(stack, task.workflowId);
    const text = raw.bytes.toString('latin1');
    for (const secret of ['sofia.lind@northwind.example', 'Sofia Lind', answer, `drift report ${marker}`]) {
      expect(text, secret).not.toContain(secret);
    }
    expect(raw.payloads.length).toBeGreaterThan(5);
    for (const payload of raw.payloads) {
      expect(Buffer.from(payload.metadata?.encoding ?? new Uint8Array()).toString(), (payload as { path?: string }).path).toBe(ENCRYPTED_ENCODING);
      expect(Buffer.from(payload.metadata?.encoding ?? new Uint8Array()).toString()).toBe(ENCRYPTED_ENCODING);
      expect(Buffer.from(payload.metadata?.[KEY_ID_METADATA] ?? new Uint8Array()).toString()).toBe('history-1');
    }
    // Search attributes stay readable, with person ids only.
    expect(text).toContain('AimsOwner');

    const decoded = await decodeThroughEndpoint(t, raw.payloads);
    for (const secret of ['sofia.lind@northwind.example', 'Sofia Lind', answer, `drift report ${marker}`]) {
      expect(decoded, secret).toContain(secret);
    }
    // The memo (a payload) is encrypted too, and decodes.
    const description = await stack.connection.workflowService.describeWorkflowExecution({
      namespace: stack.config.TEMPORAL_NAMESPACE,
      execution: { workflowId: task.workflowId },
    });
    const memo = Object.values(description.workflowExecutionInfo?.memo?.fields ?? {});
    expect(memo.length).toBeGreaterThan(0);
    expect(Buffer.from(temporal.api.common.v1.Memo.encode({ fields: description.workflowExecutionInfo?.memo?.fields ?? {} }).finish()).toString('latin1')).not.toContain(marker);
    expect(await decodeThroughEndpoint(t, memo as Payload[])).toContain(marker);
    await recordHistory('human-task-encrypted', task.workflowId);
  });

  it('encodes failure messages: a failed workflow’s message is not in plain text, the client and the codec read it', { timeout: 60_000 }, async () => {
    const marker = randomUUID().slice(0, 8);
    const handle = await stack.start<[unknown], HumanTaskResult>('humanTask', [{ ...taskInput(marker), form: `no-such-form-${marker}` }]);
    const failure = await handle.result().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    const message = (failure as WorkflowFailedError).cause?.message ?? '';
    expect(message).toMatch(/^Invalid task input: .*form/);

    const raw = await rawHistory(stack, handle.workflowId);
    const failed = raw.events.find((e) => e.workflowExecutionFailedEventAttributes)?.workflowExecutionFailedEventAttributes?.failure;
    expect(failed?.message).toBe('Encoded failure');
    expect(failed?.encodedAttributes).toBeTruthy();
    expect(raw.bytes.toString('latin1')).not.toContain('Invalid task input');
    const decoded = JSON.parse(await decodeThroughEndpoint(t, [failed!.encodedAttributes as Payload])) as { message: string };
    expect(decoded.message).toBe(message);
  });
});

describe('key rotation', () => {
  it('a workflow started under key 1 runs on, is queried and completes after key 2 becomes current', { timeout: 90_000 }, async () => {
    const k1 = `k1:${key()}`;
    const k2 = `k2:${key()}`;
    const before = await startTestStack({ payloadKeys: k1 });
    let after: TestStack | undefined;
    try {
      const marker = randomUUID().slice(0, 8);
      const task = await before.start<[HumanTaskInput], HumanTaskResult>('humanTask', [taskInput(marker)]);
      await eventually(() => task.query(taskStatusQuery), (s: TaskStatus) => s.state === 'open');
      await before.stop();

      // The worker restarts with the new key first and the old one after it.
      after = await startTestStack({ payloadKeys: `${k2},${k1}`, taskQueue: before.taskQueue });
      const handle = after.client.workflow.getHandle<(i: HumanTaskInput) => Promise<HumanTaskResult>>(task.workflowId);
      const status = await handle.query(taskStatusQuery);
      expect(status.title).toContain(marker);
      expect(status.assignee.id).toBe('sofia.lind');
      await handle.executeUpdate(completeTaskUpdate, { args: [{ by: 'sofia.lind', data: { summary: `done ${marker}`, links: ['https://wiki.northwind.example/drift'] } }] });
      const result = await handle.result();
      expect(JSON.stringify(result)).toContain(`done ${marker}`);

      const raw = await rawHistory(after, task.workflowId);
      const keyIds = new Set(raw.payloads.map((p) => Buffer.from(p.metadata?.[KEY_ID_METADATA] ?? new Uint8Array()).toString()));
      expect([...keyIds].sort()).toEqual(['k1', 'k2']);
      // Without the old key, the first payloads cannot be read, and the error names the key.
      const k2Only = new AesGcmPayloadCodec(parsePayloadKeys(k2));
      const first = raw.payloads.find((p) => Buffer.from(p.metadata?.[KEY_ID_METADATA] ?? new Uint8Array()).toString() === 'k1')!;
      await expect(k2Only.decode([first])).rejects.toThrow(/encrypted under key "k1", which is not in PAYLOAD_KEYS/);
    } finally {
      await after?.stop();
      if (!after) await before.stop().catch(() => undefined);
    }
  });
});

describe('the codec endpoint', () => {
  let t: TestApp;
  const codec = new AesGcmPayloadCodec(parsePayloadKeys(HISTORY_PAYLOAD_KEYS));
  const plain: Payload = { metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('{"email":"sofia.lind@northwind.example"}') };

  beforeAll(async () => {
    const organization = await exampleOrganization();
    t = await buildTestApp({
      env: { ...signInEnv('http://127.0.0.1:9/'), PAYLOAD_KEYS: HISTORY_PAYLOAD_KEYS, TEMPORAL_UI_URL: `${UI_ORIGIN}/namespaces/default` },
      organization: () => organization,
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  const sessionOf = (person: string) => {
    const now = Date.now();
    const value = t.app.encodeSecureSession(t.app.createSecureSession({ person, signedInAt: now - 1000, seenAt: now - 1000 }));
    return { cookie: `${SESSION_COOKIE}=${encodeURIComponent(value)}` };
  };
  const decode = (headers: Record<string, string>, payload: unknown = { payloads: [toWire(codec.encrypt(plain))] }) =>
    t.app.inject({ method: 'POST', url: '/codec/decode', headers: { 'x-namespace': 'default', ...headers }, payload: payload as object });

  it('decodes for the operations-admin role, by API key or by session; refuses everyone else (401, 403)', async () => {
    for (const headers of [headersOf('operations'), sessionOf('noah.berg')]) {
      const res = await decode(headers);
      expect(res.statusCode, res.body).toBe(200);
      const [out] = res.json<{ payloads: WirePayload[] }>().payloads;
      expect(Buffer.from(out!.data, 'base64').toString()).toBe('{"email":"sofia.lind@northwind.example"}');
      expect(Buffer.from(out!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
    }
    const anonymous = await decode({});
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await decode({ authorization: 'Bearer not-a-key-0123456789abcdef' })).statusCode).toBe(401);
    for (const [headers, who] of [
      [headersOf('priya.raman'), 'person priya.raman'],
      [headersOf('audit-reader'), 'service audit-reader'],
      [sessionOf('sofia.lind'), 'person sofia.lind'],
    ] as const) {
      const res = await decode(headers);
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json<{ message: string }>().message).toContain(`${who}`);
      expect(res.json<{ message: string }>().message).toContain('(permission payloads.codec)');
    }
  });

  it('encodes, and decode gives back what was encoded', async () => {
    const encoded = await t.app.inject({ method: 'POST', url: '/codec/encode', headers: headersOf('operations'), payload: { payloads: [toWire(plain)] } });
    expect(encoded.statusCode, encoded.body).toBe(200);
    const [wire] = encoded.json<{ payloads: WirePayload[] }>().payloads;
    expect(Buffer.from(wire!.metadata[KEY_ID_METADATA]!, 'base64').toString()).toBe('history-1');
    expect(Buffer.from(wire!.data, 'base64').toString('latin1')).not.toContain('sofia');
    const back = await decode(headersOf('operations'), { payloads: [wire] });
    expect(Buffer.from(back.json<{ payloads: WirePayload[] }>().payloads[0]!.data, 'base64').toString()).toContain('sofia.lind@northwind.example');
  });

  it('answers a preflight from the Temporal UI origin with credentials and the UI’s headers; not from another origin', async () => {
    for (const url of ['/codec/decode', '/codec/encode']) {
      const ok = await t.app.inject({
        method: 'OPTIONS',
        url,
        headers: { origin: UI_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' },
      });
      expect(ok.statusCode, ok.body).toBe(204);
      expect(ok.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
      expect(ok.headers['access-control-allow-credentials']).toBe('true');
      expect(String(ok.headers['access-control-allow-methods'])).toContain('POST');
      for (const header of ['content-type', 'x-namespace', 'authorization']) expect(String(ok.headers['access-control-allow-headers'])).toContain(header);

      const foreign = await t.app.inject({ method: 'OPTIONS', url, headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
      expect(foreign.statusCode).toBe(403);
      expect(foreign.headers['access-control-allow-origin']).toBeUndefined();
      expect(foreign.json<{ message: string }>().message).toContain('not from http://evil.example');
    }
    // The real request: CORS headers for the UI (on errors too, so it can read them), none for others.
    const fromUi = await decode({ ...headersOf('operations'), origin: UI_ORIGIN });
    expect(fromUi.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
    const refused = await decode({ origin: UI_ORIGIN });
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
    const fromElsewhere = await decode({ ...headersOf('operations'), origin: 'http://evil.example' });
    expect(fromElsewhere.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('answers a bad body with 400 naming the field, never 5xx', async () => {
    const cases: Array<[unknown, string]> = [
      [{}, 'payloads'],
      [{ payloads: 'x' }, 'payloads'],
      [{ payloads: [{ data: '***' }] }, 'payloads.0.data'],
      [{ payloads: [{ metadata: { encoding: 42 } }] }, 'payloads.0.metadata.encoding'],
      [{ payloads: [{ data: 'AAAA', extra: 1 }] }, 'payloads.0.extra'],
      [{ payloads: [toWire({ metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from('gone-1') }, data: Buffer.alloc(40) })] }, 'payloads.0'],
      [{ payloads: [toWire({ metadata: { encoding: Buffer.from(ENCRYPTED_ENCODING), [KEY_ID_METADATA]: Buffer.from('history-1') }, data: Buffer.alloc(40) })] }, 'payloads.0'],
    ];
    for (const [body, path] of cases) {
      const res = await decode(headersOf('operations'), body);
      expect(res.statusCode, `${JSON.stringify(body)}: ${res.body}`).toBe(400);
      const issues = res.json<{ issues?: Array<{ path: string }> }>().issues ?? [];
      expect(issues.map((i) => i.path), res.body).toContain(path);
    }
    const unknownKey = await decode(headersOf('operations'), cases[5]![0]);
    expect(unknownKey.json<{ message: string }>().message).toContain('"gone-1"');
    const notJson = await t.app.inject({ method: 'POST', url: '/codec/decode', headers: { ...headersOf('operations'), 'content-type': 'application/json' }, payload: '{' });
    expect(notJson.statusCode).toBe(400);
  });
});

describe('PAYLOAD_KEYS', () => {
  const base = { LINK_SECRET: 'x'.repeat(40), API_KEYS: TEST_API_KEYS };
  const problems = (env: Record<string, string>) => {
    try {
      parseConfig({ ...base, ...env });
      return '';
    } catch (err) {
      return (err as Error).message;
    }
  };

  it('is id:base64key, current first; a bad entry is named', () => {
    const config = parseConfig({ ...base, PAYLOAD_KEYS: `new-2:${key()}, old-1:${key()}` });
    expect(config.PAYLOAD_KEYS.map((k) => k.id)).toEqual(['new-2', 'old-1']);
    expect(problems({ PAYLOAD_KEYS: `a:${key()},b` })).toContain('PAYLOAD_KEYS: entry 2 must be id:base64key');
    expect(problems({ PAYLOAD_KEYS: `a:${randomBytes(16).toString('base64')}` })).toContain('entry 1 (key a): the key must be 32 bytes, got 16');
    expect(problems({ PAYLOAD_KEYS: `a:${key()},a:${key()}` })).toContain('entry 2: the key id a is given twice');
    expect(problems({ PAYLOAD_KEYS: `a b:${key()}` })).toContain('the key id "a b"');
  });

  it('is required in production, and the public development key is refused there', () => {
    expect(problems({ NODE_ENV: 'production' })).toContain('PAYLOAD_KEYS: is required in production');
    expect(problems({ NODE_ENV: 'production', PAYLOAD_KEYS: `k1:${key()}` })).toBe('');
    expect(parseConfig(base).PAYLOAD_KEYS[0]!.id).toBe('dev-public');
  });

  it('a payload altered in Temporal does not decode, and says so', async () => {
    const codec = new AesGcmPayloadCodec(parsePayloadKeys(`k1:${key()}`));
    const [encrypted] = await codec.encode([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from('"x"') }]);
    const altered = { ...encrypted!, data: Buffer.from(encrypted!.data!).fill(1, 20, 21) };
    await expect(codec.decode([altered])).rejects.toThrow(PayloadCodecError);
    await expect(codec.decode([altered])).rejects.toThrow(/does not authenticate/);
  });
});
