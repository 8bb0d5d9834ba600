import { randomBytes } from 'node:crypto';
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import { z } from '@hono/zod-openapi';
import { Webhook } from 'standardwebhooks';
import { signals, webhookAttempts, webhookDeliveries, webhookEndpoints } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { type Ctx, isPlatformWide, requireRole } from '../../lib/context';
import { AppError, notFound } from '../../lib/errors';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { decryptSecret, encryptSecret, type SecretKey } from '../devices/secrets';
import { signalView } from './digest';

export const createEndpointInput = z
  .object({ url: z.url({ protocol: /^https?$/ }).max(2000).openapi({ example: 'https://risk.bank.example/threeflow/webhooks' }) })
  .openapi('CreateWebhookEndpoint');
export const endpointOutput = z.object({ id: z.uuid(), url: z.string(), active: z.boolean(), createdAt: z.iso.datetime() }).openapi('WebhookEndpoint');
export const createdEndpointOutput = z
  .object({ endpoint: endpointOutput, secret: z.string().openapi({ description: 'Standard Webhooks signing secret (whsec_…). Shown only now.' }) })
  .openapi('CreatedWebhookEndpoint');
export const deliveryOutput = z
  .object({
    id: z.uuid(),
    eventType: z.string(),
    status: z.enum(['pending', 'delivered', 'failed']),
    attempts: z.array(z.object({ attempt: z.number().int(), at: z.iso.datetime(), statusCode: z.number().int().nullable(), error: z.string().nullable(), durationMs: z.number().int() })),
    payload: z.unknown(),
    createdAt: z.iso.datetime(),
    deliveredAt: z.iso.datetime().nullable(),
  })
  .openapi('WebhookDelivery');

const toEndpoint = (e: typeof webhookEndpoints.$inferSelect) => ({ id: e.id, url: e.url, active: e.active, createdAt: e.createdAt.toISOString() });

function ownBank(ctx: Ctx): string {
  if (ctx.actor.type !== 'user' || ctx.actor.organizationKind !== 'bank') throw new AppError('forbidden', 'Webhook endpoints belong to a bank');
  return ctx.actor.organizationId;
}

/** A bank registers where its signals are pushed; the secret (whsec_…) is shown once and stored encrypted. */
export async function createWebhookEndpoint({ ctx, input, secretKey }: { ctx: Ctx; input: unknown; secretKey: SecretKey }) {
  requireRole(ctx, ['risk_officer', 'credit_officer']);
  const data = parseInput(createEndpointInput, input);
  const bank = ownBank(ctx);
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.insert(webhookEndpoints).values({ bankOrganizationId: bank, url: data.url, secretCiphertext: encryptSecret(secretKey, secret), createdAt: ctx.clock.now() }).returning();
    await recordAudit(tx, ctx, { organizationId: bank, action: 'webhook_endpoint.created', subjectType: 'webhook_endpoint', subjectId: row!.id, data: { before: null, after: { url: data.url } } });
    return { endpoint: toEndpoint(row!), secret };
  });
}

export async function listWebhookEndpoints({ ctx }: { ctx: Ctx }) {
  requireRole(ctx, ['risk_officer', 'credit_officer', 'platform_admin']);
  const rows = isPlatformWide(ctx.actor)
    ? await ctx.db.select().from(webhookEndpoints).orderBy(asc(webhookEndpoints.createdAt))
    : await ctx.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.bankOrganizationId, ownBank(ctx))).orderBy(asc(webhookEndpoints.createdAt));
  return { items: rows.map(toEndpoint) };
}

/** The latest deliveries to one endpoint, each with every attempt and what the endpoint answered. */
export async function listWebhookDeliveries({ ctx, input }: { ctx: Ctx; input: { endpointId: string } }) {
  requireRole(ctx, ['risk_officer', 'credit_officer', 'platform_admin']);
  const [endpoint] = await ctx.db.select().from(webhookEndpoints).where(eq(webhookEndpoints.id, input.endpointId));
  if (!endpoint || (!isPlatformWide(ctx.actor) && endpoint.bankOrganizationId !== ownBank(ctx))) throw notFound('Webhook endpoint');
  const deliveries = await ctx.db.select().from(webhookDeliveries).where(eq(webhookDeliveries.endpointId, endpoint.id)).orderBy(desc(webhookDeliveries.createdAt)).limit(200);
  const attempts = deliveries.length ? await ctx.db.select().from(webhookAttempts).where(inArray(webhookAttempts.deliveryId, deliveries.map((d) => d.id))).orderBy(asc(webhookAttempts.attempt)) : [];
  return {
    items: deliveries.map((d) => ({
      id: d.id,
      eventType: d.eventType,
      status: d.status,
      payload: d.payload,
      createdAt: d.createdAt.toISOString(),
      deliveredAt: d.deliveredAt?.toISOString() ?? null,
      attempts: attempts.filter((a) => a.deliveryId === d.id).map((a) => ({ attempt: a.attempt, at: a.at.toISOString(), statusCode: a.statusCode, error: a.error, durationMs: a.durationMs })),
    })),
  };
}

