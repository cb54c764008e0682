import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { requestActor } from '../src/api/plugins/admin-auth.js';
import { actingPerson } from '../src/api/plugins/workflow-routes.js';
import type { Principal } from '../src/auth/principal.js';

/** A request as actingPerson sees it: its body and its principal. */
function request(body: unknown, principal?: Principal): FastifyRequest {
  return { body, principal } as unknown as FastifyRequest;
}

const priya: Principal = { kind: 'person', id: 'priya.raman', via: 'api-key', key: 'priya-laptop' };
const ops: Principal = { kind: 'service', id: 'operations', via: 'api-key', key: 'ops-runner' };

describe('who acts in an admin request', () => {
  it('is the principal, whatever the body says', () => {
    expect(actingPerson(request({ by: 'tom.baker' }, priya))).toBe('priya.raman');
    expect(actingPerson(request(undefined, priya))).toBe('priya.raman');
  });

  it('is service:<name> for a service key', () => {
    expect(actingPerson(request({}, ops))).toBe('service:operations');
  });

  it('is refused (401) without a principal: never `system`', () => {
    expect(() => actingPerson(request({}))).toThrow(expect.objectContaining({ statusCode: 401 }));
  });

  it('refuses (403) a body naming someone else, naming the field and the principal', () => {
    let refusal: unknown;
    try {
      requestActor(request({}, priya), 'tom.baker', 'requestedBy');
    } catch (err) {
      refusal = err;
    }
    expect(refusal).toMatchObject({ statusCode: 403 });
    expect((refusal as Error).message).toMatch(/requestedBy names "tom\.baker".*person priya\.raman \(key priya-laptop\)/);
    expect(() => requestActor(request({}, priya), 'system')).toThrow(expect.objectContaining({ statusCode: 403 }));
    expect(requestActor(request({}, priya), 'priya.raman')).toBe('priya.raman');
  });
});
