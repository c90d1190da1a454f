-- The journal entry of the run in progress, written in the transaction of
-- each revision it commits, and deleted once the entry is in the store's
-- journal: a run cut short between the two is journaled by the next.
-- mig:parents 0001_revisions
-- mig:up
CREATE TABLE mig.journal (
	seq bigserial PRIMARY KEY,		-- commit order within the run
	run text NOT NULL,			-- the run's token, also in its journal entry
	op text NOT NULL,			-- up, down, fake, unapply, ...
	name text NOT NULL,			-- the revision committed
	id text NOT NULL,
	duration_ms bigint NOT NULL,
	snapshot text				-- taken before the run, or NULL
);
-- mig:down
DROP TABLE mig.journal;
