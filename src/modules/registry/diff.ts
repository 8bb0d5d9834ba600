import { type EnterpriseProfile, canonicalProfile, listKeys } from './profile';

export type Severity = 'red' | 'orange' | 'yellow';

/** Every change type, its severity hint and what triggers it (README lists the same). */
export const changeTypes = {
  legal_representative_changed: { severity: 'orange', trigger: 'the legal representative (法定代表人) is another person' },
  shareholder_added: { severity: 'yellow', trigger: 'a shareholder appears' },
  shareholder_removed: { severity: 'orange', trigger: 'a shareholder disappears' },
  shareholder_ratio_changed: { severity: 'yellow', trigger: "a shareholder's ratio moves by at least the configured points (default 5)" },
  registered_capital_reduced: { severity: 'orange', trigger: 'registered capital goes down (red when by half or more)' },
  registered_capital_increased: { severity: 'yellow', trigger: 'registered capital goes up' },
  status_changed: { severity: 'red', trigger: 'the registration status changes (red to deregistered/revoked/liquidation, orange to suspended, yellow back to in business)' },
  abnormal_operations_listed: { severity: 'orange', trigger: 'a new entry in the abnormal-operations list (经营异常名录)' },
  abnormal_operations_removed: { severity: 'yellow', trigger: 'an abnormal-operations entry is removed (or gets a removal date)' },
  serious_illegal_listed: { severity: 'red', trigger: 'a new entry in the serious-illegal list (严重违法失信)' },
  serious_illegal_removed: { severity: 'yellow', trigger: 'a serious-illegal entry is removed' },
  lawsuit_as_defendant: { severity: 'orange', trigger: 'a new lawsuit where the enterprise is defendant (with the amount)' },
  enforcement_case_added: { severity: 'red', trigger: 'a new enforcement case (被执行人)' },
  dishonest_debtor_added: { severity: 'red', trigger: 'a new dishonest-debtor entry (失信被执行人)' },
  administrative_penalty_added: { severity: 'orange', trigger: 'a new administrative penalty' },
  tax_rating_downgraded: { severity: 'orange', trigger: 'the tax credit rating goes down (A > B > M > C > D; red to D)' },
  tax_arrears_appeared: { severity: 'orange', trigger: 'a new tax-arrears entry' },
  equity_pledge_added: { severity: 'orange', trigger: 'a new equity pledge (股权出质)' },
  chattel_mortgage_added: { severity: 'orange', trigger: 'a new chattel mortgage (动产抵押) — a double-pledge risk when the goods are pledged here' },
  name_changed: { severity: 'yellow', trigger: 'the registered name changes' },
  address_changed: { severity: 'yellow', trigger: 'the registered address changes' },
  business_scope_changed: { severity: 'yellow', trigger: 'the business scope changes' },
  key_personnel_changed: { severity: 'yellow', trigger: 'directors, supervisors or senior managers (董监高) change' },
} as const satisfies Record<string, { severity: Severity; trigger: string }>;

export type ChangeType = keyof typeof changeTypes;

export interface ChangeEvent {
  type: ChangeType;
  severity: Severity;
  /** Identifies the item within the type (a shareholder, a case number), so each event is stored once. */
  itemKey: string;
  before: unknown;
  after: unknown;
  detail?: Record<string, unknown>;
}

export interface DiffOptions {
  /** A shareholder ratio change smaller than this many percentage points is noise. */
  shareholderRatioPoints: number;
}

const TAX_ORDER = ['A', 'B', 'M', 'C', 'D'] as const;

function event(type: ChangeType, itemKey: string, before: unknown, after: unknown, extra: { severity?: Severity; detail?: Record<string, unknown> } = {}): ChangeEvent {
  return { type, severity: extra.severity ?? changeTypes[type].severity, itemKey, before, after, ...(extra.detail ? { detail: extra.detail } : {}) };
}

/** Keyed items; a repeated key (two shareholders both named 张伟) gets #2, #3… in canonical order. */
function byKey<T>(items: T[], key: (t: T) => string): Map<string, T> {
  const map = new Map<string, T>();
  for (const i of items) {
    let k = key(i);
    for (let n = 2; map.has(k); n++) k = `${key(i)}#${n}`;
    map.set(k, i);
  }
  return map;
}

/** Items of `after` whose key `before` did not have. */
function added<T>(before: T[], after: T[], key: (t: T) => string): T[] {
  const seen = byKey(before, key);
  return after.filter((i) => !seen.has(key(i)));
}

/**
 * Typed change events between two consecutive snapshots. Pure and deterministic: the same
 * pair always gives the same events in the same order.
 */
