"""The workspace store: revisions, history, as-of loads, diffs, stale saves, all-or-nothing writes.

Every test uses a real SQLite file under ``tmp_path``.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime

import pytest

from kam.errors import (
    AccountNotFound,
    DuplicateAccount,
    InputError,
    RevisionNotFound,
    StageGateError,
    StaleRevision,
)
from kam.model import Account, Deal, Dossier, Team, TeamMember
from kam.store import Workspace


def _dossier(account_id: str = "ACME", name: str = "Acme Steel", **account: object) -> Dossier:
    return Dossier(account=Account(id=account_id, name=name, phone="+1 555 0100", **account))


@pytest.fixture
def ws(store_location):
    w = Workspace(store_location, create=True)
    yield w
    w.close()


def _snapshot(ws: Workspace) -> dict[str, tuple[int, str]]:
    """Everything observable about the store: per account, its history length and newest data."""
    return {a: (len(ws.history(a)), ws.load(a).model_dump_json()) for a in ws.account_ids()}


def test_every_save_is_a_new_revision_and_history_keeps_them(ws):
    d = _dossier()
    ws.save(d, author="ann", message="created")
    d.account.category = "A"
    ws.save(d, author="bob", message="categorised")
    d.account.notes = "met the plant manager"
    ws.save(d, author="ann", message="notes")

    hist = ws.history("ACME")
    assert hist["revision"].tolist() == [1, 2, 3]
    assert hist["author"].tolist() == ["ann", "bob", "ann"]
    assert hist["message"].tolist() == ["created", "categorised", "notes"]
    assert hist["based_on"].tolist()[1:] == [1, 2]
    # Nothing is overwritten: the first revision is still there as it was.
    assert ws.load("ACME", as_of=1).account.category is None
    assert ws.load("ACME", as_of=2).account.category.value == "A"
    assert ws.load("ACME").account.notes == "met the plant manager"


def test_load_as_of_a_date_gives_the_revision_in_force_that_day(ws):
    d = _dossier()
    ws.save(d, at=datetime(2025, 1, 10, 9, tzinfo=UTC))
    d.account.category = "B"
    ws.save(d, at=datetime(2025, 3, 5, 17, tzinfo=UTC))
    d.account.category = "A"
    ws.save(d, at=datetime(2025, 6, 1, 8, tzinfo=UTC))

    assert ws.load("ACME", as_of=date(2025, 1, 10)).account.category is None
    assert ws.load("ACME", as_of=date(2025, 3, 4)).account.category is None
    assert ws.load("ACME", as_of=date(2025, 3, 5)).account.category.value == "B"  # end of day
    assert ws.load("ACME", as_of=datetime(2025, 6, 1, 7)).account.category.value == "B"
    assert ws.load("ACME", as_of=date(2026, 1, 1)).account.category.value == "A"
    with pytest.raises(RevisionNotFound, match="did not exist yet on 2024-12-31"):
        ws.load("ACME", as_of=date(2024, 12, 31))
    with pytest.raises(RevisionNotFound, match=r"has revisions 1\.\.3; there is no revision 7"):
        ws.load("ACME", as_of=7)


def test_diff_is_field_level_and_names_records_by_id(ws):
    d = _dossier()
    d.deals.append(Deal(id="D-1", title="Pumps", stage="lead", probability=0.2))
    ws.save(d)
    d.deals[0].probability = 0.6
    d.deals.append(Deal(id="D-2", title="Drives"))
    d.account.industry = "steel"
    ws.save(d)

    changes = ws.diff("ACME", 1, 2)
    rows = {r.field: (r.change, r.before, r.after) for r in changes.itertuples()}
    assert rows["deals[D-1].probability"] == ("changed", 0.2, 0.6)
    assert rows["account.industry"] == ("changed", None, "steel")
    assert rows["deals[D-2].title"] == ("added", None, "Drives")
    assert "deals[D-1].title" not in rows  # unchanged fields are not listed
    assert ws.diff("ACME", 2).empty  # newest vs newest


def test_stale_save_raises_and_loses_nothing(ws):
    ws.save(_dossier())
    mine = ws.load("ACME")
    theirs = ws.load("ACME")
    theirs.account.category = "A"
    ws.save(theirs, author="bob")
    before = _snapshot(ws)

    mine.account.category = "C"
    with pytest.raises(
        StaleRevision,
        match=r"based on revision 1, the newest is revision 2\. "
        r"Nothing was saved",
    ):
        ws.save(mine, author="ann")
    assert _snapshot(ws) == before
    assert ws.load("ACME").account.category.value == "A"  # bob's edit is intact

    # The documented fix works: reload, re-apply, save.
    fresh = ws.load("ACME")
    fresh.account.category = "C"
    assert ws.save(fresh, author="ann").number == 3


def test_explicit_based_on_is_checked(ws):
    ws.save(_dossier())
    d = ws.load("ACME")
    d.account.category = "B"
    ws.save(d)
    with pytest.raises(StaleRevision):
        ws.save(_dossier(), based_on=1)
    assert ws.save(_dossier(name="Acme Steel Works"), based_on=2).number == 3


def test_new_dossier_with_a_taken_id_is_refused(ws):
    ws.save(_dossier())
    with pytest.raises(DuplicateAccount, match=r"'ACME' already exists \(revision 1\)"):
        ws.save(_dossier(name="Another Acme"))
    assert ws.load("ACME").account.name == "Acme Steel"


def test_unknown_account_names_the_known_ones(ws):
    ws.save(_dossier())
    with pytest.raises(
        AccountNotFound, match="Account 'NOPE' not found in the workspace; known accounts: ACME"
    ):
        ws.load("NOPE")


def test_opening_a_missing_workspace_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="run 'kam init"):
        Workspace(tmp_path / "nothing-here")


def test_workspace_is_a_real_file_that_persists(tmp_path):
    path = tmp_path / "ws"
    with Workspace(path, create=True) as ws:
        ws.save(_dossier())
    assert (path / "workspace.db").stat().st_size > 0
    with Workspace(path) as again:
        assert again.account_ids() == ["ACME"]
        assert again.load("ACME").account.name == "Acme Steel"


def test_default_location_comes_from_kam_workspace(tmp_path, monkeypatch):
    monkeypatch.setenv("KAM_WORKSPACE", str(tmp_path / "env-ws"))
    with Workspace(create=True) as ws:
        ws.save(_dossier())
    assert (tmp_path / "env-ws" / "workspace.db").exists()


def test_a_sqlalchemy_url_works_as_location(tmp_path):
    url = f"sqlite:///{tmp_path / 'other.db'}"
    with Workspace(url, create=True) as ws:
        ws.save(_dossier())
        assert ws.load("ACME").account.id == "ACME"


def test_save_many_is_all_or_nothing(ws):
    ws.save(_dossier("KEEP", "Keeper Ltd"))
    before = _snapshot(ws)
    good = _dossier("NEW1", "New One")
    no_contact = Dossier(account=Account(id="NEW2", name="No Contact Info"))  # fails stage 1 gate
    with pytest.raises(StageGateError, match="NEW2 cannot move into stage 'lead'"):
        ws.save_many([good, no_contact])
    assert _snapshot(ws) == before
    assert "NEW1" not in ws.account_ids()


def test_save_many_collects_every_reference_problem_and_saves_nothing(ws):
    ws.save_team(Team(members=[TeamMember(id="ann", name="Ann Lee")]))
    before = _snapshot(ws)
    bad1 = _dossier("B1", "Bee One", kam="zed")
    bad2 = _dossier("B2", "Bee Two")
    bad2.deals.append(Deal(id="D-9", title="Valves", manager="yan"))
    with pytest.raises(InputError) as err:
        ws.save_many([bad1, bad2], file="import.yaml")
    text = str(err.value)
    assert "import.yaml: account B1, field 'kam': 'zed' is not a team member" in text
    assert "account B2 / deals[0] (D-9), field 'manager': 'yan' is not a team member" in text
    assert _snapshot(ws) == before


def test_moving_into_a_stage_checks_the_gate_and_leaves_store_unchanged(ws):
    ws.save(_dossier())
    d = ws.load("ACME")
    d.account.sales_stage = "potential"  # needs an address and a contact with position + role
    before = _snapshot(ws)
    with pytest.raises(StageGateError, match=r"address of the account"):
        ws.save(d)
    assert _snapshot(ws) == before


def test_team_roster_has_history(ws):
    ws.save_team(Team(members=[TeamMember(id="ann", name="Ann Lee")]), author="dir")
    rev = ws.save_team(
        Team(members=[TeamMember(id="ann", name="Ann Lee"), TeamMember(id="bob", name="Bob Roy")])
    )
    assert rev.number == 2
    assert ws.team().ids() == {"ann", "bob"}


def test_fingerprint_changes_when_data_changes(ws):
    ws.save(_dossier())
    ws.save(_dossier("OTHER", "Other Co"))
    f_all, f_acme = ws.fingerprint(), ws.fingerprint(["ACME"])
    other = ws.load("OTHER")
    other.account.category = "B"
    ws.save(other)
    assert ws.fingerprint() != f_all
    assert ws.fingerprint(["ACME"]) == f_acme  # ACME did not change


def test_load_all_returns_newest_of_each(ws):
    ws.save(_dossier("A1", "Alpha"))
    ws.save(_dossier("B1", "Beta"))
    d = ws.load("A1")
    d.account.category = "A"
    ws.save(d)
    loaded = ws.load_all()
    assert [x.account.id for x in loaded] == ["A1", "B1"]
    assert loaded[0].account.category.value == "A"
    assert [x.account.id for x in ws.load_all(["B1"])] == ["B1"]
    with pytest.raises(AccountNotFound):
        ws.load_all(["ZZ"])


def test_importing_kam_emits_no_warning():
    out = subprocess.run(
        [sys.executable, "-Werror", "-c", "import kam"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stderr == ""


def test_a_new_object_is_never_mistaken_for_a_loaded_one(ws):
    # Regression: the revision a dossier was loaded from once lived in a dict keyed by id(obj);
    # a new object could reuse a dead object's id and be saved as if it were based on it.
    ws.save(_dossier())
    for _ in range(50):
        ws.load("ACME")  # the loaded object dies at once; its memory is reused
        with pytest.raises(DuplicateAccount):
            ws.save(_dossier(name="Another Acme"))
    assert ws.head("ACME") == 1


def test_a_dossier_loaded_from_another_workspace_is_new_here(tmp_path, ws):
    other = Workspace(tmp_path / "other", create=True)
    other.save(_dossier())
    ws.save(_dossier())
    with pytest.raises(DuplicateAccount):
        ws.save(other.load("ACME"))
    assert ws.load("ACME") == other.load("ACME")  # equal data, whatever their origin


def test_lean_revisions_write_only_what_changed_and_history_still_sees_every_line(ws):
    """A dossier with 1,000 revenue lines: a one-field edit writes one small revision row and no
    line row; changing one line ends its row and starts one; removing a line ends its row.
    Every revision still loads as saved, and the diff names the line."""
    from sqlalchemy import func, select

    from kam.model import RevenueLine
    from kam.store.schema import lines, revisions

    def counts() -> tuple[int, int]:
        with ws.engine.connect() as conn:
            return (conn.execute(select(func.count()).select_from(lines)).scalar_one(),
                    conn.execute(select(func.count()).select_from(revisions)).scalar_one())

    d = _dossier()
    d.revenue = [RevenueLine(period=f"{2000 + i // 12}-{i % 12 + 1:02d}", product=f"P{i % 7}",
                             revenue=100.0 + i) for i in range(1000)]
    ws.save(d, author="ann")
    assert counts() == (1000, 1)
    saved = [ws.load("ACME")]

    d = ws.load("ACME")
    d.account.notes = "met the new buyer"
    ws.save(d, author="ann")
    assert counts() == (1000, 2)  # no line row written
    with ws.engine.connect() as conn:
        size = len(conn.execute(select(revisions.c.data).where(revisions.c.number == 2)
                                ).scalar_one())
    assert size < 5_000
    saved.append(ws.load("ACME"))

    d = ws.load("ACME")
    d.revenue[500].revenue = 1.0
    del d.revenue[-1]
    ws.save(d, author="ann")
    assert counts() == (1001, 3)  # one new row for the changed line; two rows ended
    saved.append(ws.load("ACME"))

    assert [ws.load("ACME", n) for n in (1, 2, 3)] == saved
    assert saved[1].revenue == saved[0].revenue and saved[1].account.notes == "met the new buyer"
    assert saved[2].revenue[500].revenue == 1.0 and len(saved[2].revenue) == 999
    changes = ws.diff("ACME", 2, 3)
    assert changes[changes["change"] == "changed"]["field"].tolist() == ["revenue[R-501].revenue"]
    removed = changes[changes["change"] == "removed"]["field"]
    assert len(removed) > 0 and removed.str.startswith("revenue[R-1000]").all()
    assert len(changes) == 1 + len(removed)
    assert [x.id for x in ws.load_all()[0].revenue] == [x.id for x in saved[2].revenue]


def test_workspace_tables_are_the_tables_of_the_loaded_dossiers(ws, demo_dossiers):
    """``ws.tables()`` reads the lines from each account's line columns instead of building
    records; its frames equal ``kam.model.tables(ws.load_all())`` (the independent path, from
    every line's JSON), for all accounts and for some, after an edit, a removed line, an account
    whose lines were all removed, a new account without lines, a refused save and a restore."""
    import dataclasses

    import pandas as pd

    from kam import demo
    from kam.model import tables
    from kam.model.tables import Tables

    def same(a: Tables, b: Tables) -> None:
        for f in dataclasses.fields(Tables):
            pd.testing.assert_frame_equal(getattr(a, f.name), getattr(b, f.name), obj=f.name)

    ws.save_many([d.model_copy(deep=True) for d in demo_dossiers], team=demo.team())
    first, second = (x.account.id for x in demo_dossiers[:2])
    d = ws.load(first)
    d.revenue[0].revenue += 1
    del d.costs[1]
    ws.save(d)
    d = ws.load(second)
    d.revenue, d.costs, d.activities, d.budgets = [], [], [], []
    ws.save(d)
    ws.save(_dossier("AAA-NEW", "No lines yet"))
    same(ws.tables(), tables(ws.load_all()))
    assert not (ws.tables().revenue["account_id"] == second).any()

    d = ws.load(first)
    del d.revenue[1]  # a change of lines, in a save refused at the door (a repeated line id):
    d.revenue.append(d.revenue[0].model_copy())  # nothing of it may reach the columns
    with pytest.raises(InputError, match="revenue"):
        ws.save(d)
    ws.restore(second, 1)  # its lines come back
    same(ws.tables(), tables(ws.load_all()))
    some = [x.account.id for x in demo_dossiers[1:6]]
    same(ws.tables(some), tables(ws.load_all(some)))
    # Independently: the demo's own lines, plus the one edit.
    assert len(ws.tables().revenue) == sum(len(x.revenue) for x in demo_dossiers)
    assert ws.tables().revenue["revenue"].sum() == pytest.approx(
        sum(x.revenue for d in demo_dossiers for x in d.revenue) + 1)


def test_damaged_line_columns_are_named_and_other_accounts_still_read(ws, demo_dossiers):
    """The portfolio tables refuse a damaged row of line columns, naming the account; the
    tables of the other accounts (one account's report) still read."""
    from sqlalchemy import update

    from kam.errors import NotAWorkspace
    from kam.store.schema import line_columns

    ws.save_many([d.model_copy(deep=True) for d in demo_dossiers[:3]])
    bad, good = demo_dossiers[0].account.id, demo_dossiers[1].account.id
    with ws.engine.begin() as conn:
        conn.execute(update(line_columns).where(line_columns.c.account == bad)
                     .values(data=b"\x05\x00\x00\x00{oops"))
    with pytest.raises(NotAWorkspace, match=rf"line columns of account '{bad}' are damaged"):
        ws.tables()
    assert len(ws.tables([good]).revenue) == len(demo_dossiers[1].revenue)
