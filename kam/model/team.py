"""Our own sales team: planners, key-account managers and client-managers (DOMAIN.md §9)."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from .base import Id, KamModel, Text

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

    def ids(self) -> set[str]:
        return {m.id for m in self.members}

    def get(self, member_id: str) -> TeamMember | None:
        return next((m for m in self.members if m.id == member_id), None)
