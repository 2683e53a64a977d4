"""Database tables of the workspace (SQLAlchemy Core; SQLite or PostgreSQL).

``documents`` holds one row per account (and one for the team roster) pointing at its newest
revision; ``revisions`` holds every saved version of what people edit (the dossier without its
transactional lines) as JSON and is only ever appended to. ``lines`` holds the transactional
lines -- revenue, cost, activity and budget lines -- one row per version of a line, keyed by
account and period: a row is part of the account's revisions ``added_in`` up to (not including)
``removed_in``. A one-field edit of an account with years of lines adds one small revision row
and no line row. ``line_columns`` holds per account the figures of its current lines, column by
column (see :mod:`kam.store.columnar`), rewritten with the lines whenever they change: the
portfolio tables read 5,000 of those rows instead of a million line rows. ``users`` holds each
user's role and team member and ``members`` the team's reporting lines (see
:mod:`kam.store.access`); ``alembic_version`` holds the schema version (Alembic's table;
migrations live in ``kam/store/migrations``).
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = ["LINE_COLLECTIONS", "SCHEMA_VERSION", "documents", "line_columns", "lines", "members",
           "metadata", "revisions", "users", "versions"]

SCHEMA_VERSION = "0004"
"""The schema this code reads and writes (the newest migration in ``kam/store/migrations``)."""

LINE_COLLECTIONS = ("revenue", "costs", "activities", "budgets")
"""The dossier's transactional collections, stored in ``lines`` instead of the revision."""

metadata = MetaData()

documents = Table(
    "documents",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("head", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("owner", String(64), nullable=True),  # an account's KAM: who may see and edit it
)

revisions = Table(
    "revisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("key", String(64), nullable=False),
    Column("number", Integer, nullable=False),
    Column("based_on", Integer, nullable=True),
    Column("author", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("message", Text, nullable=False),
    Column("data", Text, nullable=False),
    UniqueConstraint("kind", "key", "number", name="uq_revision"),
    Index("ix_revision_time", "kind", "key", "created_at"),
)

lines = Table(
    "lines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("account", String(64), nullable=False),
    Column("collection", String(16), nullable=False),
    Column("line_id", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    Column("period", String(16), nullable=False),
    # The figures the portfolio tables read, typed, so that a portfolio load parses no JSON:
    # label = product / category / activity, grp = product group, amount = revenue / amount /
    # count. ``data`` is the whole line as saved.
    Column("label", Text, nullable=True),
    Column("grp", Text, nullable=True),
    Column("amount", Float, nullable=True),
    Column("cogs", Float, nullable=True),
    Column("list_value", Float, nullable=True),
    Column("quantity", Float, nullable=True),
    Column("data", Text, nullable=False),
    Column("added_in", Integer, nullable=False),
    Column("removed_in", Integer, nullable=True),
    Index("ix_lines_current", "account", "removed_in"),
    Index("ix_lines_period", "account", "period"),
)

line_columns = Table(
    "line_columns",
    metadata,
    Column("account", String(64), primary_key=True),
    Column("data", LargeBinary, nullable=False),  # kam.store.columnar.encode
)

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),  # the user name (on PostgreSQL: the role)
    Column("role", String(16), nullable=False),  # kam, planner, director or analyst
    Column("member", String(64), nullable=True),  # the team member the user is
)

members = Table(
    "members",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("manager", String(64), nullable=True),
)

versions = Table(
    "alembic_version",
    metadata,
    Column("version_num", String(32), primary_key=True),
)
