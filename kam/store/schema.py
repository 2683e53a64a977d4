"""Database tables of the workspace (SQLAlchemy Core; SQLite or any server database).

``documents`` holds one row per account (and one for the team roster) pointing at its newest
revision; ``revisions`` holds every saved version as JSON and is only ever appended to.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = ["documents", "metadata", "revisions"]

metadata = MetaData()

documents = Table(
    "documents",
    metadata,
    Column("kind", String(16), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("head", Integer, nullable=False),
    Column("name", Text, nullable=False),
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
