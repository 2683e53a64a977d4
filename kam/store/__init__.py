"""The workspace store: versioned dossiers in a SQL database (SQLite or PostgreSQL)."""

from ..errors import WorkspaceOutdated
from ..model.diff import diff_records
from .access import Access, Role
from .migrate import Upgrade, upgrade
from .session import EDITS, Edit, EditSession
from .workspace import DEFAULT_PATH, Revision, Workspace, default_location

__all__ = [
    "DEFAULT_PATH",
    "EDITS",
    "Access",
    "Edit",
    "EditSession",
    "Revision",
    "Role",
    "Upgrade",
    "Workspace",
    "WorkspaceOutdated",
    "default_location",
    "diff_records",
    "upgrade",
]
