import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createLinkSigner, LinkError, type LinkErrorCode } from '../src/links/signer.js';

const secret = 'test-secret-0123456789-abcdefghijklmnop';
const signer = createLinkSigner({ secret, ttlHours: 24, baseUrl: 'https://aims.example.com/app/' });

const wf = 'human-task/corrective-action/NC-2027-004/root-cause';
const claims = { wf, task: wf, action: 'task.view', person: 'p.mueller' } as const;

function b64json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodePart(token: string, index: number): Record<string, unknown> {
  const part = token.split('.')[index];
  if (part === undefined) throw new Error(`token has no part ${index}`);
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

async function refusal(promise: Promise<unknown>): Promise<LinkError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(LinkError);
    return err as LinkError;
  }
  throw new Error('expected the token to be refused');
}

async function expectCode(promise: Promise<unknown>, code: LinkErrorCode): Promise<LinkError> {
  const err = await refusal(promise);
  expect(err.code).toBe(code);
  expect(err.message.length).toBeGreaterThan(10);
  return err;
}

describe('link signer', () => {
  it('round-trips the claims, and a url carries the token', async () => {
    const now = new Date('2026-12-01T09:00:00Z');
    const token = await signer.sign(claims, { now });
    const verified = await signer.verify(token, { action: 'task.view', person: 'p.mueller', now });
    expect(verified).toMatchObject({ wf, task: wf, action: 'task.view', person: 'p.mueller' });
    expect(verified.iat).toBe(Math.floor(now.getTime() / 1000));
    expect(verified.exp).toBe(verified.iat + 24 * 3600);
    expect(verified.jti).toMatch(/^[A-Za-z0-9_-]{16}$/);

    const header = decodePart(token, 0);
    const payload = decodePart(token, 1);
    expect(header).toEqual({ alg: 'HS256' });
    expect(payload).toMatchObject({ iss: 'aimsflow', aud: 'task.view', sub: 'p.mueller', wf });
    expect(payload).not.toHaveProperty('tk');

    const url = signer.url('/tasks/view', token);
    expect(url).toBe(`https://aims.example.com/app/tasks/view?token=${token}`);
    expect(new URL(url).searchParams.get('token')).toBe(token);
    // Short enough for an e-mail URL, even with a long workflow id.
    expect(url.length).toBeLessThan(400);
  });

  it('keeps a task id distinct from the workflow, and accepts one of several actions', async () => {
    const token = await signer.sign({ wf: 'management-review/2027', task: 'input/risks', action: 'approval.decide', person: 'ceo' });
    const verified = await signer.verify(token, { action: ['task.view', 'approval.decide'] });
    expect(verified).toMatchObject({ wf: 'management-review/2027', task: 'input/risks', action: 'approval.decide', person: 'ceo' });
  });

  it('defaults task to the workflow id and honours a per-link ttl', async () => {
    const now = new Date('2026-12-01T09:00:00Z');
    const token = await signer.sign({ wf: 'tasks', action: 'tasks.mine', person: 'p.mueller' }, { ttlHours: 1, now });
    const verified = await signer.verify(token, { now: new Date('2026-12-01T09:59:00Z') });
    expect(verified.task).toBe('tasks');
    await expectCode(signer.verify(token, { now: new Date('2026-12-01T10:00:01Z') }), 'expired');
  });

  it('refuses a token signed with another secret as invalid', async () => {
    const other = createLinkSigner({ secret: 'another-secret-0123456789-abcdefghijk', ttlHours: 24, baseUrl: 'http://localhost:3000' });
    const forged = await other.sign(claims);
    await expectCode(signer.verify(forged), 'invalid');
  });

  it('refuses a token whose payload was edited', async () => {
    const token = await signer.sign(claims);
    const [header, , signature] = token.split('.');
    const payload = decodePart(token, 1);
    const tampered = `${header}.${b64json({ ...payload, sub: 'attacker' })}.${signature}`;
    await expectCode(signer.verify(tampered), 'invalid');
    const extended = `${header}.${b64json({ ...payload, exp: Number(payload.exp) + 365 * 86400 })}.${signature}`;
    await expectCode(signer.verify(extended), 'invalid');
  });

  it('refuses truncated tokens and garbage as invalid', async () => {
    const token = await signer.sign(claims);
    for (const bad of [token.slice(0, -5), token.slice(0, token.lastIndexOf('.')), token.slice(0, 20), 'not-a-token', 'a.b.c', '', 'x'.repeat(5000)]) {
      await expectCode(signer.verify(bad), 'invalid');
    }
    for (const bad of [undefined, null, 42, { token }]) {
      await expectCode(signer.verify(bad), 'invalid');
    }
  });

  it('refuses alg=none and other algorithms', async () => {
    const now = Math.floor(Date.now() / 1000);
    const body = { iss: 'aimsflow', aud: 'task.view', sub: 'p.mueller', wf, iat: now, exp: now + 3600, jti: 'abcdefghijklmnop' };
    await expectCode(signer.verify(`${b64json({ alg: 'none' })}.${b64json(body)}.`), 'invalid');
    await expectCode(signer.verify(`${b64json({ alg: 'none', typ: 'JWT' })}.${b64json(body)}`), 'invalid');
    const hs512 = await new SignJWT(body).setProtectedHeader({ alg: 'HS512' }).sign(new TextEncoder().encode(secret));
    await expectCode(signer.verify(hs512), 'invalid');
  });

  it('refuses an expired token but hands back its claims for a fresh link', async () => {
    const token = await signer.sign(claims, { now: new Date('2026-01-01T00:00:00Z') });
    const err = await expectCode(signer.verify(token, { action: 'task.view', person: 'p.mueller' }), 'expired');
    expect(err.claims).toMatchObject({ wf, task: wf, action: 'task.view', person: 'p.mueller' });
  });

  it('refuses a token for another action or another person, expired or not', async () => {
    const token = await signer.sign(claims);
    await expectCode(signer.verify(token, { action: 'approval.decide' }), 'wrong-action');
    await expectCode(signer.verify(token, { action: ['approval.decide', 'tasks.mine'] }), 'wrong-action');
    await expectCode(signer.verify(token, { person: 'someone.else' }), 'wrong-person');

    const old = await signer.sign(claims, { now: new Date('2026-01-01T00:00:00Z') });
    await expectCode(signer.verify(old, { action: 'approval.decide' }), 'wrong-action');
    const foreign = await expectCode(signer.verify(old, { person: 'someone.else' }), 'wrong-person');
    expect(foreign.claims?.person).toBe('p.mueller');
  });

  it('refuses a short secret, bad claims and unsafe paths with the field named', async () => {
    expect(() => createLinkSigner({ secret: 'short', ttlHours: 1, baseUrl: 'http://localhost' })).toThrow(/secret: .*32/);
    expect(() => createLinkSigner({ secret, ttlHours: 0, baseUrl: 'http://localhost' })).toThrow(/ttlHours/);
    expect(() => createLinkSigner({ secret, ttlHours: 1, baseUrl: 'ftp://x' })).toThrow(/baseUrl/);
    await expect(signer.sign({ ...claims, person: '' })).rejects.toThrow(/person/);
    await expect(signer.sign({ ...claims, action: 'delete.everything' as never })).rejects.toThrow(/action/);
    await expect(signer.sign({ ...claims, wf: 'a\nb' })).rejects.toThrow(/wf: .*control/);
    expect(() => signer.url('https://evil.example/x', 't')).toThrow(/path/);
    expect(() => signer.url('//evil.example/x', 't')).toThrow(/path/);
  });
});
