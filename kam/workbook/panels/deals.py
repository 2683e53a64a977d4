"""The deals panel: the account's deals, what the stage gate still needs before a move, moving,
opening, completing and closing deals; the account's funnel redraws (DOMAIN.md §1, §6)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from html import escape
from typing import Any

import ipywidgets as w
import pandas as pd

from ...figures.funnel import funnel_figure
from ...funnel import funnel
from ...model import DealOutcome, Dossier, StageModel, load_stages, missing_for_deal_stage, tables
from ...playbook import Playbook, deal_status, load_playbook
from ..base import Panel, message_html, redraw
from ._common import chart, form, missing, number, row, set_options, table_html, text

__all__ = ["DealsPanel", "gate_html"]

_DETAILS = ("product", "volume", "refined_budget", "expected_close", "delivery_terms",
            "contract_terms")


def gate_html(dossier: Dossier, deal_id: str | None, stage: str | None,
              stages: StageModel) -> str:
    """What the stage gate still needs before ``deal_id`` moves into ``stage`` -- or that it is
    ready -- as escaped HTML (from :func:`kam.model.missing_for_deal_stage`).

    Examples
    --------
    >>> from kam.model import Account, Deal, Dossier, load_stages
    >>> d = Dossier(account=Account(id="ACME", name="Acme", phone="1"),
    ...             deals=[Deal(id="D1", title="Pumps <XL>", product="pump set", volume=4)])
    >>> print(gate_html(d, "D1", "potential", load_stages()))  # doctest: +NORMALIZE_WHITESPACE
    <div class='kam-wb-error'>Before Pumps &lt;XL&gt; (D1) can move into <b>potential</b>, it
    still needs:<ul><li>a contact person with position and buying-center role
    (persons)</li></ul></div>
    """
    if deal_id is None or stage is None:
        return ""
    deal = dossier.deal(deal_id)
    label = escape(f"{deal.title} ({deal.id})")
    if stage == deal.stage:
        return f"<div class='kam-wb-gate'>{label} is in stage <b>{escape(stage)}</b>.</div>"
    if stages.position(stage) <= stages.position(deal.stage):
        return (f"<div class='kam-wb-gate'>{label} is in stage <b>{escape(deal.stage)}</b>; "
                f"a move back to <b>{escape(stage)}</b> passes no gate.</div>")
    try:
        needed = missing_for_deal_stage(dossier, deal, stage)
    except ValueError:  # a stage outside the five sales stages is not gated
        needed = []
    if not needed:
        return (f"<div class='kam-wb-ok'>Ready: {label} has what stage <b>{escape(stage)}</b> "
                "requires.</div>")
    items = "".join(f"<li>{escape(m)}</li>" for m in needed)
    return (f"<div class='kam-wb-error'>Before {label} can move into <b>{escape(stage)}</b>, "
            f"it still needs:<ul>{items}</ul></div>")


class DealsPanel(Panel):
    """Deals: the table (stage, outcome, budgets, days in stage), a move with the gate shown
    before it, a new deal, the details the gate asks for, closing a deal; the funnel chart.

    Parameters
    ----------
    on_change : callable
    today : date, optional
        The default date of moves, new deals and closings, and the day days in stage are
        counted to (default: the real today).
    stages : StageModel, optional
        The stage model (default: ``templates/stages.yaml``).
    playbook : Playbook, optional
        The playbook the deal status is read with (default: ``templates/playbook.yaml``).
    """

    title = "Deals"

    def __init__(self, on_change: Callable[[], None], *, today: date | None = None,
                 stages: StageModel | None = None, playbook: Playbook | None = None,
                 **_: Any):
        super().__init__(on_change)
        self.today = today or date.today()
        self.stages = stages or load_stages()
        self.playbook = playbook or load_playbook()
        self._refreshing = False
        stage_options = list(zip(self.stages.labels, self.stages.ids, strict=True))
        # move
        self.deal = w.Dropdown(description="Deal", layout=w.Layout(width="480px"))
        self.stage = w.Dropdown(description="Move to", options=stage_options)
        self.on = w.DatePicker(description="On", value=self.today)
        self.gate_html = w.HTML()
        self.move_button = w.Button(description="Move", icon="arrow-right")
        # details the gate asks for
        self.product = w.Text(description="Product")
        self.volume = w.Text(description="Volume")
        self.refined_budget = w.Text(description="Refined budget")
        self.expected_close = w.DatePicker(description="Expected close")
        self.delivery_terms = w.Text(description="Delivery terms")
        self.contract_terms = w.Text(description="Contract terms")
        self.details_button = w.Button(description="Save details", icon="save")
        # close
        self.outcome = w.Dropdown(description="Outcome", options=[
            o.value for o in DealOutcome if o is not DealOutcome.OPEN])
        self.reason = w.Text(description="Reason", placeholder="why the client refused")
        self.closed_on = w.DatePicker(description="Closed on", value=self.today)
        self.actual_budget = w.Text(description="Actual budget")
        self.close_button = w.Button(description="Close deal", icon="flag-checkered")
        # new deal
        self.new_title = w.Text(description="Title")
        self.new_stage = w.Dropdown(description="Stage", options=stage_options)
        self.created = w.DatePicker(description="Created", value=self.today)
        self.new_product = w.Text(description="Product")
        self.new_volume = w.Text(description="Volume")
        self.planned_budget = w.Text(description="Planned budget")
        self.new_close = w.DatePicker(description="Expected close")
        self.add_button = w.Button(description="Add deal", icon="plus")
        self.deals_html = w.HTML()
        self.figure = chart()

        self.deal.observe(self._picked, "value")
        self.stage.observe(lambda _: self._gate(), "value")
        self.move_button.on_click(lambda _: self._move())
        self.details_button.on_click(lambda _: self._details())
        self.close_button.on_click(lambda _: self._close())
        self.add_button.on_click(lambda _: self._add())
        self.widget = w.VBox([
            self.status,
            row(self.figure, w.VBox([
                form("Move a deal", self.deal, self.stage, self.on, self.gate_html,
                     self.move_button),
                form("What the gate asks for", self.product, self.volume, self.refined_budget,
                     self.expected_close, self.delivery_terms, self.contract_terms,
                     self.details_button)])),
            self.deals_html,
            row(form("Close the deal", self.outcome, self.reason, self.closed_on,
                     self.actual_budget, self.close_button),
                form("New deal", self.new_title, self.new_stage, self.created,
                     self.new_product, self.new_volume, self.planned_budget, self.new_close,
                     self.add_button)),
        ])

    def show(self, session: Any) -> None:
        """Redraw the table, the gate and the funnel from ``session.dossier``."""
        super().show(session)
        d = session.dossier
        self._refreshing = True
        try:
            changed = set_options(self.deal, [
                (f"{x.title} ({x.id}) - {x.stage}, {x.outcome.value}", x.id)
                for x in sorted(d.deals, key=lambda x: (not x.is_open, x.id))])
        finally:
            self._refreshing = False
        if changed:
            self._picked()
        self._gate()
        status = deal_status(d, self.today, self.playbook, self.stages)
        days = dict(zip(status["deal_id"], status["days_in_stage"], strict=True))
        self.deals_html.value = table_html(pd.DataFrame([{
            "id": x.id, "title": x.title, "stage": x.stage, "outcome": x.outcome.value,
            "planned": x.planned_budget, "refined": x.refined_budget, "actual": x.actual_budget,
            "days": days.get(x.id), "closed_on": x.closed_on} for x in d.deals]), {
            "id": "Id", "title": "Deal", "stage": "Stage", "outcome": "Outcome",
            "planned": "Planned budget", "refined": "Refined budget", "actual": "Actual budget",
            "days": "Days in stage", "closed_on": "Closed on"}, empty="No deal yet.")
        redraw(self.figure, funnel_figure(funnel(tables([d]), stages=self.stages)))

    def _gate(self) -> None:
        if self.session is not None:
            self.gate_html.value = gate_html(self.session.dossier, self.deal.value,
                                             self.stage.value, self.stages)

    def _picked(self, _: object = None) -> None:
        """Fill the details with the picked deal's and show its gate."""
        if self._refreshing or self.session is None or self.deal.value is None:
            return
        x = self.session.dossier.deal(self.deal.value)
        for f in _DETAILS:
            value = getattr(x, f)
            widget = getattr(self, f)
            if isinstance(widget, w.DatePicker):
                widget.value = value
            else:
                widget.value = "" if value is None else f"{value:.15g}" if isinstance(
                    value, float) else str(value)
        self._gate()

    # -- edits -----------------------------------------------------------------------------
    def _picked_deal(self, field: str) -> str | None:
        if self.deal.value is None:
            self.status.value = message_html(missing("deals", field, "pick a deal first"))
        return self.deal.value

    def _move(self) -> None:
        deal_id = self._picked_deal("stage")
        if deal_id is None:
            return
        if self.on.value is None:
            self.status.value = message_html(missing(f"deal {deal_id}", "history",
                                                     "pick the date of the move"))
            return
        moved = self.edit("move_deal", deal_id=deal_id, stage=self.stage.value, on=self.on.value)
        self._gate()
        if moved is not None:
            self.status.value = message_html(ok=f"{deal_id} is in stage {moved.stage}.")

    def _details(self) -> None:
        deal_id = self._picked_deal("product")
        if deal_id is None:
            return
        changes: dict[str, Any] = {
            "product": text(self.product), "volume": number(self.volume),
            "refined_budget": number(self.refined_budget),
            "expected_close": self.expected_close.value,
            "delivery_terms": text(self.delivery_terms),
            "contract_terms": text(self.contract_terms)}
        if self.edit("update_deal", deal_id=deal_id, **changes) is not None:
            self.status.value = message_html(ok=f"Saved the details of {deal_id}.")

    def _close(self) -> None:
        deal_id = self._picked_deal("outcome")
        if deal_id is None:
            return
        if self.closed_on.value is None:
            self.status.value = message_html(missing(f"deal {deal_id}", "closed_on",
                                                     "pick the date the deal closed"))
            return
        kwargs: dict[str, Any] = {"deal_id": deal_id, "outcome": self.outcome.value,
                                  "on": self.closed_on.value}
        if text(self.reason) is not None:
            kwargs["reason"] = text(self.reason)
        if number(self.actual_budget) is not None:
            kwargs["actual_budget"] = number(self.actual_budget)
        if self.edit("close_deal", **kwargs) is not None:
            self.status.value = message_html(ok=f"Closed {deal_id} as {self.outcome.value}.")

    def _add(self) -> None:
        fields: dict[str, Any] = {
            "title": text(self.new_title) or "", "stage": self.new_stage.value,
            "created": self.created.value, "product": text(self.new_product),
            "volume": number(self.new_volume), "planned_budget": number(self.planned_budget),
            "expected_close": self.new_close.value}
        deal = self.edit("add_deal", **{k: v for k, v in fields.items() if v is not None})
        if deal is not None:
            self.new_title.value = ""
            if deal.id in [v for _, v in self.deal.options]:
                self.deal.value = deal.id
            self.status.value = message_html(ok=f"Added deal {deal.id}.")
