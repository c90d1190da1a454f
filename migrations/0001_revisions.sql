-- mig's own bookkeeping, applied by mig's own machinery before anything
-- else touches a database. Never edit an applied file here: add one.
-- mig:parents
-- mig:up
CREATE TABLE mig_revisions (
	seq INTEGER PRIMARY KEY,		-- apply order
	scope TEXT NOT NULL,			-- 'mig' for these files, 'app' for the project's
	name TEXT NOT NULL,
	id TEXT NOT NULL,			-- git blob id of the file as applied
	applied_at TEXT NOT NULL,		-- UTC, ISO 8601
	duration_ms INTEGER NOT NULL,
	schema_hash TEXT,			-- live schema fingerprint at the end of the run
	dirty INTEGER NOT NULL DEFAULT 0,	-- a no-transaction revision that did not finish
	UNIQUE (scope, name)
);
-- mig:down
DROP TABLE mig_revisions;
