import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Severity, severityRank, worse } from '../../src/modules/warnings/rules';
import { Findings } from '../../src/modules/warnings/t1-subjects';

const severity = fc.constantFrom<Severity>('red', 'orange', 'yellow');
const at = (rule: string, subjectId: string, bank: string) => ({ rule, subjectType: 'credit_line', subjectId, bank, programId: null, creditLineId: null });

describe('Findings: one signal per rule, subject and bank, the worst of what the programs found', () => {
  it('merges findings of several programs of one bank into the worst severity, whatever the order', () => {
    fc.assert(
      fc.property(fc.array(severity, { minLength: 1, maxLength: 8 }), (list) => {
        const findings = new Findings();
        for (const s of list) findings.add(at('r', 's', 'b'), { severity: s, evidence: { s } });
        const merged = [...findings.byKey.values()];
        expect(merged).toHaveLength(1);
        expect(merged[0]!.finding.severity).toBe(list.reduce(worse));
        expect(severityRank(merged[0]!.finding.severity)).toBe(Math.min(...list.map(severityRank)));
      }),
    );
  });

  it('keeps banks, rules and subjects apart, and ignores rules that stayed quiet', () => {
    const findings = new Findings();
    expect(findings.add(at('r', 's', 'bank-a'), { severity: 'red', evidence: {} })).toBe('r|credit_line|s|bank-a');
    findings.add(at('r', 's', 'bank-b'), { severity: 'yellow', evidence: {} });
    findings.add(at('r2', 's', 'bank-a'), { severity: 'orange', evidence: {} });
    findings.add(at('r', 's2', 'bank-a'), { severity: 'orange', evidence: {} });
    expect(findings.add(at('r', 's3', 'bank-a'), null)).toBeNull();
    expect([...findings.byKey.keys()].sort()).toEqual(['r2|credit_line|s|bank-a', 'r|credit_line|s2|bank-a', 'r|credit_line|s|bank-a', 'r|credit_line|s|bank-b']);
  });

  it('a milder finding later does not replace the evidence of a worse one', () => {
    const findings = new Findings();
    findings.add(at('r', 's', 'b'), { severity: 'red', evidence: { from: 'strict program' } });
    findings.add(at('r', 's', 'b'), { severity: 'yellow', evidence: { from: 'lenient program' } });
    expect([...findings.byKey.values()][0]!.finding).toEqual({ severity: 'red', evidence: { from: 'strict program' } });
  });
});
