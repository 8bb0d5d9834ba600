import { z } from 'zod';
import { parseYuanToFen } from '../../lib/money';
import { type EnterpriseProfile, enterpriseProfileSchema, type EnterpriseStatus } from './profile';

/** A provider failed to answer usefully; the previous snapshot stays, the failure is recorded. */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** A registry/judicial/tax data provider, pulled by credit code. */
export interface RegistryProvider {
  readonly name: string;
  fetchProfile(creditCode: string): Promise<EnterpriseProfile>;
}

/**
 * The provider's wire format (modelled on 企查查/天眼查 style APIs): Chinese status words,
 * capital as "1000万元人民币", amounts in yuan as strings, roles as 原告/被告.
 */
const money = z.union([z.string(), z.number()]).nullable().optional();
const providerRecord = z.object({
  CreditCode: z.string(),
  Name: z.string(),
  Status: z.string(),
  OperName: z.string(),
  RegistCapi: z.string(),
  RecCap: z.string().nullable().optional(),
  Partners: z.array(z.object({ StockName: z.string(), CreditCode: z.string().nullable().optional(), StockPercent: z.string() })).default([]),
  Employees: z.array(z.object({ Name: z.string(), Job: z.string() })).default([]),
  Address: z.string(),
  Scope: z.string(),
  Industry: z.string().nullable().optional(),
  Exceptions: z.array(z.object({ AddReason: z.string(), AddDate: z.string(), RemoveDate: z.string().nullable().optional() })).default([]),
  SeriousViolations: z.array(z.object({ AddReason: z.string(), AddDate: z.string(), RemoveDate: z.string().nullable().optional() })).default([]),
  Lawsuits: z.array(z.object({ CaseNo: z.string(), Role: z.string(), CaseReason: z.string(), Amount: money, Date: z.string() })).default([]),
  ZhiXing: z.array(z.object({ CaseNo: z.string(), Amount: money, Date: z.string() })).default([]),
  ShiXin: z.array(z.object({ CaseNo: z.string(), Date: z.string() })).default([]),
  Penalties: z.array(z.object({ DocNo: z.string(), Office: z.string(), Reason: z.string(), Amount: money, Date: z.string() })).default([]),
  TaxCredit: z.string().nullable().optional(),
  TaxArrears: z.array(z.object({ TaxType: z.string(), Amount: money, Date: z.string() })).default([]),
  EquityPledges: z.array(z.object({ RegNo: z.string(), Pledgor: z.string(), Pledgee: z.string(), Amount: money, Date: z.string() })).default([]),
  ChattelMortgages: z.array(z.object({ RegNo: z.string(), Mortgagee: z.string(), Collateral: z.string(), Amount: money, Date: z.string() })).default([]),
});
export type ProviderRecord = z.input<typeof providerRecord>;

const STATUS_WORDS: Record<string, EnterpriseStatus> = {
  存续: 'in_business',
  在业: 'in_business',
  开业: 'in_business',
  '存续（在营、开业、在册）': 'in_business',
  注销: 'deregistered',
  吊销: 'revoked',
  '吊销，未注销': 'revoked',
  停业: 'suspended',
  清算: 'liquidation',
};
const ROLE_WORDS: Record<string, 'plaintiff' | 'defendant' | 'third_party'> = { 原告: 'plaintiff', 上诉人: 'plaintiff', 被告: 'defendant', 被上诉人: 'defendant', 被执行人: 'defendant', 第三人: 'third_party' };

const amountFen = (v: string | number | null | undefined): number => {
  if (v === null || v === undefined || v === '') return 0;
  const fen = parseYuanToFen(String(v));
  if (fen === null) throw new ProviderError(`unreadable amount "${v}"`, false);
  return fen;
};

/** "1000万元人民币" / "5,000.5万美元" / "2亿元" → fen and currency. */
export function parseCapital(raw: string): { amountFen: number; currency: string } {
  const m = /^\s*([\d,]+(?:\.\d+)?)\s*(万|亿)?\s*(?:元)?\s*(人民币|美元|港元|欧元)?\s*$/.exec(raw);
  if (!m) throw new ProviderError(`unreadable capital "${raw}"`, false);
  const [intPart, fracPart = ''] = m[1]!.replaceAll(',', '').split('.');
  const scale = m[2] === '亿' ? 10n ** 8n : m[2] === '万' ? 10n ** 4n : 1n;
  // yuan × scale × 100 fen, with the decimal part of the figure handled exactly.
  const digits = BigInt(intPart! + fracPart);
  const fen = (digits * scale * 100n) / 10n ** BigInt(fracPart.length);
  const currency = { 人民币: 'CNY', 美元: 'USD', 港元: 'HKD', 欧元: 'EUR' }[m[3] ?? '人民币'] ?? 'CNY';
  return { amountFen: Number(fen), currency };
}

