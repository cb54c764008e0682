/**
 * The link page's bare baseline, run as a process of its own as the API is: Fastify with form
 * bodies and nothing else, serving `GET /t?token=` (a small page with a form and its hidden
 * `csrf` field) and `POST /t?token=` (checks the field, answers a short thank-you page).
 *
 *   PORT=3999 node --import tsx bench/lib/bare-fastify.ts
 */
import { createHmac } from 'node:crypto';
import formbody from '@fastify/formbody';
import Fastify from 'fastify';

const secret = 'bare-baseline-secret';
const csrfOf = (token: string) => createHmac('sha256', secret).update(`csrf:${token}`).digest('hex');

const app = Fastify({ logger: false });
await app.register(formbody);
app.get<{ Querystring: { token?: string } }>('/t', async (request, reply) => {
  const token = request.query.token ?? '';
  return reply
    .type('text/html; charset=utf-8')
    .send(
      `<!doctype html><html><body><h1>Task</h1><form method="post" action="/t?token=${encodeURIComponent(token)}">` +
        `<input type="hidden" name="csrf" value="${csrfOf(token)}"><textarea name="summary"></textarea>` +
        `<input name="links"><button>Send</button></form></body></html>`,
    );
});
app.post<{ Querystring: { token?: string }; Body: Record<string, string> }>('/t', async (request, reply) => {
  if (request.body?.csrf !== csrfOf(request.query.token ?? '')) return reply.code(403).send('bad csrf');
  return reply.type('text/html; charset=utf-8').send('<!doctype html><html><body><h1>Thank you</h1></body></html>');
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
