# shellcheck shell=bash
# Shared by bench/pg-snapshot.sh and bench/pg-parallel.sh (sourced, not
# run): the database they measure, about 500 MB at 950000 rows.

# big_db URL ROWS: three tables (ROWS customers, twice as many orders,
# half as many events) and five indexes, from generate_series
big_db() {
	psql -X -q -v ON_ERROR_STOP=1 "$1" <<EOF
CREATE TABLE customer (id bigint PRIMARY KEY, name text NOT NULL, email text NOT NULL, city text,
	balance numeric(12, 2), created_at timestamptz, note text);
INSERT INTO customer SELECT i, 'customer ' || (i * 7919 % 1000003),
	'user' || (i * 104729 % 9999991) || '@example' || (i % 97) || '.com',
	chr(65 + (i % 26)::int) || 'ville-' || (i % 1013), (i * 37 % 100000) / 100.0,
	timestamptz '2020-09-13 12:26:40+00' + i * interval '61 seconds',
	CASE WHEN i % 3 = 0 THEN md5(i::text) ELSE 'regular account, no remarks' END
FROM generate_series(1::bigint, $2) i;
CREATE INDEX customer_email ON customer (email);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customer,
	amount numeric(10, 2), status text, placed_at timestamptz);
INSERT INTO orders SELECT i, 1 + i * 7 % $2, (i * 13 % 50000) / 100.0,
	(ARRAY['new', 'paid', 'shipped', 'returned'])[1 + i % 4],
	timestamptz '2021-01-01 00:00:00+00' + i * interval '17 seconds'
FROM generate_series(1::bigint, 2 * $2) i;
CREATE INDEX orders_customer ON orders (customer_id);
CREATE TABLE events (id bigint PRIMARY KEY, kind text, payload text);
INSERT INTO events SELECT i, 'kind-' || (i % 17), repeat(md5((i % 1000)::text), 1 + (i % 3)::int)
FROM generate_series(1::bigint, $2 / 2) i;
VACUUM ANALYZE;
EOF
}
