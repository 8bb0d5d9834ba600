import { and, asc, eq, gte, isNull, lte, sql } from 'drizzle-orm';
import { creditLines, devices, pledgeLots, pledges, releaseOrders, skus, telemetryEvents } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import type { Clock } from '../../lib/clock';
import { computeCoverage } from './coverage';
import { coverageBelowLines, outsideTolerance, priceMissingOrStale } from '../warnings/rules';
import { ruleEnabledForLine } from '../warnings/policies';
import { raiseSignal, releaseBlockedBy, type SignalInput, type SignalSeverity } from '../warnings/signals';

type Event = typeof telemetryEvents.$inferSelect;

/** The pledged lot an event talks about (active pledge, same warehouse). */
async function pledgedLot(tx: DbOrTx, warehouseId: string, lotCode: string) {
  const [row] = await tx
    .select({ lot: pledgeLots, pledge: pledges, sku: skus })
    .from(pledgeLots)
    .innerJoin(pledges, eq(pledges.id, pledgeLots.pledgeId))
    .innerJoin(skus, eq(skus.id, pledgeLots.skuId))
    .where(and(eq(pledgeLots.warehouseId, warehouseId), eq(pledgeLots.lotCode, lotCode), eq(pledgeLots.active, true), eq(pledges.status, 'active')));
  return row ?? null;
}

async function bookedQuantity(tx: DbOrTx, pledgeId: string, lotCode: string, pledged: number): Promise<number> {
  const [row] = await tx
    .select({ released: sql<string>`coalesce(sum(${releaseOrders.releasedQuantity}), 0)::text` })
    .from(releaseOrders)
    .where(and(eq(releaseOrders.pledgeId, pledgeId), eq(releaseOrders.lotCode, lotCode)));
  return pledged - Number(row?.released ?? 0);
}


/**
 * Events whose check never ran (Redis was down when the batch committed, or the process died
 * between commit and enqueue): returned oldest first for the sweeper to evaluate.
 */
export async function uncheckedEvents(db: DbOrTx, olderThan: Date, limit: number) {
  return db
    .select({ deviceId: telemetryEvents.deviceId, seq: telemetryEvents.seq })
    .from(telemetryEvents)
    .where(and(eq(telemetryEvents.needsCheck, true), isNull(telemetryEvents.checkedAt), lte(telemetryEvents.receivedAt, olderThan)))
    .orderBy(asc(telemetryEvents.receivedAt))
    .limit(limit);
}

/**
 * Real-time rules for one accepted device event, run by a job seconds after ingestion:
 * an outbound movement of pledged goods must match an open release order (放货指令) —
 * otherwise 非法转移; tamper/geofence alarms; a count or weight off the book beyond the
 * SKU's tolerance (shortfall / 以次充好). Returns the rules that fired. Idempotent per event:
 * the event is marked checked in the same transaction, so a retried job consumes nothing twice.
 */
/** Raises a real-time signal unless the line's program switched the rule off. */
async function raiseLive(db: DbOrTx, at: Date, input: SignalInput & { creditLineId: string }): Promise<boolean> {
  if (!(await ruleEnabledForLine(db, input.creditLineId, input.rule))) return false;
  // A red signal may freeze the line: take the line first, as the nightly run does, so the two never wait on each other in a circle.
  if (input.severity === 'red') await db.execute(sql`select id from credit_lines where id = ${input.creditLineId} for update`);
  await raiseSignal(db, at, input);
  return true;
}

/** A real-time rule that fired, for the job's log and metrics. */
export interface Fired {
  rule: string;
  severity: SignalSeverity;
}

