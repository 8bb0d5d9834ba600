import { and, asc, desc, eq, gte, lt, sql, type SQL } from 'drizzle-orm';
import { enterpriseSnapshots, registryChangeEvents, registryFetchStatus, registryPullRuns } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { afterCursor } from '../../db/keyset';
import { type Ctx, isPlatformWide, requireRole } from '../../lib/context';
import { AppError, notFound } from '../../lib/errors';
import { decodeCursor, pageOf, pageQuerySchema } from '../../lib/pagination';
import { parseInput } from '../../lib/validation';
import { type ChangeEvent, type ChangeType, type DiffOptions, diffProfiles } from './diff';
import { canonicalProfile, type EnterpriseProfile, enterpriseProfileSchema, profileHash } from './profile';
import { ProviderError, type RegistryProvider } from './providers';
import { assertCanSeeEnterprise, computeWatchList } from './watch-list';
import { listChangeEventsInput } from './schemas';

type Snapshot = typeof enterpriseSnapshots.$inferSelect;

/**
 * Stores a profile as a new snapshot version when its content differs from the latest, and
 * the typed change events between the two. One enterprise is written by one transaction at
 * a time (advisory lock on its code); storing the same content again changes nothing, and
 * re-processing a pair of versions never duplicates its events (unique index).
 */
