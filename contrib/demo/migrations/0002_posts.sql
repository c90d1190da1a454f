-- mig:parents 0001_users
-- mig:up
CREATE TABLE posts (
	id INTEGER PRIMARY KEY,
	user_id INTEGER NOT NULL REFERENCES users(id),
	body TEXT NOT NULL
);
CREATE INDEX posts_user ON posts(user_id);
-- mig:down
DROP TABLE posts;
