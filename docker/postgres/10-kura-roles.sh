#!/bin/sh
# Runs once, when the PostgreSQL volume is first initialised (docker-entrypoint-initdb.d).
# Two roles, neither a superuser:
#   kura_migrator  owns the schema; only the one-shot `migrate` service logs in as it;
#   kura_app       the api and worker: reads and writes rows, owns nothing, cannot ALTER,
#                  DROP or disable the audit trail's triggers.
set -eu
migrator_password=$(cat /run/secrets/kura_migrator_db_password)
app_password=$(cat /run/secrets/kura_app_db_password)
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v migrator_password="$migrator_password" -v app_password="$app_password" <<'SQL'
CREATE ROLE kura_migrator LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'migrator_password';
CREATE ROLE kura_app LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD :'app_password';
ALTER DATABASE kura OWNER TO kura_migrator;
ALTER SCHEMA public OWNER TO kura_migrator;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO kura_app;
-- Tables the migrations create are usable by the runtime role; the migrations revoke
-- what it must not do (UPDATE, DELETE and TRUNCATE on the audit tables).
ALTER DEFAULT PRIVILEGES FOR ROLE kura_migrator IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO kura_app;
ALTER DEFAULT PRIVILEGES FOR ROLE kura_migrator IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO kura_app;
SQL
