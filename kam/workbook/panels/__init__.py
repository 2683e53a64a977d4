"""The panels of the account workbook, one per concept, in tab order (:data:`DEFAULT_PANELS`).

Each is a :class:`~kam.workbook.Panel`: it shows the dossier of the current edit session through
the public analyses and figures, and each of its buttons makes one named edit of the session.
The workbook constructs them as ``Panel(on_change, team=..., today=...)``.
"""

from .deals import DealsPanel
from .interactions import InteractionsPanel
from .meeting import MeetingPanel
from .needs import NeedsPanel, OpportunitiesPanel
from .people import PeoplePanel
from .plan import PlanPanel

__all__ = [
    "DEFAULT_PANELS",
    "DealsPanel",
    "InteractionsPanel",
    "MeetingPanel",
    "NeedsPanel",
    "OpportunitiesPanel",
    "PeoplePanel",
    "PlanPanel",
]

DEFAULT_PANELS = [PeoplePanel, NeedsPanel, OpportunitiesPanel, DealsPanel, InteractionsPanel,
                  PlanPanel, MeetingPanel]
"""The panel classes of the account workbook, in tab order."""
