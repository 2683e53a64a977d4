"""The edit panels of the workbook, headless: each button makes the same named edit the API
makes, the live chart redraws from it, refusals name the record and field and change nothing,
and user text is escaped in every HTML a panel shows."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go
import pytest
from ipywidgets.widgets.widget import CallbackDispatcher

from kam import demo
from kam.store import EditSession, Workspace
from kam.workbook import Panel
from kam.workbook.panels import (
    DEFAULT_PANELS,
    DealsPanel,
    InteractionsPanel,
    MeetingPanel,
    NeedsPanel,
    OpportunitiesPanel,
    PeoplePanel,
    PlanPanel,
)

ACCOUNT = "SOLENNE"  # sale stage: persons, needs, deals, commitments and a plan
AUTHOR = "maria.lind"
TODAY = demo.TODAY
SCRIPT = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = demo.build(tmp_path_factory.mktemp("workbook") / "ws")
    yield workspace
    workspace.close()


@pytest.fixture(autouse=True)
def callbacks_raise(monkeypatch: pytest.MonkeyPatch) -> None:
    """ipywidgets only logs an exception raised by a button's handler: let it fail the test."""

    def call(self: CallbackDispatcher, *args: Any, **kwargs: Any) -> Any:
        value = None
        for callback in self.callbacks:
            result = callback(*args, **kwargs)
            value = result if result is not None else value
        return value

    monkeypatch.setattr(CallbackDispatcher, "__call__", call)


def open_panel(ws: Workspace, cls: type[Panel], account: str = ACCOUNT) -> tuple[Any, EditSession]:
    """A panel on a fresh session, shown again after each of its edits (as the shell does)."""
    session = EditSession(ws, account, author=AUTHOR)
    panel: Any = cls(lambda: panel.show(session), team=ws.team(), today=TODAY)
    panel.show(session)
    return panel, session


def assert_same_as_api(ws: Workspace, session: EditSession, edits: list[tuple[str, dict]],
                       account: str = ACCOUNT) -> None:
    """The panel's session holds exactly what the same named edits through the API give."""
    api = EditSession(ws, account, author=AUTHOR)
    for name, kwargs in edits:
        api.apply(name, **kwargs)
    assert session.dossier.model_dump_json() == api.dossier.model_dump_json()
    assert [e.name for e in session.edits] == [e.name for e in api.edits]


def htmls(widget: w.Widget) -> list[str]:
    """The value of every HTML widget inside ``widget``."""
    out, todo = [], [widget]
    while todo:
        x = todo.pop()
        if isinstance(x, w.HTML | w.HTMLMath):
            out.append(x.value)
        todo.extend(getattr(x, "children", ()))
    return out


def figures(widget: w.Widget) -> list[go.FigureWidget]:
    out, todo = [], [widget]
    while todo:
        x = todo.pop()
        if isinstance(x, go.FigureWidget):
            out.append(x)
        todo.extend(getattr(x, "children", ()))
    return out


def trace(fig: go.FigureWidget, name: str) -> Any:
    return next(t for t in fig.data if t.name == name)


def nodes(fig: go.FigureWidget) -> set[str]:
    return {i for t in fig.data if t.mode == "markers+text" for i in (t.ids or ())}


def unchanged(session: EditSession, before: str, n_edits: int) -> bool:
    return session.dossier.model_dump_json() == before and len(session.edits) == n_edits


# -- the contract ------------------------------------------------------------------------------
def test_default_panels_in_tab_order_take_team_today_and_ignore_unknown_keywords(ws):
    assert [PeoplePanel, NeedsPanel, OpportunitiesPanel, DealsPanel, InteractionsPanel,
            PlanPanel, MeetingPanel] == DEFAULT_PANELS
    for cls in DEFAULT_PANELS:
        panel = cls(lambda: None, team=ws.team(), today=TODAY, something_new=1)
        assert isinstance(panel, Panel) and panel.status in panel.widget.children
        panel.edit("add_person", name="Nobody")  # no account picked yet
        assert "pick an account first" in panel.status.value


