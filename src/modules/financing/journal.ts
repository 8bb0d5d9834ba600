import { eq } from 'drizzle-orm';
import { creditLineJournal, creditLines, programs } from '../../db/schema';
import type { DbOrTx } from '../../db/client';
import { type Ctx, actorName } from '../../lib/context';
import { AppError } from '../../lib/errors';
import { type Fen, formatYuan } from '../../lib/money';

export type JournalKind = 'drawdown' | 'repayment' | 'reversal';

/**
 * The only code that moves a credit line's outstanding. The caller holds the program and
 * line locks (lockLineAndProgram). One immutable journal row, and the line's and program's
 * cached totals move by exactly its amount; CHECK constraints back the limit rule.
 */
export async function postJournalEntry(
  tx: DbOrTx,
  ctx: Ctx,
  locked: { program: typeof programs.$inferSelect; line: typeof creditLines.$inferSelect },
  entry: { kind: JournalKind; amountFen: Fen; financingRequestId: string | null; reversesEntryId?: string | null; reversesKind?: JournalKind; reference: string | null; valueDate: string },
) {
  const { program, line } = locked;
  const outstanding = line.outstandingFen + entry.amountFen;
  if (outstanding < 0n) throw new AppError('conflict', `This would take the line's outstanding below zero (${formatYuan(line.outstandingFen)} outstanding)`);
  if (outstanding > line.limitFen) {
    throw new AppError('conflict', `This would take the line past its limit of ${formatYuan(line.limitFen)} (outstanding ${formatYuan(line.outstandingFen)})`);
  }
  const programOutstanding = program.outstandingFen + entry.amountFen;
  if (programOutstanding > program.limitFen) throw new AppError('conflict', `This would take the program past its limit of ${formatYuan(program.limitFen)}`);
  const movesDrawn = entry.kind === 'drawdown' || (entry.kind === 'reversal' && entry.reversesKind === 'drawdown');
  const drawn = movesDrawn ? line.drawnFen + entry.amountFen : line.drawnFen;

  const [row] = await tx
    .insert(creditLineJournal)
    .values({
      creditLineId: line.id,
      kind: entry.kind,
      amountFen: entry.amountFen,
      financingRequestId: entry.financingRequestId,
      reversesEntryId: entry.reversesEntryId ?? null,
      reference: entry.reference,
      valueDate: entry.valueDate,
      createdAt: ctx.clock.now(),
      createdBy: actorName(ctx),
    })
    .returning();
  const now = ctx.clock.now();
  await tx.update(creditLines).set({ outstandingFen: outstanding, drawnFen: drawn, updatedAt: now }).where(eq(creditLines.id, line.id));
  await tx.update(programs).set({ outstandingFen: programOutstanding, updatedAt: now }).where(eq(programs.id, program.id));
  line.outstandingFen = outstanding;
  line.drawnFen = drawn;
  program.outstandingFen = programOutstanding;
  return row!;
}
