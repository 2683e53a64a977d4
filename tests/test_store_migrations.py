"""Schema migrations (Alembic): a workspace of schema 0001, as kam wrote it before its schema was
versioned (``tests/data/workspace-0001``: the demo workspace, 12 accounts, 51 revisions), is
refused with what to do, then upgraded by ``kam upgrade`` on SQLite and on PostgreSQL; every
revision of every account loads exactly as it did, the store has become lean, and the portfolio
tables read the line columns the upgrade filled."""

from __future__ import annotations

import dataclasses
import gzip
import json
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, insert, select, text

from kam.cli import main
from kam.errors import WorkspaceError, WorkspaceOutdated
from kam.model import Dossier, Team, tables
from kam.model.tables import Tables
from kam.store import Workspace
from kam.store.migrate import upgrade
from kam.store.schema import SCHEMA_VERSION, documents, lines, revisions

FIXTURE = Path(__file__).parent / "data" / "workspace-0001" / "workspace.db.gz"


def _v1_copy(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "workspace.db").write_bytes(gzip.decompress(FIXTURE.read_bytes()))
    return folder


def _v1_rows(query: str) -> list[tuple]:
    """Rows of the fixture as schema 0001 stored them (read from a fresh copy)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "workspace.db"
        db.write_bytes(gzip.decompress(FIXTURE.read_bytes()))
        con = sqlite3.connect(db)
        try:
            return con.execute(query).fetchall()
        finally:
            con.close()


def _v1_revisions() -> list[tuple]:
    """Every revision of the fixture: kind, key, number, author, message, whole JSON."""
    return _v1_rows("SELECT kind, key, number, author, message, data FROM revisions "
                    "ORDER BY kind, key, number")


def _assert_loads_as_before(location: str) -> None:
    """Each revision loads as the dossier its 0001 JSON is (read independently, from the
    fixture file), with the same history."""
    old = _v1_revisions()
    accounts = [r for r in old if r[0] == "account"]
    assert len(accounts) == 51 and len({r[1] for r in accounts}) == 12
    with Workspace(location) as ws:
        for _, key, number, _author, _message, data in accounts:
            assert ws.load(key, number) == Dossier.model_validate_json(data), (key, number)
        for key in {r[1] for r in accounts}:
            h = ws.history(key)
            mine = [(n, a, m) for _, k, n, a, m, _ in accounts if k == key]
            assert list(zip(h["revision"], h["author"], h["message"], strict=True)) == mine
        team = [r for r in old if r[0] == "team"]
        assert ws.team() == Team.model_validate_json(team[-1][5])
        # The portfolio tables read the line columns the upgrade filled: the tables of the
        # newest 0001 JSON of each account.
        newest = {key: data for _, key, _, _, _, data in accounts}  # in number order
        expected = tables([Dossier.model_validate_json(newest[k]) for k in sorted(newest)])
        got = ws.tables()
        for f in dataclasses.fields(Tables):
            pd.testing.assert_frame_equal(getattr(got, f.name), getattr(expected, f.name),
                                          obj=f.name)


def test_a_workspace_of_schema_0001_is_refused_with_what_to_do_and_left_unchanged(tmp_path):
    folder = _v1_copy(tmp_path / "ws")
    before = (folder / "workspace.db").read_bytes()
    with pytest.raises(WorkspaceOutdated, match=(
            r"workspace\.db was made by an older version of kam \(workspace schema 0001; this "
            rf"kam uses schema {SCHEMA_VERSION}\)\. Nothing was changed\. Upgrade it with "
            rf"'kam upgrade -w {folder}'")):
        Workspace(folder)
    assert (folder / "workspace.db").read_bytes() == before


def test_kam_upgrade_migrates_a_sqlite_workspace_of_schema_0001(tmp_path):
    folder = _v1_copy(tmp_path / "ws")
    result = CliRunner().invoke(main, ["upgrade", "-w", str(folder)])
    assert result.exit_code == 0, result.output
    assert result.output == (f"{folder}: schema 0001 -> {SCHEMA_VERSION}; the workspace as it "
                             f"was is kept in {folder / 'workspace.db.schema-0001'}\n")
    _assert_loads_as_before(str(folder))
    # The copy kept is the workspace as it was.
    with sqlite3.connect(folder / "workspace.db.schema-0001") as con:
        assert con.execute("SELECT count(*) FROM revisions").fetchone()[0] == len(_v1_revisions())
    again = CliRunner().invoke(main, ["upgrade", "-w", str(folder)])
    assert again.exit_code == 0 and again.output == (
        f"{folder} is up to date (schema {SCHEMA_VERSION})\n")


def test_the_upgrade_moves_lines_out_of_the_revisions(tmp_path):
    """After the upgrade no revision holds a line; each line version is a row. AZURCHEM's last
    two revisions (fixture README): one changed a cost and removed a revenue line -- two rows end
    there and one starts -- the next changed only its notes: no line row at all."""
    folder = _v1_copy(tmp_path / "ws")
    upgrade(str(folder))
    engine = create_engine(f"sqlite:///{folder / 'workspace.db'}")
    with engine.connect() as conn:
        for (data,) in conn.execute(select(revisions.c.data).where(revisions.c.kind == "account")):
            assert not {"revenue", "costs", "activities", "budgets"} & set(json.loads(data))
        head = conn.execute(select(documents.c.head).where(documents.c.key == "AZURCHEM")
                            ).scalar_one()
        ended = conn.execute(select(lines.c.collection).where(
            lines.c.account == "AZURCHEM", lines.c.removed_in == head - 1)).scalars().all()
        started = conn.execute(select(lines.c.collection).where(
            lines.c.account == "AZURCHEM", lines.c.added_in == head - 1)).scalars().all()
        assert sorted(ended) == ["costs", "revenue"] and started == ["costs"]
        assert conn.execute(select(lines.c.id).where(
            lines.c.account == "AZURCHEM", (lines.c.added_in == head) | (lines.c.removed_in == head)
        )).first() is None
    engine.dispose()


def test_kam_upgrade_migrates_a_postgresql_workspace_of_schema_0001(pg_server):
    """The fixture's rows copied into a schema-0001 database on the server (tables made by
    migration 0001, without the version table, as before versioning), then upgraded."""
    from alembic import command
    from alembic.config import Config

    from kam.store.migrate import MIGRATIONS

    url = pg_server.new_database()
    engine = create_engine(url)
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001")
        conn.execute(text("DROP TABLE alembic_version"))
        docs = _v1_rows("SELECT kind, key, head, name FROM documents")
        revs = _v1_rows("SELECT kind, key, number, based_on, author, created_at, message, data "
                        "FROM revisions")
        conn.execute(insert(documents), [dict(zip(("kind", "key", "head", "name"), d,
                                                  strict=True)) for d in docs])
        from datetime import datetime
        conn.execute(insert(revisions), [
            dict(zip(("kind", "key", "number", "based_on", "author", "created_at", "message",
                      "data"), (*r[:5], datetime.fromisoformat(r[5]), *r[6:]), strict=True))
            for r in revs])
    engine.dispose()
    with pytest.raises(WorkspaceOutdated, match="workspace schema 0001"):
        Workspace(url)
    done = upgrade(url)
    assert (done.before, done.after, done.backup) == ("0001", SCHEMA_VERSION, None)
    _assert_loads_as_before(url)


def test_a_failed_upgrade_leaves_the_workspace_as_it_was(tmp_path):
    folder = _v1_copy(tmp_path / "ws")
    with sqlite3.connect(folder / "workspace.db") as con:
        con.execute("UPDATE revisions SET data = 'not json' WHERE key = 'AZURCHEM' AND number = 2")
    before = sqlite3.connect(folder / "workspace.db").execute(
        "SELECT * FROM revisions ORDER BY id").fetchall()
    with pytest.raises(WorkspaceError, match=(
            r"the upgrade from schema 0001 to \d+ failed \(JSONDecodeError: .*\); nothing was "
            r"changed \(a copy is in .*workspace\.db\.schema-0001\)")):
        upgrade(str(folder))
    with sqlite3.connect(folder / "workspace.db") as con:
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables == {"documents", "revisions"}
        assert con.execute("SELECT * FROM revisions ORDER BY id").fetchall() == before


def test_a_workspace_of_a_newer_kam_is_refused(tmp_path):
    folder = tmp_path / "ws"
    Workspace(folder, create=True).close()
    with sqlite3.connect(folder / "workspace.db") as con:
        con.execute("UPDATE alembic_version SET version_num = '0099'")
    with pytest.raises(WorkspaceError, match=(
            r"was made by a newer version of kam \(workspace schema 0099; this kam knows schemas "
            rf"up to {SCHEMA_VERSION}\)\. Nothing was changed\. Upgrade kam")):
        Workspace(folder)
    with pytest.raises(WorkspaceError, match="newer version of kam"):
        upgrade(str(folder))


def test_a_new_workspace_has_the_current_schema(store_location):
    Workspace(store_location, create=True).close()
    assert upgrade(store_location).before == SCHEMA_VERSION


def test_users_granted_before_the_line_columns_read_their_own_after_the_upgrade(pg_server):
    """A team store of schema 0003 (today's, without ``line_columns``) whose administrator had
    granted ann a KAM's role: after the upgrade, ann's kam reads the portfolio tables with her
    account's line and without bob's, and her SQL client sees only her row of line columns."""
    from kam.model import Account, RevenueLine, TeamMember

    def account(key: str, kam: str, revenue: float) -> Dossier:
        return Dossier(account=Account(id=key, name=key, phone="+1 555 0100", kam=kam),
                       revenue=[RevenueLine(period="2026-01", revenue=revenue)])

    url = pg_server.new_database()
    ann = "kam_test_ann"
    pg_server.sql(f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{ann}') "
                  f"THEN CREATE ROLE {ann} LOGIN; END IF; END $$")
    with Workspace(url, create=True) as admin:
        admin.save_team(Team(members=[TeamMember(id="ann", name="Ann"),
                                      TeamMember(id="bob", name="Bob")]))
        admin.save_many([account("ANNCO", "ann", 100.0), account("BOBCO", "bob", 200.0)])
        admin.grant(ann, "kam", "ann")
    engine = create_engine(url)
    with engine.begin() as conn:  # back to schema 0003, as granted then
        conn.execute(text("DROP TABLE line_columns"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0003'"))
    engine.dispose()
    with pytest.raises(WorkspaceOutdated, match="workspace schema 0003"):
        Workspace(url)
    upgrade(url)
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    with Workspace(urlunsplit(parts._replace(netloc=f"{ann}@{host}"))) as ws:
        revenue = ws.tables().revenue
    assert revenue[["account_id", "revenue"]].values.tolist() == [["ANNCO", 100.0]]
    import psycopg

    db = url.rsplit("/", 1)[1]
    with psycopg.connect(host="127.0.0.1", port=pg_server.port, user=ann, dbname=db) as conn:
        assert conn.execute("SELECT account FROM line_columns").fetchall() == [("ANNCO",)]
