-- The journal entry of the run in progress, written in the transaction of
-- each revision it commits, and deleted once the entry is in the store's
-- journal: a run cut short between the two is journaled by the next.
-- mig:parents 0001_revisions
-- mig:up
CREATE TABLE mig_journal (
	seq INTEGER PRIMARY KEY,		-- commit order within the run
	run TEXT NOT NULL,			-- the run's token, also in its journal entry
	op TEXT NOT NULL,			-- up, down, fake, unapply, ...
	name TEXT NOT NULL,			-- the revision committed
	id TEXT NOT NULL,
	duration_ms INTEGER NOT NULL,
	snapshot TEXT				-- taken before the run, or NULL
);
-- mig:down
DROP TABLE mig_journal;
