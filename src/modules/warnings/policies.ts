import { and, eq } from 'drizzle-orm';
import { z } from '@hono/zod-openapi';
import { creditLines, programRuleSettings, warningPolicies } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { actorName, type Ctx, requireOwnBank, requireRole } from '../../lib/context';
import { AppError, notFound } from '../../lib/errors';
import { parseInput } from '../../lib/validation';
import { recordAudit } from '../audit/record-audit';
import { loadVisibleProgram } from '../financing/access';
import { catalogue, type Severity } from './rules';

/*
 * Per program (1+N 项目): which rules of the catalogue run and with which parameters, and
 * what the platform may do by itself on red. The nightly run copies these settings when it
 * starts, so a change applies from the next run and a run is judged by one set of rules.
 */

export type RuleSetting = { enabled: boolean; params: Record<string, unknown> };
export type Policy = { freezeLineOnRed: boolean; blockReleaseOnRed: boolean; makerCheckerOnRed: boolean };
/** What a run reads: per program, the overridden rules and its policy (absent = defaults). */
export type RunSettings = Record<string, { rules: Record<string, RuleSetting>; policy?: Policy }>;

export const defaultPolicy: Policy = { freezeLineOnRed: false, blockReleaseOnRed: false, makerCheckerOnRed: false };

const ruleById = new Map<string, (typeof catalogue)[number]>(catalogue.map((r) => [r.id, r]));

export const ruleSettingInput = z
  .object({ enabled: z.boolean(), params: z.record(z.string(), z.unknown()).default({}) })
  .openapi('ProgramRuleSettingInput');
export const policyInput = z
  .object({ freezeLineOnRed: z.boolean(), blockReleaseOnRed: z.boolean(), makerCheckerOnRed: z.boolean() })
  .openapi('WarningPolicy');

/** Every program's settings, as one value a run stores and then reads from. */
export async function loadRunSettings(db: DbOrTx): Promise<RunSettings> {
  const out: RunSettings = {};
  for (const r of await db.select().from(programRuleSettings)) (out[r.programId] ??= { rules: {} }).rules[r.ruleId] = { enabled: r.enabled, params: r.params as Record<string, unknown> };
  for (const p of await db.select().from(warningPolicies)) (out[p.programId] ??= { rules: {} }).policy = { freezeLineOnRed: p.freezeLineOnRed, blockReleaseOnRed: p.blockReleaseOnRed, makerCheckerOnRed: p.makerCheckerOnRed };
  return out;
}

/**
 * A rule's parameters for a program, or null when the program switched it off. Settings were
 * validated when stored; parsing again fills defaults a later version of the rule added.
 */
export function paramsFor<R extends { id: string; params: z.ZodTypeAny }>(settings: RunSettings, programId: string | null, rule: R): z.output<R['params']> | null {
  const s = programId ? settings[programId]?.rules[rule.id] : undefined;
  if (s && !s.enabled) return null;
  return rule.params.parse(s?.params ?? {}) as z.output<R['params']>;
}

/**
 * Whether a program runs a rule now (real-time checks read the live setting; the nightly run
 * reads the copy it made at its start). Rules outside the catalogue always run.
 */
export async function ruleEnabledForLine(db: DbOrTx, creditLineId: string, ruleId: string): Promise<boolean> {
  if (!ruleById.has(ruleId)) return true;
  const [row] = await db
    .select({ enabled: programRuleSettings.enabled })
    .from(programRuleSettings)
    .innerJoin(creditLines, eq(creditLines.programId, programRuleSettings.programId))
    .where(and(eq(creditLines.id, creditLineId), eq(programRuleSettings.ruleId, ruleId)));
  return row?.enabled ?? true;
}

export async function policyOf(db: DbOrTx, programId: string): Promise<Policy> {
  const [p] = await db.select().from(warningPolicies).where(eq(warningPolicies.programId, programId));
  return p ? { freezeLineOnRed: p.freezeLineOnRed, blockReleaseOnRed: p.blockReleaseOnRed, makerCheckerOnRed: p.makerCheckerOnRed } : defaultPolicy;
}

