"""The workbook shell, headless: picker, overview, tabs, save bar, history and undo.

Widgets are driven as a user would (values set, buttons clicked) and every result is checked
against the public API: the picker against plain pandas over :func:`kam.model.tables`, saves
against the same edits made through :class:`~kam.store.EditSession`, the overview against the
report's own computation (``notebooks/account_plan.ipynb``).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import ipywidgets as w
import numpy as np
import pandas as pd
import pytest

from kam import account_plan, demo, health, playbook, prospects
from kam.config import notebooks_dir
from kam.health import health_table
from kam.model import tables
from kam.profitability import profitability
from kam.reports import summary
from kam.reports.params import NOTEBOOKS, ReportParams
from kam.store import EditSession, Workspace
from kam.workbook import Panel, Workbook, open_workbook
from kam.workbook import app as workbook_app
from kam.workbook.overview import account_overview

USER = "maria.lind"  # KAM of AZURCHEM, PELAGOS, RIVERTON and SOLENNE in the demo
TODAY = demo.TODAY


class StubPanel(Panel):
    """A tiny panel: two named edits through :meth:`Panel.edit`, nothing else."""

    title = "Stub"

    def __init__(self, on_change: Callable[[], None]):
        super().__init__(on_change)
        self.shown = 0
        self.person = w.Text(value="Eva Stark")
        self.add = w.Button(description="Add person")
        self.add.on_click(lambda _b: self.edit("add_person", name=self.person.value,
                                               position="Buyer", roles=["entry"]))
        self.notes = w.Text()
        self.set_notes = w.Button(description="Set notes")
        self.set_notes.on_click(lambda _b: self.edit("update_account", notes=self.notes.value))
        self.new_name = w.Text()
        self.rename = w.Button(description="Rename")
        self.rename.on_click(lambda _b: self.edit("update_account", name=self.new_name.value))
        self.widget = w.VBox([self.status, self.person, self.add, self.notes, self.set_notes,
                              self.new_name, self.rename])

    def show(self, session):
        super().show(session)
        self.shown += 1


class BrokenPanel(Panel):
    title = "Broken"

    def show(self, session):
        raise RuntimeError("boom")


# -- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo workspace folder, built once for this module and never written to."""
    folder = tmp_path_factory.mktemp("workbook") / "demo"
    demo.build(folder).close()
    return folder


@pytest.fixture
def fresh(pristine: Path, tmp_path: Path) -> Callable[[str], Workspace]:
    """A writable copy of the demo workspace (call it again for a second, separate copy)."""
    opened: list[Workspace] = []

    def copy(name: str = "ws") -> Workspace:
        folder = tmp_path / name
        shutil.copytree(pristine, folder)
        opened.append(Workspace(folder))
        return opened[-1]

    yield copy
    for ws in opened:
        ws.close()


@pytest.fixture(scope="module")
def shared_book(pristine: Path) -> Workbook:
    """A workbook on the unchanged demo, for read-only checks of the picker."""
    return open_workbook(pristine, user=USER, today=TODAY, panels=[])


def book_on(ws: Workspace, account: str | None = "AZURCHEM", **kw) -> Workbook:
    return open_workbook(ws, account=account, user=kw.pop("user", USER), today=TODAY,
                         panels=kw.pop("panels", [StubPanel]), **kw)


def stub(book: Workbook) -> StubPanel:
    panel = book.panels[0]
    assert isinstance(panel, StubPanel)
    return panel


def history_tab(book: Workbook):
    """Select the History tab (tabs not on screen redraw when selected) and return it."""
    book.tabs.selected_index = len(book.panels)
    return book.history


def listed(book: Workbook) -> set[str]:
    return {value for _, value in book.picker.select.options}


# -- picker --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def expected_accounts(pristine: Path) -> pd.DataFrame:
    """Plain pandas: the accounts table with the health band of each score."""
    with Workspace(pristine) as ws:
        dossiers = ws.load_all()
    accounts = tables(dossiers).accounts
    scores = health_table(dossiers, TODAY).set_index("account_id")["score"]
    accounts["band"] = np.select(
        [accounts["account_id"].map(scores) < 50, accounts["account_id"].map(scores) < 75],
        ["red", "amber"], "green")
    return accounts


