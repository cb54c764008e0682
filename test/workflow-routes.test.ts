import type { FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { actingPerson, asAimsManager, type Fallback } from '../src/api/plugins/workflow-routes.js';
import type { Organization } from '../src/organization/schema.js';
import { exampleOrganization } from './helpers/temporal.js';

/** A request as actingPerson sees it: its body, and the API's organization file if any. */
function request(body: unknown, organization?: Organization): FastifyRequest {
  return { body, server: { deps: { organization: organization && (() => organization) } } } as unknown as FastifyRequest;
}

describe('who acts in an admin update', () => {
  it('is the person the body names, whatever the fallback', async () => {
    const org = await exampleOrganization();
    expect(actingPerson(request({ by: 'tom.baker' }))).toBe('tom.baker');
    expect(actingPerson(request({ by: 'tom.baker' }, org), asAimsManager)).toBe('tom.baker');
  });

  it('is the system by default, also without a body', () => {
    expect(actingPerson(request({ reason: 'duplicate' }))).toBe('system');
    expect(actingPerson(request(undefined))).toBe('system');
  });

  it("falls back to the organization's AIMS manager where a route says so", async () => {
    const org = await exampleOrganization();
    expect(actingPerson(request({}, org), asAimsManager)).toBe(org.roles.aimsManager);
    const managerOrSystem: Fallback = (o) => asAimsManager(o) ?? 'system';
    expect(actingPerson(request({}), managerOrSystem)).toBe('system');
  });

  it('asks for `by` when the fallback knows nobody (no organization file)', () => {
    expect(() => actingPerson(request({}), asAimsManager)).toThrow(
      expect.objectContaining({ statusCode: 400, issues: [{ path: 'by', message: 'is required' }] }),
    );
  });
});
