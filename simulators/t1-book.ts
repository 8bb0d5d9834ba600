import type postgres from 'postgres';
import { addDays, businessDayStart } from '../src/lib/clock';

/**
 * A synthetic loan book for the T+1 run, written with set-based SQL (generate_series) so a
 * book of 10,000 suppliers, 50,000 pledges and 1,000,000 movements takes seconds, not hours:
 * one bank, one core enterprise and program, `suppliers` credit lines each drawn to 60% of
 * its limit, `pledgesPerSupplier` pledges of one lot each spread over `warehouses`
 * warehouses (one device each), and `movements` movements received during business day T.
 *
 * Known problems are planted so the run has something to find: on every 50th line, 900 of
 * each lot's 1,000 kg leave without a release order during T (an unauthorized outbound on
 * each pledge, the line's coverage falls through the liquidation line); every 100th
 * warehouse's device is silent for the whole of T. Everything else is healthy: coverage
 * far above the lines, fresh registry data, 60% utilization, no expiry within a year.
 */
export interface BookSize {
  suppliers: number;
  pledgesPerSupplier: number;
  movements: number;
  warehouses: number;
}

export interface Book {
  bankOrganizationId: string;
  programId: string;
  businessDate: string;
  /** Lines whose collateral we took out during T (every 50th), for exact expectations in tests. */
  breachedLines: number;
  silentWarehouses: number;
}

