/**
 * A local OpenID Connect provider for development and tests, built on `oidc-provider`: the
 * organization file's people are its accounts (`sub` = person id, `email`, `name`), and ANY
 * PASSWORD IS ACCEPTED. Never expose it beyond the loopback interface: it is a stand-in for
 * the organization's real provider, so that sign-in works offline and is tested for real.
 *
 * One client is registered: the API (its id, secret, redirect URL and post-logout URL).
 * Interactions are a minimal login form of its own ("e-mail address or person id", any
 * password); the consent step is skipped for that one first-party client. A login that names
 * nobody in the organization still signs in (with `sub` and, when it looks like one, `email`
 * as typed), so the API's refusal of unknown people can be seen for real.
 */
import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Configuration, type JWK } from 'oidc-provider';
import type { Organization, Person } from '../organization/schema.js';

export interface DevClient {
  clientId: string;
  clientSecret: string;
  redirectUrl: string;
  /** Where the provider may send people after RP-initiated logout. */
  postLogoutRedirectUrl: string;
}

export interface DevProviderOptions {
  /** The organization in force (read at every sign-in, so edits are picked up). */
  organization: () => Organization;
  client: DevClient;
  host?: string;
  /** 0: any free port. */
  port?: number;
  /** Signs the provider's own cookies (32+ characters). */
  cookieSecret: string;
  /** The ID token signing key (an RSA private JWK); generated when absent (tokens then do not outlive a restart). */
  signingKey?: JWK;
  /** Told once, loudly, that any password is accepted. */
  warn?: (message: string) => void;
}

export interface DevProvider {
  issuer: string;
  port: number;
  close(): Promise<void>;
}

export const DEV_PROVIDER_WARNING =
  'local OpenID provider for DEVELOPMENT ONLY: the organization file\'s people sign in with ANY password';

/** A fresh RS256 signing key as a private JWK (for `signingKey`). */
export function generateSigningKey(): JWK {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  return { ...jwk, kid: `dev-${Date.now().toString(36)}`, alg: 'RS256', use: 'sig' };
}

function findPersonByLogin(org: Organization, login: string): Person | undefined {
  const wanted = login.trim().toLowerCase();
  return org.people.find((p) => p.id === wanted || p.email.toLowerCase() === wanted);
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

function page(title: string, body: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>body{font:1rem/1.5 system-ui,sans-serif;max-width:26rem;margin:2rem auto;padding:0 1rem;color:#1f2328}
label{display:block;margin:.75rem 0 .25rem;font-weight:600}input{width:100%;padding:.5rem;font:inherit}
button{margin-top:1rem;padding:.6rem 1.2rem;font:inherit}.warn{background:#fff8c5;padding:.5rem .75rem;border:1px solid #d4a72c}</style>
</head><body>${body}</body></html>`;
}

function loginForm(uid: string, loginHint: string | undefined, error?: string): string {
  return page(
    'Sign in (local provider)',
    `<h1>Sign in</h1>
<p class="warn"><strong>Local development provider.</strong> Any password is accepted.</p>
${error ? `<p role="alert">${escapeHtml(error)}</p>` : ''}
<form method="post" action="/interaction/${encodeURIComponent(uid)}/login">
<label for="login">E-mail address or person id</label>
<input id="login" name="login" required autocomplete="username" value="${escapeHtml(loginHint ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password">
<button type="submit">Sign in</button>
</form>`,
  );
}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 16 * 1024) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

const describeOut = (value: unknown): string => (typeof value === 'string' ? value : '');

function providerConfiguration(options: DevProviderOptions, signingKey: JWK): Configuration {
  const { client, organization } = options;
  return {
    clients: [
      {
        client_id: client.clientId,
        client_secret: client.clientSecret,
        redirect_uris: [client.redirectUrl],
        post_logout_redirect_uris: [client.postLogoutRedirectUrl],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: [options.cookieSecret] },
    pkce: { required: () => true },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    // sub = person id; a login naming nobody keeps what was typed, for the API to refuse.
    findAccount: (_ctx, sub) => ({
      accountId: sub,
      claims: () => {
        const person = organization().people.find((p) => p.id === sub);
        if (person) return { sub, email: person.email, email_verified: true, name: person.name };
        return { sub, ...(sub.includes('@') ? { email: sub, email_verified: true } : {}) };
      },
    }),
    // The API is the one first-party client: no consent screen.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client!.clientId, accountId: ctx.oidc.session!.accountId! });
      grant.addOIDCScope('openid email profile');
      await grant.save();
      return grant;
    },
    ttl: { Session: 8 * 3600, Interaction: 600, Grant: 8 * 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
    renderError: (ctx, out) => {
      ctx.type = 'html';
      ctx.body = page('Sign-in error', `<h1>Sign-in error</h1><p>${escapeHtml(describeOut(out.error))}: ${escapeHtml(describeOut(out.error_description))}</p>`);
    },
  };
}

/** Starts the provider on `host:port` (default 127.0.0.1, any free port). */
export async function startDevProvider(options: DevProviderOptions): Promise<DevProvider> {
  const host = options.host ?? '127.0.0.1';
  const signingKey = options.signingKey ?? generateSigningKey();
  options.warn?.(DEV_PROVIDER_WARNING);

  // The issuer is known once the port is; bind first, then build the provider.
  const handler: { handle?: (req: IncomingMessage, res: ServerResponse) => void } = {};
  const server: Server = createServer((req, res) => {
    if (handler.handle) handler.handle(req, res);
    else res.writeHead(503).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const provider = new Provider(issuer, providerConfiguration(options, signingKey));
  const callback = provider.callback();

  handler.handle = (req, res) => {
    const path = new URL(req.url ?? '/', issuer).pathname;
    const match = /^\/interaction\/([\w-]{1,64})(\/login)?$/.exec(path);
    if (!match?.[1]) {
      callback(req, res);
      return;
    }
    const uid = match[1];
    interaction(provider, options, uid, match[2] !== undefined, req, res).catch((err: unknown) => {
      if (res.headersSent) {
        res.end();
        return;
      }
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' });
      const message = err instanceof Error ? err.message : String(err);
      res.end(page('Sign-in error', `<h1>Sign-in error</h1><p>${escapeHtml(message)}</p><p>Go back to the application and sign in again.</p>`));
    });
  };

  return {
    issuer,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function interaction(
  provider: Provider,
  options: DevProviderOptions,
  uid: string,
  submitted: boolean,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('This sign-in page belongs to another sign-in.');
  if (details.prompt.name !== 'login') {
    // The consent prompt does not arise for the first-party client (see loadExistingGrant).
    throw new Error(`Unexpected sign-in step: ${details.prompt.name}.`);
  }
  const loginHint = typeof details.params.login_hint === 'string' ? details.params.login_hint : undefined;
  if (!submitted || req.method !== 'POST') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(loginForm(uid, loginHint));
    return;
  }
  const form = await readForm(req);
  const login = (form.get('login') ?? '').trim();
  if (login === '') {
    res.writeHead(400, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(loginForm(uid, loginHint, 'Enter an e-mail address or a person id.'));
    return;
  }
  const person = findPersonByLogin(options.organization(), login);
  await provider.interactionFinished(req, res, { login: { accountId: person?.id ?? login.toLowerCase() } }, { mergeWithLastSubmission: false });
}