export async function evaluateDeviceEvent(db: DbOrTx, clock: Clock, ref: { deviceId: string; seq: number }): Promise<Fired[]> {
  return db.transaction(async (tx) => {
    // The event row is the outbox entry: locked, evaluated once, marked checked in the same transaction.
    const [event] = await tx.select().from(telemetryEvents).where(and(eq(telemetryEvents.deviceId, ref.deviceId), eq(telemetryEvents.seq, ref.seq))).for('update');
    if (!event || event.checkedAt) return [];
    await tx.update(telemetryEvents).set({ checkedAt: clock.now() }).where(and(eq(telemetryEvents.deviceId, event.deviceId), eq(telemetryEvents.seq, event.seq)));
    const fired: Fired[] = [];
    const now = clock.now();
    const evidenceBase = { deviceId: event.deviceId, seq: event.seq, deviceTs: event.deviceTs.toISOString(), warehouseId: event.warehouseId };

    const movedLot = event.kind === 'movement' && event.lotCode ? await pledgedLot(tx, event.warehouseId, event.lotCode) : null;
    if (movedLot && (event.signedQuantity ?? 0) < 0) {
      const quantity = -event.signedQuantity!;
      // Under the program's blockReleaseOnRed an open red signal stops even an order issued before it.
      const blockedBy = await releaseBlockedBy(tx, movedLot.pledge);
      if (blockedBy.length || !(await consumeRelease(tx, movedLot.pledge.id, event, quantity))) {
        // Kept on the event: the night run counts T's unauthorized outbounds from here.
        await tx.update(telemetryEvents).set({ unauthorizedPledgeId: movedLot.pledge.id }).where(and(eq(telemetryEvents.deviceId, event.deviceId), eq(telemetryEvents.seq, event.seq)));
        const raised = await raiseLive(tx, now, {
          rule: 'unauthorized_outbound',
          subjectType: 'pledge',
          subjectId: movedLot.pledge.id,
          bankOrganizationId: movedLot.pledge.bankOrganizationId,
          creditLineId: movedLot.pledge.creditLineId,
          severity: 'red',
          evidence: {
            ...evidenceBase,
            lotCode: event.lotCode,
            quantity,
            message: blockedBy.length
              ? `${quantity} ${movedLot.sku.unit} of pledged lot ${event.lotCode} left while releases are blocked by open red signals (${blockedBy.map((b) => b.rule).join(', ')})`
              : `${quantity} ${movedLot.sku.unit} of pledged lot ${event.lotCode} left with no matching release order (非法转移)`,
            ...(blockedBy.length ? { releaseBlockedBySignals: blockedBy.map((b) => b.id) } : {}),
          },
        });
        if (raised) fired.push({ rule: 'unauthorized_outbound', severity: 'red' });
      }
    }

    if (event.kind === 'alarm') {
      const body = event.body as { type: 'tamper' | 'door' | 'geofence' | 'power'; detail?: string };
      const [device] = await tx.select().from(devices).where(eq(devices.id, event.deviceId));
      const affected = await tx.select({ pledge: pledges }).from(pledges).where(and(eq(pledges.warehouseId, event.warehouseId), eq(pledges.status, 'active')));
      const severity = body.type === 'tamper' || body.type === 'geofence' ? 'red' : 'orange';
      for (const { pledge } of affected) {
        await raiseLive(tx, now, {
          rule: `device_alarm_${body.type}`,
          subjectType: 'pledge',
          subjectId: pledge.id,
          bankOrganizationId: pledge.bankOrganizationId,
          creditLineId: pledge.creditLineId,
          severity,
          evidence: { ...evidenceBase, alarm: body.type, detail: body.detail ?? null, deviceName: device?.name ?? null },
        });
      }
      if (affected.length) fired.push({ rule: `device_alarm_${body.type}`, severity });
    }

    if (event.kind === 'count' || event.kind === 'weight') {
      const items =
        event.kind === 'count'
          ? (event.body as { counts: { lotCode: string; quantity: number }[] }).counts.map((c) => ({ lotCode: c.lotCode, sensedQuantity: c.quantity, grams: null as number | null }))
          : [{ lotCode: (event.body as { lotCode: string }).lotCode, sensedQuantity: null as number | null, grams: (event.body as { grossGrams: number }).grossGrams as number | null }];
      if (event.kind === 'count') {
        // A pledged lot of the counted zone that the count did not find was counted as zero.
        const zone = (event.body as { zone: string }).zone;
        const listed = new Set(items.map((i) => i.lotCode));
        const inZone = await tx
          .select({ lotCode: pledgeLots.lotCode })
          .from(pledgeLots)
          .innerJoin(pledges, eq(pledges.id, pledgeLots.pledgeId))
          .where(and(eq(pledgeLots.warehouseId, event.warehouseId), eq(pledgeLots.zone, zone), eq(pledgeLots.active, true), eq(pledges.status, 'active')));
        for (const l of inZone) if (!listed.has(l.lotCode)) items.push({ lotCode: l.lotCode, sensedQuantity: 0, grams: null });
      }
      for (const item of items) {
        const hit = await pledgedLot(tx, event.warehouseId, item.lotCode);
        if (!hit) continue;
        const booked = await bookedQuantity(tx, hit.pledge.id, item.lotCode, hit.lot.pledgedQuantity);
        const sensed = item.grams === null ? item.sensedQuantity! : item.grams / hit.sku.nominalUnitWeightGrams;
        if (outsideTolerance({ bookedQuantity: booked, sensedQuantity: sensed, toleranceBp: hit.sku.toleranceBp, grossGrams: item.grams, nominalUnitWeightGrams: hit.sku.nominalUnitWeightGrams })) {
          const rule = event.kind === 'count' ? 'stock_count_discrepancy' : 'weight_discrepancy';
          const severity = sensed < booked ? 'red' : 'orange';
          const raised = await raiseLive(tx, now, {
            rule,
            subjectType: 'pledge',
            subjectId: hit.pledge.id,
            bankOrganizationId: hit.pledge.bankOrganizationId,
            creditLineId: hit.pledge.creditLineId,
            severity,
            evidence: { ...evidenceBase, lotCode: item.lotCode, bookedQuantity: booked, sensedQuantity: sensed, toleranceBp: hit.sku.toleranceBp, grossGrams: item.grams, nominalUnitWeightGrams: hit.sku.nominalUnitWeightGrams },
          });
          if (raised) fired.push({ rule, severity });
        }
      }
    }
    // A movement of pledged goods may move the line's coverage.
    if (movedLot) {
      const coverage = await checkLineCoverage(tx, clock, movedLot.pledge.creditLineId);
      if (coverage) fired.push(coverage);
    }
    return fired;
  });
}

