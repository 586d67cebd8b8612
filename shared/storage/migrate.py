"""Migration runner: numbered SQL files, the shared ones first, then the service's own, each once."""
import logging
import re
from pathlib import Path
from urllib.parse import urlparse, urlunparse

from shared.storage.db import psycopg  # imported through shared.storage.db so the eventlet-safe wait is set first

log = logging.getLogger(__name__)

SHARED_MIGRATIONS = Path(__file__).parent.parent / "migrations"
FILENAME = re.compile(r"^(\d{3})_[\w-]+\.sql$")


def ensure_database(dsn: str):
    """Create the database a DSN names, if it is missing (local runs and test runs); straight to
    PostgreSQL, as CREATE DATABASE runs outside a transaction."""
    url = urlparse(dsn)
    name = url.path.lstrip("/")
    admin = urlunparse(url._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            try:
                conn.execute(f'CREATE DATABASE "{name}"')
            except psycopg.errors.DuplicateDatabase:
                pass  # another process created it meanwhile


def drop_database(dsn: str):
    url = urlparse(dsn)
    name = url.path.lstrip("/")
    admin = urlunparse(url._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _files(folder: Path):
    for path in sorted(folder.glob("*.sql")):
        match = FILENAME.match(path.name)
        if not match:
            raise ValueError(f"migration file not named NNN_name.sql: {path}")
        yield int(match.group(1)), path


def migrate(dsn: str, schema: str, service_migrations: Path, include_shared: bool = True) -> list[str]:
    """Bring `schema` up to date; safe to run from several processes at once. Returns what ran.

    Always straight to PostgreSQL (the DSN, never PITLANE_PGBOUNCER): the advisory lock that makes
    processes take turns is held by the session, which PgBouncer in transaction mode would not keep
    for us between statements."""
    ran = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (f"pitlane.migrate.{schema}",))
        try:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.execute(f'SET search_path TO "{schema}", public')
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " source text NOT NULL, version int NOT NULL, name text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (source, version))"
            )
            applied = {
                (r[0], r[1]) for r in conn.execute("SELECT source, version FROM schema_migrations")
            }
            sources = [("shared", SHARED_MIGRATIONS)] if include_shared else []
            for source, folder in sources + [(schema, service_migrations)]:
                for version, path in _files(folder):
                    if (source, version) in applied:
                        continue
                    with conn.transaction():
                        conn.execute(path.read_text())
                        conn.execute(
                            "INSERT INTO schema_migrations (source, version, name) VALUES (%s, %s, %s)",
                            (source, version, path.name),
                        )
                    ran.append(f"{source}/{path.name}")
                    log.info("migrated %s: %s/%s", schema, source, path.name)
        finally:
            conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (f"pitlane.migrate.{schema}",))
    return ran
