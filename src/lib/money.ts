/**
 * The one money module. Amounts are integer fen (分) as BigInt; rates are basis points.
 * Nothing here ever touches a float: every division is explicit about its rounding.
 */
export type Fen = bigint;

export const BASIS_POINTS = 10_000n;

/** Largest amount the JSON API accepts (exactly representable as a JSON number). */
export const MAX_API_FEN = BigInt(Number.MAX_SAFE_INTEGER);

export function fen(value: number | bigint | string): Fen {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new RangeError(`not an integer amount of fen: ${value}`);
  if (typeof value === 'string' && !/^-?\d+$/.test(value)) throw new RangeError(`not an integer amount of fen: "${value}"`);
  return BigInt(value);
}

/** For JSON output: safe because every amount stays ≤ MAX_API_FEN. */
export function toApiFen(value: Fen): number {
  if (value > MAX_API_FEN || value < -MAX_API_FEN) throw new RangeError(`amount out of API range: ${value}`);
  return Number(value);
}

/** n / d rounded half-up (away from zero on .5) — the one rounding used for interest. */
export function divRoundHalfUp(n: bigint, d: bigint): bigint {
  if (d <= 0n) throw new RangeError('divisor must be positive');
  const negative = n < 0n;
  const abs = negative ? -n : n;
  const q = (abs * 2n + d) / (2n * d);
  return negative ? -q : q;
}

/** Share of an amount in basis points, rounded down: an advance never exceeds its rate. */
export function basisPointsOf(amount: Fen, bp: number): Fen {
  return (amount * BigInt(bp)) / BASIS_POINTS;
}

export type DayCount = 'ACT/360' | 'ACT/365';
export const dayCountBasis: Record<DayCount, bigint> = { 'ACT/360': 360n, 'ACT/365': 365n };

/** Simple interest = principal × rate × days / basis, computed exactly and rounded once, half-up. */
export function simpleInterest(principal: Fen, annualRateBp: number, days: number, dayCount: DayCount): Fen {
  return divRoundHalfUp(principal * BigInt(annualRateBp) * BigInt(days), BASIS_POINTS * dayCountBasis[dayCount]);
}

export const minFen = (...values: Fen[]): Fen => values.reduce((a, b) => (b < a ? b : a));
export const maxFen = (...values: Fen[]): Fen => values.reduce((a, b) => (b > a ? b : a));
export const sumFen = (values: Iterable<Fen>): Fen => {
  let total = 0n;
  for (const v of values) total += v;
  return total;
};

/** "¥12,345.67" for messages a person reads. */
export function formatYuan(value: Fen): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const yuan = (abs / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const cents = (abs % 100n).toString().padStart(2, '0');
  return `${negative ? '-' : ''}¥${yuan}.${cents}`;
}

/**
 * "12,345.67" yuan → 1234567 fen by string arithmetic (never a float). Thousands separators
 * (ASCII or full-width) only in groups of three: "1,5" is a decimal comma and refused.
 */
export function parseYuanToFen(text: string): number | null {
  const m = /^(\d{1,3}(?:,\d{3})+|\d{1,15})(?:\.(\d{1,2}))?$/.exec(text.replace(/\s/g, '').replaceAll('，', ','));
  if (!m) return null;
  const value = BigInt(m[1]!.replaceAll(',', '')) * 100n + BigInt((m[2] ?? '').padEnd(2, '0') || '0');
  return value <= MAX_API_FEN ? Number(value) : null;
}
