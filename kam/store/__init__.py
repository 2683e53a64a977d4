"""The workspace store: versioned dossiers in a SQL database."""

from ..model.diff import diff_records
from .session import EDITS, Edit, EditSession
from .workspace import DEFAULT_PATH, Revision, Workspace, default_location

__all__ = [
    "DEFAULT_PATH",
    "EDITS",
    "Edit",
    "EditSession",
    "Revision",
    "Workspace",
    "default_location",
    "diff_records",
]
