"""Tasks a planner assigns to a team member, with a due date (DOMAIN.md §9, §11).

A **task** is work a planner (a sales director, a lead manager) gives to a client-manager or a
KAM: "prepare the Q1 offer for Nordstahl", "call the ten new leads of the North". Its control
(:mod:`kam.control`) counts per manager the open, done and overdue tasks and their age.

Where a task lives:

- a task **for an account** lives in the account's dossier (:attr:`Dossier.tasks
  <kam.model.Dossier.tasks>`): it is part of the account's history, travels with it in an
  export, and a reassignment of the account sees it. Add it with
  :meth:`TaskEdits.add_task` (a named edit of the dossier);
- a task **not tied to an account** ("plan the seminar", "clean up the leads of the North")
  lives in the team document (:attr:`Team.tasks <kam.model.Team.tasks>`), the planners' own
  document with its own history: :meth:`kam.model.Team.add_task`.

Either way the assignee (and the planner who set the task) must be members of the team, and a
new task must go to an active member: a task for someone who is not in the team is refused at
once, naming the member and the team.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import TYPE_CHECKING

from pydantic import Field, model_validator

from ..errors import InputError, ValidationProblem
from .base import FieldError, Id, KamModel, Text, short_repr

if TYPE_CHECKING:
    from .dossier import Dossier
    from .team import Team

__all__ = [
    "Task",
    "TaskEdits",
    "TaskStatus",
    "check_assignee",
    "close_task",
    "new_task",
    "task_problems",
]


class TaskStatus(StrEnum):
    """Where a task stands: ``open`` until it is ``done`` or ``cancelled``."""

    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class Task(KamModel):
    """A task given to a team member, with a due date (DOMAIN.md §11: "tasks assigned to
    managers and their control")."""

    id: Id
    title: Text = Field(min_length=1)
    assignee: Id = Field(description="Team-member id of who does it.")
    account: Id | None = Field(None, description="Account the task is for (in a dossier: its "
                                                 "own account); none for a team task.")
    due: date
    created_by: Id | None = Field(None, description="Team-member id of who set the task.")
    created: date
    done_on: date | None = Field(None, description="When it was done (or cancelled).")
    status: TaskStatus = TaskStatus.OPEN
    note: Text | None = None

    @model_validator(mode="after")
    def _dates(self) -> Task:
        if self.due < self.created:
            raise FieldError("due", f"due {self.due} is before the task was created "
                                    f"({self.created}); check both dates")
        if self.status is TaskStatus.OPEN and self.done_on is not None:
            raise FieldError("done_on", f"an open task has no done date (found {self.done_on}); "
                                        "set status done or cancelled, or remove done_on")
        if self.status is not TaskStatus.OPEN and self.done_on is None:
            raise FieldError("done_on", f"a {self.status.value} task needs the date it was "
                                        f"{self.status.value} (done_on)")
        if self.done_on is not None and self.done_on < self.created:
            raise FieldError("done_on", f"done_on {self.done_on} is before the task was "
                                        f"created ({self.created})")
        return self

    def overdue(self, today: date) -> bool:
        """Open and past its due date on ``today``."""
        return self.status is TaskStatus.OPEN and self.due < today


def _problem(record: str, field: str, message: str) -> InputError:
    return InputError([ValidationProblem(record=record, field=field, message=message)])


def check_assignee(team: Team, member_id: object, record: str, field: str = "assignee", *,
                   active: bool = True) -> None:
    """Refuse ``member_id`` unless it is a member of ``team`` (and an active one when
    ``active``), naming the team's members.

    >>> from kam.model import Team, TeamMember
    >>> team = Team(members=[TeamMember(id="ann", name="Ann")])
    >>> check_assignee(team, "bob", "new task")
    Traceback (most recent call last):
    ...
    kam.errors.InputError: new task, field 'assignee': 'bob' is not a member of the team; \
team: ann
    """
    known = ", ".join(sorted(team.ids())) or "none (the team is empty: save the roster first)"
    if not isinstance(member_id, str) or not member_id:
        raise _problem(record, field, f"name a team member; team: {known}")
    member = team.get(member_id)
    if member is None:
        raise _problem(record, field, f"{short_repr(member_id)} is not a member of the team; "
                                      f"team: {known}")
    if active and not member.active:
        actives = ", ".join(sorted(m.id for m in team.members if m.active)) or "none"
        raise _problem(record, field, f"{short_repr(member_id)} is no longer active in the "
                                      f"team; active members: {actives}")


def new_task(tasks: list[Task], stem: str, record: str, team: Team, *, title: str,
             assignee: str, due: date, created: date, created_by: str | None,
             account: str | None, note: str | None, id: str | None) -> Task:
    """Append a new task to ``tasks`` (id ``<stem><n>`` unless given) after checking it; the
    same task given again (same title, assignee, account, due, creator and date) is returned,
    not added twice."""
    from .edits import _build, next_id  # edits imports the dossier's records, not this module

    check_assignee(team, assignee, record)
    if created_by is not None:
        check_assignee(team, created_by, record, "created_by", active=False)
    data = {"title": title, "assignee": assignee, "account": account, "due": due,
            "created": created, "created_by": created_by, "note": note}
    for t in tasks:
        same = all(getattr(t, k) == v for k, v in data.items())
        if same and (id is None or t.id == id):
            return t
        if id is not None and t.id == id:
            raise _problem(f"{record} ({id})", "id", f"a task with id {short_repr(id)} already "
                                                     "exists")
    task = _build(Task, record, {**data, "id": id or next_id((t.id for t in tasks), stem)})
    tasks.append(task)
    return task


def close_task(tasks: list[Task], task_id: str, record: str, *, on: date,
               status: str = "done") -> Task:
    """Mark a task ``done`` or ``cancelled`` on ``on`` (done again on the same day: no
    change)."""
    from .edits import _updated

    task = next((t for t in tasks if t.id == task_id), None)
    if task is None:
        known = ", ".join(sorted(t.id for t in tasks)[:12]) or "none"
        raise _problem(record, "id", f"no task {short_repr(task_id)}; known: {known}")
    if status not in (TaskStatus.DONE.value, TaskStatus.CANCELLED.value):
        raise _problem(f"{record} ({task_id})", "status",
                       f"options are done or cancelled, got {short_repr(status)}")
    new = _updated(task, f"{record} ({task_id})", {"status": status, "done_on": on})
    tasks[tasks.index(task)] = new
    return new


def task_problems(tasks: Sequence[Task], account: str | None) -> list[str]:
    """Tasks that name another account than the one whose dossier holds them."""
    out = []
    for t in tasks:
        if t.account is not None and t.account != account:
            where = f"account {account}" if account else "the team document"
            fix = ("add it to that account's dossier" if account is None
                   else f"set account to {account!r} or leave it empty")
            out.append(f"task {t.id} names account {t.account!r} but lives in {where}; "
                       f"{fix}")
    return out


class TaskEdits:
    """The named edits of a dossier's tasks (mixed into :class:`~kam.model.Dossier`)."""

    def _dossier(self) -> Dossier:
        return self  # type: ignore[return-value]

    def add_task(self, title: str, assignee: str, due: date, *, team: Team, created: date,
                 created_by: str | None = None, note: str | None = None,
                 id: str | None = None) -> Task:
        """Give a team member a task for this account, due on ``due`` (id ``<account>-T<n>``
        unless given). ``assignee`` must be an active member of ``team`` and ``created_by`` a
        member; the same task given again is not added twice.

        Examples
        --------
        >>> from datetime import date
        >>> from kam.model import Account, Dossier, Team, TeamMember
        >>> team = Team(members=[TeamMember(id="dir", name="Dana", role="planner"),
        ...                      TeamMember(id="ann", name="Ann Lee", manager="dir")])
        >>> d = Dossier(account=Account(id="ACME", name="Acme"))
        >>> t = d.add_task("Send the Q1 offer", "ann", date(2026, 3, 9), team=team,
        ...                created=date(2026, 3, 2), created_by="dir")
        >>> t.id, t.account, t.status.value
        ('ACME-T1', 'ACME', 'open')
        >>> d.add_task("Call", "zoe", date(2026, 3, 9), team=team, created=date(2026, 3, 2))
        Traceback (most recent call last):
        ...
        kam.errors.InputError: account ACME / new task, field 'assignee': 'zoe' is not a \
member of the team; team: ann, dir
        """
        d = self._dossier()
        return new_task(d.tasks, f"{d.account.id}-T", f"account {d.account.id} / new task", team,
                        title=title, assignee=assignee, due=due, created=created,
                        created_by=created_by, account=d.account.id, note=note, id=id)

    def complete_task(self, task_id: str, *, on: date, status: str = "done") -> Task:
        """Mark a task of this account ``done`` (or ``cancelled``) on ``on``."""
        d = self._dossier()
        return close_task(d.tasks, task_id, f"account {d.account.id} / tasks", on=on,
                          status=status)
