#!/bin/sh
# Creates docker/secrets/* (random, mode 0600) for compose.yml, once; existing files are kept.
#   sh docker/make-secrets.sh && docker compose -f docker/compose.yml up -d
set -eu
dir=$(dirname "$0")/secrets
mkdir -p "$dir"
chmod 700 "$dir"
random() { head -c 32 /dev/urandom | base64 | tr -d '/+=\n' | cut -c1-32; }
put() { [ -s "$dir/$1" ] || { (umask 077; printf '%s\n' "$2" > "$dir/$1"); echo "created $dir/$1"; }; }
put postgres_password "$(random)"
put kura_migrator_db_password "$(random)"
put kura_app_db_password "$(random)"
put database_url "postgres://kura_app:$(cat "$dir/kura_app_db_password")@postgres:5432/kura"
put migration_database_url "postgres://kura_migrator:$(cat "$dir/kura_migrator_db_password")@postgres:5432/kura"
put minio_root_user "root-$(random | cut -c1-12)"
put minio_root_password "$(random)"
put s3_access_key "kura-app"
put s3_secret_key "$(random)"
put bootstrap_admin_password "$(random)"
put metrics_token "$(random)"
