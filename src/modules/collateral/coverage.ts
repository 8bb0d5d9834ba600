import { and, eq } from 'drizzle-orm';
import { collateralTerms, creditLines, pledgeLots, pledges } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import type { Ctx } from '../../lib/context';
import { notFound } from '../../lib/errors';
import { BASIS_POINTS, type Fen, toApiFen } from '../../lib/money';
import { loadVisibleLine } from '../financing/access';
import { lotPositions } from './positions';
import { latestPrices } from './skus';

export type CoverageStatus = 'ok' | 'warning' | 'liquidation' | 'price_missing' | 'no_exposure' | 'no_terms';

export interface CoverageLot {
  pledgeId: string;
  pledgeReference: string;
  lotCode: string;
  skuCode: string;
  bookedQuantity: number;
  sensedQuantity: number;
  /** min(sensed, booked), never below 0: goods count only when both the book and the devices agree they are there. */
  countedQuantity: number;
  priceFen: Fen | null;
  priceEffectiveAt: Date | null;
  haircutBp: number;
}

export interface Coverage {
  creditLineId: string;
  asOf: Date;
  collateralValueFen: Fen;
  outstandingFen: Fen;
  /** null when nothing is outstanding, or when a price is missing (fail closed). */
  coverageBp: number | null;
  missingPrices: string[];
  warningLineBp: number | null;
  liquidationLineBp: number | null;
  /**
   * `price_missing` wins over everything: a value computed without a price would be a zero
   * that hides a breach. `no_terms`: the program never set collateral terms, so no pledge
   * can exist on the line either (pledging requires them) and there are no lines to judge by.
   */
  status: CoverageStatus;
  lots: CoverageLot[];
}

/**
 * Coverage of a credit line at `now`: Σ over the active lots of its active pledges of
 * min(sensed, booked) × the latest price effective at or before `now` × (1 − haircut),
 * rounded down once, against the line's outstanding principal. The program's haircut
 * overrides the SKU's. A price older than the program's priceMaxAgeHours counts as missing.
 * Pure reads: safe inside a caller's transaction and for re-running any instant.
 */
export async function computeCoverage(db: DbOrTx, creditLineId: string, now: Date): Promise<Coverage> {
  const [line] = await db.select().from(creditLines).where(eq(creditLines.id, creditLineId));
  if (!line) throw notFound('Credit line');
  const [terms] = await db.select().from(collateralTerms).where(eq(collateralTerms.programId, line.programId));
  const positions = await lotPositions(db, and(eq(pledges.creditLineId, line.id), eq(pledges.status, 'active'), eq(pledgeLots.active, true)));
  const prices = await latestPrices(db, [...new Set(positions.map((p) => p.skuId))], now);
  const maxAgeMs = terms ? terms.priceMaxAgeHours * 3_600_000 : 0;

  const valued = valueCollateral(
    positions.map((p) => ({ skuId: p.skuId, skuCode: p.skuCode, countedQuantity: Math.max(0, Math.min(p.sensedQuantity, p.bookedQuantity)), haircutBp: terms?.haircutBp ?? p.skuHaircutBp })),
    prices,
    now,
    maxAgeMs,
  );
  const lots: CoverageLot[] = positions.map((p, i) => {
    const price = prices.get(p.skuId);
    return {
      pledgeId: p.pledgeId,
      pledgeReference: p.pledgeReference,
      lotCode: p.lotCode,
      skuCode: p.skuCode,
      bookedQuantity: p.bookedQuantity,
      sensedQuantity: p.sensedQuantity,
      countedQuantity: valued.counted[i]!,
      priceFen: price?.priceFen ?? null,
      priceEffectiveAt: price?.effectiveAt ?? null,
      haircutBp: terms?.haircutBp ?? p.skuHaircutBp,
    };
  });
  const { collateralValueFen, missingPrices } = valued;
  const outstandingFen = line.outstandingFen;
  const coverageBp = coverageOf(collateralValueFen, outstandingFen, missingPrices);

  let status: CoverageStatus;
  if (missingPrices.length) status = 'price_missing';
  else if (outstandingFen === 0n) status = 'no_exposure';
  else if (!terms) status = 'no_terms';
  else if (coverageBp! < terms.liquidationLineBp) status = 'liquidation';
  else if (coverageBp! < terms.warningLineBp) status = 'warning';
  else status = 'ok';

  return {
    creditLineId: line.id,
    asOf: now,
    collateralValueFen,
    outstandingFen,
    coverageBp,
    missingPrices,
    warningLineBp: terms?.warningLineBp ?? null,
    liquidationLineBp: terms?.liquidationLineBp ?? null,
    status,
    lots,
  };
}

/**
 * The valuation both the live check and the night run use: Σ counted quantity × price ×
 * (1 − haircut), rounded down once at the end. A price older than maxAgeMs at `at` is
 * missing, and a missing price values nothing (the caller must fail closed on it).
 */
export function valueCollateral(lots: { skuId: string; skuCode: string; countedQuantity: number; haircutBp: number }[], prices: Map<string, { priceFen: Fen; effectiveAt: Date }>, at: Date, maxAgeMs: number) {
  const missing = new Set<string>();
  let weighted = 0n; // Σ quantity × price × (10000 − haircut), divided once at the end
  for (const lot of lots) {
    const price = prices.get(lot.skuId);
    if (!price || at.getTime() - price.effectiveAt.getTime() > maxAgeMs) missing.add(lot.skuCode);
    else weighted += BigInt(lot.countedQuantity) * price.priceFen * (BASIS_POINTS - BigInt(lot.haircutBp));
  }
  return { collateralValueFen: weighted / BASIS_POINTS, missingPrices: [...missing].sort(), counted: lots.map((l) => l.countedQuantity) };
}

/** Coverage in basis points, rounded down; null when nothing is outstanding or a price is missing. */
export function coverageOf(collateralValueFen: Fen, outstandingFen: Fen, missingPrices: string[]): number | null {
  return missingPrices.length || outstandingFen <= 0n ? null : Number((collateralValueFen * BASIS_POINTS) / outstandingFen);
}

/** The bank and the supplier of a line see its coverage. */
export async function getCoverage({ ctx, input }: { ctx: Ctx; input: { creditLineId: string } }) {
  const line = await loadVisibleLine(ctx, input.creditLineId);
  const c = await computeCoverage(ctx.db, line.id, ctx.clock.now());
  return {
    ...c,
    asOf: c.asOf.toISOString(),
    collateralValueFen: toApiFen(c.collateralValueFen),
    outstandingFen: toApiFen(c.outstandingFen),
    lots: c.lots.map((l) => ({ ...l, priceFen: l.priceFen === null ? null : toApiFen(l.priceFen), priceEffectiveAt: l.priceEffectiveAt?.toISOString() ?? null })),
  };
}
