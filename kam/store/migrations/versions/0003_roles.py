"""Roles: who may see and change which accounts.

``users`` holds each user's role -- ``kam`` (edits the accounts they own), ``planner`` (edits
their team's), ``director`` (reads all), ``analyst`` (reads all, edits nothing) -- and the team
member they are; ``members`` mirrors the team roster's reporting lines (who reports to whom);
``documents.owner`` is the account's KAM. On PostgreSQL, row-level security policies enforce
the same for any connection under a user's own database role, kam or not.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

# The policies pass current_user (the caller; inside a SECURITY DEFINER function it would be the
# function's owner). SECURITY DEFINER lets the functions read users, members and documents
# whatever the caller may read. A role without a kam role sees no row: row-level security does
# not apply to the tables' owner (the workspace's administrator), who sees everything.
POLICIES = """
CREATE FUNCTION kam_members_reached(who text) RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  -- the team member a kam user is, and for a planner everyone reporting up to them
  WITH RECURSIVE me AS (SELECT role, member FROM users WHERE name = who),
       below(id) AS (
         SELECT member FROM me WHERE member IS NOT NULL
         UNION SELECT m.id FROM members m JOIN below b ON m.manager = b.id
           WHERE (SELECT role FROM me) = 'planner')
  SELECT id FROM below
$$;

CREATE FUNCTION kam_may(owner text, writing boolean, who text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT CASE
    WHEN NOT EXISTS (SELECT 1 FROM users WHERE name = who) THEN false
    WHEN (SELECT role FROM users WHERE name = who) IN ('director', 'analyst') THEN NOT writing
    ELSE COALESCE(owner IN (SELECT kam_members_reached(who)), false) END
$$;

CREATE FUNCTION kam_reach(account_key text, writing boolean, who text) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT kam_may((SELECT owner FROM documents WHERE kind = 'account' AND key = account_key),
                 writing, who)
$$;

CREATE FUNCTION kam_role(who text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public AS $$
  SELECT role FROM users WHERE name = who
$$;

ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY kam_read ON documents FOR SELECT
  USING (kind <> 'account' OR kam_reach(key, false, current_user));
CREATE POLICY kam_insert ON documents FOR INSERT
  WITH CHECK (CASE WHEN kind = 'account' THEN kam_may(owner, true, current_user)
              ELSE COALESCE(kam_role(current_user) = 'planner', false) END);
CREATE POLICY kam_update ON documents FOR UPDATE
  USING (CASE WHEN kind = 'account' THEN kam_reach(key, true, current_user)
         ELSE COALESCE(kam_role(current_user) = 'planner', false) END)
  WITH CHECK (CASE WHEN kind = 'account' THEN kam_may(owner, true, current_user)
              ELSE COALESCE(kam_role(current_user) = 'planner', false) END);

ALTER TABLE revisions ENABLE ROW LEVEL SECURITY;
CREATE POLICY kam_read ON revisions FOR SELECT
  USING (kind <> 'account' OR kam_reach(key, false, current_user));
CREATE POLICY kam_insert ON revisions FOR INSERT
  WITH CHECK (CASE WHEN kind = 'account' THEN kam_reach(key, true, current_user)
              ELSE COALESCE(kam_role(current_user) = 'planner', false) END);

ALTER TABLE lines ENABLE ROW LEVEL SECURITY;
CREATE POLICY kam_read ON lines FOR SELECT USING (kam_reach(account, false, current_user));
CREATE POLICY kam_insert ON lines FOR INSERT
  WITH CHECK (kam_reach(account, true, current_user));
CREATE POLICY kam_update ON lines FOR UPDATE
  USING (kam_reach(account, true, current_user))
  WITH CHECK (kam_reach(account, true, current_user));
"""


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("member", sa.String(64), nullable=True),
    )
    op.create_table(
        "members",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("manager", sa.String(64), nullable=True),
    )
    op.add_column("documents", sa.Column("owner", sa.String(64), nullable=True))

    conn = op.get_bind()
    documents = sa.table("documents", sa.column("kind"), sa.column("key"), sa.column("head"),
                         sa.column("owner"))
    revisions = sa.table("revisions", sa.column("kind"), sa.column("key"), sa.column("number"),
                         sa.column("data"))
    heads = conn.execute(
        sa.select(revisions.c.kind, revisions.c.key, revisions.c.data).select_from(
            revisions.join(documents, sa.and_(documents.c.kind == revisions.c.kind,
                                              documents.c.key == revisions.c.key,
                                              documents.c.head == revisions.c.number)))
    ).all()
    for kind, key, data in heads:
        parsed = json.loads(data)
        if kind == "account":
            owner = (parsed.get("account") or {}).get("kam")
            conn.execute(sa.update(documents).where(documents.c.kind == kind,
                                                    documents.c.key == key)
                         .values(owner=owner))
        elif kind == "team":
            members = sa.table("members", sa.column("id"), sa.column("manager"))
            rows = [{"id": m["id"], "manager": m.get("manager")}
                    for m in parsed.get("members") or []]
            if rows:
                conn.execute(sa.insert(members), rows)
    if conn.dialect.name == "postgresql":
        op.execute(POLICIES)


def downgrade() -> None:
    raise NotImplementedError("kam workspaces are not downgraded; restore a backup")
