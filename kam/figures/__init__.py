"""Plotly figures of kam's analyses, one module per concept, all with one look (:mod:`.style`).

Figures take analysis results and draw them; they never compute business numbers.
"""

from .style import KAM_TEMPLATE, PALETTE, apply_style

__all__ = ["KAM_TEMPLATE", "PALETTE", "apply_style"]
