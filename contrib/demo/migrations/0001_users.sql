-- mig:parents
-- mig:up
CREATE TABLE users (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL
);
-- mig:down
DROP TABLE users;
