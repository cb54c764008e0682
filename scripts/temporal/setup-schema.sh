#!/bin/sh
# Creates Temporal's two PostgreSQL databases (when missing) and brings their schemas up to
# date; safe to run again. Used by docker-compose.yml (temporal-schema) and by the harness that
# runs the production topology in tests (scripts/lib/topology.ts).
#   SQL_TOOL     the Temporal SQL tool (default: temporal-sql-tool)
#   SCHEMA_DIR   the schema/postgresql/v12 directory of Temporal server 1.29.1
#   POSTGRES_HOST, POSTGRES_PORT (default 5432), POSTGRES_USER, SQL_PASSWORD
set -eu
tool=${SQL_TOOL:-temporal-sql-tool}
sql() { "$tool" --plugin postgres12 --ep "$POSTGRES_HOST" -p "${POSTGRES_PORT:-5432}" -u "$POSTGRES_USER" "$@"; }
for db in temporal temporal_visibility; do
  if out=$(sql --db "$db" create 2>&1); then
    echo "created database $db"
  elif echo "$out" | grep -qi "already exists"; then
    echo "database $db exists"
  else
    echo "$out" >&2
    exit 1
  fi
done
sql --db temporal setup-schema -v 0.0
sql --db temporal update-schema -d "$SCHEMA_DIR/temporal/versioned"
sql --db temporal_visibility setup-schema -v 0.0
sql --db temporal_visibility update-schema -d "$SCHEMA_DIR/visibility/versioned"
echo "Temporal schema is up to date"
