"""The store answers with messages, not tracebacks (DOMAIN.md §1: every change is kept, nothing is
overwritten -- so a store that cannot be used says why, names the file and writes nothing).

- a workspace another program keeps locked longer than the wait: :class:`WorkspaceLocked`,
  naming the workspace, what happened and what to do (and, on Linux, which process holds it);
- a damaged ``workspace.db`` (random bytes, a damaged revision) or another application's SQLite
  database: :class:`NotAWorkspace` naming the file, the file left byte for byte as it was;
- the reports' demo cache lives in a private folder of the user, never at a guessable path in
  the shared temporary folder.
"""

from __future__ import annotations

import os
import random
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from io_samples import snapshot

from kam.cli import main
from kam.demo.cache import demo_cache_dir
from kam.errors import InputError, NotAWorkspace, UnsafeFolder, WorkspaceLocked
from kam.model import Account, Dossier
from kam.store import Workspace


def _dossier(account_id: str) -> Dossier:
    return Dossier(account=Account(id=account_id, name=f"{account_id} Ltd", phone="+1 555 0100"))


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    w = Workspace(tmp_path / "ws", create=True, lock_timeout=0.2)
    w.save(_dossier("ACME"), author="ann")
    yield w
    w.close()


def _run(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result


# -- a locked workspace ----------------------------------------------------------------------
@pytest.fixture
def locked(ws: Workspace):
    """Another writer holds the workspace's write lock (a second connection in a transaction)."""
    holder = sqlite3.connect(Path(ws.location) / "workspace.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield ws
    holder.rollback()
    holder.close()


LOCKED = (r"The workspace .*ws is locked: another program is writing to it \(another kam command, "
          r"an import, a notebook or the workbook saving\) and it stayed locked for 0\.2 s\. "
          r"Nothing was saved; try again when that save is done, or close the program that holds "
          r"it")


def test_a_save_into_a_locked_workspace_says_so_and_writes_nothing(locked):
    ws = locked
    d = ws.load("ACME")
    d.account.notes = "met the buyer"
    with pytest.raises(WorkspaceLocked, match=LOCKED):
        ws.save(d, author="ann")
    with pytest.raises(WorkspaceLocked, match=LOCKED):
        ws.save_many([_dossier("NEW")], author="ann")
    assert ws.account_ids() == ["ACME"]  # reading never waits for a writer
    assert len(ws.history("ACME")) == 1
    assert ws.load("ACME").account.notes is None


def test_once_the_lock_is_released_the_same_save_goes_through(ws):
    holder = sqlite3.connect(Path(ws.location) / "workspace.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    d = ws.load("ACME")
    d.account.notes = "met the buyer"
    with pytest.raises(WorkspaceLocked):
        ws.save(d, author="ann")
    holder.rollback()
    holder.close()
    assert ws.save(d, author="ann").number == 2


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="names holders from /proc")
def test_the_lock_message_names_the_process_that_holds_it(ws):
    db = Path(ws.location) / "workspace.db"
    code = ("import sqlite3, sys, time\n"
            f"c = sqlite3.connect({str(db)!r}, isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(30)\n")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(WorkspaceLocked, match=rf"Programs that have it open: pid "
                                                  rf"{holder.pid} \(.*python"):
            ws.save(_dossier("NEW"), author="ann")
    finally:
        holder.kill()
        holder.wait()
    assert ws.account_ids() == ["ACME"]


# -- a file that is not a kam workspace ------------------------------------------------------
def _noise(folder: Path) -> bytes:
    folder.mkdir()
    data = random.Random(7).randbytes(8192)
    (folder / "workspace.db").write_bytes(data)
    return data


def _foreign(folder: Path) -> bytes:
    folder.mkdir()
    con = sqlite3.connect(folder / "workspace.db")
    con.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    con.execute("INSERT INTO notes (body) VALUES ('shopping list')")
    con.commit()
    con.close()
    return (folder / "workspace.db").read_bytes()


@pytest.mark.parametrize("create", [False, True], ids=["open", "create"])
def test_random_bytes_are_named_as_not_a_workspace_and_left_alone(tmp_path, create):
    folder = tmp_path / "noise"
    data = _noise(folder)
    with pytest.raises(NotAWorkspace, match=r"noise/workspace\.db is not a kam workspace: the "
                                            r"file is damaged or is not an SQLite database \(file "
                                            r"is not a database\)\. Restore it from a backup"):
        Workspace(folder, create=create)
    assert (folder / "workspace.db").read_bytes() == data


@pytest.mark.parametrize("create", [False, True], ids=["open", "create"])
def test_another_applications_database_is_refused_and_left_untouched(tmp_path, create):
    """Not even switched to WAL mode, and ``create`` adds no kam table to it."""
    folder = tmp_path / "other"
    data = _foreign(folder)
    with pytest.raises(NotAWorkspace, match=r"other/workspace\.db is not a kam workspace: it is "
                                            r"an SQLite database of another application "
                                            r"\(tables: notes\); kam left it untouched"):
        Workspace(folder, create=create)
    assert (folder / "workspace.db").read_bytes() == data


def test_an_empty_database_file_asks_for_kam_init_and_create_uses_it(tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "workspace.db").touch()
    with pytest.raises(NotAWorkspace, match=r"empty/workspace\.db holds no kam workspace \(an "
                                            r"empty database\); create one with 'kam init "):
        Workspace(folder)
    w = Workspace(folder, create=True)
    assert w.account_ids() == []


def test_a_kam_table_without_its_columns_is_named(tmp_path):
    folder = tmp_path / "old"
    folder.mkdir()
    con = sqlite3.connect(folder / "workspace.db")
    con.execute("CREATE TABLE documents (kind TEXT, key TEXT, head INTEGER)")
    con.execute("CREATE TABLE revisions (id INTEGER, kind TEXT, key TEXT, number INTEGER, "
                "based_on INTEGER, author TEXT, created_at TEXT, message TEXT, data TEXT)")
    con.commit()
    con.close()
    with pytest.raises(NotAWorkspace, match=r"its table 'documents' lacks the columns name"):
        Workspace(folder)


def test_a_folder_where_the_file_belongs_is_named(tmp_path):
    (tmp_path / "odd" / "workspace.db").mkdir(parents=True)
    with pytest.raises(NotAWorkspace, match=r"odd/workspace\.db is a folder, not a workspace"):
        Workspace(tmp_path / "odd")


def test_a_damaged_revision_is_named_with_its_account_and_number(ws):
    con = sqlite3.connect(Path(ws.location) / "workspace.db")
    con.execute("UPDATE revisions SET data = '{\"account\": 7}' WHERE key = 'ACME'")
    con.commit()
    con.close()
    with pytest.raises(NotAWorkspace, match=r"ws/workspace\.db: revision 1 of account 'ACME' is "
                                            r"damaged and cannot be read \(account: Input should "
                                            r"be an object; found 7\)"):
        ws.load("ACME")
    with pytest.raises(NotAWorkspace, match=r"revision 1 of account 'ACME' is damaged"):
        ws.load_all()


def test_a_revision_stored_before_a_rule_existed_still_loads_exactly_as_stored(ws):
    """An older kam stored a control character and a huge amount: the revision loads as stored
    (history is never lost, other accounts' analyses go on), and its next save names both."""
    ws.save(Dossier(account=Account(id="OLD", name="Old Ltd", phone="1")), author="ann")
    stored = ('{"account": {"id": "OLD", "name": "Old\\u001b[31m Ltd", "phone": "1"}, '
              '"revenue": [{"id": "R-1", "period": "2025-01", "revenue": 1e300}]}')
    con = sqlite3.connect(Path(ws.location) / "workspace.db")
    con.execute("UPDATE revisions SET data = ? WHERE key = 'OLD'", (stored,))
    con.commit()
    con.close()
    old = ws.load("OLD")
    assert (old.account.name, old.revenue[0].revenue) == ("Old\x1b[31m Ltd", 1e300)
    assert [d.id for d in ws.load_all()] == ["ACME", "OLD"]
    before = snapshot(ws)
    old.account.phone = "+1 555 0100"
    with pytest.raises(InputError) as err:
        ws.save(old, author="ann")
    assert [(p.record, p.field) for p in err.value.problems] == [
        ("account OLD", "name"), ("account OLD / revenue[0] (R-1)", "revenue")]
    assert snapshot(ws) == before


@pytest.mark.parametrize(("make", "message"), [
    (_noise, "is not a kam workspace: the file is damaged or is not an SQLite database"),
    (_foreign, "is not a kam workspace: it is an SQLite database of another application"),
], ids=["random bytes", "another application"])
def test_kam_commands_print_the_message_not_a_traceback(tmp_path, make, message):
    folder = tmp_path / "bad"
    data = make(folder)
    dossier = tmp_path / "acme.yaml"
    dossier.write_text("account: {id: ACME, name: Acme, phone: '1'}\n", encoding="utf-8")
    for args in (["accounts", "-w", str(folder)],
                 ["validate", str(dossier), "--workspace", str(folder)],
                 ["import", str(dossier), "-w", str(folder)]):
        result = _run(*args)
        assert result.exit_code == 1, args
        assert result.output.startswith(f"Error: {folder / 'workspace.db'} {message}"), (
            result.output)
    assert (folder / "workspace.db").read_bytes() == data


def test_kam_accounts_reads_while_another_program_writes(locked):
    before = snapshot(locked)
    result = _run("accounts", "-w", locked.location)
    assert result.exit_code == 0 and "ACME" in result.output
    assert snapshot(locked) == before


def test_revision_author_must_be_text(ws):
    before = snapshot(ws)
    with pytest.raises(InputError, match=r"revision, field 'author': expected text, found 7"):
        ws.save(_dossier("NEW"), author=7)  # type: ignore[arg-type]
    assert snapshot(ws) == before


# -- the demo cache --------------------------------------------------------------------------
@pytest.fixture
def cache_env(monkeypatch, tmp_path):
    monkeypatch.delenv("KAM_DEMO_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return tmp_path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_demo_cache_is_a_private_folder_in_the_users_cache(cache_env):
    folder = demo_cache_dir()
    assert folder == cache_env / "xdg" / "kam"
    assert _mode(folder) == 0o700
    assert demo_cache_dir() == folder  # the second call reuses it


def test_demo_cache_without_create_only_computes_the_path(cache_env):
    assert demo_cache_dir(create=False) == cache_env / "xdg" / "kam"
    assert not (cache_env / "xdg").exists()


def test_demo_cache_default_open_to_others_is_made_private(cache_env):
    folder = cache_env / "xdg" / "kam"
    folder.mkdir(parents=True)
    folder.chmod(0o777)
    assert demo_cache_dir() == folder
    assert _mode(folder) == 0o700


def test_demo_cache_chosen_by_the_user_and_open_to_others_is_refused(cache_env, monkeypatch):
    shared = cache_env / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("KAM_DEMO_CACHE", str(shared))
    with pytest.raises(UnsafeFolder, match=r"shared may be written by other users \(mode 0o777\)"
                                           r": make it private with 'chmod 700 "):
        demo_cache_dir()
    assert _mode(shared) == 0o777  # a folder the user chose is not changed behind their back


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="POSIX owners")
def test_demo_cache_owned_by_someone_else_is_refused(cache_env, monkeypatch):
    """As if another local user had created the folder first: we are someone else."""
    folder = cache_env / "xdg" / "kam"
    folder.mkdir(parents=True, mode=0o700)
    me = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: me + 1)
    with pytest.raises(UnsafeFolder, match=rf"xdg/kam belongs to another user \(uid {me}, you "
                                           rf"are uid {me + 1}\): its demo workspace could have "
                                           r"been written by them"):
        demo_cache_dir()


def test_demo_cache_that_is_a_file_or_a_dangling_link_is_refused(cache_env, monkeypatch):
    plain = cache_env / "plain"
    plain.write_text("x", encoding="utf-8")
    monkeypatch.setenv("KAM_DEMO_CACHE", str(plain))
    with pytest.raises(UnsafeFolder, match=r"plain is not a folder"):
        demo_cache_dir()
    dangling = cache_env / "dangling"
    dangling.symlink_to(cache_env / "nowhere")
    monkeypatch.setenv("KAM_DEMO_CACHE", str(dangling))
    with pytest.raises(UnsafeFolder, match=r"dangling is a link to nothing"):
        demo_cache_dir()
