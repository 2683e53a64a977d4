"""The portfolio of a real CRM import: the Maven CRM sample (/work/shared/data/maven-crm).

The path is ``kam import`` (the mapping turns each won deal into a revenue line) -> workspace ->
tables -> concentration, ABC and summary (DOMAIN.md §1 "over 70% of sales come from a few key
accounts", §8 ABC categorisation), and ``kam portfolio`` on the same workspace.

Every expected figure is the independent computation of :func:`expected`: plain pandas straight
from sales_pipeline.csv and accounts.csv -- the won deals' close_value summed per account (and per
close month), shares of the total, the Herfindahl index as the sum of squared shares, and the
ABC rule of DOMAIN.md §8 written out here again -- with no kam code involved.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from kam.cli.portfolio import portfolio as portfolio_cmd
from kam.io import import_crm
from kam.model import Tables, tables
from kam.portfolio import abc, concentration, portfolio_summary
from kam.store import Workspace

MAVEN = Path("/work/shared/data/maven-crm")

pytestmark = pytest.mark.skipif(not MAVEN.is_dir(), reason="Maven CRM sample not available")


# -- one import per module ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def maven_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder of a workspace holding the Maven import (shared: do not save into it)."""
    folder = tmp_path_factory.mktemp("maven-portfolio") / "ws"
    ws = Workspace(folder, create=True)
    import_crm(ws, MAVEN)
    ws.close()
    return folder


@pytest.fixture(scope="module")
def t(maven_ws: Path) -> Tables:
    ws = Workspace(maven_ws)
    try:
        return tables(ws.load_all())
    finally:
        ws.close()


# -- the independent computation ----------------------------------------------------------------
@pytest.fixture(scope="module")
def won() -> pd.DataFrame:
    """The won opportunities of sales_pipeline.csv, with the close month."""
    pipe = pd.read_csv(MAVEN / "sales_pipeline.csv")
    w = pipe[pipe["deal_stage"] == "Won"].copy()
    w["month"] = w["close_date"].str[:7]
    return w


@pytest.fixture(scope="module")
def expected(won: pd.DataFrame) -> pd.DataFrame:
    """Per account (by name, as accounts.csv writes it): revenue = the won deals' close_value
    summed, share of the total, and the ABC category -- A while the accounts ranked before hold
    less than 80% of the revenue, B while they hold less than 95%, else C (DOMAIN.md §8 with the
    thresholds of templates/portfolio.yaml) -- sorted from the largest revenue."""
    accounts = pd.read_csv(MAVEN / "accounts.csv")
    rev = won.groupby("account")["close_value"].sum().astype(float)
    assert set(rev.index) <= set(accounts["account"])  # every buyer is in accounts.csv
    out = rev.rename("revenue").reset_index().rename(columns={"account": "name"})
    out = out.sort_values(["revenue", "name"], ascending=[False, True], ignore_index=True)
    out["share"] = out["revenue"] / out["revenue"].sum()
    before = out["share"].cumsum() - out["share"]
    out["category"] = ["A" if b < 0.80 else "B" if b < 0.95 else "C" for b in before]
    return out


# -- the analyses ------------------------------------------------------------------------------
def test_maven_import_makes_one_revenue_line_per_won_deal(t, won):
    """A won Maven deal is one unit of its product: one revenue line, revenue = close value."""
    assert len(t.revenue) == len(won) == 4238
    assert set(t.revenue["quantity"]) == {1.0}
    assert t.revenue["revenue"].sum() == won["close_value"].sum() == 10_005_534


def test_maven_revenue_per_account_and_month_equals_plain_pandas(t, won):
    names = t.accounts.set_index("account_id")["name"]
    ours = (t.revenue.assign(name=t.revenue["account_id"].map(names))
            .groupby(["name", "period"])["revenue"].sum())
    theirs = won.groupby(["account", "month"])["close_value"].sum().astype(float)
    theirs.index.names = ["name", "period"]
    pd.testing.assert_series_equal(ours.sort_index(), theirs.sort_index(), check_names=False)


