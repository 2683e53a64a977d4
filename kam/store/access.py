"""Who may see and change what: the roles of a workspace's users.

Key-account data is confidential inside the company too. Each user of a workspace has a role,
held in the store (table ``users``):

- ``kam``: reads and edits the accounts they own (the account's ``kam`` is their team member);
- ``planner``: reads and edits their own and their team's accounts (the accounts of everyone
  who reports to them, directly or further down, in the team roster);
- ``director``: reads every account, edits none;
- ``analyst``: reads every account, edits none.

A user without a role is the workspace's administrator (the one who made it, who grants the
roles): kam does not restrict them. :class:`~kam.store.Workspace` enforces the roles on every
read and write; on PostgreSQL, row-level security policies (migration 0003) enforce the same for
any connection under a user's own database role, so a KAM cannot read another team's dossiers
even outside kam. There the administrator is the owner of kam's tables (whom row-level security
does not restrict); any other database role sees only what a role granted to it allows --
nothing once it is revoked. A SQLite file has no logins: there the roles keep honest people from
mistakes, and whoever can read the file can read it all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from ..errors import AccessDenied

__all__ = ["Access", "AccessDenied", "Role"]


class Role(StrEnum):
    KAM = "kam"
    PLANNER = "planner"
    DIRECTOR = "director"
    ANALYST = "analyst"


_WHAT = {
    Role.KAM: "a KAM reads and edits only the accounts they own",
    Role.PLANNER: "a planner reads and edits the accounts of their own team",
    Role.DIRECTOR: "a director reads every account and edits none",
    Role.ANALYST: "an analyst reads every account and edits none",
}


@dataclass(frozen=True)
class Access:
    """What one user may do: their role, the team member they are and the members whose
    accounts they reach (themselves, and for a planner everyone below them)."""

    user: str
    role: Role | None = None
    member: str | None = None
    reach: frozenset[str] = frozenset()

    @classmethod
    def of(cls, user: str, row: tuple[str, str | None] | None,
           managers: Mapping[str, str | None]) -> Access:
        """The access of ``user`` given their ``users`` row (role, member) and the team's
        reporting lines (member -> manager)."""
        if row is None:
            return cls(user)
        role, member = Role(row[0]), row[1]
        reach = {member} if member else set()
        if role is Role.PLANNER and member:
            below: dict[str, list[str]] = {}
            for m, boss in managers.items():
                if boss:
                    below.setdefault(boss, []).append(m)
            todo = [member]
            while todo:
                for m in below.get(todo.pop(), []):
                    if m not in reach:
                        reach.add(m)
                        todo.append(m)
        return cls(user, role, member, frozenset(reach))

    @property
    def restricted(self) -> bool:
        return self.role is not None

    def may_read(self, owner: str | None) -> bool:
        if self.role is None or self.role in (Role.DIRECTOR, Role.ANALYST):
            return True
        return owner is not None and owner in self.reach

    def may_write(self, owner: str | None) -> bool:
        if self.role is None:
            return True
        if self.role in (Role.DIRECTOR, Role.ANALYST):
            return False
        return owner is not None and owner in self.reach

    def _who(self) -> str:
        member = f", team member {self.member}" if self.member else ""
        return f"{self.user} ({self.role}{member})"

    def refuse_read(self, account: str, owner: str | None) -> AccessDenied:
        return AccessDenied(
            f"{self._who()} may not read account {account!r}: "
            f"{_owned(owner)}; {_WHAT[self.role or Role.KAM]}")

    def refuse_write(self, account: str, owner: str | None, *, new_owner: bool = False
                     ) -> AccessDenied:
        what = (f"give account {account!r} to {owner or 'nobody'}" if new_owner
                else f"change account {account!r}")
        why = "" if new_owner or self.role in (Role.DIRECTOR, Role.ANALYST) else (
            f": {_owned(owner)}")
        return AccessDenied(
            f"{self._who()} may not {what}{why}; {_WHAT[self.role or Role.KAM]}. Nothing was "
            "saved")

    def refuse_team(self) -> AccessDenied:
        return AccessDenied(
            f"{self._who()} may not change the team roster: only a planner or the workspace's "
            "administrator may. Nothing was saved")


def _owned(owner: str | None) -> str:
    return f"it belongs to {owner}" if owner else "it has no KAM"
