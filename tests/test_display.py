"""Key-figure cards, alerts and the report header look in JupyterLab as in the report: the HTML
Jupyter shows carries the outputs' stylesheet, the one file the report template includes too,
and user text in it stays escaped."""

from __future__ import annotations

import re

import nbformat
import pandas as pd
import pytest

from kam.config import templates_dir
from kam.reports import display as kd
from kam.reports.html import notebook_to_html

EVIL = "<script>alert(1)</script>"


def style_and_body(html: str) -> tuple[str, str]:
    """The ``<style>`` block an output starts with, and the rest."""
    m = re.fullmatch(r"<style>(.*?)</style>(.*)", html, re.S)
    assert m, html[:200]
    return m.group(1), m.group(2)


def rules(css: str) -> dict[str, str]:
    """``selector -> declarations`` of the top-level rules of a (minified) stylesheet."""
    css = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*\s*\}", "", css)
    return {sel.strip(): body.strip() for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)}


def test_key_figures_bring_the_card_grid_along():
    cards = kd.key_figures([kd.KeyFigure("Revenue", 1500.0, "money"),
                            kd.KeyFigure("Margin", -0.1, "pct", tone="bad")])
    css, body = style_and_body(cards._repr_html_())
    assert body == cards.html                    # the report gets the fragment alone
    assert body.startswith('<div class="kam-kpis">')
    assert len(re.findall(r'class="kam-kpi(?: kam-tone-\w+)?"', body)) == 2
    grid = rules(css)[".kam-kpis"]
    assert "display: grid" in grid and "grid-template-columns" in grid
    assert "border" in rules(css)[".kam-kpi"]


def test_alerts_show_the_severity_as_a_separate_badge():
    box = kd.alerts([{"severity": "high", "warning": "Key person left", "action": "Meet them"},
                     {"severity": "low", "warning": "Note"}])
    css, body = style_and_body(box._repr_html_())
    # the badge is its own element, and a space separates it from the text even unstyled
    assert ('<span class="kam-alert-sev">high</span> <span class="kam-alert-text">Key person '
            "left</span>") in body
    assert "highKey" not in re.sub(r"<[^>]+>", "", body)
    badge = rules(css)[".kam-alert-sev"]
    assert "display: inline-block" in badge and "border-radius" in badge and "background" in badge
    assert "background" in rules(css)[".kam-alert-high .kam-alert-sev"]
    # divs, not ul/li: JupyterLab's list rules (bullets, indent) would win over ours
    assert "<ul" not in body and "<li" not in body
    assert kd.alerts([])._repr_html_().startswith("<style>")


def test_user_text_stays_escaped_in_styled_outputs():
    cards = kd.key_figures([kd.KeyFigure(EVIL, EVIL, "text", note=EVIL)])._repr_html_()
    box = kd.alerts([{"severity": EVIL, "warning": EVIL, "action": EVIL}])._repr_html_()
    header = kd.report_header("plan", EVIL, facts=[(EVIL, EVIL)])._repr_mimebundle_()["text/html"]
    for html in (cards, box, header):
        _, body = style_and_body(html)
        assert "<script>" not in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body
    # a severity kam does not know is shown (escaped) but makes no class of its own
    assert 'class="kam-alert kam-alert-other"' in box


def test_report_header_in_jupyterlab_uses_the_report_header_markup():
    bundle = kd.report_header("plan", "Acme & Co", facts=[("Period", "2026")])._repr_mimebundle_()
    css, body = style_and_body(bundle["text/html"])
    assert body == ('<div class="kam-header"><div class="kam-kind">Account plan</div>'
                    '<div class="kam-title">Acme &amp; Co</div><dl class="kam-facts"><div>'
                    "<dt>Period</dt><dd>2026</dd></div></dl></div>")
    assert ".kam-header" in rules(css) and "table.kam-table thead th" in rules(css)


def test_one_stylesheet_for_the_report_and_jupyterlab():
    """display.py sends the file the template includes; the page's own stylesheet holds none of
    the outputs' rules, and the outputs' rules select only kam classes."""
    static = templates_dir() / "kam_report" / "static"
    outputs_css = (static / "kam-outputs.css").read_text(encoding="utf-8")
    page_css = (static / "kam.css").read_text(encoding="utf-8")
    assert kd.stylesheet() == " ".join(re.sub(r"/\*.*?\*/", " ", outputs_css, flags=re.S).split())
    selectors = set(rules(kd.stylesheet()))
    for selector in selectors:
        for part in selector.split(","):
            assert part.strip() == ":root" or re.match(r"^[a-z]*\.kam-", part.strip()), part
    page = set(rules(" ".join(re.sub(r"/\*.*?\*/", " ", page_css, flags=re.S).split())))
    assert not selectors & page
    nb = nbformat.v4.new_notebook()
    html = notebook_to_html(nb)
    assert ".kam-kpis {" in html and ".kam-alert-sev {" in html   # the report includes it


@pytest.mark.parametrize("helper", [
    lambda: kd.table(pd.DataFrame({"a": [1]})),
    lambda: kd.sentence("Margin fell."),
    lambda: kd.note("No deals."),
])
def test_small_outputs_rely_on_the_stylesheet_already_on_the_page(helper):
    """Tables and sentences come often: they carry no stylesheet of their own (the report has
    one, and in JupyterLab the header and the cards bring it)."""
    out = helper()
    assert out._repr_html_() == out.html and "<style" not in out.html