def test_charts_are_redrawn_in_place_never_recreated(ws):
    panel, session = open_panel(ws, PeoplePanel)
    fig = panel.figure
    panel.name.value = "Hugo Petit"
    panel.add_button.click()
    panel.show(session)
    assert panel.figure is fig and fig in figures(panel.widget)


# -- buying center -----------------------------------------------------------------------------
def test_adding_a_person_is_the_named_edit_and_a_new_node_in_the_network(ws):
    panel, session = open_panel(ws, PeoplePanel)
    before = nodes(panel.figure)
    panel.pick.value = "__new__"
    panel.name.value = "Hugo Petit"
    panel.position.value = "Maintenance lead"
    panel.department.value = "Maintenance"
    panel.roles.value = ("influencer", "user")
    panel.influence.value = 0.7
    panel.attitude.value = "supporter"
    panel.add_button.click()
    assert_same_as_api(ws, session, [("add_person", dict(
        name="Hugo Petit", position="Maintenance lead", department="Maintenance",
        roles=["influencer", "user"], influence=0.7, attitude="supporter"))])
    new = session.dossier.persons[-1]
    assert nodes(panel.figure) == before | {new.id}
    assert new.id in trace(panel.figure, "supporter").ids
    assert "Hugo Petit" in panel.persons_html.value and new.id in panel.status.value


def test_editing_linking_and_a_power_point_who_left_redraw_chains_and_red_flags(ws):
    panel, session = open_panel(ws, PeoplePanel)
    assert "Julien Moreau" in panel.chains_html.value  # the power point, reached directly
    panel.pick.value = "SO-P5"
    assert panel.name.value == "Élodie Blanc" and panel.roles.value == ("influencer",)
    panel.roles.value = ("influencer", "pain")
    panel.attitude.value = "detractor"
    panel.update_button.click()
    links_before = len(trace(panel.figure, "link details").x)
    panel.source.value, panel.target.value = "SO-P5", "SO-P2"
    panel.strength.value, panel.kind.value = 0.8, "knows"
    panel.link_button.click()
    assert len(trace(panel.figure, "link details").x) == links_before + 1
    panel.pick.value = "SO-P2"
    panel.left_on.value = date(2026, 10, 30)
    panel.left_button.click()
    p5 = session.dossier.person("SO-P5")
    assert_same_as_api(ws, session, [
        ("update_person", dict(person_id="SO-P5", name=p5.name, position=p5.position,
                               department=p5.department, roles=["influencer", "pain"],
                               influence=p5.influence, attitude="detractor")),
        ("link_persons", dict(source="SO-P5", target="SO-P2", strength=0.8, kind="knows")),
        ("person_left", dict(person_id="SO-P2", on=date(2026, 10, 30)))])
    assert "SO-P2" in trace(panel.figure, "left the company").ids
    assert "no power point" in panel.flags_html.value
    assert "contact left" in panel.flags_html.value
    assert "Julien Moreau" not in panel.chains_html.value
    # and the link goes again
    panel.unlink_button.click()
    assert not any((x.source, x.target) == ("SO-P5", "SO-P2") for x in session.dossier.links)
    assert len(trace(panel.figure, "link details").x) == links_before


def test_a_link_to_oneself_is_refused_naming_record_and_field(ws):
    panel, session = open_panel(ws, PeoplePanel)
    before, n = session.dossier.model_dump_json(), len(session.edits)
    panel.source.value = panel.target.value = "SO-P1"
    panel.link_button.click()
    assert "links (SO-P1-&gt;SO-P1)" in panel.status.value
    assert "field <code>target</code>" in panel.status.value
    assert unchanged(session, before, n)


