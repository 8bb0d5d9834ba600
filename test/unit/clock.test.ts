import { describe, expect, it } from 'vitest';
import { businessDate, fixedClock } from '../../src/lib/clock';

describe('business day', () => {
  it('is computed in the configured zone, not UTC', () => {
    // 2026-11-21 17:30 UTC is already 01:30 on the 22nd in Shanghai.
    expect(businessDate(new Date('2026-11-21T17:30:00Z'), 'Asia/Shanghai')).toBe('2026-11-22');
    expect(businessDate(new Date('2026-11-21T17:30:00Z'), 'UTC')).toBe('2026-11-21');
  });

  it('a fixed clock can be set and advanced', () => {
    const clock = fixedClock('2026-01-01T00:00:00Z');
    clock.advance(86_400_000);
    expect(clock.now().toISOString()).toBe('2026-01-02T00:00:00.000Z');
  });
});
