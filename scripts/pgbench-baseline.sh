#!/usr/bin/env bash
# The Postgres ceiling the webhook benchmark is compared with: pgbench running a
# transaction of one insert, one update and one insert (what a webhook must at least
# do: record the event, move the order, queue the follow-up) on this machine.
#
#   bash scripts/pgbench-baseline.sh [database URL] [clients, default 16] [seconds, default 15]
set -euo pipefail
url="${1:-${CHATPAY_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}}"
clients="${2:-16}"
seconds="${3:-15}"
schema="pgbench_chatpay_$$"
script="$(mktemp)"
trap 'PGOPTIONS=--client-min-messages=warning psql "$url" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null; rm -f "$script"' EXIT

psql "$url" -q <<SQL
CREATE SCHEMA $schema;
CREATE TABLE $schema.events (id bigserial PRIMARY KEY, event_id text UNIQUE NOT NULL, payload text);
CREATE TABLE $schema.orders (id bigint PRIMARY KEY, status text NOT NULL, version bigint NOT NULL);
CREATE TABLE $schema.jobs (id bigserial PRIMARY KEY, kind text NOT NULL, args text NOT NULL);
INSERT INTO $schema.orders SELECT g, 'awaiting_payment', 0 FROM generate_series(1, 100000) g;
SQL

cat >"$script" <<SQL
\set oid random(1, 100000)
BEGIN;
INSERT INTO $schema.events (event_id, payload) VALUES (md5(random()::text || clock_timestamp()::text), '{"type":"checkout.succeeded"}');
UPDATE $schema.orders SET status = 'paid', version = version + 1 WHERE id = :oid;
INSERT INTO $schema.jobs (kind, args) VALUES ('deliver_message', '{"order":' || :oid || '}');
COMMIT;
SQL

pgbench -n -c "$clients" -j 2 -T "$seconds" -f "$script" "$url" | grep -E 'tps|latency|clients'
