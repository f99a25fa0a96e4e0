#!/bin/sh
# Container entry point.
#   serve (default)        gunicorn serving app:create_app() on $PORT
#   expandcontract ARGS    one-off migration task, e.g. `expandcontract upgrade expand`
#   alembic ARGS           plain Alembic, e.g. `alembic current`
# Anything else is refused, so a typo in a task override fails loudly instead of doing nothing.
set -eu

# ECS injects DB_HOST/DB_PORT/DB_NAME and DB_USER/DB_PASSWORD (from Secrets Manager). Build one URL for
# every tool, quoting the credentials, unless DATABASE_URL is given explicitly.
if [ -z "${DATABASE_URL:-}" ] && [ -n "${DB_HOST:-}" ]; then
    DATABASE_URL="$(python - <<'PY'
import os
from urllib.parse import quote

user = quote(os.environ.get("DB_USER", "postgres"), safe="")
password = os.environ.get("DB_PASSWORD")
auth = user if password is None else f"{user}:{quote(password, safe='')}"
host = os.environ["DB_HOST"]
port = os.environ.get("DB_PORT", "5432")
name = quote(os.environ.get("DB_NAME", "postgres"), safe="")
url = f"postgresql+psycopg://{auth}@{host}:{port}/{name}"
sslmode = os.environ.get("DB_SSLMODE")
print(f"{url}?sslmode={quote(sslmode, safe='')}" if sslmode else url)
PY
)"
    export DATABASE_URL
fi

command="${1:-serve}"
[ "$#" -gt 0 ] && shift

case "$command" in
    serve)
        exec gunicorn \
            --bind "0.0.0.0:${PORT:-8000}" \
            --workers "${WEB_CONCURRENCY:-2}" \
            --worker-tmp-dir /tmp \
            --timeout "${GUNICORN_TIMEOUT:-30}" \
            --graceful-timeout 25 \
            --access-logfile - \
            --forwarded-allow-ips "*" \
            "$@" \
            "app:create_app()"
        ;;
    expandcontract | alembic)
        exec "$command" "$@"
        ;;
    *)
        echo "docker-entrypoint: unknown command '$command' (expected: serve, expandcontract ..., alembic ...)" >&2
        exit 64
        ;;
esac