@pytest.mark.parametrize(("controls", "query"), [
    ({"mine": False, "search": "VER"},
     lambda a: a["name"].str.lower().str.contains("ver") | a["account_id"].str.lower()
     .str.contains("ver")),
    ({"mine": False, "search": "  nord "}, lambda a: a["account_id"] == "NORDSTAHL"),
    ({"mine": True}, lambda a: a["kam"] == USER),
    ({"mine": False, "category": "A"}, lambda a: a["category"] == "A"),
    ({"mine": False, "stage": "repeat"}, lambda a: a["sales_stage"] == "repeat"),
    ({"mine": False, "health": "red"}, lambda a: a["band"] == "red"),
    ({"mine": False, "health": "amber"}, lambda a: a["band"] == "amber"),
    ({"mine": True, "stage": "buyer"},
     lambda a: (a["kam"] == USER) & (a["sales_stage"] == "buyer")),
    ({"mine": False, "search": "zzz"}, lambda a: a["account_id"] == ""),
])
def test_picker_search_and_filters_match_plain_pandas(shared_book, expected_accounts,
                                                      controls, query):
    picker = shared_book.picker
    defaults = {"search": "", "mine": False, "category": "", "stage": "", "health": ""}
    for name, value in {**defaults, **controls}.items():
        getattr(picker, name).value = value
    expected = set(expected_accounts.loc[query(expected_accounts), "account_id"])
    assert listed(shared_book) == expected
    assert picker.count.value.startswith(f"{len(expected)} of 12")
    assert shared_book.session is None  # filtering never opens an account


def test_my_accounts_use_the_configured_user(pristine, monkeypatch, expected_accounts):
    monkeypatch.setenv("KAM_USER", "tom.hale")
    book = open_workbook(pristine, today=TODAY, panels=[])
    assert book.user == "tom.hale"
    assert "tom.hale" in book.picker.mine.description and book.picker.mine.value
    assert "tom.hale" in book.picker.user_line.value
    mine = expected_accounts.loc[expected_accounts["kam"] == "tom.hale", "account_id"]
    assert listed(book) == set(mine)


def test_picking_an_account_opens_it(fresh):
    ws = fresh()
    book = book_on(ws, account=None)
    assert book.session is None and "Pick an account" in book.overview.html.value
    book.picker.select.value = "RIVERTON"
    assert book.session is not None and book.session.account_id == "RIVERTON"
    assert book.session.base == ws.head("RIVERTON") and not book.session.dirty
    assert book.overview.current is not None and book.overview.current.account_id == "RIVERTON"
    assert stub(book).shown >= 1 and stub(book).session is book.session
    assert book.tabs.titles == ("Stub", "History")
    assert book.history.history_frame is None  # drawn when its tab is selected
    assert len(history_tab(book).history_frame) == ws.head("RIVERTON")
    bundle = book._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == repr(book) and "RIVERTON" in repr(book)


# -- editing and saving --------------------------------------------------------------------------
def test_edits_mark_unsaved_and_save_the_same_revision_as_the_api(fresh):
    ws_book, ws_api = fresh("book"), fresh("api")
    book = book_on(ws_book)
    panel = stub(book)
    shown = panel.shown
    panel.add.click()
    panel.notes.value = "Met the new buyer"
    panel.set_notes.click()
    assert panel.shown > shown  # every edit redraws the panel on screen and the overview
    assert [(f.label, f.text()) for f in book.overview.current.key_figures] == [
        (f.label, f.text()) for f in report_key_figures(book.session.dossier, ws_book.team())[0]]
    assert "unsaved changes (2 edits)" in book.savebar.mark.value
    assert "With your unsaved edits" in book.overview.html.value
    assert "add_person" in book.savebar.edits_html.value
    assert "Met the new buyer" in book.savebar.edits_html.value
    assert not book.savebar.save_button.disabled
    book.savebar.message.value = "Met Eva"
    book.savebar.save_button.click()
    head = ws_book.head("AZURCHEM")
    assert f"Saved as revision {head}" in book.savebar.status.value
    assert "unsaved" not in book.savebar.mark.value and not book.session.dirty

    api = EditSession(ws_api, "AZURCHEM", author=USER)
    api.apply("add_person", name="Eva Stark", position="Buyer", roles=["entry"])
    api.apply("update_account", notes="Met the new buyer")
    rev = api.save("Met Eva")
    assert rev.number == head
    assert ws_book.load("AZURCHEM").model_dump_json() == ws_api.load("AZURCHEM").model_dump_json()
    last = ws_book.history("AZURCHEM").iloc[-1]
    assert (last["author"], last["message"]) == (USER, "Met Eva")
    # the history tab follows the save
    assert len(history_tab(book).history_frame) == head


