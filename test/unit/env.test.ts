import { describe, expect, it } from 'vitest';
import { ConfigError, loadEnv } from '../../src/env';

describe('configuration', () => {
  it('runs on defaults with nothing set: embedded database and broker, local Redis', () => {
    const env = loadEnv({});
    expect(env.DATABASE_URL).toBeUndefined();
    expect(env.MQTT_URL).toBeUndefined();
    expect(env.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(env.PORT).toBe(3000);
    expect(env.BUSINESS_TZ).toBe('Asia/Shanghai');
    expect(env.THREEFLOW_ROLE).toBe('all');
  });

  it('treats empty values as unset', () => {
    expect(loadEnv({ DATABASE_URL: '', MQTT_URL: '' }).DATABASE_URL).toBeUndefined();
  });

  it('lists every bad variable with the reason in one error', () => {
    let error: unknown;
    try {
      loadEnv({ DATABASE_URL: 'nonsense', PORT: 'eighty', BUSINESS_TZ: 'Mars/Olympus', LOG_LEVEL: 'loud', REDIS_URL: 'http://x', THREEFLOW_ROLE: 'boss' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(6);
    expect(problems.find((p) => p.startsWith('DATABASE_URL:'))).toMatch(/postgres:\/\/.*\(got "nonsense"\)/);
    expect(problems.find((p) => p.startsWith('BUSINESS_TZ:'))).toMatch(/IANA time zone/);
    for (const name of ['PORT', 'LOG_LEVEL', 'REDIS_URL', 'THREEFLOW_ROLE']) expect(problems.some((p) => p.startsWith(`${name}:`))).toBe(true);
    expect((error as Error).message.split('\n')[0]).toBe('Invalid configuration:');
  });

  it('never echoes a password in the error', () => {
    try {
      loadEnv({ MQTT_PASSWORD: 'hunter2', IDEMPOTENCY_TTL_HOURS: '1' });
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
      expect((e as Error).message).toMatch(/IDEMPOTENCY_TTL_HOURS/);
      return;
    }
    throw new Error('expected a ConfigError');
  });
});
