-- What the write guard cannot see in a revision's text, the server
-- stops: a DO block's EXECUTE, a function, a "truncate every table"
-- loop. While mig runs a revision's own SQL it sets mig.guard to on
-- (SET LOCAL, or for a no-transaction revision until its statements are
-- done), and these tables refuse every write; mig's own rows go in with
-- it off. Other sessions (psql, 'mig sqlshow | psql') never set it.
-- mig:parents 0002_journal
-- mig:up
CREATE FUNCTION mig.refuse_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF current_setting('mig.guard', true) = 'on' THEN
		RAISE EXCEPTION 'schema % is mig''s bookkeeping: a revision may read it, not change it',
			quote_ident(TG_TABLE_SCHEMA)
			USING ERRCODE = 'insufficient_privilege',
			HINT = 'to change what is recorded as applied, use ''mig fake''';
	END IF;
	RETURN NULL;
END
$$;
CREATE TRIGGER mig_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON mig.revisions
	FOR EACH STATEMENT EXECUTE FUNCTION mig.refuse_write();
CREATE TRIGGER mig_guard BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON mig.journal
	FOR EACH STATEMENT EXECUTE FUNCTION mig.refuse_write();
-- mig:down
DROP FUNCTION mig.refuse_write() CASCADE;
