import type { Logger } from 'pino';
import type { Db } from '../db/client';
import type { OrganizationKind, UserRole } from '../modules/parties/roles';
import { businessDate, type Clock } from './clock';
import { AppError } from './errors';

/** Who is acting: a person (through an API key) or the platform itself (seed, night jobs). */
export type Actor =
  | {
      type: 'user';
      userId: string;
      organizationId: string;
      organizationKind: OrganizationKind;
      role: UserRole;
      apiKeyId: string;
    }
  | { type: 'system'; name: string };

/** Everything a verb needs to know about the call: who, which request, and the resources. */
export interface Ctx {
  actor: Actor;
  requestId: string;
  db: Db;
  clock: Clock;
  /** IANA zone in which business dates (营业日) are counted. */
  businessTz: string;
  log: Logger;
}

/** Today's business date for this call. */
export function today(ctx: Ctx): string {
  return businessDate(ctx.clock.now(), ctx.businessTz);
}

export type UserActor = Extract<Actor, { type: 'user' }>;

/** The actor must be a person with one of `roles`; the platform itself may do anything. */
export function requireRole(ctx: Ctx, roles: readonly UserRole[]): void {
  const { actor } = ctx;
  if (actor.type === 'system') return;
  if (!roles.includes(actor.role)) {
    throw new AppError('forbidden', `This action needs the role ${roles.join(' or ')}; this key acts as ${actor.role}`);
  }
}

export function isPlatformWide(actor: Actor): boolean {
  return actor.type === 'system' || actor.role === 'platform_admin';
}

/** Tenancy rule for parties: a caller sees its own organization; the platform sees all. */
export function canSeeOrganization(actor: Actor, organizationId: string): boolean {
  return actor.type === 'system' || actor.role === 'platform_admin' || actor.organizationId === organizationId;
}

export function actorUserId(actor: Actor): string | null {
  return actor.type === 'user' ? actor.userId : null;
}

/** How an actor is recorded in created_by / decided_by columns. */
export function actorName(ctx: Ctx): string {
  return ctx.actor.type === 'user' ? ctx.actor.userId : `system:${ctx.actor.name}`;
}

/** A bank's decisions (lines, requests, pledges) belong to that bank; the platform may act for it. */
export function requireOwnBank(ctx: Ctx, bankOrganizationId: string, what: string): void {
  if (ctx.actor.type === 'user' && ctx.actor.role !== 'platform_admin' && ctx.actor.organizationId !== bankOrganizationId) {
    throw new AppError('forbidden', `Only the bank that owns this ${what} may do this`);
  }
}