def test_a_refused_edit_names_record_and_field_and_changes_nothing(fresh):
    book = book_on(fresh())
    panel = stub(book)
    panel.person.value = ""
    panel.add.click()
    assert "kam-wb-error" in panel.status.value and "name" in panel.status.value
    assert not book.session.dirty


def test_a_save_refused_by_the_store_shows_why_and_keeps_the_edits(fresh):
    ws = fresh()
    book = book_on(ws)
    head = ws.head("AZURCHEM")
    stub(book).edit("update_account", kam="ghost.user")  # not in the team roster
    book.savebar.save_button.click()
    assert "kam-wb-error" in book.savebar.status.value
    assert "ghost.user" in book.savebar.status.value
    assert ws.head("AZURCHEM") == head and book.session.dirty and not book.savebar.stale


def test_stale_save_shows_their_changes_and_reapply_keeps_both(fresh):
    ws = fresh()
    book = book_on(ws)
    stub(book).add.click()
    base = book.session.base
    theirs = EditSession(ws, "AZURCHEM", author="tom.hale")
    theirs.apply("update_account", notes="Tom's call notes")
    theirs.save("Tom's notes")

    book.savebar.save_button.click()
    bar = book.savebar
    assert bar.stale and ws.head("AZURCHEM") == base + 1  # nothing of ours written
    assert "tom.hale" in bar.stale_html.value and "Tom&#x27;s notes" in bar.stale_html.value
    assert bar.their_changes is not None
    assert "account.notes" in set(bar.their_changes["field"])
    assert book.session.dirty  # our edit is kept until we choose

    bar.reapply_button.click()
    assert not bar.stale and bar.failed == [] and book.session.base == base + 1
    bar.save_button.click()
    saved = ws.load("AZURCHEM")
    assert saved.account.notes == "Tom's call notes"
    assert "Eva Stark" in {p.name for p in saved.persons}
    assert ws.head("AZURCHEM") == base + 2


def test_stale_save_discard_mine_reloads_theirs(fresh):
    ws = fresh()
    book = book_on(ws)
    stub(book).add.click()
    theirs = EditSession(ws, "AZURCHEM", author="tom.hale")
    theirs.apply("update_account", notes="Tom's call notes")
    theirs.save("Tom's notes")
    book.savebar.save_button.click()
    assert book.savebar.stale
    book.savebar.reload_button.click()
    assert not book.savebar.stale and not book.session.dirty
    assert book.session.dossier.model_dump_json() == ws.load("AZURCHEM").model_dump_json()
    assert book.session.dossier.account.notes == "Tom's call notes"
    assert stub(book).session.dossier is book.session.dossier  # panels redrawn


def test_reapply_lists_the_edits_that_no_longer_apply(fresh):
    ws = fresh()
    book = book_on(ws)
    link = book.session.dossier.links[0]
    stub(book).add.click()
    book.session.apply("unlink_persons", source=link.source, target=link.target)
    theirs = EditSession(ws, "AZURCHEM", author="tom.hale")
    theirs.apply("unlink_persons", source=link.source, target=link.target)
    theirs.save("removed the link")
    book.savebar.save_button.click()
    book.savebar.reapply_button.click()
    assert book.savebar.failed == [
        f"unlink_persons(source={link.source!r}, target={link.target!r})"]
    assert "no longer" in book.savebar.status.value
    assert [e.name for e in book.session.edits] == ["add_person"]


# -- history and undo ----------------------------------------------------------------------------
def test_history_lists_revisions_and_the_diff_between_two(fresh):
    ws = fresh()
    book = book_on(ws)
    history = history_tab(book)
    expected = ws.history("AZURCHEM")
    pd.testing.assert_frame_equal(history.history_frame, expected)
    for message in expected["message"]:
        assert message.replace("'", "&#x27;") in history.revisions_html.value
    head = ws.head("AZURCHEM")
    assert (history.diff_from.value, history.diff_to.value) == (head - 1, head)
    history.diff_from.value = 1
    pd.testing.assert_frame_equal(history.diff_frame, ws.diff("AZURCHEM", 1, head))
    history.as_of.value = 2
    assert history.as_of_dossier == ws.load("AZURCHEM", 2)
    assert "Revision 2" in history.as_of_html.value