const percentToBp = (raw: string): number => {
  const m = /^\s*(\d{1,3})(?:\.(\d{1,2}))?\s*%\s*$/.exec(raw);
  if (!m) throw new ProviderError(`unreadable ratio "${raw}"`, false);
  return Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0') || '0');
};

/** Maps the provider's record into our profile; anything unreadable is a (non-retryable) provider error. */
export function mapProviderRecord(raw: unknown): EnterpriseProfile {
  const parsed = providerRecord.safeParse(raw);
  if (!parsed.success) throw new ProviderError(`provider record does not match its format: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, false);
  const r = parsed.data;
  const status = STATUS_WORDS[r.Status.trim()];
  if (!status) throw new ProviderError(`unknown registration status "${r.Status}"`, false);
  const profile = enterpriseProfileSchema.safeParse({
    creditCode: r.CreditCode,
    name: r.Name,
    status,
    legalRepresentative: r.OperName,
    registeredCapital: parseCapital(r.RegistCapi),
    paidInCapitalFen: r.RecCap ? parseCapital(r.RecCap).amountFen : null,
    shareholders: r.Partners.map((p) => ({ name: p.StockName, creditCode: p.CreditCode || undefined, ratioBp: percentToBp(p.StockPercent) })),
    keyPersonnel: r.Employees.map((e) => ({ name: e.Name, position: e.Job })),
    address: r.Address,
    businessScope: r.Scope,
    industry: r.Industry ?? '',
    abnormalOperations: r.Exceptions.map((e) => ({ reason: e.AddReason, listedOn: e.AddDate, removedOn: e.RemoveDate ?? null })),
    seriousIllegal: r.SeriousViolations.map((e) => ({ reason: e.AddReason, listedOn: e.AddDate, removedOn: e.RemoveDate ?? null })),
    lawsuits: r.Lawsuits.map((l) => ({ caseNumber: l.CaseNo, role: ROLE_WORDS[l.Role.trim()] ?? 'third_party', cause: l.CaseReason, amountFen: amountFen(l.Amount), date: l.Date })),
    enforcementCases: r.ZhiXing.map((z) => ({ caseNumber: z.CaseNo, amountFen: amountFen(z.Amount), date: z.Date })),
    dishonestDebtor: r.ShiXin.map((s) => ({ caseNumber: s.CaseNo, date: s.Date })),
    administrativePenalties: r.Penalties.map((p) => ({ documentNumber: p.DocNo, authority: p.Office, reason: p.Reason, amountFen: amountFen(p.Amount), date: p.Date })),
    taxCreditRating: r.TaxCredit ? r.TaxCredit.trim().toUpperCase() : null,
    taxArrears: r.TaxArrears.map((t) => ({ taxType: t.TaxType, amountFen: amountFen(t.Amount), date: t.Date })),
    equityPledges: r.EquityPledges.map((p) => ({ registrationNumber: p.RegNo, pledgor: p.Pledgor, pledgee: p.Pledgee, amountFen: amountFen(p.Amount), date: p.Date })),
    chattelMortgages: r.ChattelMortgages.map((m) => ({ registrationNumber: m.RegNo, mortgagee: m.Mortgagee, collateral: m.Collateral, amountFen: amountFen(m.Amount), date: m.Date })),
  });
  if (!profile.success) throw new ProviderError(`provider record is not a valid profile: ${profile.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`, false);
  return profile.data;
}

/** The HTTP provider adapter: GET {baseUrl}/v1/enterprises/{creditCode}, bearer token, timeout. */
export function httpRegistryProvider(options: { name: string; baseUrl: string; token?: string | undefined; timeoutMs: number }): RegistryProvider {
  return {
    name: options.name,
    async fetchProfile(creditCode) {
      let res: Response;
      try {
        res = await fetch(`${options.baseUrl.replace(/\/$/, '')}/v1/enterprises/${encodeURIComponent(creditCode)}`, {
          headers: { accept: 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
          signal: AbortSignal.timeout(options.timeoutMs),
        });
      } catch (e) {
        const timeout = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
        throw new ProviderError(timeout ? `no answer within ${options.timeoutMs} ms` : `unreachable: ${e instanceof Error ? e.message : String(e)}`, true);
      }
      if (res.status === 404) throw new ProviderError('the provider does not know this credit code', false);
      if (!res.ok) throw new ProviderError(`provider answered HTTP ${res.status}`, res.status >= 500 || res.status === 429);
      let body: unknown;
      try {
        body = await res.json();
      } catch {
        throw new ProviderError('provider answered with something that is not JSON', true);
      }
      return mapProviderRecord((body as { Result?: unknown })?.Result ?? body);
    },
  };
}
