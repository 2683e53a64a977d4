"""A realistic, deterministic demo portfolio: twelve key accounts of an industrial supplier.

We sell drives, pumps, bearings, automation components and maintenance services to a steel
mill, a mining group, food processors, a chemicals producer, a water utility, a packaging mill,
a cement works, a sugar refinery, an offshore-services firm and a glassworks. The accounts cover
every sales stage, relationship stage and opportunity zone, and the warning signs a KAM should
see: a key contact who left, an influential detractor, a missing power point, a single-threaded
relationship, a neglected account, overdue promises and an unprofitable account.

=========== ========= ================= ================================================
id          stage     relationship      what it shows
=========== ========= ================= ================================================
NORDSTAHL   repeat    partnership KAM   large, profitable, low cost-to-serve
KARSTGOLD   repeat    synergistic KAM   our largest account, integrated team
MCALLISTER  repeat    mid KAM           revenue like NORDSTAHL, cost-to-serve 3x higher;
                                        its name holds ``&`` and an apostrophe
BRIGHTWELL  repeat    uncoupling        neglected since May, KAM replaced, promise overdue
AZURCHEM    buyer     mid KAM           our sponsor left (employment history kept)
RIVERTON    buyer     early KAM         single-threaded and unprofitable
SOLENNE     sale      early KAM         price negotiation after a free trial
HELVIA      sale      pre-KAM           influential detractor, no power point known
TALVIK      potential pre-KAM           no power point known
VERDANTIA   potential pre-KAM           met between two campaigns
PELAGOS     lead      pre-KAM           phone number and one contact
KESTREL     lead      pre-KAM           an enquiry we declined
=========== ========= ================= ================================================

The demo is "as of" :data:`TODAY` (1 November 2026): pass it as ``today`` to the analyses.
Everything is built in memory from hand-written content plus numbers drawn from a fixed seed,
so every call gives the same dossiers. :func:`build` saves them into a workspace with a real
revision history (each account created and moved through its stages on back-dated revisions).

Examples
--------
>>> from kam import demo
>>> ds = demo.dossiers()
>>> len(ds), ds[0].account.name
(12, 'Nordstahl Rolling Mills AG')
>>> sorted({d.account.sales_stage.value for d in ds})
['buyer', 'lead', 'potential', 'repeat', 'sale']
>>> import tempfile
>>> ws = demo.build(tempfile.mkdtemp() + "/demo")
>>> len(ws), ws.load("MCALLISTER") == next(d for d in ds if d.id == "MCALLISTER")
(12, True)
>>> ws.history("MCALLISTER")["message"].iloc[0]
'New lead from the food-tech fair'
>>> ws.load("MCALLISTER", as_of=demo.TODAY.replace(year=2024, month=5)).account.sales_stage.value
'sale'
"""

from __future__ import annotations

import os
import random
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from ..model import Dossier, Team
from ..store import Workspace
from . import at_risk, prospects, strategic
from .generate import interactions, prospect_costs, ratings, routine_deals, trade_lines
from .history import as_of, saved_at
from .spec import DIRECTOR, TODAY, AccountSpec, kpi
from .spec import team as _team

__all__ = ["TODAY", "build", "dossiers", "load_workspace", "team"]

SEED = "kam-demo-2026"
_ROSTER_SAVED = datetime(2024, 1, 2, 8, 0, tzinfo=UTC)

_ACCOUNTS: tuple[Callable[[], AccountSpec], ...] = (
    strategic.nordstahl, strategic.karstgold, strategic.mcallister, at_risk.brightwell,
    at_risk.azurchem, at_risk.riverton, prospects.solenne, prospects.helvia,
    prospects.talvik, prospects.verdantia, prospects.pelagos, prospects.kestrel,
)


def team() -> Team:
    """Our sales team: the sales director (planner), four KAMs and a client-manager.

    Examples
    --------
    >>> [m.id for m in team().members if m.role.value == "kam"]
    ['tom.hale', 'maria.lind', 'raj.patel', 'sofia.costa']
    """
    return _team()


def _specs() -> list[AccountSpec]:
    """The hand-written specs of the twelve accounts (fresh objects on every call)."""
    return [make() for make in _ACCOUNTS]


