/**
 * The codec endpoint of the Temporal Web UI (Temporal's remote codec protocol):
 * `POST /codec/decode` and `POST /codec/encode` take `{ payloads: [{ metadata: { k: base64 },
 * data: base64 }] }` and answer the same shape, decrypted or encrypted with the payload keys
 * (src/temporal/codec.ts), so operations read workflow inputs, results and failures in the UI.
 *
 * Who: the permission `payloads.codec` (the operations-admin role), by a signed-in session
 * (the UI sends the cookie when it includes credentials) or an API key. Where from: CORS
 * answers only the Temporal UI's origin (`TEMPORAL_UI_URL`), with credentials and the headers
 * the UI sends (content-type, x-namespace, authorization, authorization-extras); a preflight from
 * any other origin is refused with 403 and no CORS headers, so the browser blocks the call.
 * Bad bodies are 400 naming the field; a payload under a key not in PAYLOAD_KEYS, or one that
 * does not authenticate, is 400 naming the payload and the key id.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Payload } from '@temporalio/common';
import { z } from 'zod';
import { keyRing } from '../../auth/api-keys.js';
import { AesGcmPayloadCodec, PayloadCodecError } from '../../temporal/codec.js';
import { errorResponses, errorResponseSchema, HttpError } from '../errors.js';
import { adminSecurity, createAdminAuth, requirePermission } from '../plugins/admin-auth.js';
import '../deps.js';

export const CODEC_PREFIX = '/codec';

/** Headers the Temporal UI sends to a codec endpoint. */
const ALLOWED_HEADERS = 'content-type, x-namespace, authorization, authorization-extras';

/** Largest body the codec takes: a whole history's payloads for one view (the API's other routes take 256 KiB). */
export const CODEC_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

const payloadSchema = z.strictObject({
  metadata: z
    .record(z.string(), z.base64({ error: 'must be base64' }))
    .optional()
    .describe('Metadata entries, each value base64'),
  data: z.base64({ error: 'must be base64' }).optional().describe('The payload bytes, base64'),
});

const codecBodySchema = z.strictObject({
  payloads: z.array(payloadSchema, { error: 'must be a list of payloads' }).max(10_000, 'must list at most 10000 payloads'),
});

const codecResponseSchema = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), z.string()), data: z.string() })),
});

type WirePayload = z.output<typeof payloadSchema>;

function fromWire(p: WirePayload): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
    data: Buffer.from(p.data ?? '', 'base64'),
  };
}

function toWire(p: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v ?? new Uint8Array()).toString('base64')])),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

/** The origin of the Temporal UI, the one origin the codec answers cross-origin. */
export function codecOrigin(uiUrl: string): string {
  return new URL(uiUrl).origin;
}

function corsHeaders(reply: FastifyReply, origin: string): void {
  reply.header('access-control-allow-origin', origin);
  reply.header('access-control-allow-credentials', 'true');
}

export const codecRoutes: FastifyPluginAsyncZod = async (app) => {
  const { config } = app.deps;
  const allowedOrigin = codecOrigin(config.TEMPORAL_UI_URL);
  const codec = new AesGcmPayloadCodec(config.PAYLOAD_KEYS);
  const ring = keyRing(config.API_KEYS);
  if (!app.hasDecorator('adminKeys')) app.decorate('adminKeys', ring);
  const adminAuth = createAdminAuth(ring);

  // CORS first: every answer to the UI's origin (errors included) carries it, so the UI can read a 401 or 400.
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    reply.header('vary', 'Origin');
    reply.header('cache-control', 'no-store');
    if (request.headers.origin === allowedOrigin) corsHeaders(reply, allowedOrigin);
  });

  const preflight = async (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin;
    if (origin !== allowedOrigin) {
      throw new HttpError(403, `Cross-origin calls to the codec are allowed from the Temporal UI (${allowedOrigin}) only${origin ? `, not from ${origin}` : ''}.`);
    }
    reply.header('access-control-allow-methods', 'POST, OPTIONS');
    reply.header('access-control-allow-headers', ALLOWED_HEADERS);
    reply.header('access-control-max-age', '600');
    return reply.code(204).send();
  };

  const run = (operation: 'encode' | 'decode') => async (request: FastifyRequest<{ Body: z.output<typeof codecBodySchema> }>) => {
    const payloads = request.body.payloads.map(fromWire);
    const out: Payload[] = [];
    for (const [index, payload] of payloads.entries()) {
      try {
        out.push(operation === 'encode' ? codec.encrypt(payload) : codec.decrypt(payload));
      } catch (err) {
        if (err instanceof PayloadCodecError) {
          throw new HttpError(400, `payloads[${index}]: ${err.message}`, { issues: [{ path: `payloads.${index}`, message: err.message }] });
        }
        throw err;
      }
    }
    return { payloads: out.map(toWire) };
  };

  for (const operation of ['encode', 'decode'] as const) {
    app.route({ method: 'OPTIONS', url: `/${operation}`, schema: { hide: true }, handler: preflight });
    app.route({
      method: 'POST',
      url: `/${operation}`,
      bodyLimit: CODEC_BODY_LIMIT_BYTES,
      onRequest: adminAuth,
      preValidation: requirePermission('payloads.codec'),
      schema: {
        summary: operation === 'decode' ? 'Decrypt workflow payloads for the Temporal UI' : 'Encrypt workflow payloads for the Temporal UI',
        tags: ['codec'],
        security: adminSecurity,
        body: codecBodySchema,
        response: {
          200: codecResponseSchema,
          ...errorResponses,
          401: errorResponseSchema.describe('Not signed in, or a missing or wrong API key'),
          403: errorResponseSchema.describe('The principal may not use the codec (permission payloads.codec: the operations-admin role)'),
        },
      },
      handler: run(operation),
    });
  }
};

/** Registers the codec routes under /codec. */
export async function registerCodecRoutes(app: FastifyInstance): Promise<void> {
  await app.register(codecRoutes, { prefix: CODEC_PREFIX });
}