# -- need map and opportunity matrix -----------------------------------------------------------
def test_adding_a_need_is_the_named_edit_and_its_problems_are_shown_by_node(ws):
    panel, session = open_panel(ws, NeedsPanel)
    assert "well formed" in panel.problems_html.value
    before = nodes(panel.figure)
    panel.need_title.value = "Seal wear at the CIP pumps"
    panel.level.value = "problem"
    panel.function.value = "Maintenance"
    panel.cause.value = "caustic cleaning"
    panel.awareness.value = "aware, no solution"
    panel.leads_to.value = ("SO-N3",)
    panel.add_button.click()
    first = session.dossier.needs[-1].id
    assert "well formed" in panel.problems_html.value  # linked upward, with a function
    panel.need_title.value = "Odd noise"
    panel.function.value = ""
    panel.leads_to.value = ()
    panel.add_button.click()
    second = session.dossier.needs[-1].id
    assert_same_as_api(ws, session, [
        ("add_need", dict(title="Seal wear at the CIP pumps", level="problem",
                          function="Maintenance", leads_to=["SO-N3"], cause="caustic cleaning",
                          awareness="aware, no solution")),
        ("add_need", dict(title="Odd noise", level="problem", function=None, leads_to=[]))])
    assert nodes(panel.figure) == before | {first, second}
    problems = panel.problems_html.value
    assert f"<b>Odd noise</b> ({second})" in problems and first not in problems
    assert "<code>function</code>: has no function" in problems
    assert "reaches no effect" in problems
    ring = trace(panel.figure, "needs attention")  # the node with problems is ringed
    where = next(t for t in panel.figure.data if t.ids and second in t.ids)
    i = where.ids.index(second)
    assert (ring.x, ring.y) == ((where.x[i],), (where.y[i],))


def test_linking_a_need_downward_is_refused_at_the_panel_and_changes_nothing(ws):
    panel, session = open_panel(ws, NeedsPanel)
    before, n = session.dossier.model_dump_json(), len(session.edits)
    panel.lower.value, panel.upper.value = "SO-N5", "SO-N1"  # an effect cannot lead to a problem
    panel.link_button.click()
    message = panel.status.value
    assert "account SOLENNE / needs (SO-N5)" in message
    assert "field <code>leads_to</code>" in message and "edges go upward only" in message
    assert unchanged(session, before, n)
    panel.lower.value, panel.upper.value = "SO-N1", "SO-N5"  # not linked: nothing to remove
    panel.unlink_button.click()
    assert "is not linked to" in panel.status.value and unchanged(session, before, n)


def test_assessing_a_need_moves_its_marker_to_the_new_zone(ws):
    panel, session = open_panel(ws, OpportunitiesPanel)
    risk = trace(panel.figure, "Risk")
    assert "SO-N6" in risk.ids
    panel.need.value = "SO-N6"
    assert (panel.significance.value, panel.capability.value) == (4.0, 2.0)
    panel.significance.value, panel.capability.value = 4.6, 4.3
    panel.assess_button.click()
    assert_same_as_api(ws, session, [
        ("assess_need", dict(need_id="SO-N6", significance=4.6, capability=4.3))])
    deal = trace(panel.figure, "Deal")
    i = deal.ids.index("SO-N6")
    assert (deal.x[i], deal.y[i]) == (4.3, 4.6)  # capability along x, significance up y
    assert all("SO-N6" not in (t.ids or ()) for t in panel.figure.data if t.name == "Risk")
    assert "4.6" in panel.current.value


# -- deals -------------------------------------------------------------------------------------
def test_a_refused_move_shows_what_is_missing_before_and_after_and_changes_nothing(ws):
    panel, session = open_panel(ws, DealsPanel)
    before, n = session.dossier.model_dump_json(), len(session.edits)
    reached = list(panel.figure.data[0].x)
    panel.deal.value, panel.stage.value = "SO-D01", "buyer"
    for missing in ("deal.volume", "deal.closed_on", "deal.delivery_terms"):
        assert missing in panel.gate_html.value
    panel.move_button.click()
    for missing in ("deal.volume", "deal.closed_on", "deal.delivery_terms"):
        assert missing in panel.status.value and missing in panel.gate_html.value
    assert "cannot move into stage <b>buyer</b>" in panel.status.value
    assert unchanged(session, before, n) and list(panel.figure.data[0].x) == reached


