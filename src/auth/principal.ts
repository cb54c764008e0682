/**
 * Who is acting: the principal a request was authenticated as. Every recorded action names it.
 *
 * - a person signed in through OpenID Connect (`via: 'session'`),
 * - a person or a service holding an admin API key (`via: 'api-key'`, `key` is the key's name,
 *   never the key),
 * - a person acting from an e-mailed link (`via: 'link'`).
 *
 * A service may act on behalf of a person only with the act-on-behalf permission; the ledger
 * then records "service X on behalf of person Y" (`onBehalfOf`).
 *
 * The API sets `request.principal` in its authentication hooks (a session cookie or an API key);
 * routes read it and never take the actor from the request body.
 */
export type Principal =
  | { kind: 'person'; id: string; via: 'session' | 'api-key' | 'link'; key?: string }
  | { kind: 'service'; id: string; via: 'api-key'; key: string; onBehalfOf?: string };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by the authentication hooks; undefined on public routes. */
    principal?: Principal;
  }
}