def test_undo_saves_the_old_content_as_a_new_revision(fresh):
    ws = fresh()
    book = book_on(ws)
    head = ws.head("AZURCHEM")
    stub(book).add.click()  # undo is refused while edits are unsaved
    history_tab(book).as_of.value = 2
    book.history.undo_button.click()
    assert "kam-wb-error" in book.history.status.value and ws.head("AZURCHEM") == head
    book.savebar.reload_button.click()  # discard them

    book.history.as_of.value = head  # the current content: nothing to undo
    book.history.undo_button.click()
    assert ws.head("AZURCHEM") == head and "nothing to undo" in book.history.status.value
    book.history.as_of.value = 2
    book.history.undo_button.click()
    assert ws.head("AZURCHEM") == head + 1
    assert ws.load("AZURCHEM").model_dump_json() == ws.load("AZURCHEM", 2).model_dump_json()
    assert ws.history("AZURCHEM")["message"].iloc[-1] == "Undo to revision 2"
    assert book.session.base == head + 1 and not book.session.dirty
    assert len(book.history.history_frame) == head + 1
    assert book.session.dossier.model_dump_json() == ws.load("AZURCHEM").model_dump_json()


# -- switching -----------------------------------------------------------------------------------
def test_switching_with_unsaved_edits_asks_first(fresh):
    ws = fresh()
    book = book_on(ws)
    stub(book).add.click()
    book.picker.select.value = "RIVERTON"
    assert book.session.account_id == "AZURCHEM" and book.session.dirty
    assert book.confirm_row.layout.display == "flex" and "RIVERTON" in book.confirm_html.value

    book.confirm_stay.click()
    assert book.session.account_id == "AZURCHEM" and book.session.dirty
    assert book.picker.select.value == "AZURCHEM" and book.confirm_row.layout.display == "none"

    head = ws.head("AZURCHEM")
    book.picker.select.value = "RIVERTON"
    book.confirm_discard.click()
    assert book.session.account_id == "RIVERTON" and not book.session.dirty
    assert ws.head("AZURCHEM") == head

    stub(book).add.click()
    head = ws.head("RIVERTON")
    book.picker.select.value = "PELAGOS"
    book.savebar.message.value = "Eva joined"
    book.confirm_save.click()
    assert ws.head("RIVERTON") == head + 1 and book.session.account_id == "PELAGOS"
    assert ws.history("RIVERTON")["message"].iloc[-1] == "Eva joined"


# -- the overview --------------------------------------------------------------------------------
def test_user_text_is_escaped_in_the_overview(fresh):
    ws = fresh()
    book = book_on(ws)
    name = "<script>alert('x')</script> & Co"
    stub(book).new_name.value = name
    stub(book).rename.click()
    html = book.overview.html.value
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    assert "<script>alert" not in book.savebar.edits_html.value
    history_tab(book)
    book.savebar.save_button.click()
    assert ws.load("AZURCHEM").account.name == name
    assert book.picker.index.frame.set_index("account_id").loc["AZURCHEM", "name"] == name
    assert "&lt;script&gt;" in book.history.diff_html.value
    assert "<script>alert" not in book.history.diff_html.value


def report_key_figures(dossier, team):
    """The report's computation (notebooks/account_plan.ipynb), with its default settings."""
    today = TODAY
    prospect = prospects.prospect_score(dossier, today=today, team=team)
    plan = account_plan.plan_status(dossier, today) if dossier.plan is not None else None
    deals = playbook.deal_status(dossier, today)
    relationship = health.relationship_health(dossier, today)
    profit = summary.unless_no_data(
        lambda: profitability(tables([dossier]), period=str(today.year), as_of=today))
    return summary.plan_key_figures(dossier, health=relationship, prospect=prospect, plan=plan,
                                    deals=deals, profit=profit), relationship.alerts


