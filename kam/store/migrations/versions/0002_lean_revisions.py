"""Lean revisions: the transactional lines move out of the revision JSON into ``lines``.

Every revision of every account is rewritten: its revenue, cost, activity and budget lines
become rows of ``lines`` valid from the revision that wrote them to the one that changed or
removed them, and the revision keeps the rest. Every revision loads exactly as before.
Self-contained on purpose: it must keep working whatever the code of later versions does.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLLECTIONS = ("revenue", "costs", "activities", "budgets")


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


_LABEL = {"revenue": "product", "costs": "category", "activities": "activity",
          "budgets": "category"}
_AMOUNT = {"revenue": "revenue", "costs": "amount", "activities": "count", "budgets": "amount"}


def _figures(coll: str, line: dict[str, Any]) -> dict[str, Any]:
    """The typed columns of a line (see kam/store/schema.py)."""
    return {"label": line.get(_LABEL[coll]), "grp": line.get("product_group"),
            "amount": line.get(_AMOUNT[coll]), "cogs": line.get("cogs"),
            "list_value": line.get("list_value"), "quantity": line.get("quantity")}


def upgrade() -> None:
    op.create_table(
        "lines",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("collection", sa.String(16), nullable=False),
        sa.Column("line_id", sa.String(64), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("period", sa.String(16), nullable=False),
        sa.Column("label", sa.Text, nullable=True),
        sa.Column("grp", sa.Text, nullable=True),
        sa.Column("amount", sa.Float, nullable=True),
        sa.Column("cogs", sa.Float, nullable=True),
        sa.Column("list_value", sa.Float, nullable=True),
        sa.Column("quantity", sa.Float, nullable=True),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("added_in", sa.Integer, nullable=False),
        sa.Column("removed_in", sa.Integer, nullable=True),
    )
    op.create_index("ix_lines_current", "lines", ["account", "removed_in"])
    op.create_index("ix_lines_period", "lines", ["account", "period"])

    conn = op.get_bind()
    revisions = sa.table("revisions", sa.column("id", sa.Integer), sa.column("kind", sa.String),
                         sa.column("key", sa.String), sa.column("number", sa.Integer),
                         sa.column("data", sa.Text))
    lines = sa.table("lines", *(sa.column(c) for c in (
        "account", "collection", "line_id", "position", "period", "label", "grp", "amount",
        "cogs", "list_value", "quantity", "data", "added_in", "removed_in")))
    keys = [r[0] for r in conn.execute(
        sa.select(revisions.c.key).where(revisions.c.kind == "account").distinct())]
    for key in keys:
        rows: list[dict[str, Any]] = []
        current: dict[tuple[str, str], int] = {}
        lean_updates = []
        for rev_id, number, text in conn.execute(
                sa.select(revisions.c.id, revisions.c.number, revisions.c.data)
                .where(revisions.c.kind == "account", revisions.c.key == key)
                .order_by(revisions.c.number)):
            data = json.loads(text)
            seen = set()
            for coll in COLLECTIONS:
                for position, line in enumerate(data.get(coll) or []):
                    ident = (coll, str(line.get("id")))
                    seen.add(ident)
                    line_text = _compact(line)
                    i = current.get(ident)
                    if i is not None and rows[i]["position"] == position \
                            and rows[i]["data"] == line_text:
                        continue
                    if i is not None:
                        rows[i]["removed_in"] = number
                    current[ident] = len(rows)
                    rows.append({"account": key, "collection": coll, "line_id": ident[1],
                                 "position": position, "period": str(line.get("period")),
                                 **_figures(coll, line), "data": line_text, "added_in": number,
                                 "removed_in": None})
            for ident in [x for x in current if x not in seen]:
                rows[current.pop(ident)]["removed_in"] = number
            lean = {k: v for k, v in data.items() if k not in COLLECTIONS}
            lean_updates.append({"rid": rev_id, "lean": _compact(lean)})
        if rows:
            conn.execute(sa.insert(lines), rows)
        if lean_updates:
            conn.execute(sa.update(revisions).where(revisions.c.id == sa.bindparam("rid"))
                         .values(data=sa.bindparam("lean")), lean_updates)


def downgrade() -> None:
    raise NotImplementedError("kam workspaces are not downgraded; restore the backup that "
                              "kam upgrade made")
