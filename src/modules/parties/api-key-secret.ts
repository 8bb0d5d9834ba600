import { createHash, randomBytes } from 'node:crypto';

/**
 * API keys are 32 random bytes: far beyond brute force, so a fast SHA-256 is the right
 * storage hash (a slow password hash would only slow every request down).
 */
export function newApiKeySecret(): { secret: string; prefix: string; hash: string } {
  const secret = `tfk_${randomBytes(32).toString('base64url')}`;
  return { secret, prefix: secret.slice(0, 12), hash: hashApiKeySecret(secret) };
}

export function hashApiKeySecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}
