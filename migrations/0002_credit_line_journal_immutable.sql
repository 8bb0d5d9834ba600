-- The credit line journal is immutable: corrections are reversal entries, never edits.
CREATE FUNCTION credit_line_journal_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'credit_line_journal is append-only (% refused); post a reversal entry instead', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;
--> statement-breakpoint
CREATE TRIGGER credit_line_journal_no_update_or_delete
  BEFORE UPDATE OR DELETE ON credit_line_journal
  FOR EACH ROW EXECUTE FUNCTION credit_line_journal_immutable();
--> statement-breakpoint
CREATE TRIGGER credit_line_journal_no_truncate
  BEFORE TRUNCATE ON credit_line_journal
  FOR EACH STATEMENT EXECUTE FUNCTION credit_line_journal_immutable();