def test_a_ready_move_is_the_named_edit_and_the_funnel_counts_it(ws):
    panel, session = open_panel(ws, DealsPanel)
    reached = list(panel.figure.data[0].x)
    panel.deal.value, panel.stage.value = "SO-D02", "sale"
    assert "Ready" in panel.gate_html.value
    assert panel.on.value == TODAY
    panel.move_button.click()
    assert_same_as_api(ws, session, [("move_deal", dict(deal_id="SO-D02", stage="sale",
                                                        on=TODAY))])
    assert session.dossier.deal("SO-D02").stage == "sale"
    assert list(panel.figure.data[0].x) == [reached[0], reached[1], reached[2] + 1,
                                            *reached[3:]]
    assert "is in stage <b>sale</b>" in panel.gate_html.value


def test_adding_completing_moving_and_closing_a_deal(ws):
    panel, session = open_panel(ws, DealsPanel)
    panel.new_title.value = "Spare seals"
    panel.new_product.value = "seal kit"
    panel.new_volume.value = "40"
    panel.planned_budget.value = "12 000"
    panel.add_button.click()
    deal_id = session.dossier.deals[-1].id
    assert panel.deal.value == deal_id and panel.product.value == "seal kit"
    panel.expected_close.value = date(2026, 12, 15)
    panel.delivery_terms.value = "FCA Lyon"
    panel.details_button.click()
    panel.stage.value = "sale"
    panel.on.value = date(2026, 11, 2)
    panel.move_button.click()
    panel.outcome.value = "refused"
    panel.close_button.click()  # a refusal needs its reason
    assert "field <code>refusal_reason</code>" in panel.status.value
    panel.reason.value = "high price"
    panel.close_button.click()
    d = session.dossier.deal(deal_id)
    assert_same_as_api(ws, session, [
        ("add_deal", dict(title="Spare seals", stage="lead", created=TODAY, product="seal kit",
                          volume=40.0, planned_budget=12000.0)),
        ("update_deal", dict(deal_id=deal_id, product="seal kit", volume=40.0,
                             refined_budget=None, expected_close=date(2026, 12, 15),
                             delivery_terms="FCA Lyon", contract_terms=None)),
        ("move_deal", dict(deal_id=deal_id, stage="sale", on=date(2026, 11, 2))),
        ("close_deal", dict(deal_id=deal_id, outcome="refused", on=TODAY,
                            reason="high price"))])
    assert (d.stage, d.outcome.value, d.refusal_reason) == ("sale", "refused", "high price")
    assert "refused" in panel.deals_html.value


def test_text_that_is_no_number_is_refused_naming_the_field(ws):
    panel, session = open_panel(ws, DealsPanel)
    before, n = session.dossier.model_dump_json(), len(session.edits)
    panel.new_title.value = "Pumps"
    panel.new_volume.value = "lots"
    panel.add_button.click()
    assert "field <code>volume</code>" in panel.status.value and "lots" in panel.status.value
    assert unchanged(session, before, n)