export async function seedBook(sql: postgres.Sql, size: BookSize, day: { businessDate: string; timeZone: string }): Promise<Book> {
  const from = businessDayStart(day.businessDate, day.timeZone);
  const to = businessDayStart(addDays(day.businessDate, 1), day.timeZone);
  const before = new Date(from.getTime() - 2 * 86_400_000).toISOString(); // the book exists two days before T
  const tag = Math.random().toString(36).slice(2, 8);
  const lineLimit = 10_000_000n; // ¥100,000 a line
  const drawn = 6_000_000n;

  const [bank] = await sql<{ id: string }[]>`insert into organizations (kind, name, created_at, updated_at) values ('bank', ${`bench bank ${tag}`}, ${before}, ${before}) returning id`;
  // Credit codes are made up (unique, not checksummed): the run only needs them to watch the registry.
  const [core] = await sql<{ id: string }[]>`insert into organizations (kind, name, credit_code, created_at, updated_at) values ('core_enterprise', ${`bench core ${tag}`}, ${`9C${tag.toUpperCase().padEnd(16, '0')}`}, ${before}, ${before}) returning id`;
  const [whOrg] = await sql<{ id: string }[]>`insert into organizations (kind, name, created_at, updated_at) values ('warehouse', ${`bench warehouse ${tag}`}, ${before}, ${before}) returning id`;
  const programLimit = lineLimit * BigInt(size.suppliers);
  const [program] = await sql<{ id: string }[]>`
    insert into programs (bank_organization_id, core_enterprise_organization_id, name, limit_fen, outstanding_fen, advance_rate_bp, max_tenor_days, annual_rate_bp, day_count, grace_days, auto_approval_threshold_fen, created_at, updated_at)
    values (${bank!.id}, ${core!.id}, ${`bench program ${tag}`}, ${programLimit.toString()}, ${(drawn * BigInt(size.suppliers)).toString()}, 8000, 90, 450, 'ACT/360', 3, 0, ${before}, ${before}) returning id`;
  await sql`insert into collateral_terms (program_id, haircut_bp, warning_line_bp, liquidation_line_bp, price_max_age_hours, updated_at) values (${program!.id}, null, 13000, 11000, 240, ${before})`;
  const [sku] = await sql<{ id: string; code: string }[]>`insert into skus (code, name, unit, nominal_unit_weight_grams, tolerance_bp, haircut_bp, created_at) values (${`BENCH-${tag}`}, 'bench steel', 'kg', 1000, 200, 3000, ${before}) returning id, code`;
  await sql`insert into sku_prices (sku_id, price_fen, effective_at, source, created_at) values (${sku!.id}, 10000, ${before}, 'bench', ${before})`;

  // Suppliers and their lines, each drawn once (a journal entry two days before T).
  await sql`
    with s as (
      insert into organizations (kind, name, credit_code, created_at, updated_at)
      select 'supplier', ${`bench supplier ${tag} `} || g, '9S' || upper(substr(md5(${tag} || g), 1, 16)), ${before}, ${before} from generate_series(1, ${size.suppliers}) g
      returning id
    ), l as (
      insert into credit_lines (program_id, bank_organization_id, supplier_organization_id, limit_fen, outstanding_fen, drawn_fen, expires_on, revolving, created_at, updated_at)
      select ${program!.id}, ${bank!.id}, s.id, ${lineLimit.toString()}, ${drawn.toString()}, ${drawn.toString()}, ${addDays(day.businessDate, 365)}, true, ${before}, ${before} from s
      returning id
    )
    insert into credit_line_journal (credit_line_id, kind, amount_fen, reference, value_date, created_at, created_by)
    select l.id, 'drawdown', ${drawn.toString()}, 'bench', ${addDays(day.businessDate, -2)}, ${before}, 'bench' from l`;

  await sql`
    insert into warehouses (warehouse_organization_id, name, address, zones, created_at)
    select ${whOrg!.id}, ${`bench wh ${tag} `} || g, '-', '["A"]'::jsonb, ${before} from generate_series(1, ${size.warehouses}) g`;
  // One device per warehouse; every 100th is silent during T, the others send a heartbeat near the end of T.
  await sql`
    insert into devices (warehouse_id, warehouse_organization_id, kind, name, secret_ciphertext, broker_password_hash, heartbeat_interval_seconds, created_at)
    select w.id, ${whOrg!.id}, 'rfid_gate', 'gate ' || w.name, 'bench', 'bench', 300, ${before} from warehouses w where w.warehouse_organization_id = ${whOrg!.id}`;
  await sql`
    insert into telemetry_events (device_id, seq, kind, warehouse_id, device_ts, received_at, body_hash, body)
    select d.id, 1, 'heartbeat', d.warehouse_id, ${new Date(to.getTime() - 600_000).toISOString()}, ${new Date(to.getTime() - 600_000).toISOString()}, 'bench', '{}'::jsonb
    from (select d.*, row_number() over (order by d.id) rn from devices d where d.warehouse_organization_id = ${whOrg!.id}) d where d.rn % 100 <> 0`;

  // Pledges: one lot of 1,000 kg each; lot k of line i sits in warehouse (i·p + k) mod W.
  await sql`
    with lines as (select l.id, l.supplier_organization_id, row_number() over (order by l.id) as i from credit_lines l where l.program_id = ${program!.id}),
    whs as (select w.id, row_number() over (order by w.id) - 1 as n from warehouses w where w.warehouse_organization_id = ${whOrg!.id}),
    p as (
      insert into pledges (reference, bank_organization_id, supplier_organization_id, credit_line_id, warehouse_id, created_at)
      select ${`BENCH-${tag}-`} || lines.i || '-' || k, ${bank!.id}, lines.supplier_organization_id, lines.id, whs.id, ${before}
      from lines cross join generate_series(1, ${size.pledgesPerSupplier}) k join whs on whs.n = (lines.i * ${size.pledgesPerSupplier} + k) % ${size.warehouses}
      returning id, warehouse_id, reference
    )
    insert into pledge_lots (pledge_id, warehouse_id, lot_code, sku_id, zone, tag_ids, pledged_quantity)
    select p.id, p.warehouse_id, 'LOT-' || p.reference, ${sku!.id}, 'A', '[]'::jsonb, 1000 from p`;

  // The goods came in before T: one inbound movement per lot (silent devices spoke then).
  await sql`
    insert into telemetry_events (device_id, seq, kind, warehouse_id, device_ts, received_at, body_hash, body, lot_code, sku_code, signed_quantity)
    select d.id, 1000000 + row_number() over (partition by d.id order by pl.id), 'movement', pl.warehouse_id, ${before}, ${before}, 'bench', '{}'::jsonb, pl.lot_code, ${sku!.code}, 1000
    from pledge_lots pl join pledges p on p.id = pl.pledge_id join devices d on d.warehouse_id = pl.warehouse_id
    where p.bank_organization_id = ${bank!.id}`;

  // Day T's movements: balanced in/out pairs of 1 kg spread over the lots and the day (positions unchanged) ...
  const pairs = Math.floor(size.movements / 2);
  // Silent warehouses (no heartbeat) get no movements either: their devices say nothing all of T.
  const speaking = sql`exists (select 1 from telemetry_events h where h.device_id = d.id and h.kind = 'heartbeat')`;
  const [counted] = await sql<{ lots: number }[]>`
    select count(*)::int as lots from pledge_lots pl join pledges p on p.id = pl.pledge_id join devices d on d.warehouse_id = pl.warehouse_id where p.bank_organization_id = ${bank!.id} and ${speaking}`;
  // (A constant modulus lets PostgreSQL hash-join the series to the lots.)
  await sql`
    with lots as (select pl.lot_code, pl.warehouse_id, d.id as device_id, row_number() over (order by pl.id) - 1 as n
                  from pledge_lots pl join pledges p on p.id = pl.pledge_id join devices d on d.warehouse_id = pl.warehouse_id where p.bank_organization_id = ${bank!.id} and ${speaking}),
    g as (select g, g % ${counted!.lots} as n from generate_series(0, ${pairs - 1}) g)
    insert into telemetry_events (device_id, seq, kind, warehouse_id, device_ts, received_at, body_hash, body, lot_code, sku_code, signed_quantity)
    select lots.device_id, 2000000 + g.g * 2 + side, 'movement', lots.warehouse_id, at, at, 'bench', '{}'::jsonb, lots.lot_code, ${sku!.code}, case when side = 0 then 1 else -1 end
    from g join lots on lots.n = g.n
    cross join (values (0), (1)) s(side)
    cross join lateral (select ${from.toISOString()}::timestamptz + ((g.g % 86000) || ' seconds')::interval + (side || ' milliseconds')::interval as at) t`;

  // ... and on every 50th line, 900 kg of each lot left with no release order (非法转移).
  const breached = await sql<{ n: number }[]>`
    with lines as (select l.id, row_number() over (order by l.id) as i from credit_lines l where l.program_id = ${program!.id}),
    victims as (
      select pl.pledge_id, pl.lot_code, pl.warehouse_id, d.id as device_id
      from lines join pledges p on p.credit_line_id = lines.id join pledge_lots pl on pl.pledge_id = p.id join devices d on d.warehouse_id = pl.warehouse_id
      where lines.i % 50 = 0
    ), ins as (
      insert into telemetry_events (device_id, seq, kind, warehouse_id, device_ts, received_at, body_hash, body, lot_code, sku_code, signed_quantity, unauthorized_pledge_id)
      select v.device_id, 9000000 + row_number() over (partition by v.device_id order by v.pledge_id), 'movement', v.warehouse_id, ${new Date(from.getTime() + 3_600_000).toISOString()}, ${new Date(from.getTime() + 3_600_000).toISOString()}, 'bench', '{}'::jsonb, v.lot_code, ${sku!.code}, -900, v.pledge_id
      from victims v
      returning 1
    ) select (select count(*)::int from lines where i % 50 = 0) as n`;
  // Registry data fetched an hour before the end of T for every watched enterprise: fresh.
  await sql`
    insert into registry_fetch_status (provider, credit_code, last_attempt_at, last_success_at)
    select 'bench', o.credit_code, ${new Date(to.getTime() - 3_600_000).toISOString()}, ${new Date(to.getTime() - 3_600_000).toISOString()}
    from organizations o where o.credit_code is not null and o.name like ${`bench % ${tag}%`}`;
  await sql`analyze`;
  return { bankOrganizationId: bank!.id, programId: program!.id, businessDate: day.businessDate, breachedLines: breached[0]!.n, silentWarehouses: Math.floor(size.warehouses / 100) };
}