def _assemble(spec: AccountSpec) -> Dossier:
    rng = random.Random(f"{SEED}/{spec.account.id}")
    deals = sorted(spec.deals + routine_deals(spec, rng), key=lambda x: (x.created, x.id))
    contacts = interactions(spec, rng, deals)
    if spec.trade:
        revenue, costs, activities, budgets = trade_lines(spec.trade, rng)
    else:
        revenue, budgets = [], []
        costs, activities = prospect_costs(spec, contacts)
    plan = spec.plan
    if plan is not None and spec.revenue_kpi:
        kpi_id, target = spec.revenue_kpi
        year = str(TODAY.year)
        actual = round(sum(r.revenue for r in revenue if r.period.startswith(year)), -3)
        plan.kpis.insert(0, kpi(kpi_id, f"Revenue {year} to date", target, actual, "EUR"))
    return Dossier(
        account=spec.account, persons=[p for p, _ in spec.persons], links=spec.links,
        interactions=contacts, projects=spec.projects, needs=spec.needs,
        commitments=spec.commitments, deals=deals, revenue=revenue, costs=costs,
        activities=activities, budgets=budgets, ratings=ratings(spec, rng), plan=plan)


def dossiers() -> list[Dossier]:
    """The twelve demo dossiers as of :data:`TODAY`, in a fixed order (fresh objects on every
    call; the same content every time).

    Examples
    --------
    >>> ds = dossiers()
    >>> [d.id for d in ds][:4]
    ['NORDSTAHL', 'KARSTGOLD', 'MCALLISTER', 'BRIGHTWELL']
    >>> ds == dossiers()
    True
    """
    return [_assemble(s) for s in _specs()]


def build(path: str | os.PathLike[str], *, overwrite: bool = False) -> Workspace:
    """Create a workspace in the folder ``path`` holding the demo team and accounts with their
    revision history, and return it.

    An existing folder that is not empty is refused (``FileExistsError``) unless ``overwrite``
    is true and it holds a kam workspace: then that workspace is deleted and built afresh.
    Other files in the folder are never deleted. ``path`` may also be a database URL (e.g.
    ``sqlite:///demo.db``); the database must not hold accounts yet.

    Examples
    --------
    >>> import tempfile
    >>> ws = build(tempfile.mkdtemp())
    >>> ws.history("KARSTGOLD")[["revision", "author"]].values.tolist()[:2]
    [[1, 'elena.vogt'], [2, 'raj.patel']]
    """
    if "://" in str(path):  # a database URL: only an empty database is filled
        ws = Workspace(path, create=True)
        if ws.account_ids():
            raise FileExistsError(f"The database {path} already holds accounts; build the demo "
                                  "into an empty database or a new folder")
        return _fill(ws)
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise FileExistsError(f"{folder} is a file, not a folder; give a folder for the demo "
                              "workspace")
    if folder.is_dir() and any(folder.iterdir()):
        db = folder / "workspace.db"
        if not overwrite:
            raise FileExistsError(
                f"{folder} is not empty; the demo is only built into a new or empty folder. "
                "Pass overwrite=True (kam demo --overwrite) to replace a kam workspace there, "
                "or choose another folder")
        if not db.exists():
            raise FileExistsError(
                f"{folder} holds files but no kam workspace (no workspace.db); refusing to "
                "overwrite it. Choose an empty folder")
        for suffix in ("", "-wal", "-shm", "-journal"):
            (folder / f"workspace.db{suffix}").unlink(missing_ok=True)
    return _fill(Workspace(folder, create=True))


def _fill(ws: Workspace) -> Workspace:
    """Save the team and every account milestone by milestone."""
    ws.save_team(team(), author=DIRECTOR, message="Sales team roster", at=_ROSTER_SAVED)
    account_specs = _specs()
    for spec, final in zip(account_specs, dossiers(), strict=True):
        for n, m in enumerate(spec.milestones):
            last = n == len(spec.milestones) - 1
            ws.save(final if last else as_of(spec, final, m), author=m.author,
                    message=m.message, based_on=n or None, at=saved_at(m, n))
    return ws


def load_workspace(path: str | os.PathLike[str] | None = None) -> Workspace:
    """The demo workspace: built into a new temporary folder when ``path`` is ``None``; opened
    when ``path`` (a folder or a database URL) already holds a workspace; built there
    otherwise.

    Examples
    --------
    >>> ws = load_workspace()
    >>> "KESTREL" in ws
    True
    """
    if path is None:
        return build(tempfile.mkdtemp(prefix="kam-demo-"))
    if "://" in str(path):
        ws = Workspace(path, create=True)
        return ws if ws.account_ids() else _fill(ws)
    if (Path(path) / "workspace.db").exists():
        return Workspace(path)
    return build(path)
