import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { creditCodeCheckCharacter, creditCodeProblem, isValidCreditCode, normalizeCreditCode } from '../../src/lib/credit-code';

const ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const codeBody = fc
  .tuple(fc.constantFrom(...'159ANY'), fc.constantFrom(...'123459'), fc.stringMatching(/^[0-9]{6}$/), fc.array(fc.constantFrom(...ALPHABET), { minLength: 9, maxLength: 9 }))
  .map(([authority, type, division, rest]) => `${authority}${type}${division}${rest.join('')}`);

describe('unified social credit code (GB 32100-2015)', () => {
  it('accepts real codes of registered enterprises', () => {
    for (const code of ['91350100M000100Y43', '91110000600037341L', '9144030071526726XG', '91330100716105852F']) {
      expect(creditCodeProblem(code)).toBeNull();
    }
  });

  it('names the expected check character when it is wrong', () => {
    expect(creditCodeProblem('91350100M000100Y44')).toBe('check character is "4" but GB 32100-2015 gives "3"');
  });

  it('refuses wrong length, letters outside the alphabet and a non-numeric division code', () => {
    expect(creditCodeProblem('91350100M000100Y4')).toMatch(/18 characters/);
    expect(creditCodeProblem('91350100M000100I43')).toMatch(/character 16 \("I"\)/);
    expect(creditCodeProblem('9135A100M000100Y43')).toMatch(/administrative division/);
  });

  it('normalizes full-width characters, case and spaces as typed in a Chinese IME', () => {
    expect(normalizeCreditCode(' ９１３５０１００ｍ０００１００ｙ４３ ')).toBe('91350100M000100Y43');
  });

  it('property: a body with its computed check character is valid, any other check character is not', () => {
    fc.assert(
      fc.property(codeBody, fc.constantFrom(...ALPHABET), (body, other) => {
        const check = creditCodeCheckCharacter(body);
        expect(isValidCreditCode(body + check)).toBe(true);
        if (other !== check) expect(isValidCreditCode(body + other)).toBe(false);
      }),
    );
  });

  it('property: changing any one of the first 17 characters is detected', () => {
    fc.assert(
      fc.property(codeBody, fc.integer({ min: 0, max: 16 }), fc.constantFrom(...ALPHABET), (body, position, replacement) => {
        fc.pre(body[position] !== replacement);
        const code = body + creditCodeCheckCharacter(body);
        const altered = code.slice(0, position) + replacement + code.slice(position + 1);
        expect(isValidCreditCode(altered)).toBe(false);
      }),
    );
  });
});
