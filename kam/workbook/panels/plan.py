"""The account plan panel: start a plan, add objectives and update their current value, add KPIs
and record their actuals, add actions and mark them done; the plan status charts redraw
(DOMAIN.md §10)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from html import escape
from typing import Any

import ipywidgets as w
import plotly.graph_objects as go

from ...account_plan import plan_status
from ...figures.account_plan import kpi_figure, objectives_figure
from ...model import ActionStatus, Team
from ..base import Panel, message_html, redraw
from ._common import (
    chart,
    form,
    missing,
    note_html,
    number,
    our_people,
    person_options,
    row,
    set_options,
    text,
)

__all__ = ["PlanPanel"]


class PlanPanel(Panel):
    """Account plan: period, objectives, KPIs, actions, and the status charts.

    Parameters
    ----------
    on_change : callable
    team : Team, optional
        Our team roster (the choices for action owners, with the client persons).
    today : date, optional
        The day of the plan status, the default due and done dates (default: the real today).
    """

    title = "Account plan"

    def __init__(self, on_change: Callable[[], None], *, team: Team | None = None,
                 today: date | None = None, **_: Any):
        super().__init__(on_change)
        self.team = team
        self.today = today or date.today()
        self.period = w.Text(description="Period", value=str(self.today.year),
                             placeholder="2026, 2026-Q1 or 2026-03")
        self.start_button = w.Button(description="Start plan", icon="play")
        # objectives
        self.obj_title = w.Text(description="Objective")
        self.metric = w.Text(description="Metric")
        self.baseline = w.Text(description="Baseline")
        self.target = w.Text(description="Target")
        self.obj_due = w.DatePicker(description="Due")
        self.add_objective_button = w.Button(description="Add objective", icon="plus")
        self.objective = w.Dropdown(description="Objective")
        self.current = w.Text(description="Current")
        self.update_objective_button = w.Button(description="Update current", icon="save")
        # KPIs
        self.kpi_name = w.Text(description="KPI")
        self.kpi_target = w.Text(description="Target")
        self.unit = w.Text(description="Unit")
        self.higher_is_better = w.Checkbox(description="higher is better", value=True)
        self.add_kpi_button = w.Button(description="Add KPI", icon="plus")
        self.kpi = w.Dropdown(description="KPI")
        self.actual = w.Text(description="Actual")
        self.actual_button = w.Button(description="Set actual", icon="save")
        # actions
        self.action_title = w.Text(description="Action")
        self.owner = w.Dropdown(description="Owner")
        self.action_due = w.DatePicker(description="Due")
        self.action_objective = w.Dropdown(description="For")
        self.add_action_button = w.Button(description="Add action", icon="plus")
        self.done_on = w.DatePicker(description="Done on", value=self.today)
        self.actions_box = w.VBox()
        self.done_buttons: dict[str, w.Button] = {}
        self.summary_html = w.HTML()
        self.objectives_figure = chart()
        self.kpi_figure = chart()

        self.start_button.on_click(lambda _: self._start())
        self.add_objective_button.on_click(lambda _: self._add_objective())
        self.update_objective_button.on_click(lambda _: self._update_objective())
        self.add_kpi_button.on_click(lambda _: self._add_kpi())
        self.actual_button.on_click(lambda _: self._set_actual())
        self.add_action_button.on_click(lambda _: self._add_action())
        self.widget = w.VBox([
            self.status, w.HBox([self.period, self.start_button]), self.summary_html,
            row(self.objectives_figure, self.kpi_figure),
            row(form("Objectives", self.obj_title, self.metric, self.baseline, self.target,
                     self.obj_due, self.add_objective_button, self.objective, self.current,
                     self.update_objective_button),
                form("KPIs", self.kpi_name, self.kpi_target, self.unit, self.higher_is_better,
                     self.add_kpi_button, self.kpi, self.actual, self.actual_button),
                form("Actions", self.action_title, self.owner, self.action_due,
                     self.action_objective, self.add_action_button, self.done_on,
                     self.actions_box)),
        ])

    def show(self, session: Any) -> None:
        """Redraw the status, the charts, the choices and the open actions."""
        super().show(session)
        d = session.dossier
        plan = d.plan
        set_options(self.owner, [*our_people(d, self.team), *person_options(d, active_only=True)])
        objectives = [(f"{o.title} ({o.id})", o.id) for o in (plan.objectives if plan else [])]
        set_options(self.objective, objectives)
        set_options(self.action_objective, [("(no objective)", None), *objectives])
        set_options(self.kpi, [(f"{k.name} ({k.id})", k.id) for k in (plan.kpis if plan else [])])
        self.start_button.disabled = plan is not None
        self.period.disabled = plan is not None
        rows: list[w.Widget] = []
        self.done_buttons = {}
        if plan is None:
            self.period.value = self.period.value or str(self.today.year)
            self.summary_html.value = note_html("No account plan yet: start one for a period.")
            redraw(self.objectives_figure, go.Figure())
            redraw(self.kpi_figure, go.Figure())
        else:
            self.period.value = plan.period
            status = plan_status(d, self.today)
            s = status.summary
            share = "n/a" if s["share_done"] is None else f"{s['share_done']:.0%}"
            self.summary_html.value = (
                f"<p>Plan <b>{escape(plan.period)}</b> as of {self.today.isoformat()}: actions "
                f"done {share} of {s['actions']}, overdue {s['overdue']}; objectives off "
                f"track {s['objectives_off_track']}; KPIs red / amber / green "
                f"{s['kpis_red']} / {s['kpis_amber']} / {s['kpis_green']}.</p>")
            redraw(self.objectives_figure, objectives_figure(status))
            redraw(self.kpi_figure, kpi_figure(status))
            for r in status.actions.to_dict("records"):
                if r["status"] in (ActionStatus.DONE.value, ActionStatus.CANCELLED.value):
                    continue
                late = f" <b style='color:#c44e52'>overdue by {r['days_overdue']} days</b>" \
                    if r["overdue"] else ""
                label = w.HTML(f"{escape(str(r['title']))} - {escape(str(r['owner']))}, due "
                               f"{r['due'].isoformat()}{late}", layout=w.Layout(width="420px"))
                button = w.Button(description="Done", icon="check",
                                  layout=w.Layout(width="90px"))
                button.on_click(lambda _, aid=r["id"]: self._done(aid))
                self.done_buttons[r["id"]] = button
                rows.append(w.HBox([label, button]))
        self.actions_box.children = rows or [w.HTML(note_html("No open action."))]

    # -- edits -----------------------------------------------------------------------------
    def _ok(self, result: Any, message: str) -> None:
        if result is not None:
            self.status.value = message_html(ok=message)

    def _start(self) -> None:
        self._ok(self.edit("start_plan", period=text(self.period) or ""), "Plan started.")

    def _add_objective(self) -> None:
        if self.obj_due.value is None:
            self.status.value = message_html(missing("plan / objectives", "due",
                                                     "pick the due date"))
            return
        o = self.edit("add_objective", title=text(self.obj_title) or "",
                      metric=text(self.metric) or "", baseline=number(self.baseline),
                      target=number(self.target), due=self.obj_due.value)
        self._ok(o, f"Added objective {o.id}." if o else "")

    def _update_objective(self) -> None:
        if self.objective.value is None:
            self.status.value = message_html(missing("plan / objectives", "id",
                                                     "add an objective first"))
            return
        self._ok(self.edit("update_objective", objective_id=self.objective.value,
                           current=number(self.current)), "Objective updated.")

    def _add_kpi(self) -> None:
        k = self.edit("add_kpi", name=text(self.kpi_name) or "", target=number(self.kpi_target),
                      unit=text(self.unit), higher_is_better=self.higher_is_better.value)
        self._ok(k, f"Added KPI {k.id}." if k else "")

    def _set_actual(self) -> None:
        if self.kpi.value is None:
            self.status.value = message_html(missing("plan / kpis", "id", "add a KPI first"))
            return
        self._ok(self.edit("set_kpi_actual", kpi_id=self.kpi.value, actual=number(self.actual)),
                 "Actual recorded.")

    def _add_action(self) -> None:
        if self.action_due.value is None or self.owner.value is None:
            self.status.value = message_html(missing("plan / actions", "due",
                                                     "pick the owner and the due date"))
            return
        kwargs: dict[str, Any] = {"title": text(self.action_title) or "",
                                  "owner": self.owner.value, "due": self.action_due.value}
        if self.action_objective.value is not None:
            kwargs["objective"] = self.action_objective.value
        a = self.edit("add_action", **kwargs)
        self._ok(a, f"Added action {a.id}." if a else "")

    def _done(self, action_id: str) -> None:
        if self.done_on.value is None:
            self.status.value = message_html(missing(f"plan / actions ({action_id})", "done_on",
                                                     "pick the date it was done"))
            return
        self._ok(self.edit("complete_action", action_id=action_id, on=self.done_on.value),
                 f"Action {action_id} done.")