export function diffProfiles(beforeRaw: EnterpriseProfile, afterRaw: EnterpriseProfile, options: DiffOptions): ChangeEvent[] {
  const before = canonicalProfile(beforeRaw);
  const after = canonicalProfile(afterRaw);
  const events: ChangeEvent[] = [];

  if (before.legalRepresentative !== after.legalRepresentative) events.push(event('legal_representative_changed', '', before.legalRepresentative, after.legalRepresentative));
  if (before.name !== after.name) events.push(event('name_changed', '', before.name, after.name));
  if (before.address !== after.address) events.push(event('address_changed', '', before.address, after.address));
  if (before.businessScope !== after.businessScope) events.push(event('business_scope_changed', '', before.businessScope, after.businessScope));

  if (before.status !== after.status) {
    const severity: Severity = ['deregistered', 'revoked', 'liquidation'].includes(after.status) ? 'red' : after.status === 'suspended' ? 'orange' : 'yellow';
    events.push(event('status_changed', after.status, before.status, after.status, { severity }));
  }

  const capBefore = before.registeredCapital.amountFen;
  const capAfter = after.registeredCapital.amountFen;
  if (before.registeredCapital.currency !== after.registeredCapital.currency) {
    // Another currency is not comparable by number: report it as a change the officer reads.
    events.push(event('registered_capital_reduced', 'currency', before.registeredCapital, after.registeredCapital, { severity: 'orange', detail: { currencyChanged: true } }));
  } else if (capAfter < capBefore) {
    const reducedBp = capBefore > 0 ? Math.round(((capBefore - capAfter) * 10_000) / capBefore) : 0;
    // Red on the exact figures (by half or more), not on the rounded share shown.
    const severity: Severity = (capBefore - capAfter) * 2 >= capBefore ? 'red' : 'orange';
    events.push(event('registered_capital_reduced', '', before.registeredCapital, after.registeredCapital, { severity, detail: { reducedBp } }));
  } else if (capAfter > capBefore) {
    events.push(event('registered_capital_increased', '', before.registeredCapital, after.registeredCapital));
  }

  const shBefore = byKey(before.shareholders, listKeys.shareholders);
  const shAfter = byKey(after.shareholders, listKeys.shareholders);
  for (const [key, s] of shAfter) {
    const old = shBefore.get(key);
    if (!old) events.push(event('shareholder_added', key, null, s));
    else if (Math.abs(s.ratioBp - old.ratioBp) >= Math.round(options.shareholderRatioPoints * 100)) {
      events.push(event('shareholder_ratio_changed', key, old, s, { detail: { changeBp: s.ratioBp - old.ratioBp } }));
    }
  }
  for (const [key, s] of shBefore) if (!shAfter.has(key)) events.push(event('shareholder_removed', key, s, null));

  const kpBefore = before.keyPersonnel.map(listKeys.keyPersonnel).join('\n');
  const kpAfter = after.keyPersonnel.map(listKeys.keyPersonnel).join('\n');
  if (kpBefore !== kpAfter) events.push(event('key_personnel_changed', '', before.keyPersonnel, after.keyPersonnel));

  for (const list of ['abnormalOperations', 'seriousIllegal'] as const) {
    const [listedType, removedType] = list === 'abnormalOperations' ? (['abnormal_operations_listed', 'abnormal_operations_removed'] as const) : (['serious_illegal_listed', 'serious_illegal_removed'] as const);
    const key = listKeys[list];
    const old = byKey(before[list], key);
    const now = byKey(after[list], key);
    for (const [k, e] of now) {
      const was = old.get(k);
      if (!was && !e.removedOn) events.push(event(listedType, k, null, e));
      else if (was && !was.removedOn && e.removedOn) events.push(event(removedType, k, was, e));
      else if (was && was.removedOn && !e.removedOn) events.push(event(listedType, k, was, e)); // listed again
    }
    for (const [k, e] of old) if (!now.has(k) && !e.removedOn) events.push(event(removedType, k, e, null));
  }

  for (const l of added(before.lawsuits, after.lawsuits, listKeys.lawsuits)) {
    if (l.role === 'defendant') events.push(event('lawsuit_as_defendant', listKeys.lawsuits(l), null, l, { detail: { amountFen: l.amountFen } }));
  }
  for (const e of added(before.enforcementCases, after.enforcementCases, listKeys.enforcementCases)) events.push(event('enforcement_case_added', e.caseNumber, null, e, { detail: { amountFen: e.amountFen } }));
  for (const e of added(before.dishonestDebtor, after.dishonestDebtor, listKeys.dishonestDebtor)) events.push(event('dishonest_debtor_added', e.caseNumber, null, e));
  for (const p of added(before.administrativePenalties, after.administrativePenalties, listKeys.administrativePenalties)) events.push(event('administrative_penalty_added', p.documentNumber, null, p));

  if (before.taxCreditRating && after.taxCreditRating && TAX_ORDER.indexOf(after.taxCreditRating) > TAX_ORDER.indexOf(before.taxCreditRating)) {
    events.push(event('tax_rating_downgraded', '', before.taxCreditRating, after.taxCreditRating, { severity: after.taxCreditRating === 'D' ? 'red' : 'orange' }));
  }
  for (const t of added(before.taxArrears, after.taxArrears, listKeys.taxArrears)) events.push(event('tax_arrears_appeared', listKeys.taxArrears(t), null, t, { detail: { amountFen: t.amountFen } }));
  for (const p of added(before.equityPledges, after.equityPledges, listKeys.equityPledges)) events.push(event('equity_pledge_added', p.registrationNumber, null, p));
  for (const m of added(before.chattelMortgages, after.chattelMortgages, listKeys.chattelMortgages)) events.push(event('chattel_mortgage_added', m.registrationNumber, null, m));

  return events;
}
