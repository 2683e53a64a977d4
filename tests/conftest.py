"""Shared fixtures: the demo portfolio, a demo workspace, the demo date and a small hand-built
account ("Acme Steel") that holds exactly what a sales stage requires.

The session-scoped fixtures are shared by every test: read them, never change them (copy a
dossier with ``d.model_copy(deep=True)`` first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pgserver import PgServer

from kam import demo
from kam.model import (
    Account,
    Deal,
    Dossier,
    Need,
    Person,
    SalesStage,
    StageChange,
)
from kam.store import Workspace

AcmeFactory = Callable[..., Dossier]


@pytest.fixture(scope="session")
def demo_dossiers() -> list[Dossier]:
    """The twelve demo dossiers (shared: do not modify)."""
    return demo.dossiers()


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """The demo workspace with its revision history, built once per test session (shared: do
    not save into it; build your own with ``demo.build(tmp_path / "ws")``)."""
    return demo.build(tmp_path_factory.mktemp("demo") / "workspace")


@pytest.fixture(scope="session")
def demo_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The reports' built-in demo (``workspace = "demo"``), cached under the session's temporary
    folder: ``$KAM_DEMO_CACHE`` points there for the rest of the session (kernels started from
    then on inherit it). Yields the demo workspace's folder (shared: do not save into it)."""
    from kam.reports.params import demo_workspace

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAM_DEMO_CACHE", str(tmp_path_factory.getbasetemp() / "kam-demo-cache"))
        yield demo_workspace()


@pytest.fixture(scope="session")
def today() -> date:
    """The date the demo is "as of"."""
    return demo.TODAY


def make_acme(stage: SalesStage | str = "lead", **account: Any) -> Dossier:
    """A small account holding exactly what ``stage`` requires (DOMAIN.md §1), cumulatively:

    - lead: name and phone (two of name, address, phone), category B;
    - potential: + address and a contact person with position and role;
    - sale: + a need with product, volume and wanted delivery date;
    - buyer: + a won deal with volume, date and delivery terms;
    - repeat: + a second won deal and contract terms.

    ``account`` overrides fields of the account (e.g. ``address=None``).
    """
    stage = SalesStage(stage)
    n = stage.number
    fields: dict[str, Any] = {"id": "ACME", "name": "Acme Steel", "phone": "+1 555 0100",
                              "category": "B", "sales_stage": stage}
    if n >= 2:
        fields["address"] = "1 Mill Road, Springfield"
    if n >= 5:
        fields["contract_terms"] = "Framework agreement 2026-2028"
    fields.update(account)
    persons = [Person(id="P1", name="Ann Smith", position="Plant Engineer",
                      department="Engineering", roles=["entry"])] if n >= 2 else []
    needs = [Need(id="N1", title="Drive failures", product="Frequency converter 90 kW",
                  volume=12, wanted_date=date(2026, 3, 31))] if n >= 3 else []
    deals = []
    for i in range(1 if n == 4 else 2 if n == 5 else 0):
        month = 4 + 3 * i
        deals.append(Deal(
            id=f"D{i + 1}", title=f"Converters, order {i + 1}", stage="buyer", outcome="won",
            volume=12, planned_budget=48000, created=date(2026, month - 2, 1),
            product="frequency converter", expected_close=date(2026, month, 15),
            closed_on=date(2026, month, 15), delivery_terms="DAP Springfield, 4 weeks",
            history=[StageChange(stage="lead", on=date(2026, month - 2, 1)),
                     StageChange(stage="buyer", on=date(2026, month, 15))]))
    return Dossier(account=Account(**fields), persons=persons, needs=needs, deals=deals)


@pytest.fixture
def acme() -> AcmeFactory:
    """``acme(stage="lead", **account_fields)``: see :func:`make_acme`."""
    return make_acme


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A real PostgreSQL server for the whole run, started from the machine's binaries on first
    use and stopped at the end."""
    server = PgServer().start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a new workspace goes, on each backend: a folder (its SQLite file) and a new empty
    database on the test PostgreSQL server. The store tests run on both."""
    if request.param == "sqlite":
        return str(tmp_path / "ws")
    server: PgServer = request.getfixturevalue("pg_server")
    return server.new_database()


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """An empty workspace under ``tmp_path``."""
    return Workspace(tmp_path / "ws", create=True)
