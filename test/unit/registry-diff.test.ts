import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { type ChangeEvent, type ChangeType, changeTypes, diffProfiles } from '../../src/modules/registry/diff';
import { type EnterpriseProfile, enterpriseProfileSchema, normalizeText, profileHash } from '../../src/modules/registry/profile';

type ProfileInput = z.input<typeof enterpriseProfileSchema>;

const ENTERPRISE_CODE = '91350100M000100Y43';
const CORPORATE_SHAREHOLDER_CODE = '91110000600037341L';
const CORPORATE_SHAREHOLDER = { name: '福州闽江投资集团有限公司', creditCode: CORPORATE_SHAREHOLDER_CODE, ratioBp: 6_000 };

/** A realistic snapshot as a provider would report it; every list already in canonical order. */
function baseInput(): ProfileInput {
  return {
    creditCode: ENTERPRISE_CODE,
    name: '福州闽江供应链管理有限公司',
    status: 'in_business',
    legalRepresentative: '林建华',
    registeredCapital: { amountFen: 5_000_000_000, currency: 'CNY' }, // 5000 万元
    paidInCapitalFen: 2_000_000_000,
    shareholders: [
      { ...CORPORATE_SHAREHOLDER },
      { name: '林建华', ratioBp: 3_000 },
      { name: '陈美玲', ratioBp: 1_000 },
    ],
    // canonical order by "name|position": 林 (U+6797) < 王 (U+738B) < 陈 (U+9648)
    keyPersonnel: [
      { name: '林建华', position: '执行董事兼总经理' },
      { name: '王强', position: '财务负责人' },
      { name: '陈美玲', position: '监事' },
    ],
    address: '福建省福州市鼓楼区五四路 88 号',
    businessScope: '供应链管理服务;国内货物运输代理;普通货物仓储服务(不含危险化学品)',
    industry: '租赁和商务服务业',
    abnormalOperations: [{ reason: '未按规定报送年度报告', listedOn: '2022-07-01', removedOn: '2022-11-15' }],
    seriousIllegal: [],
    lawsuits: [
      { caseNumber: '(2023)闽0102民初1234号', role: 'plaintiff', cause: '买卖合同纠纷', amountFen: 12_345_600, date: '2023-03-10' },
      { caseNumber: '(2023)闽0102民初5678号', role: 'defendant', cause: '仓储合同纠纷', amountFen: 800_000, date: '2023-06-20' },
    ],
    enforcementCases: [],
    dishonestDebtor: [],
    administrativePenalties: [],
    taxCreditRating: 'B',
    taxArrears: [],
    equityPledges: [],
    chattelMortgages: [],
  };
}

function profile(overrides: Partial<ProfileInput> = {}): EnterpriseProfile {
  return enterpriseProfileSchema.parse({ ...baseInput(), ...overrides });
}

function diff(before: EnterpriseProfile, after: EnterpriseProfile): ChangeEvent[] {
  return diffProfiles(before, after, { shareholderRatioPoints: 5 });
}

const base = baseInput();
const baseShareholders = base.shareholders!;
const baseKeyPersonnel = base.keyPersonnel!;
const baseLawsuits = base.lawsuits!;

const ACTIVE_ABNORMAL = { reason: '通过登记的住所或者经营场所无法联系', listedOn: '2024-05-10' };
const ACTIVE_SERIOUS = { reason: '被列入经营异常名录届满3年仍未履行相关义务', listedOn: '2024-08-01' };

interface Scenario {
  title: string;
  before?: Partial<ProfileInput>;
  after: Partial<ProfileInput>;
  expected: ChangeEvent[];
}

