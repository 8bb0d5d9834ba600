import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { invoiceFingerprint, invoiceNumberProblem, normalizeInvoiceText } from '../../src/modules/financing/invoice-identity';

const SELLER = '91350100M000100Y43';
const paper = { sellerCreditCode: SELLER, invoiceCode: '3100224130', invoiceNumber: '01234567', amountFen: 1_234_567n };
const digital = { sellerCreditCode: SELLER, invoiceCode: '', invoiceNumber: '24312000000012345678', amountFen: 1_234_567n };

/** As a supplier might type it in a Chinese IME: full-width digits and letters, spaces. */
const fullWidth = (s: string) => s.replace(/[!-~]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) + 0xfee0));

describe('normalizeInvoiceText', () => {
  it('maps full-width to half-width, drops spaces (including the ideographic space) and upper-cases', () => {
    expect(normalizeInvoiceText('０１２３ ４５６７')).toBe('01234567');
    expect(normalizeInvoiceText('0123\u30004567')).toBe('01234567');
    expect(normalizeInvoiceText(' ab12 ')).toBe('AB12');
  });
});

describe('invoiceFingerprint: the 重复融资 key', () => {
  it('is a sha256 hex digest, the same for the same invoice', () => {
    expect(invoiceFingerprint(paper)).toMatch(/^[0-9a-f]{64}$/);
    expect(invoiceFingerprint({ ...paper })).toBe(invoiceFingerprint(paper));
  });

  it('does not change with full-width digits, spaces or a lower-case credit code', () => {
    const base = invoiceFingerprint(paper);
    expect(invoiceFingerprint({ ...paper, invoiceNumber: '０１２３４５６７' })).toBe(base);
    expect(invoiceFingerprint({ ...paper, invoiceCode: '3100 2241 30' })).toBe(base);
    expect(invoiceFingerprint({ ...paper, invoiceCode: '３１００\u3000２２４１３０' })).toBe(base);
    expect(invoiceFingerprint({ ...paper, sellerCreditCode: SELLER.toLowerCase() })).toBe(base);
    expect(invoiceFingerprint({ ...paper, sellerCreditCode: ` ${fullWidth(SELLER.toLowerCase())} ` })).toBe(base);
  });

  it('differs when the amount differs, even by one fen', () => {
    expect(invoiceFingerprint({ ...paper, amountFen: 1_234_568n })).not.toBe(invoiceFingerprint(paper));
  });

  it('differs when the seller, code or number differs', () => {
    const base = invoiceFingerprint(paper);
    expect(invoiceFingerprint({ ...paper, sellerCreditCode: '91110000600037341L' })).not.toBe(base);
    expect(invoiceFingerprint({ ...paper, invoiceCode: '3100224131' })).not.toBe(base);
    expect(invoiceFingerprint({ ...paper, invoiceNumber: '01234568' })).not.toBe(base);
  });

  it('keeps the parts apart: moving digits between code and number is another invoice', () => {
    expect(invoiceFingerprint({ ...paper, invoiceCode: '310022413', invoiceNumber: '001234567' })).not.toBe(invoiceFingerprint(paper));
  });

  it('a fully digital invoice (数电票) is keyed by its 20-digit number alone', () => {
    expect(invoiceFingerprint({ ...digital, invoiceNumber: fullWidth(digital.invoiceNumber) })).toBe(invoiceFingerprint(digital));
    expect(invoiceFingerprint({ ...digital, amountFen: 1n })).not.toBe(invoiceFingerprint(digital));
  });

  it('property: how the digits are typed never changes the key; the amount always does', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\d{8}$/), fc.bigInt({ min: 1n, max: 10n ** 15n }), fc.bigInt({ min: 1n, max: 10n ** 6n }), (number, amount, delta) => {
        const parts = { ...paper, invoiceNumber: number, amountFen: amount };
        const key = invoiceFingerprint(parts);
        expect(invoiceFingerprint({ ...parts, invoiceNumber: ` ${fullWidth(number.slice(0, 4))} ${number.slice(4)}` })).toBe(key);
        expect(invoiceFingerprint({ ...parts, amountFen: amount + delta })).not.toBe(key);
      }),
    );
  });
});

describe('invoiceNumberProblem', () => {
  it('accepts a 数电票: no invoice code and a 20-digit number', () => {
    expect(invoiceNumberProblem('', '24312000000012345678')).toBeNull();
  });

  it('refuses a 数电票 number that is not 20 digits', () => {
    for (const number of ['2431200000001234567', '243120000000123456789', '01234567', '2431200000001234567X', '']) {
      expect(invoiceNumberProblem('', number)).toEqual({ path: 'invoiceNumber', message: expect.stringMatching(/数电票.*20-digit/) });
    }
  });

  it('accepts a paper or electronic invoice: 10- or 12-digit code and 8-digit number', () => {
    expect(invoiceNumberProblem('3100224130', '01234567')).toBeNull();
    expect(invoiceNumberProblem('031002400111', '01234567')).toBeNull();
  });

  it('refuses a code of any other length or with letters', () => {
    for (const code of ['310022413', '31002241301', '3100224130123', 'A100224130']) {
      expect(invoiceNumberProblem(code, '01234567')).toEqual({ path: 'invoiceCode', message: 'an invoice code has 10 or 12 digits' });
    }
  });

  it('refuses a number that is not 8 digits when there is a code', () => {
    for (const number of ['1234567', '123456789', '24312000000012345678', '0123456X', '']) {
      expect(invoiceNumberProblem('3100224130', number)).toEqual({ path: 'invoiceNumber', message: expect.stringMatching(/8-digit number/) });
    }
  });

  it('reports the code before the number when both are wrong', () => {
    expect(invoiceNumberProblem('123', '45')?.path).toBe('invoiceCode');
  });
});
