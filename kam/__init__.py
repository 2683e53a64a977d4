"""kam: a key-account planning kit for JupyterLab."""

from .errors import (
    AccountNotFound,
    InputError,
    KamError,
    StageGateError,
    StaleRevision,
)
from .model import Dossier, missing_for_stage, tables, validate_dossier

__version__ = "0.1.0"

__all__ = [
    "AccountNotFound",
    "Dossier",
    "InputError",
    "KamError",
    "StageGateError",
    "StaleRevision",
    "__version__",
    "missing_for_stage",
    "tables",
    "validate_dossier",
]
