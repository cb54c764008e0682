/**
 * Payload encryption: a Temporal `PayloadCodec` that encrypts every payload (workflow and
 * activity inputs and results, signals, updates, queries, memo, the message and stack of a
 * failure) with AES-256-GCM before it leaves the process, so Temporal's database and anyone
 * who reads it (or the Web UI without the codec endpoint) sees ciphertext only.
 *
 * An encrypted payload carries `encoding: binary/encrypted` and `encryption-key-id: <id>` in
 * its metadata; its data is a 12-byte random IV, the ciphertext of the whole original payload
 * (metadata and data, as a protobuf `Payload`) and the 16-byte GCM tag. The key id is also the
 * additional authenticated data, so a payload cannot be passed off as encrypted under another key.
 *
 * Keys come from `PAYLOAD_KEYS` (`id:base64key,id:base64key`, 32-byte keys, the current one
 * first): new payloads are encrypted with the first, any listed key decrypts. Rotating is
 * putting a new key first and keeping the old one after it; once nothing still held by Temporal
 * was written under the old key (the namespace's retention has passed), it can be dropped.
 * Payloads without the encrypted encoding (written before encryption was turned on) pass through.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';

const { temporal } = proto;

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9._-]{1,64}$/;

export interface PayloadKey {
  id: string;
  key: Buffer;
}

/** A payload the codec cannot decrypt: an unknown key id, or a wrong key or altered data. */
export class PayloadCodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadCodecError';
  }
}

/**
 * The public development key, used when PAYLOAD_KEYS is unset outside production (tests, and
 * processes started by hand beside `npm start`, which generates a key of its own). It protects
 * nothing: anyone can derive it from this source.
 */
export const DEVELOPMENT_KEY_ID = 'dev-public';
export const DEVELOPMENT_PAYLOAD_KEYS = `${DEVELOPMENT_KEY_ID}:${createHash('sha256').update('aimsflow development payload key, not a secret').digest('base64')}`;

/**
 * Parses `id:base64key,id:base64key` (current key first). Each entry is named in the error:
 * a missing id or key, an id other than letters, digits, `.`, `_`, `-` (at most 64), a key that
 * is not base64 of exactly 32 bytes, an id given twice.
 */
export function parsePayloadKeys(value: string): PayloadKey[] {
  const entries = value.split(',').map((e) => e.trim());
  if (entries.length === 0 || entries.every((e) => e === '')) throw new Error('lists no key: give id:base64key, the current key first');
  const keys: PayloadKey[] = [];
  entries.forEach((entry, index) => {
    const where = `entry ${index + 1}`;
    const colon = entry.indexOf(':');
    if (colon < 0) throw new Error(`${where} must be id:base64key (no ":" found)`);
    const id = entry.slice(0, colon).trim();
    const encoded = entry.slice(colon + 1).trim();
    if (!KEY_ID.test(id)) throw new Error(`${where}: the key id ${JSON.stringify(id)} must be 1-64 letters, digits, ".", "_" or "-"`);
    if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) throw new Error(`${where} (key ${id}): the key is not base64`);
    const key = Buffer.from(encoded, encoded.includes('-') || encoded.includes('_') ? 'base64url' : 'base64');
    if (key.length !== KEY_BYTES) throw new Error(`${where} (key ${id}): the key must be ${KEY_BYTES} bytes, got ${key.length} (e.g. openssl rand -base64 32)`);
    if (keys.some((k) => k.id === id)) throw new Error(`${where}: the key id ${id} is given twice`);
    keys.push({ id, key });
  });
  return keys;
}

/** A fresh key entry for PAYLOAD_KEYS, e.g. `k-20271201:...` (put it first to rotate). */
export function newPayloadKeyEntry(id: string): string {
  return `${id}:${randomBytes(KEY_BYTES).toString('base64')}`;
}

function metadataText(payload: Payload, name: string): string | undefined {
  const value = payload.metadata?.[name];
  return value ? Buffer.from(value).toString('utf8') : undefined;
}

export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly current: PayloadKey;
  private readonly byId: ReadonlyMap<string, Buffer>;

  constructor(keys: readonly PayloadKey[]) {
    const [current] = keys;
    if (!current) throw new Error('the payload codec needs at least one key');
    this.current = current;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  /** The id new payloads are encrypted under. */
  get currentKeyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.encrypt(p));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((p) => this.decrypt(p));
  }

  encrypt(payload: Payload): Payload {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
    cipher.setAAD(Buffer.from(this.current.id, 'utf8'));
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        encoding: Buffer.from(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: Buffer.from(this.current.id),
      },
      data,
    };
  }

  decrypt(payload: Payload): Payload {
    if (metadataText(payload, 'encoding') !== ENCRYPTED_ENCODING) return payload;
    const id = metadataText(payload, KEY_ID_METADATA);
    if (id === undefined) throw new PayloadCodecError(`an encrypted payload has no ${KEY_ID_METADATA} in its metadata`);
    const key = this.byId.get(id);
    if (!key) {
      throw new PayloadCodecError(`a payload is encrypted under key "${id}", which is not in PAYLOAD_KEYS (it has ${[...this.byId.keys()].join(', ')}); add that key after the current one`);
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadCodecError(`a payload encrypted under key "${id}" is too short to hold its IV and tag`);
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(id, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch {
      throw new PayloadCodecError(`a payload encrypted under key "${id}" does not authenticate: the key with that id is not the one it was written with, or the payload was altered`);
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

/** Module of the failure converter with `encodeCommonAttributes` (failure-converter.cjs, copied beside the build). */
export const failureConverterPath = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url));

/**
 * The data converter of every client and worker of the project: payloads encrypted under the
 * keys (see above), and failures with their message and stack trace moved into an encoded
 * payload (`encodeCommonAttributes`), so error texts with personal data are encrypted too.
 * The same `failureConverterPath` goes into the workflow bundle (workers/worker.ts).
 */
export function aimsDataConverter(config: { readonly PAYLOAD_KEYS: readonly PayloadKey[] }): DataConverter {
  return { payloadCodecs: [new AesGcmPayloadCodec(config.PAYLOAD_KEYS)], failureConverterPath };
}

/** A warning to log when payloads are encrypted under the public development key, else undefined. */
export function developmentKeyWarning(config: { readonly PAYLOAD_KEYS: readonly PayloadKey[] }): string | undefined {
  return config.PAYLOAD_KEYS[0]?.id === DEVELOPMENT_KEY_ID
    ? 'PAYLOAD_KEYS is unset: workflow payloads are encrypted under the public development key, which protects nothing; set PAYLOAD_KEYS (id:base64 of 32 random bytes)'
    : undefined;
}

/**
 * The payload keys of an environment that is not parsed as a whole (test helpers, scripts):
 * `PAYLOAD_KEYS`, or the public development key when it is unset.
 */
export function payloadKeysFromEnv(env: Record<string, string | undefined> = process.env): { PAYLOAD_KEYS: readonly PayloadKey[] } {
  const value = env.PAYLOAD_KEYS?.trim();
  return { PAYLOAD_KEYS: parsePayloadKeys(value ? value : DEVELOPMENT_PAYLOAD_KEYS) };
}