/** Keyed by change type, so the compiler (and the coverage test below) insists on every type. */
const scenarios: { [T in ChangeType]: Scenario[] } = {
  legal_representative_changed: [
    {
      title: 'another legal representative → orange',
      after: { legalRepresentative: '陈美玲' },
      expected: [{ type: 'legal_representative_changed', severity: 'orange', itemKey: '', before: '林建华', after: '陈美玲' }],
    },
  ],
  shareholder_added: [
    {
      title: 'a new natural-person shareholder → yellow, keyed by name (a 2-point move of another is noise)',
      after: { shareholders: [{ ...CORPORATE_SHAREHOLDER }, { name: '林建华', ratioBp: 2_800 }, { name: '陈美玲', ratioBp: 1_000 }, { name: '郑晓东', ratioBp: 200 }] },
      expected: [{ type: 'shareholder_added', severity: 'yellow', itemKey: '郑晓东', before: null, after: { name: '郑晓东', ratioBp: 200 } }],
    },
    {
      title: 'a new corporate shareholder is keyed by its credit code',
      before: { shareholders: [{ name: '林建华', ratioBp: 8_000 }, { name: '陈美玲', ratioBp: 2_000 }] },
      after: { shareholders: [{ ...CORPORATE_SHAREHOLDER, ratioBp: 0 }, { name: '林建华', ratioBp: 8_000 }, { name: '陈美玲', ratioBp: 2_000 }] },
      expected: [{ type: 'shareholder_added', severity: 'yellow', itemKey: CORPORATE_SHAREHOLDER_CODE, before: null, after: { ...CORPORATE_SHAREHOLDER, ratioBp: 0 } }],
    },
  ],
  shareholder_removed: [
    {
      title: 'a natural-person shareholder disappears → orange',
      after: { shareholders: [{ ...CORPORATE_SHAREHOLDER }, { name: '林建华', ratioBp: 3_000 }] },
      expected: [{ type: 'shareholder_removed', severity: 'orange', itemKey: '陈美玲', before: { name: '陈美玲', ratioBp: 1_000 }, after: null }],
    },
    {
      title: 'the corporate shareholder disappears → keyed by its credit code',
      after: { shareholders: [{ name: '林建华', ratioBp: 3_000 }, { name: '陈美玲', ratioBp: 1_000 }] },
      expected: [{ type: 'shareholder_removed', severity: 'orange', itemKey: CORPORATE_SHAREHOLDER_CODE, before: CORPORATE_SHAREHOLDER, after: null }],
    },
  ],
  shareholder_ratio_changed: [
    {
      title: 'exactly 5 points (500 bp) up and down counts → yellow with changeBp',
      after: { shareholders: [{ ...CORPORATE_SHAREHOLDER, ratioBp: 6_500 }, { name: '林建华', ratioBp: 2_500 }, { name: '陈美玲', ratioBp: 1_000 }] },
      expected: [
        { type: 'shareholder_ratio_changed', severity: 'yellow', itemKey: CORPORATE_SHAREHOLDER_CODE, before: CORPORATE_SHAREHOLDER, after: { ...CORPORATE_SHAREHOLDER, ratioBp: 6_500 }, detail: { changeBp: 500 } },
        { type: 'shareholder_ratio_changed', severity: 'yellow', itemKey: '林建华', before: { name: '林建华', ratioBp: 3_000 }, after: { name: '林建华', ratioBp: 2_500 }, detail: { changeBp: -500 } },
      ],
    },
    {
      title: '4.99 points (499 bp) up and down is noise',
      after: { shareholders: [{ ...CORPORATE_SHAREHOLDER, ratioBp: 6_499 }, { name: '林建华', ratioBp: 2_501 }, { name: '陈美玲', ratioBp: 1_000 }] },
      expected: [],
    },
    {
      title: 'a renamed corporate shareholder with the same credit code and ratio is no change',
      after: { shareholders: [{ ...CORPORATE_SHAREHOLDER, name: '闽江投资控股集团有限公司' }, { name: '林建华', ratioBp: 3_000 }, { name: '陈美玲', ratioBp: 1_000 }] },
      expected: [],
    },
  ],
  registered_capital_reduced: [
    {
      title: 'reduced by exactly half → red, reducedBp 5000',
      after: { registeredCapital: { amountFen: 2_500_000_000 } },
      expected: [
        { type: 'registered_capital_reduced', severity: 'red', itemKey: '', before: { amountFen: 5_000_000_000, currency: 'CNY' }, after: { amountFen: 2_500_000_000, currency: 'CNY' }, detail: { reducedBp: 5_000 } },
      ],
    },
    {
      title: 'reduced by 80% → red, reducedBp 8000',
      after: { registeredCapital: { amountFen: 1_000_000_000 } },
      expected: [
        { type: 'registered_capital_reduced', severity: 'red', itemKey: '', before: { amountFen: 5_000_000_000, currency: 'CNY' }, after: { amountFen: 1_000_000_000, currency: 'CNY' }, detail: { reducedBp: 8_000 } },
      ],
    },
    {
      title: 'reduced by 48% → orange, reducedBp 4800',
      after: { registeredCapital: { amountFen: 2_600_000_000 } },
      expected: [
        { type: 'registered_capital_reduced', severity: 'orange', itemKey: '', before: { amountFen: 5_000_000_000, currency: 'CNY' }, after: { amountFen: 2_600_000_000, currency: 'CNY' }, detail: { reducedBp: 4_800 } },
      ],
    },
    {
      title: 'reduced by 1 fen → orange, reducedBp 0',
      after: { registeredCapital: { amountFen: 4_999_999_999 } },
      expected: [
        { type: 'registered_capital_reduced', severity: 'orange', itemKey: '', before: { amountFen: 5_000_000_000, currency: 'CNY' }, after: { amountFen: 4_999_999_999, currency: 'CNY' }, detail: { reducedBp: 0 } },
      ],
    },
  ],
  registered_capital_increased: [
    {
      title: 'doubled → yellow, no detail',
      after: { registeredCapital: { amountFen: 10_000_000_000 } },
      expected: [{ type: 'registered_capital_increased', severity: 'yellow', itemKey: '', before: { amountFen: 5_000_000_000, currency: 'CNY' }, after: { amountFen: 10_000_000_000, currency: 'CNY' } }],
    },
  ],
  status_changed: [
    {
      title: 'in business → deregistered is red',
      after: { status: 'deregistered' },
      expected: [{ type: 'status_changed', severity: 'red', itemKey: 'deregistered', before: 'in_business', after: 'deregistered' }],
    },
    {
      title: 'in business → revoked is red',
      after: { status: 'revoked' },
      expected: [{ type: 'status_changed', severity: 'red', itemKey: 'revoked', before: 'in_business', after: 'revoked' }],
    },
    {
      title: 'in business → liquidation is red',
      after: { status: 'liquidation' },
      expected: [{ type: 'status_changed', severity: 'red', itemKey: 'liquidation', before: 'in_business', after: 'liquidation' }],
    },
    {
      title: 'in business → suspended is orange',
      after: { status: 'suspended' },
      expected: [{ type: 'status_changed', severity: 'orange', itemKey: 'suspended', before: 'in_business', after: 'suspended' }],
    },
    {
      title: 'suspended → back in business is yellow',
      before: { status: 'suspended' },
      after: { status: 'in_business' },
      expected: [{ type: 'status_changed', severity: 'yellow', itemKey: 'in_business', before: 'suspended', after: 'in_business' }],
    },
    {
      title: 'liquidation → back in business is yellow',
      before: { status: 'liquidation' },
      after: { status: 'in_business' },
      expected: [{ type: 'status_changed', severity: 'yellow', itemKey: 'in_business', before: 'liquidation', after: 'in_business' }],
    },
  ],
  abnormal_operations_listed: [
    {
      title: 'a new active entry → orange, keyed by listedOn|reason',
      after: { abnormalOperations: [...base.abnormalOperations!, ACTIVE_ABNORMAL] },
      expected: [
        { type: 'abnormal_operations_listed', severity: 'orange', itemKey: `2024-05-10|${ACTIVE_ABNORMAL.reason}`, before: null, after: { ...ACTIVE_ABNORMAL, removedOn: null } },
      ],
    },
    {
      title: 'a new entry that already carries a removal date raises nothing',
      after: { abnormalOperations: [...base.abnormalOperations!, { ...ACTIVE_ABNORMAL, removedOn: '2024-06-01' }] },
      expected: [],
    },
  ],
  abnormal_operations_removed: [
    {
      title: 'an active entry gains a removedOn date → yellow',
      before: { abnormalOperations: [ACTIVE_ABNORMAL] },
      after: { abnormalOperations: [{ ...ACTIVE_ABNORMAL, removedOn: '2024-09-01' }] },
      expected: [
        {
          type: 'abnormal_operations_removed',
          severity: 'yellow',
          itemKey: `2024-05-10|${ACTIVE_ABNORMAL.reason}`,
          before: { ...ACTIVE_ABNORMAL, removedOn: null },
          after: { ...ACTIVE_ABNORMAL, removedOn: '2024-09-01' },
        },
      ],
    },
    {
      title: 'an active entry disappears → yellow with after null',
      before: { abnormalOperations: [ACTIVE_ABNORMAL] },
      after: { abnormalOperations: [] },
      expected: [{ type: 'abnormal_operations_removed', severity: 'yellow', itemKey: `2024-05-10|${ACTIVE_ABNORMAL.reason}`, before: { ...ACTIVE_ABNORMAL, removedOn: null }, after: null }],
    },
    {
      title: 'an entry removed long ago disappearing from the report raises nothing',
      after: { abnormalOperations: [] },
      expected: [],
    },
  ],
  serious_illegal_listed: [
    {
      title: 'a new active entry → red',
      after: { seriousIllegal: [ACTIVE_SERIOUS] },
      expected: [{ type: 'serious_illegal_listed', severity: 'red', itemKey: `2024-08-01|${ACTIVE_SERIOUS.reason}`, before: null, after: { ...ACTIVE_SERIOUS, removedOn: null } }],
    },
  ],
  serious_illegal_removed: [
    {
      title: 'an active entry gains a removedOn date → yellow',
      before: { seriousIllegal: [ACTIVE_SERIOUS] },
      after: { seriousIllegal: [{ ...ACTIVE_SERIOUS, removedOn: '2025-02-01' }] },
      expected: [
        {
          type: 'serious_illegal_removed',
          severity: 'yellow',
          itemKey: `2024-08-01|${ACTIVE_SERIOUS.reason}`,
          before: { ...ACTIVE_SERIOUS, removedOn: null },
          after: { ...ACTIVE_SERIOUS, removedOn: '2025-02-01' },
        },
      ],
    },
    {
      title: 'an active entry disappears → yellow with after null',
      before: { seriousIllegal: [ACTIVE_SERIOUS] },
      after: { seriousIllegal: [] },
      expected: [{ type: 'serious_illegal_removed', severity: 'yellow', itemKey: `2024-08-01|${ACTIVE_SERIOUS.reason}`, before: { ...ACTIVE_SERIOUS, removedOn: null }, after: null }],
    },
  ],
  lawsuit_as_defendant: [
    {
      title: 'a new lawsuit as defendant → orange with the amount',
      after: { lawsuits: [...baseLawsuits, { caseNumber: '(2024)闽01民初99号', role: 'defendant', cause: '借款合同纠纷', amountFen: 150_000_000, date: '2024-10-08' }] },
      expected: [
        {
          type: 'lawsuit_as_defendant',
          severity: 'orange',
          itemKey: '(2024)闽01民初99号|defendant',
          before: null,
          after: { caseNumber: '(2024)闽01民初99号', role: 'defendant', cause: '借款合同纠纷', amountFen: 150_000_000, date: '2024-10-08' },
          detail: { amountFen: 150_000_000 },
        },
      ],
    },
    {
      title: 'a new lawsuit as plaintiff raises nothing',
      after: { lawsuits: [...baseLawsuits, { caseNumber: '(2024)闽01民初100号', role: 'plaintiff', cause: '买卖合同纠纷', amountFen: 150_000_000, date: '2024-10-08' }] },
      expected: [],
    },
    {
      title: 'a new lawsuit as third party raises nothing',
      after: { lawsuits: [...baseLawsuits, { caseNumber: '(2024)闽01民初101号', role: 'third_party', cause: '案外人执行异议之诉', amountFen: 0, date: '2024-10-08' }] },
      expected: [],
    },
    {
      title: 'a known defendant case reported again with a new amount raises nothing (keyed by case number and role)',
      after: { lawsuits: [baseLawsuits[0]!, { ...baseLawsuits[1]!, amountFen: 900_000 }] },
      expected: [],
    },
  ],
  enforcement_case_added: [
    {
      title: 'a new enforcement case → red with the amount',
      after: { enforcementCases: [{ caseNumber: '(2024)闽0102执1234号', amountFen: 80_000_000, date: '2024-09-12' }] },
      expected: [
        {
          type: 'enforcement_case_added',
          severity: 'red',
          itemKey: '(2024)闽0102执1234号',
          before: null,
          after: { caseNumber: '(2024)闽0102执1234号', amountFen: 80_000_000, date: '2024-09-12' },
          detail: { amountFen: 80_000_000 },
        },
      ],
    },
  ],
  dishonest_debtor_added: [
    {
      title: 'a new dishonest-debtor entry → red',
      after: { dishonestDebtor: [{ caseNumber: '(2024)闽0102执1234号', date: '2024-11-20' }] },
      expected: [{ type: 'dishonest_debtor_added', severity: 'red', itemKey: '(2024)闽0102执1234号', before: null, after: { caseNumber: '(2024)闽0102执1234号', date: '2024-11-20' } }],
    },
  ],
  administrative_penalty_added: [
    {
      title: 'a new administrative penalty → orange, keyed by document number',
      after: {
        administrativePenalties: [{ documentNumber: '榕鼓市监处罚〔2024〕112号', authority: '福州市鼓楼区市场监督管理局', reason: '未按规定公示年度报告', amountFen: 5_000_000, date: '2024-04-02' }],
      },
      expected: [
        {
          type: 'administrative_penalty_added',
          severity: 'orange',
          itemKey: '榕鼓市监处罚〔2024〕112号',
          before: null,
          after: { documentNumber: '榕鼓市监处罚〔2024〕112号', authority: '福州市鼓楼区市场监督管理局', reason: '未按规定公示年度报告', amountFen: 5_000_000, date: '2024-04-02' },
        },
      ],
    },
  ],
  tax_rating_downgraded: [
    {
      title: 'B → C is orange',
      after: { taxCreditRating: 'C' },
      expected: [{ type: 'tax_rating_downgraded', severity: 'orange', itemKey: '', before: 'B', after: 'C' }],
    },
    {
      title: 'B → M is orange (M sits between B and C)',
      after: { taxCreditRating: 'M' },
      expected: [{ type: 'tax_rating_downgraded', severity: 'orange', itemKey: '', before: 'B', after: 'M' }],
    },
    {
      title: 'C → D is red',
      before: { taxCreditRating: 'C' },
      after: { taxCreditRating: 'D' },
      expected: [{ type: 'tax_rating_downgraded', severity: 'red', itemKey: '', before: 'C', after: 'D' }],
    },
    {
      title: 'A → D is red',
      before: { taxCreditRating: 'A' },
      after: { taxCreditRating: 'D' },
      expected: [{ type: 'tax_rating_downgraded', severity: 'red', itemKey: '', before: 'A', after: 'D' }],
    },
    {
      title: 'an upgrade C → B raises nothing',
      before: { taxCreditRating: 'C' },
      after: { taxCreditRating: 'B' },
      expected: [],
    },
    {
      title: 'a first rating null → A raises nothing',
      before: { taxCreditRating: null },
      after: { taxCreditRating: 'A' },
      expected: [],
    },
  ],
  tax_arrears_appeared: [
    {
      title: 'a new tax-arrears entry → orange with the amount, keyed by tax type and date',
      after: { taxArrears: [{ taxType: '增值税', amountFen: 3_456_700, date: '2024-10-15' }] },
      expected: [
        { type: 'tax_arrears_appeared', severity: 'orange', itemKey: '增值税|2024-10-15', before: null, after: { taxType: '增值税', amountFen: 3_456_700, date: '2024-10-15' }, detail: { amountFen: 3_456_700 } },
      ],
    },
  ],
  equity_pledge_added: [
    {
      title: 'a new equity pledge → orange, keyed by registration number',
      after: { equityPledges: [{ registrationNumber: '350100202400123', pledgor: '林建华', pledgee: '兴业银行股份有限公司福州分行', amountFen: 1_000_000_000, date: '2024-07-30' }] },
      expected: [
        {
          type: 'equity_pledge_added',
          severity: 'orange',
          itemKey: '350100202400123',
          before: null,
          after: { registrationNumber: '350100202400123', pledgor: '林建华', pledgee: '兴业银行股份有限公司福州分行', amountFen: 1_000_000_000, date: '2024-07-30' },
        },
      ],
    },
  ],
  chattel_mortgage_added: [
    {
      title: 'a new chattel mortgage → orange, keyed by registration number',
      after: { chattelMortgages: [{ registrationNumber: '闽榕鼓2024-0088', mortgagee: '中国银行股份有限公司福州分行', collateral: '电解铜 200 吨(存放于马尾保税仓)', amountFen: 1_200_000_000, date: '2024-08-15' }] },
      expected: [
        {
          type: 'chattel_mortgage_added',
          severity: 'orange',
          itemKey: '闽榕鼓2024-0088',
          before: null,
          after: { registrationNumber: '闽榕鼓2024-0088', mortgagee: '中国银行股份有限公司福州分行', collateral: '电解铜 200 吨(存放于马尾保税仓)', amountFen: 1_200_000_000, date: '2024-08-15' },
        },
      ],
    },
  ],
  name_changed: [
    {
      title: 'another registered name → yellow',
      after: { name: '福州闽江数智供应链有限公司' },
      expected: [{ type: 'name_changed', severity: 'yellow', itemKey: '', before: '福州闽江供应链管理有限公司', after: '福州闽江数智供应链有限公司' }],
    },
  ],
  address_changed: [
    {
      title: 'another registered address → yellow',
      after: { address: '福建省福州市马尾区江滨东大道 68 号' },
      expected: [{ type: 'address_changed', severity: 'yellow', itemKey: '', before: '福建省福州市鼓楼区五四路 88 号', after: '福建省福州市马尾区江滨东大道 68 号' }],
    },
  ],
  business_scope_changed: [
    {
      title: 'another business scope → yellow',
      after: { businessScope: '供应链管理服务;国内货物运输代理' },
      expected: [{ type: 'business_scope_changed', severity: 'yellow', itemKey: '', before: base.businessScope, after: '供应链管理服务;国内货物运输代理' }],
    },
  ],
  key_personnel_changed: [
    {
      title: 'a new director → yellow with both lists in canonical order',
      after: { keyPersonnel: [...baseKeyPersonnel, { name: '赵磊', position: '董事' }] },
      expected: [
        {
          type: 'key_personnel_changed',
          severity: 'yellow',
          itemKey: '',
          before: baseKeyPersonnel,
          // 赵 (U+8D75) sorts between 王 (U+738B) and 陈 (U+9648)
          after: [baseKeyPersonnel[0], baseKeyPersonnel[1], { name: '赵磊', position: '董事' }, baseKeyPersonnel[2]],
        },
      ],
    },
    {
      title: 'a person moving to another position → yellow',
      after: { keyPersonnel: [baseKeyPersonnel[0]!, { name: '王强', position: '副总经理' }, baseKeyPersonnel[2]!] },
      expected: [{ type: 'key_personnel_changed', severity: 'yellow', itemKey: '', before: baseKeyPersonnel, after: [baseKeyPersonnel[0], { name: '王强', position: '副总经理' }, baseKeyPersonnel[2]] }],
    },
  ],
};

