"""Who may see and change what (roles held in the store), on both backends, and row-level
security for a direct SQL connection on PostgreSQL.

The team: ann and bob (KAMs) report to pia (planner); carl is a KAM outside her team; dora is
the director, al an analyst. Accounts: ANNCO (ann's), BOBCO (bob's), CARLCO (carl's).
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from kam.errors import AccessDenied, AccountNotFound
from kam.model import Account, Dossier, Team, TeamMember
from kam.store import Workspace

TEAM = Team(members=[
    TeamMember(id="pia", name="Pia Planner", role="planner"),
    TeamMember(id="ann", name="Ann Kam", manager="pia"),
    TeamMember(id="bob", name="Bob Kam", manager="pia"),
    TeamMember(id="carl", name="Carl Kam"),
    TeamMember(id="dora", name="Dora Director", role="planner"),
])
ROLES = {"ann": ("kam", "ann"), "bob": ("kam", "bob"), "carl": ("kam", "carl"),
         "pia": ("planner", "pia"), "dora": ("director", "dora"), "al": ("analyst", None)}


def _account(key: str, kam: str) -> Dossier:
    return Dossier(account=Account(id=key, name=f"{key} Ltd", phone="+1 555 0100", kam=kam))


def _pg_role(server, name: str) -> str:
    """A login role on the test server (roles are server-wide: made once, prefixed)."""
    role = f"kam_test_{name}"
    server.sql(f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') "
               f"THEN CREATE ROLE {role} LOGIN; END IF; END $$")
    return role


@pytest.fixture
def team_store(store_location, request) -> tuple[str, Callable[[str], Workspace]]:
    """The store made by its administrator, the roles granted; ``as_user(name)`` opens it as
    one user (on PostgreSQL: connected as that user's own database role)."""
    pg = store_location.startswith("postgresql")
    server = request.getfixturevalue("pg_server") if pg else None
    names = {n: _pg_role(server, n) if pg else n for n in ROLES}
    with Workspace(store_location, create=True) as admin:
        admin.save_team(TEAM)
        admin.save_many([_account("ANNCO", "ann"), _account("BOBCO", "bob"),
                         _account("CARLCO", "carl")])
        for user, (role, member) in ROLES.items():
            admin.grant(names[user], role, member)

    def as_user(name: str) -> Workspace:
        if not pg:
            return Workspace(store_location, user=names[name])
        parts = urlsplit(store_location)
        host = parts.netloc.split("@", 1)[1]
        return Workspace(urlunsplit(parts._replace(netloc=f"{names[name]}@{host}")))

    return store_location, as_user


def _snapshot(location: str) -> dict[str, tuple[int, Dossier]]:
    with Workspace(location) as admin:  # the administrator sees everything
        return {k: (admin.head(k), admin.load(k)) for k in admin.account_ids()}


def test_a_kam_reads_and_edits_only_the_accounts_they_own(team_store):
    location, as_user = team_store
    before = _snapshot(location)
    with as_user("ann") as ws:
        assert ws.account_ids() == ["ANNCO"]
        assert [d.id for d in ws.load_all()] == ["ANNCO"]
        assert ws.tables().accounts["account_id"].tolist() == ["ANNCO"]
        for read in (ws.load, ws.history):
            if location.startswith("postgresql"):
                # The server hides the other team's rows: to ann the account does not exist.
                with pytest.raises(AccountNotFound, match="'BOBCO' not found in the workspace; "
                                                          "known accounts: ANNCO"):
                    read("BOBCO")
                continue
            with pytest.raises(AccessDenied, match=(
                    r"ann \(kam, team member ann\) may not read account 'BOBCO': it belongs to "
                    r"bob; a KAM reads and edits only the accounts they own")):
                read("BOBCO")
        # A new account for someone else, or one's own given away: refused, nothing saved.
        with pytest.raises(AccessDenied, match=r"may not give account 'NEWCO' to bob; a KAM "
                                               r"reads and edits only the accounts they own\. "
                                               r"Nothing was saved"):
            ws.save(_account("NEWCO", "bob"))
        mine = ws.load("ANNCO")
        mine.account.kam = "bob"
        with pytest.raises(AccessDenied, match="may not give account 'ANNCO' to bob"):
            ws.save(mine)
        edited = ws.load("ANNCO")
        edited.account.notes = "met the buyer"
        with pytest.raises(AccessDenied):
            ws.save_many([edited, _account("NEWCO", "bob")])
        assert _snapshot(location) == before  # every refusal changed nothing
        assert ws.save(edited, author="ann").number == 2  # her own account: saved
    assert _snapshot(location)["ANNCO"][1].account.notes == "met the buyer"


def test_a_planner_reads_and_edits_the_accounts_of_their_team(team_store):
    _, as_user = team_store
    with as_user("pia") as ws:
        assert ws.account_ids() == ["ANNCO", "BOBCO"]  # not carl's: he is not in her team
        with pytest.raises((AccessDenied, AccountNotFound), match=(
                r"may not read account 'CARLCO': it belongs to carl; a planner reads and edits "
                r"the accounts of their own team|'CARLCO' not found")):
            ws.load("CARLCO")
        d = ws.load("ANNCO")
        d.account.kam = "bob"  # a handover inside her team
        ws.save(d, author="pia")
        d = ws.load("BOBCO")
        d.account.kam = "carl"  # out of her team: refused
        with pytest.raises(AccessDenied, match="may not give account 'BOBCO' to carl"):
            ws.save(d)
        ws.save_team(TEAM.model_copy(update={"members": [*TEAM.members, TeamMember(
            id="eve", name="Eve Kam", manager="pia")]}))
    with as_user("ann") as ws:
        assert ws.account_ids() == []  # ANNCO is bob's now
    with as_user("bob") as ws:
        assert ws.account_ids() == ["ANNCO", "BOBCO"]


@pytest.mark.parametrize("user", ["dora", "al"])
def test_directors_and_analysts_read_every_account_and_edit_none(team_store, user):
    location, as_user = team_store
    before = _snapshot(location)
    role = {"dora": "director", "al": "analyst"}[user]
    with as_user(user) as ws:
        assert ws.account_ids() == ["ANNCO", "BOBCO", "CARLCO"]
        d = ws.load("CARLCO")
        d.account.notes = "a note"
        with pytest.raises(AccessDenied, match=(
                rf"\({role}[^)]*\) may not change account 'CARLCO'; an? {role} reads every "
                r"account and edits none\. Nothing was saved")):
            ws.save(d)
        with pytest.raises(AccessDenied, match="may not change the team roster"):
            ws.save_team(TEAM)
        with pytest.raises(AccessDenied, match="may not grant roles"):
            ws.grant("al", "director")
    assert _snapshot(location) == before


def test_roles_are_listed_and_only_the_administrator_grants_them(team_store):
    location, as_user = team_store
    with Workspace(location) as admin:
        table = admin.users()
        assert sorted(table["role"]) == sorted(r for r, _ in ROLES.values())
        assert admin.access().role is None  # the administrator has no role
    with as_user("ann") as ws, pytest.raises(AccessDenied, match="may not grant roles"):
        ws.grant("ann", "director")
    with as_user("ann") as ws, pytest.raises(AccessDenied, match="may not revoke roles"):
        ws.revoke("ann")
    with Workspace(location) as admin:
        al = admin.users().set_index("role").loc["analyst", "user"]
        admin.revoke(al)
        assert "analyst" not in set(admin.users()["role"])


def _sql(server, role: str, database: str, statement: str):
    with psycopg.connect(host="127.0.0.1", port=server.port, user=role, dbname=database,
                         autocommit=True) as conn:
        cur = conn.execute(statement)  # type: ignore[arg-type]
        return cur.fetchall() if cur.description else cur.rowcount


def test_row_level_security_holds_for_a_kams_own_sql_connection(pg_server):
    """Outside kam, with psql or any SQL client under their own database role, a KAM sees only
    their accounts' rows, changes none of another's, and cannot give themselves a role."""
    location = pg_server.new_database()
    ann, dora, pia = (_pg_role(pg_server, n) for n in ("ann", "dora", "pia"))
    with Workspace(location, create=True) as admin:
        admin.save_team(TEAM)
        big = _account("BOBCO", "bob")
        from kam.model import RevenueLine
        big.revenue = [RevenueLine(period="2026-01", revenue=1000.0)]
        admin.save_many([_account("ANNCO", "ann"), big, _account("CARLCO", "carl")])
        admin.grant(ann, "kam", "ann")
        admin.grant(dora, "director", "dora")
        admin.grant(pia, "planner", "pia")
    db = location.rsplit("/", 1)[1]

    def keys(role: str) -> list[str]:
        return sorted(r[0] for r in _sql(pg_server, role, db,
                                         "SELECT key FROM documents WHERE kind = 'account'"))

    assert keys(ann) == ["ANNCO"]
    assert keys(pia) == ["ANNCO", "BOBCO"]
    assert keys(dora) == ["ANNCO", "BOBCO", "CARLCO"]
    assert _sql(pg_server, ann, db, "SELECT count(*) FROM revisions WHERE key = 'BOBCO'") == [(0,)]
    assert _sql(pg_server, ann, db, "SELECT count(*) FROM lines WHERE account = 'BOBCO'") == [(0,)]
    assert _sql(pg_server, dora, db, "SELECT count(*) FROM lines WHERE account = 'BOBCO'") == [
        (1,)]
    assert _sql(pg_server, ann, db, "SELECT account FROM line_columns") == []
    assert _sql(pg_server, dora, db, "SELECT account FROM line_columns") == [("BOBCO",)]
    # Writes to another's rows touch nothing or are refused by the policies.
    assert _sql(pg_server, ann, db, "UPDATE documents SET name = 'x' WHERE key = 'BOBCO'") == 0
    assert _sql(pg_server, ann, db, "UPDATE lines SET amount = 0 WHERE account = 'BOBCO'") == 0
    assert _sql(pg_server, ann, db, "UPDATE line_columns SET data = '' WHERE account = 'BOBCO'"
                ) == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        _sql(pg_server, ann, db, "INSERT INTO revisions (kind, key, number, author, created_at, "
                                 "message, data) VALUES ('account', 'BOBCO', 9, 'ann', now(), "
                                 "'', '{}')")
    with pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        _sql(pg_server, ann, db, "UPDATE documents SET owner = 'bob' WHERE key = 'ANNCO'")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _sql(pg_server, ann, db, f"INSERT INTO users VALUES ('{ann}', 'director', NULL)")
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _sql(pg_server, dora, db, "UPDATE documents SET name = 'x' WHERE key = 'CARLCO'")
    with Workspace(location) as admin:
        assert admin.load("BOBCO").revenue[0].revenue == 1000.0
        assert [admin.head(k) for k in ("ANNCO", "BOBCO", "CARLCO")] == [1, 1, 1]


def test_a_revoked_database_role_sees_nothing(pg_server):
    """Revoking a user's role on a server takes back their table privileges: their SQL client
    then reads nothing at all (not everything, as a user without a role in kam's own API)."""
    location = pg_server.new_database()
    ann = _pg_role(pg_server, "ann")
    with Workspace(location, create=True) as admin:
        admin.save_team(TEAM)
        admin.save_many([_account("ANNCO", "ann"), _account("BOBCO", "bob")])
        admin.grant(ann, "kam", "ann")
    db = location.rsplit("/", 1)[1]
    assert _sql(pg_server, ann, db, "SELECT key FROM documents WHERE kind = 'account'") == [
        ("ANNCO",)]
    with Workspace(location) as admin:
        admin.revoke(ann)
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        _sql(pg_server, ann, db, "SELECT key FROM documents")
