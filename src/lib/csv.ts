import { parse as parseCsv } from 'csv-parse/sync';
import { AppError } from './errors';

/** UTF-8 unless the bytes are not valid UTF-8 (or the charset says so): then GBK, as Chinese Excel saves. */
export function decodeCsv(bytes: Uint8Array, charset: string | undefined): string {
  const wanted = charset?.toLowerCase();
  if (wanted === 'gbk' || wanted === 'gb2312' || wanted === 'gb18030') return new TextDecoder('gb18030').decode(bytes);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
  } catch {
    if (wanted === 'utf-8' || wanted === 'utf8') throw new AppError('validation_failed', 'The file is not valid UTF-8, though its charset says so');
    return new TextDecoder('gb18030').decode(bytes);
  }
}

export interface CsvTable {
  /** Data rows, each with its line number in the file (the header is line 1). */
  rows: { line: number; get: (column: string) => string }[];
}

/**
 * The one way an upload is read: decode (UTF-8 or GBK), parse with a header row whose
 * names map through `aliases` (English or Chinese), check required columns and row count.
 */
export function readCsvTable(input: { bytes: Uint8Array; charset?: string | undefined }, spec: { aliases: Record<string, string>; required: string[]; expected: string; maxRows: number; one: string; many: string }): CsvTable {
  const text = decodeCsv(input.bytes, input.charset);
  let records: string[][];
  try {
    records = parseCsv(text, { skip_empty_lines: true, relax_column_count: true, trim: true });
  } catch (e) {
    throw new AppError('validation_failed', `The file is not readable CSV: ${e instanceof Error ? e.message : String(e)}`);
  }
  const [header, ...body] = records;
  if (!header) throw new AppError('validation_failed', `The file is empty; it needs a header row and at least one ${spec.one}`);
  const columns = header.map((h) => spec.aliases[h.trim().toLowerCase()] ?? spec.aliases[h.trim()] ?? null);
  const missing = spec.required.filter((c) => !columns.includes(c));
  if (missing.length) throw new AppError('validation_failed', `The header row lacks ${missing.join(', ')}; expected columns: ${spec.expected}`);
  if (body.length === 0) throw new AppError('validation_failed', `The file has a header but no ${spec.many}`);
  if (body.length > spec.maxRows) throw new AppError('validation_failed', `At most ${spec.maxRows} rows per upload; this file has ${body.length}`);
  return {
    rows: body.map((cells, i) => ({
      line: i + 2,
      get: (name: string) => {
        const at = columns.indexOf(name);
        return at >= 0 ? (cells[at] ?? '').trim() : '';
      },
    })),
  };
}
