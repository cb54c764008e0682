/**
 * The relying party: signing people in through an OpenID Connect provider with openid-client
 * (discovery, authorization code with PKCE, state and nonce, token exchange, ID token
 * validation, RP-initiated logout). The claim that names the person (`OIDC_PERSON_CLAIM`) is
 * read from the ID token, or from the userinfo endpoint when the ID token leaves it out.
 *
 * Every call to the provider has a deadline (`OIDC_TIMEOUT_MS`). Discovery is retried once
 * after a network failure (it changes nothing at the provider) and cached for an hour; a
 * provider that cannot be reached on a refresh keeps the last metadata. The token exchange is
 * never retried: an authorization code is good for one use, so a failed exchange asks the
 * person to sign in again. Failures are classified for the pages: `ProviderUnavailable` (down,
 * slow, answering 5xx: 503) and `SignInRefused` (a bad, stale or unverifiable answer: 4xx).
 */
import * as client from 'openid-client';
import type { Config } from '../config.js';

/** What sign-in needs from the configuration; undefined when sign-in is off. */
export interface SignInSettings {
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  redirectUrl: string;
  scopes: string;
  timeoutMs: number;
  personClaim: 'email' | 'sub';
}

export const CALLBACK_PATH = '/auth/callback';

export function signInSettings(config: Config): SignInSettings | undefined {
  if (config.OIDC_ISSUER === undefined || config.OIDC_CLIENT_ID === undefined) return undefined;
  const scopes = new Set(['openid', ...config.OIDC_SCOPES.split(/\s+/).filter(Boolean)]);
  return {
    issuer: config.OIDC_ISSUER,
    clientId: config.OIDC_CLIENT_ID,
    clientSecret: config.OIDC_CLIENT_SECRET,
    redirectUrl: config.OIDC_REDIRECT_URL ?? `${config.PUBLIC_BASE_URL}${CALLBACK_PATH}`,
    scopes: [...scopes].join(' '),
    timeoutMs: config.OIDC_TIMEOUT_MS,
    personClaim: config.OIDC_PERSON_CLAIM,
  };
}

/** The provider cannot be reached, is too slow, or failed on its side. */
export class ProviderUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProviderUnavailable';
  }
}

/** The provider's answer cannot be used: stale, altered, refused or not verifiable. */
export class SignInRefused extends Error {
  constructor(
    message: string,
    /** `denied`: the provider said no (the person cancelled, or is not allowed the client). */
    readonly kind: 'denied' | 'invalid',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'SignInRefused';
  }
}

/** What the browser keeps, in its encrypted session cookie, between /login and the callback. */
export interface PendingSignIn {
  state: string;
  nonce: string;
  verifier: string;
  /** A same-origin path to go back to once signed in. */
  returnTo: string;
  /** Epoch milliseconds. */
  startedAt: number;
}

export interface SignedIn {
  claims: client.IDToken;
  /** The raw ID token, kept for RP-initiated logout (`id_token_hint`). */
  idToken: string;
}

const DISCOVERY_TTL_MS = 3600_000;

/** The error and its causes, outermost first. */
function chain(err: unknown): Error[] {
  const errors: Error[] = [];
  for (let e = err; e instanceof Error && errors.length < 5; e = (e as { cause?: unknown }).cause) errors.push(e);
  return errors;
}

function isTimeout(err: unknown): boolean {
  return chain(err).some((e) => e.name === 'TimeoutError' || (e as { code?: unknown }).code === 'OAUTH_TIMEOUT');
}

/** The request never got an answer: refused, reset, unresolvable or timed out. */
function isNetworkFailure(err: unknown): boolean {
  return isTimeout(err) || chain(err).some((e) => e.name === 'AbortError' || (e instanceof TypeError && /fetch failed|network/i.test(e.message)));
}

function describe(err: unknown): string {
  if (isTimeout(err)) return 'it did not answer in time';
  const errors = chain(err);
  const code = errors.map((e) => (e as { code?: unknown }).code).find((c): c is string => typeof c === 'string' && !c.startsWith('OAUTH_'));
  const message = errors[0]?.message ?? String(err);
  return code ? `${message} (${code})` : message;
}

export class RelyingParty {
  private cached: { configuration: client.Configuration; at: number } | undefined;
  private discovering: Promise<client.Configuration> | undefined;

  constructor(readonly settings: SignInSettings) {}

  /** True when the provider is reached over plain http (a local provider in development). */
  private get insecure(): boolean {
    return this.settings.issuer.startsWith('http://');
  }

  private async discoverOnce(): Promise<client.Configuration> {
    const { issuer, clientId, clientSecret, timeoutMs } = this.settings;
    const auth = clientSecret === undefined ? client.None() : client.ClientSecretBasic(clientSecret);
    const configuration = await client.discovery(new URL(issuer), clientId, undefined, auth, {
      timeout: timeoutMs / 1000,
      ...(this.insecure ? { execute: [client.allowInsecureRequests] } : {}),
    });
    configuration.timeout = timeoutMs / 1000;
    return configuration;
  }