describe('diffProfiles: every change type', () => {
  it('has scenarios for exactly the types in changeTypes, each raising only its own type', () => {
    expect(Object.keys(scenarios).sort()).toEqual(Object.keys(changeTypes).sort());
    for (const [type, list] of Object.entries(scenarios)) {
      expect(list.some((s) => s.expected.length > 0), type).toBe(true);
      for (const s of list) for (const e of s.expected) expect(e.type, s.title).toBe(type);
    }
  });

  for (const [type, list] of Object.entries(scenarios) as [ChangeType, Scenario[]][]) {
    describe(type, () => {
      it.each(list)('$title', ({ before, after, expected }) => {
        const events = diff(profile(before), profile({ ...before, ...after }));
        expect(events).toStrictEqual(expected);
      });
    });
  }

  it('uses the severity hint of changeTypes unless a rule overrides it', () => {
    const overriding = new Set<ChangeType>(['status_changed', 'registered_capital_reduced', 'tax_rating_downgraded']);
    for (const [type, list] of Object.entries(scenarios) as [ChangeType, Scenario[]][]) {
      if (overriding.has(type)) continue;
      for (const s of list) for (const e of s.expected) expect(e.severity, s.title).toBe(changeTypes[type].severity);
    }
  });

  it('reports several changes at once in a fixed order', () => {
    const after = profile({
      legalRepresentative: '陈美玲',
      status: 'liquidation',
      registeredCapital: { amountFen: 1_000_000_000 },
      taxCreditRating: 'D',
      enforcementCases: [{ caseNumber: '(2024)闽0102执1234号', amountFen: 80_000_000, date: '2024-09-12' }],
    });
    expect(diff(profile(), after).map((e) => [e.type, e.severity])).toEqual([
      ['legal_representative_changed', 'orange'],
      ['status_changed', 'red'],
      ['registered_capital_reduced', 'red'],
      ['enforcement_case_added', 'red'],
      ['tax_rating_downgraded', 'red'],
    ]);
  });

  it('honours the configured ratio threshold', () => {
    const after = profile({ shareholders: [{ ...CORPORATE_SHAREHOLDER, ratioBp: 6_200 }, { name: '林建华', ratioBp: 2_800 }, { name: '陈美玲', ratioBp: 1_000 }] });
    expect(diff(profile(), after)).toEqual([]);
    expect(diffProfiles(profile(), after, { shareholderRatioPoints: 2 }).map((e) => [e.itemKey, e.detail])).toEqual([
      [CORPORATE_SHAREHOLDER_CODE, { changeBp: 200 }],
      ['林建华', { changeBp: -200 }],
    ]);
  });
});