/** Takes the quantity from an open, valid release order of the lot; false when none covers it. */
async function consumeRelease(tx: DbOrTx, pledgeId: string, event: Event, quantity: number): Promise<boolean> {
  const orders = await tx
    .select()
    .from(releaseOrders)
    // Validity is judged on our clock (received at), not the device's: a device clock can be set back.
    .where(and(eq(releaseOrders.pledgeId, pledgeId), eq(releaseOrders.lotCode, event.lotCode!), eq(releaseOrders.status, 'open'), lte(releaseOrders.validFrom, event.receivedAt), gte(releaseOrders.validTo, event.receivedAt)))
    .orderBy(asc(releaseOrders.validTo))
    .for('update');
  const order = orders.find((o) => o.quantity - o.releasedQuantity >= quantity);
  if (!order) return false;
  const released = order.releasedQuantity + quantity;
  await tx
    .update(releaseOrders)
    .set({ releasedQuantity: released, status: released === order.quantity ? 'used' : 'open' })
    .where(eq(releaseOrders.id, order.id));
  return true;
}

/** Devices silent longer than their heartbeat interval (or never heard from since registration) raise device_offline. */
export async function checkSilentDevices(db: DbOrTx, clock: Clock): Promise<number> {
  const now = clock.now();
  const silent = await db.execute<{ id: string; warehouse_id: string; name: string; last_seen_at: string | null }>(sql`
    select d.id, d.warehouse_id, d.name, d.last_seen_at from devices d
     where d.status = 'active'
       and coalesce(d.last_seen_at, d.created_at) < ${now.toISOString()}::timestamptz - make_interval(secs => d.heartbeat_interval_seconds)`);
  for (const d of silent) {
    const affected = await db.select({ pledge: pledges }).from(pledges).where(and(eq(pledges.warehouseId, d.warehouse_id), eq(pledges.status, 'active')));
    for (const { pledge } of affected) {
      await raiseLive(db, now, {
        rule: 'device_offline',
        subjectType: 'pledge',
        subjectId: pledge.id,
        bankOrganizationId: pledge.bankOrganizationId,
        creditLineId: pledge.creditLineId,
        severity: 'orange',
        evidence: { deviceId: d.id, name: d.name, lastSeenAt: d.last_seen_at, warehouseId: d.warehouse_id },
      });
    }
  }
  return silent.length;
}

/**
 * Coverage of one credit line against its program's lines: below the warning or the
 * liquidation line, or a price missing or stale (fail closed), raises (or refreshes) a signal.
 */
export async function checkLineCoverage(db: DbOrTx, clock: Clock, creditLineId: string): Promise<Fired | null> {
  const coverage = await computeCoverage(db, creditLineId, clock.now());
  // The catalogue's rule ids: the night run refreshes the same signal instead of adding a second one.
  const rule = coverage.status === 'liquidation' || coverage.status === 'warning' ? coverageBelowLines.id : coverage.status === 'price_missing' && coverage.outstandingFen > 0n ? priceMissingOrStale.id : null;
  if (!rule) return null;
  const severity = coverage.status === 'warning' ? 'orange' : 'red';
  const [line] = await db.select({ bank: creditLines.bankOrganizationId }).from(creditLines).where(eq(creditLines.id, creditLineId));
  const raised = await raiseLive(db, clock.now(), {
    rule,
    subjectType: 'credit_line',
    subjectId: creditLineId,
    bankOrganizationId: line?.bank ?? null,
    creditLineId,
    severity,
    evidence: {
      line: coverage.status,
      coverageBp: coverage.coverageBp,
      warningLineBp: coverage.warningLineBp,
      liquidationLineBp: coverage.liquidationLineBp,
      collateralValueFen: coverage.collateralValueFen.toString(),
      outstandingFen: coverage.outstandingFen.toString(),
      missingPrices: coverage.missingPrices,
    },
  });
  return raised ? { rule, severity } : null;
}

/** Every line with active pledges: prices age and outstanding moves even when no device speaks. */
export async function checkAllCoverage(db: DbOrTx, clock: Clock): Promise<number> {
  const lines = await db.selectDistinct({ id: pledges.creditLineId }).from(pledges).where(eq(pledges.status, 'active'));
  let raised = 0;
  for (const l of lines) if (await checkLineCoverage(db, clock, l.id)) raised++;
  return raised;
}

/** The outbox sweep: evaluates events committed whose check never ran (or whose job was lost). */
export async function evaluateUncheckedEvents(db: DbOrTx, clock: Clock, olderThan: Date) {
  const pending = await uncheckedEvents(db, olderThan, 500);
  const fired: Fired[] = [];
  for (const ref of pending) fired.push(...(await evaluateDeviceEvent(db, clock, ref)));
  return { swept: pending.length, fired };
}
