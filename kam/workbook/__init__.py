"""The KAM's workbook in JupyterLab: pick an account, see it, edit it safely, save it.

Widgets (ipywidgets + plotly ``FigureWidget``) over the public API: every edit is a named edit of
an :class:`~kam.store.EditSession`, every save a validated revision.
"""

from .app import Workbook, open_workbook
from .base import Panel, message_html, redraw
from .portfolio import PortfolioExplorer, open_portfolio

__all__ = [
    "Panel",
    "PortfolioExplorer",
    "Workbook",
    "message_html",
    "open_portfolio",
    "open_workbook",
    "redraw",
]
