import { createHash } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from '../../lib/canonical-json';
import { creditCodeProblem, normalizeCreditCode } from '../../lib/credit-code';

/**
 * What registry, judicial and tax data providers (企查查, 天眼查 and the like) report about
 * an enterprise, in our words. Amounts are integer fen; ratios basis points; dates YYYY-MM-DD.
 */

/** Full-width → half-width, trimmed, inner whitespace collapsed: "ＡＢＣ 有限公司 " is "ABC 有限公司". */
export function normalizeText(raw: string): string {
  return raw
    .replace(/[\uFF01-\uFF5E]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0))
    .replace(/\u3000/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const text = z.string().transform(normalizeText);
const date = z.iso.date();
const fen = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export const enterpriseStatuses = ['in_business', 'deregistered', 'revoked', 'suspended', 'liquidation'] as const;
export type EnterpriseStatus = (typeof enterpriseStatuses)[number];

export const optionalCreditCode = z
  .string()
  .transform(normalizeCreditCode)
  .refine((c) => creditCodeProblem(c) === null, { message: 'not a valid unified social credit code' })
  .optional();

export const enterpriseProfileSchema = z.object({
  creditCode: z
    .string()
    .transform(normalizeCreditCode)
    .superRefine((c, ctx) => {
      const problem = creditCodeProblem(c);
      if (problem) ctx.addIssue({ code: 'custom', message: `not a valid unified social credit code: ${problem}` });
    }),
  name: text,
  status: z.enum(enterpriseStatuses), // 存续/在业, 注销, 吊销, 停业, 清算
  legalRepresentative: text,
  registeredCapital: z.object({ amountFen: fen, currency: z.string().default('CNY') }),
  paidInCapitalFen: fen.nullable().default(null),
  shareholders: z.array(z.object({ name: text, creditCode: optionalCreditCode, ratioBp: z.number().int().min(0).max(10_000) })).default([]),
  keyPersonnel: z.array(z.object({ name: text, position: text })).default([]), // 董监高
  address: text,
  businessScope: text,
  industry: text.default(''),
  abnormalOperations: z.array(z.object({ reason: text, listedOn: date, removedOn: date.nullable().default(null) })).default([]), // 经营异常名录
  seriousIllegal: z.array(z.object({ reason: text, listedOn: date, removedOn: date.nullable().default(null) })).default([]), // 严重违法失信名单
  lawsuits: z.array(z.object({ caseNumber: text, role: z.enum(['plaintiff', 'defendant', 'third_party']), cause: text, amountFen: fen, date })).default([]),
  enforcementCases: z.array(z.object({ caseNumber: text, amountFen: fen, date })).default([]), // 被执行人
  dishonestDebtor: z.array(z.object({ caseNumber: text, date })).default([]), // 失信被执行人
  administrativePenalties: z.array(z.object({ documentNumber: text, authority: text, reason: text, amountFen: fen, date })).default([]),
  taxCreditRating: z.enum(['A', 'B', 'M', 'C', 'D']).nullable().default(null),
  taxArrears: z.array(z.object({ taxType: text, amountFen: fen, date })).default([]),
  equityPledges: z.array(z.object({ registrationNumber: text, pledgor: text, pledgee: text, amountFen: fen, date })).default([]), // 股权出质
  chattelMortgages: z.array(z.object({ registrationNumber: text, mortgagee: text, collateral: text, amountFen: fen, date })).default([]), // 动产抵押
});
export type EnterpriseProfile = z.output<typeof enterpriseProfileSchema>;

/** The key that identifies an item of each list, so order never matters. */
export const listKeys = {
  shareholders: (s: EnterpriseProfile['shareholders'][number]) => s.creditCode ?? s.name,
  keyPersonnel: (p: EnterpriseProfile['keyPersonnel'][number]) => `${p.name}|${p.position}`,
  abnormalOperations: (e: EnterpriseProfile['abnormalOperations'][number]) => `${e.listedOn}|${e.reason}`,
  seriousIllegal: (e: EnterpriseProfile['seriousIllegal'][number]) => `${e.listedOn}|${e.reason}`,
  lawsuits: (l: EnterpriseProfile['lawsuits'][number]) => `${l.caseNumber}|${l.role}`,
  enforcementCases: (e: EnterpriseProfile['enforcementCases'][number]) => e.caseNumber,
  dishonestDebtor: (e: EnterpriseProfile['dishonestDebtor'][number]) => e.caseNumber,
  administrativePenalties: (p: EnterpriseProfile['administrativePenalties'][number]) => p.documentNumber,
  taxArrears: (t: EnterpriseProfile['taxArrears'][number]) => `${t.taxType}|${t.date}`,
  equityPledges: (p: EnterpriseProfile['equityPledges'][number]) => p.registrationNumber,
  chattelMortgages: (m: EnterpriseProfile['chattelMortgages'][number]) => m.registrationNumber,
} as const;

/** Lists sorted by their key: a provider listing shareholders in another order is no change. */
export function canonicalProfile(profile: EnterpriseProfile): EnterpriseProfile {
  const out: Record<string, unknown> = { ...profile };
  for (const [list, key] of Object.entries(listKeys)) {
    const items = [...(profile[list as keyof typeof listKeys] as unknown[])];
    // By key, then by the whole item, so equal keys (two people named 张伟) still sort the same way.
    const k = key as (x: unknown) => string;
    items.sort((a, b) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : canonicalJson(a) < canonicalJson(b) ? -1 : canonicalJson(a) > canonicalJson(b) ? 1 : 0));
    out[list] = items;
  }
  return out as EnterpriseProfile;
}

export { canonicalJson };

export function profileHash(profile: EnterpriseProfile): string {
  return createHash('sha256').update(canonicalJson(canonicalProfile(profile))).digest('hex');
}