export async function recordProfile(
  db: DbOrTx,
  ctx: Pick<Ctx, 'clock'>,
  args: { provider: string; source: 'pull' | 'push'; profile: EnterpriseProfile; diff: DiffOptions },
): Promise<{ outcome: 'created' | 'changed' | 'unchanged'; version: number; events: ChangeEvent[] }> {
  const profile = canonicalProfile(args.profile);
  const hash = profileHash(profile);
  const now = ctx.clock.now();
  return (db as DbOrTx).transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext('enterprise:' || ${profile.creditCode}))`);
    const [latest] = await tx.select().from(enterpriseSnapshots).where(eq(enterpriseSnapshots.creditCode, profile.creditCode)).orderBy(desc(enterpriseSnapshots.version)).limit(1);
    await markFetched(tx, args.provider, profile.creditCode, now, null);
    if (latest && latest.contentHash === hash) return { outcome: 'unchanged' as const, version: latest.version, events: [] };
    const version = (latest?.version ?? 0) + 1;
    await tx.insert(enterpriseSnapshots).values({ creditCode: profile.creditCode, version, content: profile, contentHash: hash, provider: args.provider, source: args.source, fetchedAt: now });
    const events = latest ? diffProfiles(latest.content as EnterpriseProfile, profile, args.diff) : [];
    if (events.length) {
      await tx
        .insert(registryChangeEvents)
        .values(events.map((e) => ({ creditCode: profile.creditCode, type: e.type, severity: e.severity, itemKey: e.itemKey, before: e.before, after: e.after, detail: e.detail ?? null, fromVersion: latest!.version, toVersion: version, detectedAt: now })))
        .onConflictDoNothing();
    }
    return { outcome: latest ? ('changed' as const) : ('created' as const), version, events };
  });
}

async function markFetched(db: DbOrTx, provider: string, creditCode: string, at: Date, error: string | null) {
  await db
    .insert(registryFetchStatus)
    .values({ provider, creditCode, lastAttemptAt: at, lastSuccessAt: error ? null : at, lastError: error, consecutiveFailures: error ? 1 : 0 })
    .onConflictDoUpdate({
      target: [registryFetchStatus.provider, registryFetchStatus.creditCode],
      set: error
        ? { lastAttemptAt: at, lastError: error, consecutiveFailures: sql`${registryFetchStatus.consecutiveFailures} + 1` }
        : { lastAttemptAt: at, lastSuccessAt: at, lastError: null, consecutiveFailures: 0 },
    });
}

/**
 * Pulls one enterprise from the provider. A provider failure keeps the previous snapshot,
 * is recorded against the enterprise (stale data is a condition the warnings must see),
 * and is rethrown when retrying may help.
 */
export async function pullEnterprise(db: DbOrTx, ctx: Pick<Ctx, 'clock'>, args: { provider: RegistryProvider; creditCode: string; diff: DiffOptions }) {
  try {
    const profile = await args.provider.fetchProfile(args.creditCode);
    if (profile.creditCode !== args.creditCode) throw new ProviderError(`asked for ${args.creditCode}, the provider answered for ${profile.creditCode}`, false);
    return await recordProfile(db, ctx, { provider: args.provider.name, source: 'pull', profile, diff: args.diff });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    await markFetched(db, args.provider.name, args.creditCode, ctx.clock.now(), message);
    throw e;
  }
}

/** Starts a pull run over the whole watch list; the caller enqueues one job per enterprise. */
export async function startPullRun(db: DbOrTx, ctx: Pick<Ctx, 'clock'>, args: { provider: string; trigger: 'schedule' | 'api' }) {
  const watched = await computeWatchList(db);
  const [run] = await db.insert(registryPullRuns).values({ provider: args.provider, trigger: args.trigger, status: watched.length ? 'running' : 'succeeded', total: watched.length, startedAt: ctx.clock.now(), finishedAt: watched.length ? null : ctx.clock.now() }).returning();
  return { run: run!, creditCodes: watched.map((w) => w.creditCode) };
}

/** Counts one enterprise of a run as done or failed; the last one closes the run. */
export async function finishPullItem(db: DbOrTx, ctx: Pick<Ctx, 'clock'>, runId: string, ok: boolean) {
  await db.execute(sql`
    update registry_pull_runs set
      done = done + ${ok ? 1 : 0}, failed = failed + ${ok ? 0 : 1},
      status = case when done + failed + 1 >= total then (case when failed + ${ok ? 0 : 1} > 0 then 'partial' else 'succeeded' end) else status end,
      finished_at = case when done + failed + 1 >= total then ${ctx.clock.now().toISOString()}::timestamptz else finished_at end
    where id = ${runId}`);
}

const toSnapshot = (s: Snapshot, withContent: boolean) => ({
  creditCode: s.creditCode,
  version: s.version,
  contentHash: s.contentHash,
  provider: s.provider,
  source: s.source,
  fetchedAt: s.fetchedAt.toISOString(),
  ...(withContent ? { content: s.content as Record<string, unknown> } : {}),
});

export async function listSnapshots({ ctx, input }: { ctx: Ctx; input: { creditCode: string } & Record<string, unknown> }) {
  await assertCanSeeEnterprise(ctx, input.creditCode);
  const q = parseInput(pageQuerySchema, input, 'query');
  const rows = await ctx.db
    .select()
    .from(enterpriseSnapshots)
    .where(and(eq(enterpriseSnapshots.creditCode, input.creditCode), afterCursor(enterpriseSnapshots.fetchedAt, enterpriseSnapshots.id, decodeCursor(q.cursor))))
    .orderBy(asc(enterpriseSnapshots.fetchedAt), asc(enterpriseSnapshots.id))
    .limit(q.limit + 1);
  return pageOf(rows.map((r) => ({ ...r, createdAt: r.fetchedAt })), q.limit, (r) => toSnapshot(r, false));
}

async function loadSnapshot(ctx: Ctx, creditCode: string, version: number) {
  const [row] = await ctx.db.select().from(enterpriseSnapshots).where(and(eq(enterpriseSnapshots.creditCode, creditCode), eq(enterpriseSnapshots.version, version)));
  if (!row) throw notFound(`Snapshot version ${version}`);
  return row;
}

export async function getSnapshot({ ctx, input }: { ctx: Ctx; input: { creditCode: string; version: number } }) {
  await assertCanSeeEnterprise(ctx, input.creditCode);
  return toSnapshot(await loadSnapshot(ctx, input.creditCode, input.version), true);
}

/** The change events between any two versions (computed now, with today's thresholds). */
export async function diffSnapshots({ ctx, input }: { ctx: Ctx; input: { creditCode: string; from: number; to: number; diff: DiffOptions } }) {
  await assertCanSeeEnterprise(ctx, input.creditCode);
  if (input.from === input.to) throw new AppError('validation_failed', 'from and to are the same version', { errors: [{ path: 'query/to', message: 'must differ from from' }] });
  const [a, b] = await Promise.all([loadSnapshot(ctx, input.creditCode, input.from), loadSnapshot(ctx, input.creditCode, input.to)]);
  const parse = (s: Snapshot) => enterpriseProfileSchema.parse(s.content);
  const events = diffProfiles(parse(a), parse(b), input.diff).map((e) => ({ ...e, creditCode: input.creditCode, fromVersion: input.from, toVersion: input.to }));
  return { creditCode: input.creditCode, from: input.from, to: input.to, events };
}

/** Stored change events the caller may see, filtered by type, enterprise and detection time. */
export async function listChangeEvents({ ctx, input }: { ctx: Ctx; input: unknown }) {
  const q = parseInput(listChangeEventsInput, input, 'query');
  const where: (SQL | undefined)[] = [afterCursor(registryChangeEvents.detectedAt, registryChangeEvents.id, decodeCursor(q.cursor))];
  if (q.type) where.push(eq(registryChangeEvents.type, q.type));
  if (q.creditCode) where.push(eq(registryChangeEvents.creditCode, q.creditCode));
  if (q.from) where.push(gte(registryChangeEvents.detectedAt, new Date(q.from)));
  if (q.to) where.push(lt(registryChangeEvents.detectedAt, new Date(q.to)));
  if (!isPlatformWide(ctx.actor)) {
    if (ctx.actor.type !== 'user') return { items: [], nextCursor: null };
    const visible =
      ctx.actor.organizationKind === 'bank'
        ? (await computeWatchList(ctx.db, ctx.actor.organizationId)).map((w) => w.creditCode)
        : (await ctx.db.execute<{ credit_code: string | null }>(sql`select credit_code from organizations where id = ${ctx.actor.organizationId}`)).map((r) => r.credit_code).filter((c): c is string => !!c);
    if (visible.length === 0) return { items: [], nextCursor: null };
    where.push(sql`${registryChangeEvents.creditCode} in ${visible}`);
  }
  const rows = await ctx.db.select().from(registryChangeEvents).where(and(...where)).orderBy(asc(registryChangeEvents.detectedAt), asc(registryChangeEvents.id)).limit(q.limit + 1);
  return pageOf(
    rows.map((r) => ({ ...r, createdAt: r.detectedAt })),
    q.limit,
    (r) => ({ id: r.id, creditCode: r.creditCode, type: r.type as ChangeType, severity: r.severity, itemKey: r.itemKey, before: r.before, after: r.after, detail: r.detail ?? undefined, fromVersion: r.fromVersion, toVersion: r.toVersion, detectedAt: r.detectedAt.toISOString() }),
  );
}

const toRun = (r: typeof registryPullRuns.$inferSelect) => ({ ...r, startedAt: r.startedAt.toISOString(), finishedAt: r.finishedAt?.toISOString() ?? null });

export async function getPullRun({ ctx, input }: { ctx: Ctx; input: { runId: string } }) {
  requireRole(ctx, ['credit_officer', 'risk_officer', 'platform_admin']);
  const [row] = await ctx.db.select().from(registryPullRuns).where(eq(registryPullRuns.id, input.runId));
  if (!row) throw notFound('Pull run');
  return toRun(row);
}

/** The provider's health: the last run and, per visible enterprise, the last success and failure. */
export async function providerStatus({ ctx, input }: { ctx: Ctx; input: { provider: string; pullConfigured: boolean; pushConfigured: boolean } }) {
  requireRole(ctx, ['credit_officer', 'risk_officer', 'platform_admin']);
  const [lastRun] = await ctx.db.select().from(registryPullRuns).where(eq(registryPullRuns.provider, input.provider)).orderBy(desc(registryPullRuns.startedAt)).limit(1);
  const visible = ctx.actor.type === 'user' && !isPlatformWide(ctx.actor) ? new Set((await computeWatchList(ctx.db, ctx.actor.organizationId)).map((w) => w.creditCode)) : null;
  const statuses = await ctx.db.select().from(registryFetchStatus).where(eq(registryFetchStatus.provider, input.provider)).orderBy(asc(registryFetchStatus.creditCode));
  return {
    provider: input.provider,
    pullConfigured: input.pullConfigured,
    pushConfigured: input.pushConfigured,
    lastRun: lastRun ? toRun(lastRun) : null,
    enterprises: statuses
      .filter((s) => !visible || visible.has(s.creditCode))
      .map((s) => ({ creditCode: s.creditCode, lastAttemptAt: s.lastAttemptAt.toISOString(), lastSuccessAt: s.lastSuccessAt?.toISOString() ?? null, lastError: s.lastError, consecutiveFailures: s.consecutiveFailures })),
  };
}