# -- interactions and commitments --------------------------------------------------------------
def test_logging_a_contact_with_a_commitment_and_keeping_it(ws):
    panel, session = open_panel(ws, InteractionsPanel)
    assert list(panel.done_buttons) == ["SO-C3"]
    panel.kind.value = "visit"
    panel.participants.value = ("SO-P3",)
    panel.our_participants.value = ("maria.lind",)
    panel.deal.value = "SO-D01"
    panel.summary.value = "Walked the reception line"
    panel.outcome.value = "agreed on a second trial"
    panel.next_step.value = "Send the trial plan"
    panel.next_step_due.value = date(2026, 11, 13)
    panel.next_step_as.value = "commitment"
    panel.log_button.click()
    new = session.dossier.commitments[-1]
    assert new.description == "Send the trial plan" and new.id in panel.done_buttons
    assert "Walked the reception line" in panel.recent_html.value
    panel.done_buttons["SO-C3"].click()
    assert_same_as_api(ws, session, [
        ("log_interaction", dict(date=TODAY, kind="visit", participants=["SO-P3"],
                                 our_participants=["maria.lind"],
                                 summary="Walked the reception line",
                                 outcome="agreed on a second trial",
                                 next_step="Send the trial plan",
                                 next_step_due=date(2026, 11, 13), deal="SO-D01",
                                 next_step_as="commitment")),
        ("complete_commitment", dict(commitment_id="SO-C3", on=TODAY))])
    assert list(panel.done_buttons) == [new.id]


def test_an_overdue_commitment_is_marked_and_a_next_step_without_date_is_refused(ws):
    panel, session = open_panel(ws, InteractionsPanel, "BRIGHTWELL")
    text = " ".join(htmls(panel.commitments_box))
    assert "Firmware upgrade" in text and "overdue by 124 days" in text
    assert panel.done_buttons["BW-C1"].button_style == "danger"
    before, n = session.dossier.model_dump_json(), len(session.edits)
    panel.next_step.value = "Call back"
    panel.next_step_as.value = "action"
    panel.log_button.click()
    assert "field <code>next_step_due</code>" in panel.status.value
    assert unchanged(session, before, n)


# -- account plan ------------------------------------------------------------------------------
def test_starting_and_working_a_plan_redraws_its_status(ws):
    panel, session = open_panel(ws, PlanPanel, "TALVIK")
    assert "No account plan yet" in panel.summary_html.value
    assert panel.objectives_figure.data == ()
    panel.period.value = "2027"
    panel.start_button.click()
    panel.obj_title.value, panel.metric.value = "First order", "order value (EUR)"
    panel.baseline.value, panel.target.value = "0", "80000"
    panel.obj_due.value = date(2027, 6, 30)
    panel.add_objective_button.click()
    objective = session.dossier.plan.objectives[0].id
    panel.current.value = "20000"
    panel.update_objective_button.click()
    panel.kpi_name.value, panel.kpi_target.value, panel.unit.value = "Meetings", "6", "count"
    panel.add_kpi_button.click()
    kpi = session.dossier.plan.kpis[0].id
    panel.actual.value = "2"
    panel.actual_button.click()
    panel.action_title.value = "Meet the plant director"
    panel.owner.value = "raj.patel"
    panel.action_due.value = date(2026, 12, 1)
    panel.action_objective.value = objective
    panel.add_action_button.click()
    action = session.dossier.plan.actions[0].id
    assert list(panel.done_buttons) == [action]
    panel.done_buttons[action].click()
    assert_same_as_api(ws, session, [
        ("start_plan", dict(period="2027")),
        ("add_objective", dict(title="First order", metric="order value (EUR)", baseline=0.0,
                               target=80000.0, due=date(2027, 6, 30))),
        ("update_objective", dict(objective_id=objective, current=20000.0)),
        ("add_kpi", dict(name="Meetings", target=6.0, unit="count", higher_is_better=True)),
        ("set_kpi_actual", dict(kpi_id=kpi, actual=2.0)),
        ("add_action", dict(title="Meet the plant director", owner="raj.patel",
                            due=date(2026, 12, 1), objective=objective)),
        ("complete_action", dict(action_id=action, on=TODAY))], account="TALVIK")
    bars = panel.objectives_figure.data[0]
    assert bars.y == ("First order",) and bars.x == (0.25,)
    assert panel.kpi_figure.data[0].value == 2.0
    assert "actions done 100% of 1" in panel.summary_html.value
    assert panel.start_button.disabled


