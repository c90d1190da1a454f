-- mig's own bookkeeping on PostgreSQL, in a schema of its own, applied
-- by mig's own machinery before anything else touches a database. The
-- names are those of the SQLite files beside: one revision, two
-- dialects. Never edit an applied file here: add one.
-- mig:parents
-- mig:up
CREATE SCHEMA IF NOT EXISTS mig;
CREATE TABLE mig.revisions (
	seq bigserial PRIMARY KEY,		-- apply order
	scope text NOT NULL,			-- 'mig' for these files, 'app' for the project's
	name text NOT NULL,
	id text NOT NULL,			-- git blob id of the file as applied
	applied_at text NOT NULL,		-- UTC, ISO 8601
	duration_ms bigint NOT NULL,
	schema_hash text,			-- live schema fingerprint at the end of the run
	dirty integer NOT NULL DEFAULT 0,	-- a no-transaction revision that did not finish
	UNIQUE (scope, name)
);
-- mig:down
DROP TABLE mig.revisions;
