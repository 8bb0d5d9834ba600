import { boolean, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { programs } from './financing';

const ts = (name: string) => timestamp(name, { withTimezone: true });

/** A program's choice for one rule of the catalogue: on or off, and its parameters (validated by the rule's schema). */
export const programRuleSettings = pgTable(
  'program_rule_settings',
  {
    programId: uuid('program_id').notNull().references(() => programs.id),
    ruleId: text('rule_id').notNull(),
    enabled: boolean('enabled').notNull(),
    params: jsonb('params').notNull(),
    updatedAt: ts('updated_at').notNull(),
    updatedBy: text('updated_by').notNull(),
  },
  (t) => [primaryKey({ columns: [t.programId, t.ruleId] })],
);

/** What a program lets the platform do by itself on red signals, and whether red needs two people to close. */
export const warningPolicies = pgTable('warning_policies', {
  programId: uuid('program_id').primaryKey().references(() => programs.id),
  freezeLineOnRed: boolean('freeze_line_on_red').notNull(),
  blockReleaseOnRed: boolean('block_release_on_red').notNull(),
  makerCheckerOnRed: boolean('maker_checker_on_red').notNull(),
  updatedAt: ts('updated_at').notNull(),
  updatedBy: text('updated_by').notNull(),
});

/** One finished chunk of a run: written with the chunk's signals, so a retried chunk is never counted twice. */
export const warningRunChunks = pgTable(
  'warning_run_chunks',
  {
    runId: uuid('run_id').notNull(),
    chunkIndex: integer('chunk_index').notNull(),
    kind: text('kind').notNull(),
    subjects: integer('subjects').notNull(),
    signals: integer('signals').notNull(),
    finishedAt: ts('finished_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.runId, t.chunkIndex] })],
);