# -- meeting sheet -----------------------------------------------------------------------------
def test_the_meeting_sheet_is_read_only(ws):
    panel, session = open_panel(ws, MeetingPanel)
    before = session.dossier.model_dump_json()
    assert "Pick the persons" in panel.sheet_html.value
    panel.attendees.value = ("SO-P2", "SO-P4")
    sheet = panel.sheet_html.value
    assert "Julien Moreau" in sheet and "Antoine Girard" in sheet
    assert "Revised price offer" in sheet  # the open commitment to Antoine Girard
    assert "Question plan" in sheet and "Brush-offs" in sheet
    assert session.dossier.model_dump_json() == before and not session.edits


# -- escaping and saving -----------------------------------------------------------------------
def test_user_text_is_escaped_in_every_html_the_panels_show(ws):
    session = EditSession(ws, "HELVIA", author=AUTHOR)
    panels: list[Any] = []

    def shell() -> None:
        for p in panels:
            p.show(session)

    # each panel redraws itself after its edit; all of them once the person is there and at
    # the end (the same views as the shell's redraw after every edit, in less time)
    panels += [cls(lambda i=i: panels[i].show(session), team=ws.team(), today=TODAY)
               for i, cls in enumerate(DEFAULT_PANELS)]
    shell()
    people, needs, _, deals, contacts, plan, meeting = panels
    people.name.value = SCRIPT
    people.position.value = "<b>CEO</b>"
    people.roles.value = ("power",)
    people.add_button.click()
    pid = session.dossier.persons[-1].id
    shell()
    needs.need_title.value = "<img src=x onerror=alert(1)>"
    needs.function.value = SCRIPT
    needs.add_button.click()
    deals.new_title.value = SCRIPT
    deals.add_button.click()
    contacts.participants.value = (pid,)
    contacts.summary.value = SCRIPT
    contacts.next_step.value = SCRIPT
    contacts.next_step_due.value = date(2026, 11, 20)
    contacts.next_step_as.value = "commitment"
    contacts.log_button.click()
    plan.action_title.value = SCRIPT
    plan.owner.value = pid
    plan.action_due.value = date(2026, 12, 1)
    plan.add_action_button.click()
    meeting.attendees.value = (pid,)
    assert len(session.edits) == 5
    shell()
    shown = [h for p in panels for h in htmls(p.widget)]
    assert sum("&lt;script&gt;alert(1)&lt;/script&gt;" in h for h in shown) >= 8
    for h in shown:
        assert "<script" not in h and "<img" not in h and "<b>CEO" not in h
    for p in panels:  # the charts escape it too
        for fig in figures(p.widget):
            assert "<script" not in fig.to_json() and "<img" not in fig.to_json()


def test_panel_edits_save_as_a_revision_the_store_accepts(ws):
    session = EditSession(ws, "MCALLISTER", author=AUTHOR)
    panels: list[Any] = []

    def shell() -> None:
        for p in panels:
            p.show(session)

    panels += [cls(shell, team=ws.team(), today=TODAY) for cls in DEFAULT_PANELS]
    shell()
    people, needs, opportunities, deals, contacts, _, _ = panels
    people.name.value, people.position.value = "Ciara Nolan", "Buyer"
    people.add_button.click()
    needs.need_title.value, needs.function.value = "Hygiene audits", "Quality"
    needs.add_button.click()
    opportunities.need.value = session.dossier.needs[-1].id
    opportunities.significance.value, opportunities.capability.value = 3.0, 4.0
    opportunities.assess_button.click()
    deals.new_title.value = "Audit support"
    deals.add_button.click()
    contacts.participants.value = (session.dossier.persons[-1].id,)
    contacts.our_participants.value = ("sofia.costa",)
    contacts.log_button.click()
    assert len(session.edits) == 5 and session.dirty
    head = ws.head("MCALLISTER")
    rev = session.save("edited in the workbook")
    assert rev.number == head + 1 and not session.dirty
    assert ws.load("MCALLISTER") == session.dossier