  private async discover(): Promise<client.Configuration> {
    try {
      return await this.discoverOnce();
    } catch (err) {
      if (!isNetworkFailure(err) || isTimeout(err)) throw err;
      // One retry after a refused or reset connection: a provider restarting, a blip.
      await new Promise((resolve) => setTimeout(resolve, 250));
      return this.discoverOnce();
    }
  }

  /** The provider's metadata and this client, discovered on first use and refreshed hourly. */
  async configuration(now = Date.now()): Promise<client.Configuration> {
    const cached = this.cached;
    if (cached && now - cached.at < DISCOVERY_TTL_MS) return cached.configuration;
    this.discovering ??= this.discover().finally(() => {
      this.discovering = undefined;
    });
    try {
      const configuration = await this.discovering;
      this.cached = { configuration, at: Date.now() };
      return configuration;
    } catch (err) {
      if (cached) return cached.configuration;
      throw new ProviderUnavailable(`The sign-in service at ${this.settings.issuer} could not be reached: ${describe(err)}.`, { cause: err });
    }
  }

  /** Where to send the browser to sign in, and what to keep until it comes back. */
  async begin(returnTo: string, now = Date.now()): Promise<{ url: URL; pending: PendingSignIn }> {
    const configuration = await this.configuration();
    const verifier = client.randomPKCECodeVerifier();
    const pending: PendingSignIn = {
      state: client.randomState(),
      nonce: client.randomNonce(),
      verifier,
      returnTo,
      startedAt: now,
    };
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.settings.redirectUrl,
      scope: this.settings.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url, pending };
  }

  /**
   * Exchanges the code the provider sent back (`callbackUrl`, as the browser requested it) and
   * validates the ID token against what `pending` kept (state, nonce, PKCE verifier).
   */
  async finish(callbackUrl: URL, pending: PendingSignIn): Promise<SignedIn> {
    const configuration = await this.configuration();
    // The provider answers on OIDC_REDIRECT_URL; behind a proxy the request may arrive on
    // another host, so check against the registered URL with the query as received.
    const current = new URL(this.settings.redirectUrl);
    current.search = callbackUrl.search;
    let tokens;
    try {
      tokens = await client.authorizationCodeGrant(configuration, current, {
        pkceCodeVerifier: pending.verifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
    } catch (err) {
      throw classify(err);
    }
    const claims = tokens.claims();
    if (!claims || tokens.id_token === undefined) throw new SignInRefused('The provider sent no ID token.', 'invalid');
    const wanted = this.settings.personClaim;
    if (claims[wanted] !== undefined || !configuration.serverMetadata().userinfo_endpoint) return { claims, idToken: tokens.id_token };
    // Providers that keep the ID token small put the e-mail address at the userinfo endpoint only.
    try {
      const userinfo = await client.fetchUserInfo(configuration, tokens.access_token, claims.sub);
      return { claims: { ...claims, [wanted]: userinfo[wanted], email_verified: userinfo.email_verified ?? claims.email_verified }, idToken: tokens.id_token };
    } catch (err) {
      throw classify(err);
    }
  }

  /**
   * The provider's logout URL (RP-initiated logout) when it offers one, returning to
   * `postLogoutRedirect`; undefined when it does not or cannot be reached.
   */
  async endSessionUrl(idToken: string | undefined, postLogoutRedirect: string): Promise<URL | undefined> {
    let configuration: client.Configuration;
    try {
      configuration = await this.configuration();
    } catch {
      return undefined;
    }
    if (!configuration.serverMetadata().end_session_endpoint) return undefined;
    return client.buildEndSessionUrl(configuration, {
      post_logout_redirect_uri: postLogoutRedirect,
      client_id: this.settings.clientId,
      ...(idToken ? { id_token_hint: idToken } : {}),
    });
  }
}

/** A failure of the code exchange or of the ID token's validation, as the page should see it. */
function classify(err: unknown): Error {
  if (err instanceof ProviderUnavailable) return err;
  if (isNetworkFailure(err)) return new ProviderUnavailable(`The sign-in service did not answer: ${describe(err)}.`, { cause: err });
  if (err instanceof client.AuthorizationResponseError) {
    const text = err.error_description ? `${err.error}: ${err.error_description}` : err.error;
    return new SignInRefused(`The sign-in service did not sign you in (${text}).`, 'denied', { cause: err });
  }
  if (err instanceof client.ResponseBodyError) {
    if (err.status >= 500) return new ProviderUnavailable(`The sign-in service failed (${err.status} ${err.error}).`, { cause: err });
    return new SignInRefused(`The sign-in service refused the sign-in (${err.error}); it may have expired.`, 'invalid', { cause: err });
  }
  const status = (err as { cause?: unknown }).cause instanceof Response ? ((err as { cause: Response }).cause.status) : undefined;
  if (status !== undefined && status >= 500) return new ProviderUnavailable(`The sign-in service failed (${status}).`, { cause: err });
  return new SignInRefused(`The sign-in service's answer could not be verified: ${describe(err)}.`, 'invalid', { cause: err });
}
