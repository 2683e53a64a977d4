"""Our own sales team: planners, key-account managers and client-managers (DOMAIN.md §9).

The team document is the planners' document: the roster (who reports to whom), the tasks they
give that are not tied to one account (:class:`~kam.model.task.Task`; a task for an account
lives in its dossier) and the special programmes (:class:`~kam.model.programme.Programme`).
Every task names members of the roster.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import Field, model_validator

from .base import FieldError, Id, KamModel, Text
from .programme import Programme
from .task import Task, close_task, new_task

__all__ = ["Team", "TeamMember", "TeamRole"]


class TeamRole(StrEnum):
    PLANNER = "planner"  # sales director / lead manager
    KAM = "kam"
    CLIENT_MANAGER = "client manager"


class TeamMember(KamModel):
    id: Id
    name: Text = Field(min_length=1)
    role: TeamRole = TeamRole.KAM
    manager: Id | None = Field(None, description="Id of the member they report to.")
    region: Text | None = None
    active: bool = True


class Team(KamModel):
    members: list[TeamMember] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list,
                              description="Tasks not tied to an account (DOMAIN.md §11).")
    programmes: list[Programme] = Field(default_factory=list,
                                        description="Special programmes (DOMAIN.md §11).")

    @model_validator(mode="after")
    def _references(self) -> Team:
        ids = self.ids()
        for i, t in enumerate(self.tasks):
            if t.account is not None:
                raise FieldError(f"tasks[{i}].account", f"task {t.id} is for account "
                                 f"{t.account!r}: a task for an account lives in its dossier "
                                 "(dossier.add_task); leave account empty for a team task")
            for field in ("assignee", "created_by"):
                who = getattr(t, field)
                if who is not None and who not in ids:
                    raise FieldError(f"tasks[{i}].{field}", f"{who!r} is not a member of the "
                                     f"team; team: {', '.join(sorted(ids)) or 'none'}")
        for coll in ("tasks", "programmes"):
            seen: set[str] = set()
            for i, r in enumerate(getattr(self, coll)):
                if r.id in seen:
                    raise FieldError(f"{coll}[{i}].id", f"duplicate id {r.id!r}")
                seen.add(r.id)
        return self

    def ids(self) -> set[str]:
        return {m.id for m in self.members}

    def get(self, member_id: str) -> TeamMember | None:
        return next((m for m in self.members if m.id == member_id), None)

    def programme(self, programme_id: str) -> Programme:
        """The programme with that id (``KeyError`` naming the known ones if none)."""
        for p in self.programmes:
            if p.id == programme_id:
                return p
        known = ", ".join(sorted(p.id for p in self.programmes)) or "none"
        raise KeyError(f"No programme {programme_id!r} in the team document; known: {known}")

    def add_programme(self, programme: Programme | Mapping[str, Any]) -> Programme:
        """Add a special programme (a :class:`~kam.model.programme.Programme` or its fields),
        checked at once: its filters (an unknown field is refused naming the valid ones), its
        owner (a team member) and its id (new, unless it is the same programme again).

        >>> from datetime import date
        >>> team = Team(members=[TeamMember(id="ann", name="Ann")])
        >>> team.add_programme({"id": "P1", "name": "Seminar", "start": date(2026, 3, 12),
        ...                     "filters": {"segment": "x"}})  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        kam.errors.InputError: programme P1, field 'filters.segment': unknown filter field ...
        """
        from .edits import _build
        from .task import check_assignee

        data = (programme.model_dump() if isinstance(programme, Programme)
                else dict(programme))
        record = f"programme {data.get('id', '(new)')}"
        new = _build(Programme, record, data)
        if new.owner is not None:
            check_assignee(self, new.owner, record, "owner", active=False)
        for p in self.programmes:
            if p.id == new.id:
                if p == new:
                    return p
                from ..errors import InputError, ValidationProblem

                raise InputError([ValidationProblem(record, "id", f"a programme {new.id!r} "
                                                    "already exists; change it in place or "
                                                    "choose another id")])
        self.programmes.append(new)
        return new

    def add_task(self, title: str, assignee: str, due: date, *, created: date,
                 created_by: str | None = None, note: str | None = None,
                 id: str | None = None) -> Task:
        """Give a member a task not tied to an account (id ``T<n>`` unless given); the
        assignee must be an active member. The same task given again is not added twice.

        Examples
        --------
        >>> from datetime import date
        >>> team = Team(members=[TeamMember(id="dir", name="Dana", role="planner"),
        ...                      TeamMember(id="ann", name="Ann Lee", manager="dir")])
        >>> team.add_task("Clean up the North leads", "ann", date(2026, 3, 20),
        ...               created=date(2026, 3, 2), created_by="dir").id
        'T1'
        """
        return new_task(self.tasks, "T", "team / new task", self, title=title,
                        assignee=assignee, due=due, created=created, created_by=created_by,
                        account=None, note=note, id=id)

    def complete_task(self, task_id: str, *, on: date, status: str = "done") -> Task:
        """Mark a team task ``done`` (or ``cancelled``) on ``on``."""
        return close_task(self.tasks, task_id, "team / tasks", on=on, status=status)