describe('no change', () => {
  it('identical profiles give no events', () => {
    const p = profile();
    expect(diff(p, p)).toEqual([]);
    expect(diff(profile(), profile())).toEqual([]);
    expect(profileHash(profile())).toBe(profileHash(profile()));
    expect(profileHash(profile())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('shareholders, lawsuits and key personnel in another order are no change and hash equal', () => {
    const reordered = profile({
      shareholders: [...baseShareholders].reverse(),
      lawsuits: [...baseLawsuits].reverse(),
      keyPersonnel: [baseKeyPersonnel[2]!, baseKeyPersonnel[0]!, baseKeyPersonnel[1]!],
    });
    expect(reordered.shareholders[0]!.name).toBe('陈美玲'); // the order really differs
    expect(diff(profile(), reordered)).toEqual([]);
    expect(diff(reordered, profile())).toEqual([]);
    expect(profileHash(reordered)).toBe(profileHash(profile()));
  });

  it('every other list in another order is no change and hashes equal', () => {
    const lists: Partial<ProfileInput> = {
      abnormalOperations: [ACTIVE_ABNORMAL, { reason: '未按规定报送年度报告', listedOn: '2022-07-01', removedOn: '2022-11-15' }],
      seriousIllegal: [ACTIVE_SERIOUS, { reason: '提交虚假材料取得登记', listedOn: '2021-01-05', removedOn: '2023-01-05' }],
      enforcementCases: [
        { caseNumber: '(2024)闽0102执2号', amountFen: 1, date: '2024-01-02' },
        { caseNumber: '(2024)闽0102执1号', amountFen: 2, date: '2024-01-01' },
      ],
      dishonestDebtor: [
        { caseNumber: '(2024)闽0102执2号', date: '2024-03-02' },
        { caseNumber: '(2024)闽0102执1号', date: '2024-03-01' },
      ],
      administrativePenalties: [
        { documentNumber: '榕鼓市监处罚〔2024〕2号', authority: '鼓楼区市场监督管理局', reason: 'b', amountFen: 2, date: '2024-02-02' },
        { documentNumber: '榕鼓市监处罚〔2024〕1号', authority: '鼓楼区市场监督管理局', reason: 'a', amountFen: 1, date: '2024-02-01' },
      ],
      taxArrears: [
        { taxType: '增值税', amountFen: 2, date: '2024-05-02' },
        { taxType: '企业所得税', amountFen: 1, date: '2024-05-01' },
      ],
      equityPledges: [
        { registrationNumber: '2', pledgor: '林建华', pledgee: '兴业银行', amountFen: 2, date: '2024-06-02' },
        { registrationNumber: '1', pledgor: '陈美玲', pledgee: '兴业银行', amountFen: 1, date: '2024-06-01' },
      ],
      chattelMortgages: [
        { registrationNumber: '2', mortgagee: '中国银行', collateral: '电解铜', amountFen: 2, date: '2024-07-02' },
        { registrationNumber: '1', mortgagee: '中国银行', collateral: '铝锭', amountFen: 1, date: '2024-07-01' },
      ],
    };
    const reversed = Object.fromEntries(Object.entries(lists).map(([k, v]) => [k, [...(v as unknown[])].reverse()]));
    const a = profile(lists);
    const b = profile(reversed);
    expect(diff(a, b)).toEqual([]);
    expect(profileHash(a)).toBe(profileHash(b));
  });

  it('text noise (full-width letters and digits, surrounding and ideographic spaces, doubled inner spaces) is no change and hashes equal', () => {
    const clean = profile({
      name: 'ABC123 供应链管理有限公司',
      legalRepresentative: '林建华',
      address: '福建省福州市鼓楼区五四路 88 号',
      shareholders: [{ ...CORPORATE_SHAREHOLDER }, { name: 'ABC123 Holdings Ltd', ratioBp: 3_000 }, { name: '陈美玲', ratioBp: 1_000 }],
      keyPersonnel: [{ name: '林建华', position: '执行董事 兼 总经理' }],
      lawsuits: [{ caseNumber: '(2023)闽0102民初5678号', role: 'defendant', cause: '仓储合同纠纷', amountFen: 800_000, date: '2023-06-20' }],
    });
    const noisy = profile({
      name: '  ＡＢＣ１２３\u3000供应链管理有限公司 ',
      legalRepresentative: '\u3000林建华\u3000',
      address: '福建省福州市鼓楼区五四路  ８８   号 ',
      shareholders: [
        { ...CORPORATE_SHAREHOLDER, name: ' 福州闽江投资集团有限公司', creditCode: ' ９１１１００００６０００３７３４１ｌ ' },
        { name: 'ＡＢＣ１２３  Ｈｏｌｄｉｎｇｓ\u3000Ｌｔｄ', ratioBp: 3_000 },
        { name: '陈美玲 ', ratioBp: 1_000 },
      ],
      keyPersonnel: [{ name: ' 林建华', position: '执行董事\u3000\u3000兼  总经理' }],
      lawsuits: [{ caseNumber: '（２０２３）闽０１０２民初５６７８号', role: 'defendant', cause: ' 仓储合同纠纷 ', amountFen: 800_000, date: '2023-06-20' }],
    });
    expect(noisy.name).toBe('ABC123 供应链管理有限公司');
    expect(noisy.shareholders[0]!.creditCode).toBe(CORPORATE_SHAREHOLDER_CODE);
    expect(diff(clean, noisy)).toEqual([]);
    expect(diff(noisy, clean)).toEqual([]);
    expect(profileHash(noisy)).toBe(profileHash(clean));
  });
});

describe('normalizeText', () => {
  it.each([
    ['ＡＢＣ１２３', 'ABC123'],
    ['ａｂｃ', 'abc'],
    ['  ＡＢＣ 有限公司 ', 'ABC 有限公司'],
    ['\u3000福州\u3000\u3000闽江\u3000', '福州 闽江'],
    ['a  \t b\n\nc', 'a b c'],
    ['（２０２３）闽０１０２民初１２３４号', '(2023)闽0102民初1234号'],
    ['！～', '!~'],
    ['\u3000 \u3000', ''],
    ['', ''],
    ['福州闽江供应链管理有限公司', '福州闽江供应链管理有限公司'],
  ])('%j → %j', (raw, expected) => {
    expect(normalizeText(raw)).toBe(expected);
  });

  it('property: idempotent, never leaves full-width ASCII, ideographic spaces, edge or doubled whitespace', () => {
    const unit = fc.constantFrom('a', 'Z', '7', '福', ' ', '\t', '\n', '\u3000', 'Ａ', 'ｚ', '７', '（', '～', '！');
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 30 }), (raw) => {
        const out = normalizeText(raw);
        expect(normalizeText(out)).toBe(out);
        expect(out).not.toMatch(/[\uFF01-\uFF5E\u3000]|\s\s|^\s|\s$/);
      }),
    );
  });
});