def test_maven_concentration_top_shares_and_herfindahl_equal_plain_pandas(t, expected):
    """DOMAIN.md §1: the share of the top 1 / 5 / 10 accounts and the Herfindahl index (sum of
    the squared shares). Maven's revenue is spread thin: no dependency warning."""
    c = concentration(t)
    share = expected["share"]
    assert c.top1 == pytest.approx(share.iloc[:1].sum())
    assert c.top5 == pytest.approx(share.iloc[:5].sum())
    assert c.top10 == pytest.approx(share.iloc[:10].sum())
    assert c.hhi == pytest.approx((share ** 2).sum())
    assert 0 < c.top1 < c.top5 < c.top10 < 1 and c.hhi > 0
    assert c.shares["name"].tolist() == expected["name"].tolist()
    assert c.shares["revenue"].tolist() == expected["revenue"].tolist()
    assert c.warnings.empty


def test_maven_abc_categories_equal_plain_pandas(t, expected):
    """DOMAIN.md §8 ABC (Pareto by revenue): every class holds accounts on the real data."""
    ours = abc(t).set_index("name")["category"]
    theirs = expected.set_index("name")["category"]
    assert ours.to_dict() == theirs.to_dict()
    assert {c: int(n) for c, n in ours.value_counts().items()} == {
        c: int(n) for c, n in theirs.value_counts().items()}
    assert set(ours) == {"A", "B", "C"}


def test_maven_portfolio_summary_equals_plain_pandas(t, expected):
    s = portfolio_summary(t)
    m = s.measures.set_index("measure")["value"]
    assert m["accounts"] == 85 and m["buyers"] == len(expected)
    assert m["revenue"] == expected["revenue"].sum()
    assert m["top 1 share"] == pytest.approx(expected["share"].iloc[0])
    assert m["Herfindahl index"] == pytest.approx((expected["share"] ** 2).sum())
    split = s.abc.set_index("category")
    per_class = expected.groupby("category")["revenue"].agg(["size", "sum"])
    assert split["accounts"].to_dict() == per_class["size"].to_dict()
    assert split["revenue"].to_dict() == pytest.approx(per_class["sum"].to_dict())


def test_maven_list_value_is_one_unit_at_the_products_price(t, won):
    """DOMAIN.md §7 price waterfall: list value = quantity x list price, with quantity 1 per
    Maven deal and the price of products.csv (GTXPro is the export's spelling of GTX Pro); the
    discount list value - close value is negative for deals closed above the list price."""
    products = pd.read_csv(MAVEN / "products.csv")
    price = dict(zip(products["product"], products["sales_price"], strict=True))
    price["GTXPro"] = price["GTX Pro"]
    listed = won.assign(list_value=won["product"].map(price).astype(float))
    names = t.accounts.set_index("account_id")["name"]
    ours = (t.revenue.assign(name=t.revenue["account_id"].map(names))
            .groupby("name")["list_value"].sum())
    theirs = listed.groupby("account")["list_value"].sum()
    pd.testing.assert_series_equal(ours.sort_index(), theirs.sort_index(), check_names=False)
    discount = t.revenue["list_value"] - t.revenue["revenue"]
    assert (discount < 0).sum() == (listed["close_value"] > listed["list_value"]).sum() == 2040


# -- the command line --------------------------------------------------------------------------
def test_cli_portfolio_on_the_maven_import_prints_real_concentration(maven_ws, expected):
    res = CliRunner().invoke(portfolio_cmd, ["-w", str(maven_ws), "--top", "0"])
    assert res.exit_code == 0, res.output
    share = expected["share"]
    top = f"Top 1: {share.iloc[:1].sum():.0%}   top 5: {share.iloc[:5].sum():.0%}   " \
          f"top 10: {share.iloc[:10].sum():.0%}   Herfindahl: {(share ** 2).sum():.3f}"
    assert res.output.splitlines()[0] == top
    assert top != "Top 1: 0%   top 5: 0%   top 10: 0%   Herfindahl: 0.000"
    assert "Empty DataFrame" not in res.output
    abc_part = res.output.split("ABC categories:")[1].split("Net contribution ranking:")[0]
    split, ranking = abc_part.strip().split("\n\n")
    # The split per category: its accounts counted by plain pandas.
    counts = expected["category"].value_counts()
    for line in split.splitlines()[1:]:
        category, accounts = line.split()[:2]
        assert int(accounts) == counts.get(category, 0), line
    rows = ranking.splitlines()[1:]  # below the header: one row per buying account
    assert len(rows) == len(expected)
    assert expected["name"].iloc[0] in rows[0] and rows[0].split()[-1] == "A"
    assert expected["name"].iloc[-1] in rows[-1] and rows[-1].split()[-1] == "C"
