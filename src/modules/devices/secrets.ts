import { createCipheriv, createDecipheriv, randomBytes, scrypt, scryptSync, timingSafeEqual } from 'node:crypto';

/**
 * Device HMAC secrets must be readable by the ingest worker (it recomputes each signature),
 * so they cannot be hashed: they are encrypted at rest with AES-256-GCM under a key from
 * configuration (DEVICE_SECRET_KEY). Broker passwords only need checking, so they are hashed.
 */
export type SecretKey = Buffer;

export function parseSecretKey(text: string): SecretKey {
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new Error('DEVICE_SECRET_KEY must be 32 bytes, as 64 hex characters or base64');
  return key;
}

export function newDeviceSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function encryptSecret(key: SecretKey, secret: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), data.toString('base64url')].join('.');
}

export function decryptSecret(key: SecretKey, stored: string): string {
  const [version, iv, tag, data] = stored.split('.');
  if (version !== 'v1' || !iv || !tag || !data) throw new Error('unrecognized secret format');
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), { authTagLength: 16 });
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
}

export function hashBrokerPassword(password: string): string {
  const salt = randomBytes(16);
  return `scrypt.${salt.toString('base64url')}.${scryptSync(password, salt, 32).toString('base64url')}`;
}

/** Asynchronous: a burst of broker logins must not block the event loop (scrypt takes tens of ms). */
export async function verifyBrokerPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash] = stored.split('.');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64url');
  const actual = await new Promise<Buffer>((resolve, reject) => scrypt(password, Buffer.from(salt, 'base64url'), 32, (e, key) => (e ? reject(e) : resolve(key))));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** For a machine with nothing configured: a random key kept in a file (mode 0600) and reused. */
export async function loadOrCreateKeyFile(path: string): Promise<SecretKey> {
  const { mkdir, readFile, writeFile } = await import('node:fs/promises');
  const { dirname } = await import('node:path');
  try {
    return parseSecretKey((await readFile(path, 'utf8')).trim());
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    const key = randomBytes(32);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${key.toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    return key;
  }
}