describe('profileHash', () => {
  const changes: [keyof ProfileInput, Partial<ProfileInput>][] = [
    ['creditCode', { creditCode: '9144030071526726XG' }],
    ['name', { name: '福州闽江供应链管理股份有限公司' }],
    ['status', { status: 'suspended' }],
    ['legalRepresentative', { legalRepresentative: '陈美玲' }],
    ['registeredCapital', { registeredCapital: { amountFen: 5_000_000_001 } }],
    ['registeredCapital', { registeredCapital: { amountFen: 5_000_000_000, currency: 'USD' } }],
    ['paidInCapitalFen', { paidInCapitalFen: 2_000_000_001 }],
    ['paidInCapitalFen', { paidInCapitalFen: null }],
    ['shareholders', { shareholders: [{ ...CORPORATE_SHAREHOLDER }, { name: '林建华', ratioBp: 3_001 }, { name: '陈美玲', ratioBp: 1_000 }] }],
    ['shareholders', { shareholders: [{ ...CORPORATE_SHAREHOLDER, name: '闽江投资控股集团有限公司' }, { name: '林建华', ratioBp: 3_000 }, { name: '陈美玲', ratioBp: 1_000 }] }],
    ['keyPersonnel', { keyPersonnel: [baseKeyPersonnel[0]!, baseKeyPersonnel[1]!] }],
    ['address', { address: '福建省福州市鼓楼区五四路 89 号' }],
    ['businessScope', { businessScope: '供应链管理服务' }],
    ['industry', { industry: '交通运输、仓储和邮政业' }],
    ['abnormalOperations', { abnormalOperations: [{ reason: '未按规定报送年度报告', listedOn: '2022-07-01', removedOn: '2022-11-16' }] }],
    ['seriousIllegal', { seriousIllegal: [ACTIVE_SERIOUS] }],
    ['lawsuits', { lawsuits: [baseLawsuits[0]!, { ...baseLawsuits[1]!, amountFen: 800_001 }] }],
    ['lawsuits', { lawsuits: [baseLawsuits[0]!, { ...baseLawsuits[1]!, cause: '租赁合同纠纷' }] }],
    ['enforcementCases', { enforcementCases: [{ caseNumber: '(2024)闽0102执1号', amountFen: 1, date: '2024-01-01' }] }],
    ['dishonestDebtor', { dishonestDebtor: [{ caseNumber: '(2024)闽0102执1号', date: '2024-01-01' }] }],
    ['administrativePenalties', { administrativePenalties: [{ documentNumber: '榕鼓市监处罚〔2024〕1号', authority: '鼓楼区市场监督管理局', reason: 'a', amountFen: 0, date: '2024-02-01' }] }],
    ['taxCreditRating', { taxCreditRating: 'A' }],
    ['taxCreditRating', { taxCreditRating: null }],
    ['taxArrears', { taxArrears: [{ taxType: '增值税', amountFen: 1, date: '2024-05-01' }] }],
    ['equityPledges', { equityPledges: [{ registrationNumber: '1', pledgor: '林建华', pledgee: '兴业银行', amountFen: 1, date: '2024-06-01' }] }],
    ['chattelMortgages', { chattelMortgages: [{ registrationNumber: '1', mortgagee: '中国银行', collateral: '电解铜', amountFen: 1, date: '2024-07-01' }] }],
  ];

  it('the cases below touch every field of the schema', () => {
    expect([...new Set(changes.map(([field]) => field))].sort()).toEqual(Object.keys(enterpriseProfileSchema.shape).sort());
  });

  it.each(changes)('differs when %s differs (%j)', (_field, change) => {
    expect(profileHash(profile(change))).not.toBe(profileHash(profile()));
  });
});