@pytest.mark.parametrize("account", ["NORDSTAHL", "BRIGHTWELL", "PELAGOS"])
def test_overview_key_figures_equal_the_report(pristine, account):
    with Workspace(pristine) as ws:
        book = open_workbook(ws, account=account, user=USER, today=TODAY, panels=[])
        dossier, team = ws.load(account), ws.team()
    shown = book.overview.current
    figures, alerts = report_key_figures(dossier, team)
    assert [(f.label, f.text(), f.tone, f.note) for f in shown.key_figures] == \
        [(f.label, f.text(), f.tone, f.note) for f in figures]
    pd.testing.assert_frame_equal(shown.alerts, alerts)
    params = ReportParams(kind="plan", workspace=str(pristine), demo=False, as_of=TODAY,
                          period=str(TODAY.year))
    assert shown.facts == summary.account_facts(dossier, team, params)
    for f in figures:
        assert f.label in book.overview.html.value
    assert account_overview(dossier, team, today=TODAY).key_figures == shown.key_figures


def test_hidden_tabs_redraw_when_selected_and_edit_the_current_session(fresh):
    book = book_on(fresh(), panels=[StubPanel, StubPanel])
    first, second = book.panels
    assert (first.shown, second.shown) == (1, 0) and second.session is book.session
    first.add.click()
    assert (first.shown, second.shown) == (2, 0)
    book.tabs.selected_index = 1
    assert second.shown == 1
    second.notes.value = "from the second tab"
    second.set_notes.click()
    assert (first.shown, second.shown) == (2, 2)
    assert [e.name for e in book.session.edits] == ["add_person", "update_account"]
    book.picker.select.value = "RIVERTON"
    book.confirm_discard.click()
    assert first.session is book.session and book.session.account_id == "RIVERTON"

    every = book_on(fresh("all"), panels=[StubPanel, StubPanel], redraw="all")
    every.panels[0].add.click()  # type: ignore[attr-defined]
    assert [p.shown for p in every.panels] == [2, 2]  # type: ignore[attr-defined]


# -- robustness, opening, notebook ---------------------------------------------------------------
def test_a_broken_panel_does_not_break_the_shell(fresh):
    book = book_on(fresh(), panels=[BrokenPanel, StubPanel])
    assert "Broken could not be drawn" in book.panels[0].status.value
    book.panels[1].add.click()  # type: ignore[attr-defined]
    assert book.session.dirty and book.problems


def test_a_missing_workspace_says_which_folder_and_how_to_create_it(tmp_path, monkeypatch):
    book = open_workbook(tmp_path / "nowhere")
    assert book.problem is not None
    assert str(tmp_path / "nowhere") in book.problem and "kam demo" in book.problem
    monkeypatch.setenv("KAM_WORKSPACE", str(tmp_path / "env-ws"))
    book = open_workbook()
    assert "$KAM_WORKSPACE" in book.problem and str(tmp_path / "env-ws") in book.problem
    assert "kam demo" in book.widget.value
    assert "application/vnd.jupyter.widget-view+json" in book._repr_mimebundle_()


def test_the_default_panels_draw_every_tab(pristine):
    panels = workbook_app.default_panels()
    if not panels:
        pytest.skip("kam.workbook.panels is not there yet")
    with Workspace(pristine) as ws:
        book = open_workbook(ws, account="AZURCHEM", user=USER, today=TODAY)
        for i in range(len(book.panels) + 1):
            book.tabs.selected_index = i
        assert book.problems == []
        assert all(p.session is book.session for p in book.panels)
        assert not book.session.dirty


def test_default_panels_are_none_without_the_panels_module(monkeypatch):
    monkeypatch.setattr(workbook_app.importlib.util, "find_spec", lambda _name: None)
    assert workbook_app.default_panels() == []


def test_the_workbook_notebook_is_one_line_and_never_a_report():
    path = notebooks_dir() / "workbook.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert len(code) == 1
    assert "".join(code[0]["source"]) == \
        "from kam.workbook import open_workbook; open_workbook()"
    assert code[0]["outputs"] == [] and code[0]["execution_count"] is None
    assert "nbval-skip" in code[0]["metadata"]["tags"]
    assert nb["cells"][0]["cell_type"] == "markdown"
    assert path.name not in NOTEBOOKS.values()
    assert not any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb["cells"])
