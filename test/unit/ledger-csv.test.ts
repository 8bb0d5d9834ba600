import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/lib/errors';
import { decodeCsv, yuanToFen } from '../../src/modules/financing/ledger';

const utf8 = (text: string) => new TextEncoder().encode(text);
const BOM = [0xef, 0xbb, 0xbf];
/** "中文" as Chinese Excel saves it (GBK / GB18030). */
const GBK_ZHONGWEN = [0xd6, 0xd0, 0xce, 0xc4];

describe('yuanToFen: ledger amounts in yuan with at most two decimals', () => {
  it.each([
    ['12,345.67', 1_234_567],
    ['12345.67', 1_234_567],
    ['10', 1_000],
    ['1.5', 150],
    ['1.05', 105],
    ['0.01', 1],
    ['0', 0],
    ['1,000,000', 100_000_000],
    [' 88.80 ', 8_880],
  ])('"%s" yuan is %i fen', (text, expected) => {
    expect(yuanToFen(text)).toBe(expected);
  });

  it('is exact where a float would not be', () => {
    // parseFloat('1.15') * 100 === 114.99999999999999
    expect(yuanToFen('1.15')).toBe(115);
    expect(yuanToFen('4.35')).toBe(435);
  });

  it.each([
    ['1.234', 'three decimals'],
    ['-1', 'a negative amount'],
    ['abc', 'words'],
    ['', 'nothing'],
    ['1.', 'a dangling point'],
    ['.5', 'no whole yuan'],
    ['1e3', 'an exponent'],
    ['¥100', 'a currency sign'],
    ['１００', 'full-width digits'],
    ['100,00.5.5', 'two decimal points'],
  ])('rejects "%s" (%s)', (text) => {
    expect(yuanToFen(text)).toBeNull();
  });

  it('rejects amounts beyond what the API can carry exactly', () => {
    expect(yuanToFen('90071992547409.91')).toBe(Number.MAX_SAFE_INTEGER);
    expect(yuanToFen('90071992547409.92')).toBeNull();
    expect(yuanToFen('1234567890123456')).toBeNull(); // 16 digits of yuan
  });
});

describe('decodeCsv: UTF-8, or GBK as Chinese Excel saves', () => {
  it('decodes UTF-8', () => {
    expect(decodeCsv(utf8('entry_id,金额\nE1,12.50\n'), undefined)).toBe('entry_id,金额\nE1,12.50\n');
  });

  it('strips a UTF-8 byte-order mark so the first header is found', () => {
    const text = decodeCsv(new Uint8Array([...BOM, ...utf8('entry_id,amount')]), undefined);
    expect(text).toBe('entry_id,amount');
    expect(text.charCodeAt(0)).toBe('e'.charCodeAt(0));
  });

  it('falls back to GBK when the bytes are not valid UTF-8', () => {
    expect(decodeCsv(new Uint8Array(GBK_ZHONGWEN), undefined)).toBe('中文');
    const header = new Uint8Array([...utf8('entry_id,'), ...GBK_ZHONGWEN, ...utf8('\n')]);
    expect(decodeCsv(header, undefined)).toBe('entry_id,中文\n');
  });

  it('honours charset=gbk (and its aliases) even when the bytes would also pass as UTF-8', () => {
    // "中" in UTF-8 is E4 B8 AD; read as GBK those bytes are other characters
    const bytes = utf8('中');
    expect(decodeCsv(bytes, undefined)).toBe('中');
    expect(decodeCsv(bytes, 'gbk')).not.toBe('中');
    expect(decodeCsv(new Uint8Array(GBK_ZHONGWEN), 'gbk')).toBe('中文');
    expect(decodeCsv(new Uint8Array(GBK_ZHONGWEN), 'GBK')).toBe('中文');
    expect(decodeCsv(new Uint8Array(GBK_ZHONGWEN), 'gb2312')).toBe('中文');
    expect(decodeCsv(new Uint8Array(GBK_ZHONGWEN), 'GB18030')).toBe('中文');
  });

  it('refuses non-UTF-8 bytes when the charset claims UTF-8', () => {
    let thrown: unknown;
    try {
      decodeCsv(new Uint8Array(GBK_ZHONGWEN), 'utf-8');
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).code).toBe('validation_failed');
    expect((thrown as AppError).message).toMatch(/not valid UTF-8/);
    expect(() => decodeCsv(new Uint8Array(GBK_ZHONGWEN), 'UTF8')).toThrow(AppError);
  });

  it('takes thousands separators only in groups of three (ASCII or full-width), never as a decimal comma', () => {
    expect(yuanToFen('12，345.67')).toBe(1_234_567);
    expect(yuanToFen('1,234,567')).toBe(123_456_700);
    expect(yuanToFen('1,5')).toBeNull();
    expect(yuanToFen('1，50')).toBeNull();
    expect(yuanToFen('1,2,3')).toBeNull();
  });
});
