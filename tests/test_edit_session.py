"""The edit session the workbook works through: unsaved marks, stale saves that lose nothing,
re-applying one's edits on someone else's revision, undo as a new revision."""

from __future__ import annotations

from datetime import date

import pytest

from kam.errors import InputError, StaleRevision
from kam.model import Account, Dossier, Person
from kam.store import EditSession, Workspace


@pytest.fixture
def ws(store_location):
    w = Workspace(store_location, create=True)
    w.save(Dossier(account=Account(id="ACME", name="Acme Steel", phone="+1 555 0100"),
                   persons=[Person(id="P1", name="Eva Stark")]), author="ann")
    yield w
    w.close()


def test_a_session_marks_unsaved_edits_and_saves_them_as_one_revision(ws):
    s = EditSession(ws, "ACME", author="ann")
    assert not s.dirty
    s.apply("add_person", name="Max Power", position="CEO", roles=["power"])
    s.apply("log_interaction", date=date(2026, 3, 2), kind="meeting", participants=["P2"])
    assert s.dirty and [e.name for e in s.edits] == ["add_person", "log_interaction"]
    assert set(s.my_changes()["field"]) >= {"persons[P2].name", "interactions[ACME-I1].kind"}
    rev = s.save("met the CEO")
    assert (rev.number, rev.author, rev.message) == (2, "ann", "met the CEO")
    assert not s.dirty and s.edits == []


def test_the_same_edit_twice_is_recorded_once(ws):
    s = EditSession(ws, "ACME", author="ann")
    for _ in range(2):
        s.apply("log_interaction", date=date(2026, 3, 2), kind="call", participants=["P1"])
    assert len(s.edits) == 1 and len(s.dossier.interactions) == 1


def test_a_refused_edit_leaves_the_dossier_as_it_was(ws):
    s = EditSession(ws, "ACME", author="ann")
    s.apply("add_need", title="Lower downtime", level="effect")
    before = s.dossier.model_dump_json()
    with pytest.raises(InputError, match="edges go upward only"):
        s.apply("add_need", title="Pump leaks", level="effect", leads_to=["ACME-N1"])
    assert s.dossier.model_dump_json() == before and len(s.edits) == 1


def test_an_unknown_edit_lists_the_options(ws):
    s = EditSession(ws, "ACME", author="ann")
    with pytest.raises(InputError, match=r"unknown edit 'delete_everything'; options are "
                                         r"add_action, add_commitment"):
        s.apply("delete_everything")


def test_a_stale_save_keeps_my_edits_shows_theirs_and_reapplies_mine(ws):
    mine = EditSession(ws, "ACME", author="ann")
    theirs = EditSession(ws, "ACME", author="bob")
    mine.apply("add_person", name="Max Power", position="CEO")
    theirs.apply("update_account", category="A")
    theirs.save("categorised")
    with pytest.raises(StaleRevision):
        mine.save("added the CEO")
    assert len(ws.history("ACME")) == 2  # nothing of mine was written
    assert mine.dirty and [e.name for e in mine.edits] == ["add_person"]
    changes = mine.their_changes()
    assert changes[["field", "before", "after"]].values.tolist() == [
        ["account.category", None, "A"]]
    assert mine.reapply() == []
    rev = mine.save("added the CEO")
    d = ws.load("ACME")
    assert rev.number == 3 and d.account.category.value == "A"
    assert [p.name for p in d.persons] == ["Eva Stark", "Max Power"]


def test_reapply_reports_an_edit_that_no_longer_applies(ws):
    mine = EditSession(ws, "ACME", author="ann")
    theirs = EditSession(ws, "ACME", author="bob")
    mine.apply("update_person", person_id="P1", position="Head of purchasing")
    theirs.dossier.persons.clear()  # they removed the person
    theirs.save("removed Eva")
    failed = mine.reapply()
    assert [(e.name, "no person 'P1'" in str(err)) for e, err in failed] == [
        ("update_person", True)]
    assert not mine.dirty


def test_reload_drops_unsaved_edits(ws):
    s = EditSession(ws, "ACME", author="ann")
    s.apply("update_account", category="B")
    s.reload()
    assert not s.dirty and s.dossier.account.category is None


def test_undo_restores_an_earlier_revision_as_a_new_one(ws):
    s = EditSession(ws, "ACME", author="ann")
    s.apply("update_account", category="B")
    s.save("categorised")
    rev = s.restore(1, "undo")
    assert rev.number == 3 and s.dossier.account.category is None and s.base == 3
    assert s.history()["message"].tolist()[-1] == "undo"
    assert s.as_of(2).account.category.value == "B"


def test_restore_is_refused_while_edits_are_unsaved(ws):
    s = EditSession(ws, "ACME", author="ann")
    s.apply("update_account", category="B")
    with pytest.raises(InputError, match="save or drop"):
        s.restore(1)


def test_the_author_comes_from_the_environment(ws, monkeypatch):
    monkeypatch.setenv("KAM_USER", "carla")
    assert EditSession(ws, "ACME").author == "carla"
