"""Line columns: each account's current line figures, column by column, for the portfolio.

``line_columns`` holds one row per account with lines: the figures of its current revenue,
cost, activity and budget lines encoded as columns (:mod:`kam.store.columnar`), filled here from
the current rows of ``lines``. On PostgreSQL it gets the same row-level security as ``lines``,
and the users who may use ``lines`` may use it.

The encoding comes from :func:`kam.store.columnar.encode`; a later change of that encoding
comes with a migration of its own that rewrites every row.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from kam.store.columnar import encode

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

POLICIES = """
ALTER TABLE line_columns ENABLE ROW LEVEL SECURITY;
CREATE POLICY kam_read ON line_columns FOR SELECT
  USING (kam_reach(account, false, current_user));
CREATE POLICY kam_insert ON line_columns FOR INSERT
  WITH CHECK (kam_reach(account, true, current_user));
CREATE POLICY kam_update ON line_columns FOR UPDATE
  USING (kam_reach(account, true, current_user))
  WITH CHECK (kam_reach(account, true, current_user));
"""


def upgrade() -> None:
    op.create_table(
        "line_columns",
        sa.Column("account", sa.String(64), primary_key=True),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    conn = op.get_bind()
    lines = sa.table("lines", *(sa.column(c) for c in (
        "account", "collection", "position", "period", "label", "grp", "amount", "cogs",
        "list_value", "quantity", "removed_in")))
    line_columns = sa.table("line_columns", sa.column("account"), sa.column("data"))
    figures = ("period", "label", "grp", "amount", "cogs", "list_value", "quantity")
    query = (sa.select(lines.c.account, lines.c.collection, *(lines.c[f] for f in figures))
             .where(lines.c.removed_in.is_(None))
             .order_by(lines.c.account, lines.c.collection, lines.c.position))
    account: str | None = None
    current: dict[str, list[dict[str, Any]]] = {}
    batch: list[dict[str, Any]] = []
    for row in conn.execute(query):
        if row[0] != account:
            if account is not None:
                batch.append({"account": account, "data": encode(current)})
            account, current = row[0], {}
        current.setdefault(row[1], []).append(dict(zip(figures, row[2:], strict=True)))
        if len(batch) >= 500:
            conn.execute(sa.insert(line_columns), batch)
            batch = []
    if account is not None:
        batch.append({"account": account, "data": encode(current)})
    if batch:
        conn.execute(sa.insert(line_columns), batch)
    if conn.dialect.name == "postgresql":
        op.execute(POLICIES)
        # The users granted their tables before this version may use the new one as they do
        # ``lines`` (see kam.store.workspace._grant_tables).
        for name, role in conn.execute(sa.text(
                "SELECT u.name, u.role FROM users u JOIN pg_roles r ON r.rolname = u.name")):
            who = conn.dialect.identifier_preparer.quote(name)
            op.execute(f"GRANT SELECT ON line_columns TO {who}")
            if role in ("kam", "planner"):
                op.execute(f"GRANT INSERT, UPDATE ON line_columns TO {who}")


def downgrade() -> None:
    raise NotImplementedError("kam workspaces are not downgraded; restore a backup")