const describeRule = (r: (typeof catalogue)[number], s: RuleSetting | undefined) => ({
  ruleId: r.id,
  nameZh: r.nameZh,
  nameEn: r.nameEn,
  subjectType: r.subjectType,
  defaultSeverity: r.defaultSeverity as Severity,
  enabled: s?.enabled ?? true,
  params: r.params.parse(s?.params ?? {}) as Record<string, unknown>,
  parameterSchema: z.toJSONSchema(r.params, { io: 'input' }) as Record<string, unknown>,
  overridden: !!s,
});

/** The catalogue as this program runs it: each rule, on or off, its parameters and their schema. */
export async function listProgramRules({ ctx, input }: { ctx: Ctx; input: { programId: string } }) {
  requireRole(ctx, ['risk_officer', 'credit_officer']);
  const program = await loadVisibleProgram(ctx, input.programId);
  const rows = await ctx.db.select().from(programRuleSettings).where(eq(programRuleSettings.programId, program.id));
  const byRule = new Map(rows.map((r) => [r.ruleId, { enabled: r.enabled, params: r.params as Record<string, unknown> }]));
  return { programId: program.id, rules: catalogue.map((r) => describeRule(r, byRule.get(r.id))) };
}

/** The bank's risk officer switches a rule on or off, or re-parameterizes it; validated by the rule's schema, audited. */
export async function setProgramRule({ ctx, input }: { ctx: Ctx; input: { programId: string; ruleId: string; body: unknown } }) {
  requireRole(ctx, ['risk_officer']);
  const rule = ruleById.get(input.ruleId);
  if (!rule) throw notFound('Rule');
  const data = parseInput(ruleSettingInput, input.body);
  const checked = rule.params.safeParse(data.params);
  if (!checked.success) {
    const errors = checked.error.issues.map((i) => ({ path: ['body', 'params', ...i.path.map(String)].join('/'), message: i.message }));
    throw new AppError('validation_failed', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
  }
  return ctx.db.transaction(async (tx) => {
    const program = await loadVisibleProgram(ctx, input.programId, tx, true);
    requireOwnBank(ctx, program.bankOrganizationId, 'program');
    const [before] = await tx.select().from(programRuleSettings).where(and(eq(programRuleSettings.programId, program.id), eq(programRuleSettings.ruleId, rule.id)));
    const values = { programId: program.id, ruleId: rule.id, enabled: data.enabled, params: data.params, updatedAt: ctx.clock.now(), updatedBy: actorName(ctx) };
    await tx.insert(programRuleSettings).values(values).onConflictDoUpdate({ target: [programRuleSettings.programId, programRuleSettings.ruleId], set: values });
    await recordAudit(tx, ctx, {
      organizationId: program.bankOrganizationId,
      action: 'program_rule.set',
      subjectType: 'program',
      subjectId: program.id,
      data: { ruleId: rule.id, before: before ? { enabled: before.enabled, params: before.params } : null, after: { enabled: data.enabled, params: data.params } },
    });
    return describeRule(rule, { enabled: data.enabled, params: data.params });
  });
}

export async function getWarningPolicy({ ctx, input }: { ctx: Ctx; input: { programId: string } }) {
  requireRole(ctx, ['risk_officer', 'credit_officer']);
  const program = await loadVisibleProgram(ctx, input.programId);
  return { programId: program.id, ...(await policyOf(ctx.db, program.id)) };
}

/** Automatic actions and maker-checker for a program's red signals; audited, effective at once for new signals. */
export async function setWarningPolicy({ ctx, input }: { ctx: Ctx; input: { programId: string; body: unknown } }) {
  requireRole(ctx, ['risk_officer']);
  const data = parseInput(policyInput, input.body);
  return ctx.db.transaction(async (tx) => {
    const program = await loadVisibleProgram(ctx, input.programId, tx, true);
    requireOwnBank(ctx, program.bankOrganizationId, 'program');
    const before = await policyOf(tx, program.id);
    const values = { programId: program.id, ...data, updatedAt: ctx.clock.now(), updatedBy: actorName(ctx) };
    await tx.insert(warningPolicies).values(values).onConflictDoUpdate({ target: warningPolicies.programId, set: values });
    await recordAudit(tx, ctx, { organizationId: program.bankOrganizationId, action: 'warning_policy.set', subjectType: 'program', subjectId: program.id, data: { before, after: data } });
    return { programId: program.id, ...data };
  });
}