/**
 * Queues one delivery per active endpoint of the signal's bank, in the caller's transaction
 * (an outbox: the delivery exists if and only if the change it announces does).
 */
export async function announceSignal(tx: DbOrTx, at: Date, signal: typeof signals.$inferSelect, eventType: 'signal.raised' | 'signal.escalated' | 'signal.acknowledged' | 'signal.resolved') {
  if (!signal.bankOrganizationId) return;
  const endpoints = await tx.select({ id: webhookEndpoints.id }).from(webhookEndpoints).where(and(eq(webhookEndpoints.bankOrganizationId, signal.bankOrganizationId), eq(webhookEndpoints.active, true)));
  if (!endpoints.length) return;
  const payload = {
    type: eventType,
    timestamp: at.toISOString(),
    // The same view of a signal as the API and the live stream give.
    data: signalView(signal),
  };
  await tx.insert(webhookDeliveries).values(endpoints.map((e) => ({ endpointId: e.id, eventType, payload, createdAt: at })));
}

export class DeliveryFailed extends Error {}

/**
 * One attempt at one delivery, signed per Standard Webhooks (webhook-id, webhook-timestamp,
 * webhook-signature). Every attempt is recorded; a non-2xx answer or a timeout throws so the
 * queue retries with backoff. `final` marks the delivery failed when retries are exhausted.
 */
export async function attemptDelivery(db: DbOrTx, args: { deliveryId: string; secretKey: SecretKey; timeoutMs: number; now: () => Date; final: boolean }) {
  const [row] = await db
    .select({ delivery: webhookDeliveries, endpoint: webhookEndpoints })
    .from(webhookDeliveries)
    .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
    .where(eq(webhookDeliveries.id, args.deliveryId));
  if (!row || row.delivery.status !== 'pending') return 'skipped' as const;
  const body = JSON.stringify(row.delivery.payload);
  const at = args.now();
  let signingSecret: string;
  try {
    signingSecret = decryptSecret(args.secretKey, row.endpoint.secretCiphertext);
  } catch {
    // This process has another key than the one that stored the secret: not an attempt; a correctly configured worker delivers it.
    throw new Error(`webhook secret of endpoint ${row.endpoint.id} cannot be decrypted with this process's DEVICE_SECRET_KEY`);
  }
  const signature = new Webhook(signingSecret).sign(row.delivery.id, at, body);
  const started = performance.now();
  let statusCode: number | null = null;
  let error: string | null = null;
  try {
    const res = await fetch(row.endpoint.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'webhook-id': row.delivery.id, 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature },
      body,
      signal: AbortSignal.timeout(args.timeoutMs),
      redirect: 'manual',
    });
    statusCode = res.status;
    await res.body?.cancel();
    if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
  } catch (e) {
    error = e instanceof Error ? (e.name === 'TimeoutError' ? `no answer within ${args.timeoutMs} ms` : e.message) : String(e);
  }
  const attempt = row.delivery.attempts + 1;
  await db.transaction(async (tx) => {
    await tx.insert(webhookAttempts).values({ deliveryId: row.delivery.id, attempt, at, statusCode, error, durationMs: Math.round(performance.now() - started) });
    await tx
      .update(webhookDeliveries)
      .set({ attempts: attempt, ...(error ? (args.final ? { status: 'failed' as const } : {}) : { status: 'delivered' as const, deliveredAt: args.now() }) })
      .where(eq(webhookDeliveries.id, row.delivery.id));
  });
  if (error) throw new DeliveryFailed(error);
  return 'delivered' as const;
}

export async function pendingDeliveries(db: DbOrTx, limit: number) {
  return db.select({ id: webhookDeliveries.id }).from(webhookDeliveries).where(eq(webhookDeliveries.status, 'pending')).orderBy(asc(webhookDeliveries.createdAt)).limit(limit);
}
