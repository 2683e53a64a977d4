"""Schema versions of a workspace and ``kam upgrade`` (Alembic migrations in ``migrations/``).

A workspace records its schema version in Alembic's ``alembic_version`` table. One made before
the schema was versioned has the tables of version 0001 and no such table. The code opens only
a workspace of its own version (:data:`~kam.store.schema.SCHEMA_VERSION`) and says what to do
with any other; :func:`upgrade` migrates one, all in one transaction, after a copy of a SQLite
file is kept beside it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.engine import Connection

from ..errors import NotAWorkspace, WorkspaceError, WorkspaceOutdated
from .schema import SCHEMA_VERSION, versions

__all__ = ["Upgrade", "create_schema", "schema_version", "upgrade"]

MIGRATIONS = Path(__file__).with_name("migrations")
_BEFORE_VERSIONING = "0001"


def schema_version(conn: Connection) -> str | None:
    """The schema version of the database (``None``: no kam tables at all)."""
    tables = set(inspect(conn).get_table_names())
    if "alembic_version" in tables:
        row = conn.execute(select(versions.c.version_num)).first()
        if row is not None:
            return str(row[0])
    if {"documents", "revisions"} <= tables:
        return _BEFORE_VERSIONING
    return None


def check_version(found: str | None, where: str, location: str) -> None:
    """Refuse a workspace of another schema version with what to do about it."""
    if found == SCHEMA_VERSION or found is None:
        return
    if found in _known():
        raise WorkspaceOutdated(
            f"{where} was made by an older version of kam (workspace schema {found}; this kam "
            f"uses schema {SCHEMA_VERSION}). Nothing was changed. Upgrade it with "
            f"'kam upgrade -w {location}' (a SQLite workspace is copied first; back up a "
            "server database with pg_dump)")
    raise WorkspaceError(
        f"{where} was made by a newer version of kam (workspace schema {found}; this kam knows "
        f"schemas up to {SCHEMA_VERSION}). Nothing was changed. Upgrade kam "
        "(pip install -U kam) to open it")


@dataclass(frozen=True)
class Upgrade:
    """What :func:`upgrade` did."""

    location: str
    before: str
    after: str
    backup: Path | None

    def __str__(self) -> str:
        if self.before == self.after:
            return f"{self.location} is up to date (schema {self.after})"
        kept = f"; the workspace as it was is kept in {self.backup}" if self.backup else ""
        return f"{self.location}: schema {self.before} -> {self.after}{kept}"


def upgrade(location: str) -> Upgrade:
    """Migrate the workspace at ``location`` (a folder or a database URL) to the schema of this
    code, in one transaction: if a step fails, the workspace is left as it was."""
    from alembic import command
    from sqlalchemy import create_engine

    from .workspace import _sqlite_pragmas, _to_url

    url, folder = _to_url(location)
    if folder is not None and not (folder / "workspace.db").is_file():
        raise FileNotFoundError(f"No kam workspace at {folder}")
    engine = create_engine(url)
    if url.startswith("sqlite"):
        _sqlite_pragmas(engine)
    backup = None
    try:
        with engine.connect().execution_options(kam_read=True) as conn:
            before = schema_version(conn)
        if before is None:
            raise NotAWorkspace(f"{location} holds no kam workspace; nothing to upgrade")
        if before != SCHEMA_VERSION and folder is not None:
            backup = folder / f"workspace.db.schema-{before}"
            db = folder / "workspace.db"
            with sqlite3.connect(db) as src, sqlite3.connect(backup) as dst:
                src.backup(dst)  # a consistent copy, WAL included
        if before != SCHEMA_VERSION:
            if before not in _known():
                check_version(before, location, location)  # a newer schema: refused
            cfg = _config()
            try:
                with engine.begin() as conn:
                    if before == _BEFORE_VERSIONING and "alembic_version" not in set(
                            inspect(conn).get_table_names()):
                        versions.create(conn)
                        conn.execute(versions.insert().values(version_num=_BEFORE_VERSIONING))
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "head")
            except Exception as e:
                kept = f" (a copy is in {backup})" if backup else ""
                raise WorkspaceError(
                    f"{location}: the upgrade from schema {before} to {SCHEMA_VERSION} failed "
                    f"({type(e).__name__}: {e}); nothing was changed{kept}") from e
        return Upgrade(location, before, SCHEMA_VERSION, backup)
    finally:
        engine.dispose()


def _config() -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def create_schema(conn: Connection) -> None:
    """Make the current schema in an empty database by running every migration on ``conn``
    (inside the caller's transaction): the migrations are the one definition of the schema,
    row-level security on PostgreSQL included."""
    from alembic import command

    cfg = _config()
    cfg.attributes["connection"] = conn
    command.upgrade(cfg, "head")


def _known() -> set[str]:
    return {p.name[:4] for p in (MIGRATIONS / "versions").glob("[0-9]*.py")}