describe('determinism (property)', () => {
  const CORPORATE_CODES = [CORPORATE_SHAREHOLDER_CODE, '9144030071526726XG', '91330100716105852F'];
  const shareholderArb = fc.uniqueArray(
    fc.record(
      {
        name: fc.string({ unit: fc.constantFrom('张', '王', '李', '赵', 'A', 'B'), minLength: 1, maxLength: 3 }),
        creditCode: fc.constantFrom(...CORPORATE_CODES),
        ratioBp: fc.integer({ min: 0, max: 10_000 }),
      },
      { requiredKeys: ['name', 'ratioBp'] },
    ),
    { selector: (s) => s.creditCode ?? s.name, maxLength: 8 },
  );
  const lawsuitArb = fc.uniqueArray(
    fc.record({
      caseNumber: fc.constantFrom('(2023)闽0102民初1号', '(2023)闽0102民初2号', '(2024)闽01民初3号', '(2024)京01民初4号'),
      role: fc.constantFrom('plaintiff' as const, 'defendant' as const, 'third_party' as const),
      cause: fc.constantFrom('买卖合同纠纷', '借款合同纠纷'),
      amountFen: fc.integer({ min: 0, max: 10_000_000_000 }),
      date: fc.constantFrom('2023-01-01', '2024-02-29'),
    }),
    { selector: (l) => `${l.caseNumber}|${l.role}`, maxLength: 6 },
  );
  const profileArb = fc
    .record({
      shareholders: shareholderArb,
      lawsuits: lawsuitArb,
      status: fc.constantFrom('in_business' as const, 'suspended' as const, 'liquidation' as const),
      amountFen: fc.integer({ min: 0, max: 10_000_000_000 }),
      taxCreditRating: fc.constantFrom('A' as const, 'B' as const, 'M' as const, 'C' as const, 'D' as const, null),
    })
    .map(({ amountFen, ...rest }) => profile({ ...rest, registeredCapital: { amountFen } }));

  const permuted = (p: EnterpriseProfile) =>
    fc
      .record({
        shareholders: fc.shuffledSubarray(p.shareholders, { minLength: p.shareholders.length }),
        lawsuits: fc.shuffledSubarray(p.lawsuits, { minLength: p.lawsuits.length }),
      })
      .map((lists): EnterpriseProfile => ({ ...p, ...lists }));

  it('permuting the shareholders and lawsuits of both profiles gives the same events and hashes', () => {
    fc.assert(
      fc.property(
        fc.tuple(profileArb, profileArb).chain(([a, b]) => fc.tuple(fc.constant(a), fc.constant(b), permuted(a), permuted(b))),
        ([a, b, a2, b2]) => {
          expect(diff(a2, b2)).toStrictEqual(diff(a, b));
          expect(profileHash(a2)).toBe(profileHash(a));
          expect(profileHash(b2)).toBe(profileHash(b));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a profile against itself, or a permutation of itself, gives no events', () => {
    fc.assert(
      fc.property(
        profileArb.chain((a) => fc.tuple(fc.constant(a), permuted(a))),
        ([a, a2]) => {
          expect(diff(a, a)).toEqual([]);
          expect(diff(a, a2)).toEqual([]);
          expect(diff(a2, a)).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('does not mutate its inputs', () => {
    fc.assert(
      fc.property(profileArb, profileArb, (a, b) => {
        const [aCopy, bCopy] = [structuredClone(a), structuredClone(b)];
        diff(a, b);
        profileHash(a);
        expect(a).toStrictEqual(aCopy);
        expect(b).toStrictEqual(bCopy);
      }),
    );
  });
});

describe('enterpriseProfileSchema', () => {
  it('refuses a credit code with a wrong check character, naming the check character', () => {
    const result = enterpriseProfileSchema.safeParse({ ...baseInput(), creditCode: '91350100M000100Y44' });
    expect(result.success).toBe(false);
    const issue = result.error!.issues.find((i) => i.path.join('.') === 'creditCode');
    expect(issue?.message).toContain('check character');
    expect(issue?.message).toContain('"3"');
  });

  it('normalizes a lower-case or full-width credit code', () => {
    expect(profile({ creditCode: '91350100m000100y43' }).creditCode).toBe(ENTERPRISE_CODE);
    expect(profile({ creditCode: ' ９１３５０１００ｍ０００１００ｙ４３\u3000' }).creditCode).toBe(ENTERPRISE_CODE);
    expect(profile({ creditCode: '９１３５０１００Ｍ０００１００Ｙ４３' }).creditCode).toBe(ENTERPRISE_CODE);
  });

  it("refuses a shareholder's invalid credit code and normalizes a valid one", () => {
    const bad = enterpriseProfileSchema.safeParse({ ...baseInput(), shareholders: [{ ...CORPORATE_SHAREHOLDER, creditCode: '91110000600037341K' }] });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]!.path).toEqual(['shareholders', 0, 'creditCode']);
    expect(profile({ shareholders: [{ ...CORPORATE_SHAREHOLDER, creditCode: '91110000600037341l' }] }).shareholders[0]!.creditCode).toBe(CORPORATE_SHAREHOLDER_CODE);
  });

  it.each([
    ['a fractional fen amount', { registeredCapital: { amountFen: 100.5 } }],
    ['a negative fen amount', { paidInCapitalFen: -1 }],
    ['a ratio above 100%', { shareholders: [{ name: '林建华', ratioBp: 10_001 }] }],
    ['an unknown status', { status: 'dissolved' }],
    ['an impossible date', { taxArrears: [{ taxType: '增值税', amountFen: 1, date: '2024-02-30' }] }],
    ['a date not in YYYY-MM-DD', { enforcementCases: [{ caseNumber: '1', amountFen: 1, date: '2024/09/12' }] }],
    ['an unknown tax rating', { taxCreditRating: 'E' }],
    ['an unknown lawsuit role', { lawsuits: [{ ...baseLawsuits[0]!, role: 'witness' }] }],
  ])('refuses %s', (_what, change) => {
    expect(enterpriseProfileSchema.safeParse({ ...baseInput(), ...change }).success).toBe(false);
  });

  it('fills defaults for the optional parts', () => {
    const p = enterpriseProfileSchema.parse({
      creditCode: ENTERPRISE_CODE,
      name: '福州闽江供应链管理有限公司',
      status: 'in_business',
      legalRepresentative: '林建华',
      registeredCapital: { amountFen: 100 },
      address: '福州',
      businessScope: '供应链管理服务',
    });
    expect(p).toMatchObject({ registeredCapital: { amountFen: 100, currency: 'CNY' }, paidInCapitalFen: null, taxCreditRating: null, industry: '', shareholders: [], lawsuits: [], chattelMortgages: [] });
  });
});

describe('edge cases found in review', () => {
  it('a capital cut just under half is orange, exactly half is red', () => {
    const cap = (amountFen: number) => profile({ registeredCapital: { amountFen, currency: 'CNY' } });
    expect(diff(cap(20_001), cap(10_001))[0]).toMatchObject({ type: 'registered_capital_reduced', severity: 'orange' });
    expect(diff(cap(20_000), cap(10_000))[0]).toMatchObject({ type: 'registered_capital_reduced', severity: 'red' });
  });

  it('two natural-person shareholders with the same name, listed in either order, are no change', () => {
    const a = profile({ shareholders: [{ name: '张伟', ratioBp: 6_000 }, { name: '张伟', ratioBp: 4_000 }] });
    const b = profile({ shareholders: [{ name: '张伟', ratioBp: 4_000 }, { name: '张伟', ratioBp: 6_000 }] });
    expect(diff(a, b)).toEqual([]);
    expect(profileHash(a)).toBe(profileHash(b));
  });

  it('an abnormal-operations entry listed again after removal raises abnormal_operations_listed', () => {
    const removed = profile({ abnormalOperations: [{ reason: '未按规定公示年报', listedOn: '2026-01-05', removedOn: '2026-03-01' }] });
    const again = profile({ abnormalOperations: [{ reason: '未按规定公示年报', listedOn: '2026-01-05', removedOn: null }] });
    expect(diff(removed, again).map((e) => e.type)).toEqual(['abnormal_operations_listed']);
  });

  it('a fractional ratio threshold is applied exactly (0.07 points = 7 bp)', () => {
    const a = profile({ shareholders: [{ name: '李娜', ratioBp: 5_000 }] });
    const b = profile({ shareholders: [{ name: '李娜', ratioBp: 5_007 }] });
    expect(diffProfiles(a, b, { shareholderRatioPoints: 0.07 }).map((e) => e.type)).toEqual(['shareholder_ratio_changed']);
  });

  it('a change of capital currency is reported, not compared by number', () => {
    const a = profile({ registeredCapital: { amountFen: 100, currency: 'USD' } });
    const b = profile({ registeredCapital: { amountFen: 100, currency: 'CNY' } });
    expect(diff(a, b)[0]).toMatchObject({ type: 'registered_capital_reduced', itemKey: 'currency', detail: { currencyChanged: true } });
  });
});
