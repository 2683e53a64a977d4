"""The meeting preparation sheet: who is coming, what moves them, what to ask, what we owe them.

DOMAIN.md §10: selling to key accounts is consultative — plan situation, problem, implication and
need-payoff questions from the need map, and know the typical brush-offs and better answers to
them (Appendix A, ``templates/objections.yaml``). The question plan:

* **situation** questions fill the gaps of the dossier: an attendee's missing position,
  department, buying role or motivations; the account's missing financial state, consumption,
  suppliers or development plans; a relevant problem without a cause, an effect without a goal, a
  need without the way the client will judge it.
* **problem** questions, one per relevant problem, worded by the client's awareness of it.
* **implication** questions: for each relevant problem, each effect of the need map above it
  ("if this stays as it is, what does it mean for that?").
* **need-payoff** questions: each relevant effect we can deliver (capability at least
  ``capability_high``): "if this were achieved, what would it be worth?".

A need is relevant to a person when the need map (:mod:`kam.needmap`) counts it among their
motivation factors — its ``persons`` name them, or its ``function`` is the department of the
(active) person; effects above a relevant problem are relevant too.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from pathlib import Path
from typing import Any

import networkx as nx
import pandas as pd
from pydantic import Field

from .config import ConfigSource, load_config
from .errors import InputError, ValidationProblem
from .health import last_contacts
from .model import Awareness, CommitmentStatus, Dossier, KamModel, Need, NeedLevel, Person
from .needmap import NeedMap
from .opportunities import load_opportunity_config
from .periods import as_day

__all__ = [
    "MeetingSheet",
    "Objection",
    "Objections",
    "load_objections",
    "md_escape",
    "meeting_sheet",
]


class Objection(KamModel):
    """A brush-off: what the client says, what it usually means, a better answer."""

    says: str = Field(min_length=1)
    means: str = Field(min_length=1)
    answer: str = Field(min_length=1)


class Objections(KamModel):
    """The table of brush-offs (``templates/objections.yaml``)."""

    objections: list[Objection] = Field(min_length=1)


def load_objections(source: ConfigSource = None, **overrides: Any) -> Objections:
    """Read the brush-off table (default: ``templates/objections.yaml``).

    ``source`` may also be a :class:`Objections` or a mapping of the settings to change;
    keyword arguments change single settings. Errors
    (:class:`~kam.errors.ConfigError`) name the file and the setting.
    """
    return load_config(Objections, source, default="objections.yaml",
                       overrides=overrides)

# -- need-map helpers ---------------------------------------------------------------------------
def needs_by_person(dossier: Dossier) -> tuple[NeedMap, dict[str, list[str]]]:
    """The need map of the dossier and, per client person, the ids of the needs that concern
    them (as :meth:`kam.needmap.NeedMap.motivation_factors` ``by="person"`` finds them: the need
    names the person, or belongs to the department of an active person)."""
    nm = NeedMap.from_dossier(dossier)
    factors = nm.motivation_factors(by="person")
    out: dict[str, list[str]] = {}
    for pid, nid in zip(factors.get("person", []), factors.get("need", []), strict=True):
        out.setdefault(str(pid), []).append(str(nid))
    return nm, out


def md_escape(text: object) -> str:
    """Text made safe for a Markdown table cell: Markdown and HTML punctuation is
    backslash-escaped and line breaks become spaces.

    >>> md_escape("a|b <script>*x*</script>")
    'a\\\\|b \\\\<script\\\\>\\\\*x\\\\*\\\\</script\\\\>'
    """
    s = "" if text is None else str(text)
    s = s.replace("\\", "\\\\")
    for ch in "`*_[]<>|#~&!":
        s = s.replace(ch, "\\" + ch)
    return " ".join(s.split())


# -- the sheet ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class MeetingSheet:
    """A meeting preparation sheet (see :func:`meeting_sheet`)."""

    account_id: str
    account_name: str
    today: date
    attendees: pd.DataFrame
    motivations: pd.DataFrame
    questions: pd.DataFrame
    commitments: pd.DataFrame
    objections: pd.DataFrame

    def _sections(self) -> list[tuple[str, pd.DataFrame]]:
        return [("Who is coming", self.attendees), ("What moves them", self.motivations),
                ("Question plan", self.questions), ("Open commitments", self.commitments),
                ("Brush-offs and better answers", self.objections)]

    def to_markdown(self) -> str:
        """The sheet as Markdown (every cell escaped with :func:`md_escape`)."""
        out = [f"## Meeting preparation: {md_escape(self.account_name)} "
               f"({self.today.isoformat()})", ""]
        for title, frame in self._sections():
            out += [f"### {title}", ""]
            if not len(frame):
                out += ["(none)", ""]
                continue
            out.append("| " + " | ".join(md_escape(c) for c in frame.columns) + " |")
            out.append("|" + "---|" * len(frame.columns))
            for row in frame.itertuples(index=False):
                out.append("| " + " | ".join(md_escape(_cell(v)) for v in row) + " |")
            out.append("")
        return "\n".join(out)

    def _repr_html_(self) -> str:
        parts = [f"<h3>Meeting preparation: {escape(self.account_name)} "
                 f"({self.today.isoformat()})</h3>"]
        for title, frame in self._sections():
            parts.append(f"<h4>{escape(title)}</h4>")
            if not len(frame):
                parts.append("<p>(none)</p>")
                continue
            head = "".join(f"<th>{escape(str(c))}</th>" for c in frame.columns)
            body = "".join(
                "<tr>" + "".join(f"<td>{escape(_cell(v))}</td>" for v in row) + "</tr>"
                for row in frame.itertuples(index=False))
            parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        return "".join(parts)


def _cell(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


_PROBLEM_Q = {
    None: "How does '{title}' affect your work today?",
    Awareness.UNAWARE: "How do you see '{title}' today - does it matter to {function}?",
    Awareness.AWARE_NO_SOLUTION: "What have you tried about '{title}', and what stood in the way?",
    Awareness.SOLVING: "How is the work on '{title}' going, and what would you change in it?",
}


def meeting_sheet(dossier: Dossier, persons: str | Sequence[str], today: date, *,
                  capability_high: float | None = None,
                  objections: Objections | str | Path | None = None) -> MeetingSheet:
    """Prepare a meeting with one or more persons of an account.

    Parameters
    ----------
    dossier : Dossier
    persons : str or list of str
        Ids of the client persons attending; an unknown id raises
        :class:`~kam.errors.InputError` listing the valid ids.
    today : date
        The day of the preparation (for days since contact and overdue commitments).
    capability_high : float, optional
        The capability from which we can deliver an effect, which makes it the subject of a
        need-payoff question; default: the capability threshold of the opportunity matrix
        (``templates/opportunities.yaml``).
    objections : Objections, path or None
        The brush-off table; default ``templates/objections.yaml``.

    Returns
    -------
    MeetingSheet
        ``attendees`` (id, name, position, department, roles, influence, attitude, active,
        last_contact, days_since_contact), ``motivations`` (person_id, person, motivation,
        source (dossier / need map), need_id, level, factor, detail: the cause of a problem,
        the evaluation of a criterion, the goal of an effect), ``questions`` (kind, question,
        need_id, ask),
        ``commitments`` (id, description, to, due, overdue, days_overdue, owner),
        ``objections`` (says, means, answer).

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import Account, Dossier, Need, Person
    >>> d = Dossier(account=Account(id="A", name="Acme"),
    ...     persons=[Person(id="p1", name="Ann", position="CTO", department="Production")],
    ...     needs=[Need(id="n1", title="Pump downtime", function="Production", leads_to=["n2"],
    ...                 cause="worn seals"),
    ...            Need(id="n2", title="Output +5%", level="effect", function="Production",
    ...                 goal="grow", capability=4, evaluation="t/day")])
    >>> sheet = meeting_sheet(d, "p1", date(2026, 3, 1))
    >>> sheet.questions[sheet.questions.kind != "situation"]["question"].tolist()
    ... # doctest: +NORMALIZE_WHITESPACE
    ["How does 'Pump downtime' affect your work today?",
     "If 'Pump downtime' stays as it is, what does it mean for 'Output +5%' and for the goal
     'grow'?",
     "If 'Output +5%' were achieved, what would it be worth to Production?"]
    """
    today = as_day(today)
    ids = [persons] if isinstance(persons, str) else list(persons)
    known = {p.id: p for p in dossier.persons}
    unknown = [i for i in ids if i not in known]
    if unknown or not ids:
        raise InputError([ValidationProblem(
            record=f"account {dossier.account.id}", field="persons",
            message=(f"unknown person id(s) {', '.join(repr(i) for i in unknown)}" if unknown
                     else "no person given") + "; valid ids: "
                     + (", ".join(sorted(known)) or "none (the account has no persons)"))])
    attendees = [known[i] for i in dict.fromkeys(ids)]
    table = objections if isinstance(objections, Objections) else load_objections(objections)
    contacts = last_contacts(dossier, today)

    att_rows = []
    for p in attendees:
        last = contacts.get(p.id)
        att_rows.append({
            "id": p.id, "name": p.name, "position": p.position, "department": p.department,
            "roles": ", ".join(r.value for r in p.roles), "influence": p.influence,
            "attitude": p.attitude.value, "active": p.active, "last_contact": last,
            "days_since_contact": (today - last).days if last else None})

    # relevant needs, with who they concern
    nm, of_person = needs_by_person(dossier)
    by_id = {n.id: n for n in dossier.needs}
    concern: dict[str, list[Person]] = {}
    for p in attendees:
        for nid in of_person.get(p.id, []):
            concern.setdefault(nid, []).append(p)

    mot_rows: list[dict[str, Any]] = []
    for p in attendees:
        for kind, text in (("business", p.business_motivation),
                           ("personal", p.personal_motivation)):
            if text:
                mot_rows.append({"person_id": p.id, "person": p.name, "motivation": kind,
                                 "source": "dossier", "need_id": None, "level": None,
                                 "factor": text, "detail": None})
        mine = [by_id[i] for i in of_person.get(p.id, [])]
        for n in sorted(mine, key=lambda n: (-n.level.rank, n.id)):
            detail = {NeedLevel.PROBLEM: n.cause, NeedLevel.CRITERION: n.evaluation,
                      NeedLevel.EFFECT: n.goal}[n.level]
            mot_rows.append({"person_id": p.id, "person": p.name,
                             "motivation": n.motivation.value, "source": "need map",
                             "need_id": n.id, "level": n.level.value, "factor": n.title,
                             "detail": detail})

    if capability_high is None:
        capability_high = load_opportunity_config().capability.threshold
    questions = _question_plan(dossier, nm, attendees, concern, by_id, capability_high)

    names = {p.id: p.name for p in dossier.persons}
    com_rows = []
    for c in sorted(dossier.commitments, key=lambda c: (c.due, c.id)):
        if c.status is not CommitmentStatus.OPEN:
            continue
        if c.to_person is not None and c.to_person not in ids:
            continue
        late = c.overdue(today)
        com_rows.append({"id": c.id, "description": c.description,
                         "to": names[c.to_person] if c.to_person else "the account",
                         "due": c.due, "overdue": late,
                         "days_overdue": (today - c.due).days if late else 0,
                         "owner": c.owner})

    def frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
        return pd.DataFrame(rows, columns=columns, dtype=object)

    return MeetingSheet(
        account_id=dossier.account.id, account_name=dossier.account.name, today=today,
        attendees=frame(att_rows, ["id", "name", "position", "department", "roles", "influence",
                                   "attitude", "active", "last_contact", "days_since_contact"]),
        motivations=frame(mot_rows, ["person_id", "person", "motivation", "source", "need_id",
                                     "level", "factor", "detail"]),
        questions=frame(questions, ["kind", "question", "need_id", "ask"]),
        commitments=frame(com_rows, ["id", "description", "to", "due", "overdue",
                                     "days_overdue", "owner"]),
        objections=frame([o.model_dump() for o in table.objections], ["says", "means", "answer"]),
    )


def _question_plan(dossier: Dossier, nm: NeedMap, attendees: list[Person],
                   concern: dict[str, list[Person]],
                   by_id: dict[str, Need], capability_high: float) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    concern = dict(concern)

    def ask(kind: str, question: str, need: str | None, who: Iterable[Person]) -> None:
        rows.append({"kind": kind, "question": question, "need_id": need,
                     "ask": ", ".join(p.name for p in who)})

    everyone = attendees
    # situation: gaps in what we know about the attendees ...
    for p in attendees:
        if not p.position:
            ask("situation", "What is your position, and what are you responsible for?", None, [p])
        if not p.department:
            ask("situation", "Which department do you work in, and who do you report to?",
                None, [p])
        if not p.roles:
            ask("situation", "Who takes part in decisions on purchases like ours, and what is "
                "your part in them?", None, [p])
        has_business = p.business_motivation or any(
            by_id[n].motivation.value == "business" for n, ps in concern.items() if p in ps)
        if not has_business:
            ask("situation", "What are your department's main goals this year?", None, [p])
        if not p.personal_motivation:
            ask("situation", "What would make this project a success for you personally?",
                None, [p])
    # ... about the account ...
    acc = dossier.account
    if acc.financial.revenue is None or acc.financial.trend is None:
        ask("situation", "How is the business developing this year?", None, everyone)
    if acc.market.total_consumption is None:
        ask("situation", "How much of what we offer do you use per year, from all suppliers?",
            None, everyone)
    if not acc.market.main_competitors:
        ask("situation", "Which suppliers do you work with today?", None, everyone)
    if not acc.development_plans:
        ask("situation", "What are the company's development plans for the next years?",
            None, everyone)
    # ... and about the relevant needs
    relevant = sorted((by_id[i] for i in concern), key=lambda n: (n.level.rank, n.id))
    for n in relevant:
        who = concern[n.id]
        if n.level is NeedLevel.PROBLEM and not n.cause:
            ask("situation", f"What causes '{n.title}'?", n.id, who)
        if n.level is NeedLevel.EFFECT and not n.goal:
            ask("situation", f"Which goal of yours does '{n.title}' serve?", n.id, who)
        if not n.evaluation:
            ask("situation", f"How will you judge that '{n.title}' is met?", n.id, who)

    problems = [n for n in relevant if n.level is NeedLevel.PROBLEM]
    for n in problems:
        ask("problem", _PROBLEM_Q[n.awareness].format(
            title=n.title, function=n.function or "your department"), n.id, concern[n.id])
    effects: dict[str, Need] = {n.id: n for n in relevant if n.level is NeedLevel.EFFECT}
    for n in problems:
        above = sorted((by_id[i] for i in nx.descendants(nm.graph, n.id) if i in by_id
                        and by_id[i].level is NeedLevel.EFFECT), key=lambda e: e.id)
        for e in above:
            effects.setdefault(e.id, e)
            merged = concern.get(e.id, [])
            concern[e.id] = merged + [p for p in concern[n.id] if p not in merged]
            goal = f" and for the goal '{e.goal}'" if e.goal else ""
            ask("implication", f"If '{n.title}' stays as it is, what does it mean for "
                f"'{e.title}'{goal}?", e.id, concern[n.id])
    for e in sorted(effects.values(), key=lambda n: n.id):
        if e.capability is not None and e.capability >= capability_high:
            ask("need-payoff", f"If '{e.title}' were achieved, what would it be worth to "
                f"{e.function or 'you'}?", e.id, concern[e.id])
    return rows
