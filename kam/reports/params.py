"""Report parameters: what each report notebook takes, checked loudly before anything runs.

papermill only *logs* a parameter it does not know, and passes ``-p period 2025`` as the int
``2025``. Every report notebook therefore starts with ``params = check_parameters(KIND, globals())``
right after its ``parameters`` cell: it refuses unknown names (a typo such as ``acount_id``),
unknown accounts and managers, malformed dates and periods, with one message that names the bad
value and the valid options. :func:`render_report <kam.reports.render.render_report>` runs the
same checks before it starts a kernel.

An empty ``workspace`` means the demo workspace, built once into a cache folder (see
:func:`demo_workspace`).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..errors import AccountNotFound, InputError, ValidationProblem
from ..model import check_period
from ..store import Workspace

__all__ = [
    "KINDS",
    "NOTEBOOKS",
    "PARAMETERS",
    "Parameter",
    "ReportParams",
    "check_parameters",
    "demo_workspace",
    "is_demo",
]


@dataclass(frozen=True)
class Parameter:
    """One parameter of a report notebook: its name, default and help text."""

    name: str
    default: str
    help: str


_WORKSPACE = Parameter("workspace", "", "workspace folder or database URL; empty: the demo")
_ACCOUNT = Parameter("account_id", "", "account id; empty: the first account of the demo")
_PERIOD = Parameter("period", "", "year (2026), quarter (2026-Q3) or month (2026-09); "
                    "empty: the year of as_of")
_AS_OF = Parameter("as_of", "", "reporting date YYYY-MM-DD; "
                   "empty: today (the demo's own date for the demo)")
_MANAGER = Parameter("manager", "", "team member id: only the accounts they manage; "
                     "empty: all accounts")

PARAMETERS: dict[str, tuple[Parameter, ...]] = {
    "plan": (_WORKSPACE, _ACCOUNT, _PERIOD, _AS_OF),
    "profitability": (_WORKSPACE, _ACCOUNT, _PERIOD, _AS_OF),
    "portfolio": (_WORKSPACE, _MANAGER, _PERIOD, _AS_OF),
}
"""The parameters each kind of report takes (the ``parameters`` cell of its notebook; the help
texts hold no ``=``, which papermill's parser would not take)."""

KINDS = tuple(PARAMETERS)
"""The kinds of report: ``plan`` and ``profitability`` per account, ``portfolio``."""

NOTEBOOKS = {"plan": "account_plan.ipynb", "profitability": "profitability.ipynb",
             "portfolio": "portfolio.ipynb"}
"""The notebook (in :func:`kam.config.notebooks_dir`) of each kind of report."""

ACCOUNT_KINDS = ("plan", "profitability")


@dataclass(frozen=True)
class ReportParams:
    """Checked parameters of one report run.

    ``workspace`` is the location to open (the demo cache folder when the user left it empty;
    ``demo`` says so), ``as_of`` a date, ``period`` a period string, ``account_id`` /
    ``manager`` ``None`` when not given or not applicable.
    """

    kind: str
    workspace: str
    demo: bool
    as_of: date
    period: str
    account_id: str | None = None
    manager: str | None = None
    given: dict[str, str] = field(default_factory=dict)

    def papermill(self) -> dict[str, str]:
        """The parameters to pass to papermill (strings, as the notebook declares them)."""
        return {p.name: self.given.get(p.name, p.default) for p in PARAMETERS[self.kind]}

    def describe(self) -> str:
        """One line naming the report, e.g. ``plan report of ACME, period 2026, as of
        2026-11-01, demo workspace``."""
        what = {"plan": "account plan", "profitability": "profitability"}.get(self.kind,
                                                                              self.kind)
        subject = (f" of {self.account_id}" if self.account_id else
                   f" of {self.manager}'s accounts" if self.manager else " of all accounts")
        where = "demo workspace" if self.demo else f"workspace {self.workspace}"
        return (f"{what} report{subject}, period {self.period}, as of {self.as_of.isoformat()}, "
                f"{where}")

    def shown(self) -> list[tuple[str, str]]:
        """``(name, value)`` pairs for a report footer (the demo cache path is not shown)."""
        out = []
        for p in PARAMETERS[self.kind]:
            value = self.given.get(p.name, "")
            if p.name == "workspace":
                value = "demo" if self.demo else self.workspace
            elif p.name == "as_of":
                value = self.as_of.isoformat()
            elif p.name == "period":
                value = self.period
            out.append((p.name, value or "(all)"))
        return out


def _problem(kind: str, name: str, message: str) -> InputError:
    return InputError([ValidationProblem(record=f"{kind} report parameters", field=name,
                                         message=message)])


def _as_text(kind: str, name: str, value: Any) -> str:
    """papermill turns ``-p period 2026`` into an int and a Python caller may pass a date."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _problem(kind, name, f"expected text, found {type(value).__name__} {value!r}")
    return str(value).strip()


def _user_names(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The variables a notebook user (or papermill) set: not IPython's own, not private."""
    hidden: set[str] = set()
    try:  # inside a kernel, IPython keeps the names it defined itself
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None and getattr(shell, "user_ns", None) is namespace:
            hidden = set(shell.user_ns_hidden)
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        pass
    out = {}
    for name, value in namespace.items():
        if name.startswith("_") or name in hidden or name in ("In", "Out", "exit", "quit",
                                                               "get_ipython", "open"):
            continue
        if callable(value) or type(value).__name__ == "module":
            continue
        out[name] = value
    return out


def check_parameters(kind: str, namespace: Mapping[str, Any] | None = None, /,
                     **values: Any) -> ReportParams:
    """Check the parameters of a ``kind`` report and resolve the defaults.

    Parameters
    ----------
    kind
        ``"plan"``, ``"profitability"`` or ``"portfolio"``.
    namespace
        In a notebook, ``globals()``: every user variable in it must be a parameter of the report
        (papermill injects unknown parameters as variables and only logs a warning).
    **values
        Parameter values (override the namespace).

    Raises
    ------
    InputError
        Unknown kind or parameter name, a malformed date or period, an unknown manager.
    AccountNotFound
        ``account_id`` is not an account of the workspace (the message lists the known ones).

    Examples
    --------
    >>> check_parameters("plan", acount_id="X")
    Traceback (most recent call last):
    ...
    kam.errors.InputError: plan report parameters, field 'acount_id': unknown parameter (a typo?); \
the plan report takes: workspace, account_id, period, as_of
    """
    if kind not in PARAMETERS:
        raise _problem("kam", "kind", f"unknown report kind {kind!r}; options are "
                       + ", ".join(KINDS))
    declared = {p.name for p in PARAMETERS[kind]}
    given_raw = dict(_user_names(namespace)) if namespace is not None else {}
    given_raw.update(values)
    unknown = sorted(set(given_raw) - declared)
    if unknown:
        raise _problem(kind, unknown[0], "unknown parameter (a typo?); the "
                       f"{kind} report takes: " + ", ".join(p.name for p in PARAMETERS[kind]))
    given = {k: _as_text(kind, k, v) for k, v in given_raw.items()}
    workspace = given.get("workspace", "")
    demo = not workspace
    as_of = _parse_date(kind, given.get("as_of", ""), demo)
    period = given.get("period", "") or str(as_of.year)
    try:
        check_period(period)
    except ValueError as e:
        raise _problem(kind, "period", str(e)) from None
    location = str(demo_workspace()) if demo else workspace
    account_id: str | None = None
    manager: str | None = None
    if kind in ACCOUNT_KINDS or given.get("manager"):
        with Workspace(location) as ws:
            ids = ws.account_ids()
            if kind in ACCOUNT_KINDS:
                account_id = given.get("account_id", "")
                if not account_id:
                    if not demo or not ids:
                        raise _problem(kind, "account_id", "required; pass one of: "
                                       + ", ".join(ids[:10]) + (", ..." if len(ids) > 10 else ""))
                    account_id = ids[0]
                elif account_id not in ids:
                    raise AccountNotFound(account_id, ids)
            if given.get("manager"):
                manager = given["manager"]
                team = sorted(ws.team().ids())
                if manager not in team:
                    raise _problem(kind, "manager", f"{manager!r} is not a member of the team; "
                                   "known: " + (", ".join(team) or "none (the team is empty)"))
                kams = sorted({d.account.kam for d in ws.load_all() if d.account.kam})
                if manager not in kams:
                    raise _problem(kind, "manager", f"{manager!r} manages no account; managers "
                                   "with accounts: " + (", ".join(kams) or "none"))
    return ReportParams(kind=kind, workspace=location, demo=demo, as_of=as_of, period=period,
                        account_id=account_id, manager=manager, given=given)


def _parse_date(kind: str, text: str, demo: bool) -> date:
    if not text:
        if demo:
            from ..demo import TODAY

            return TODAY
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise _problem(kind, "as_of", f"{text!r} is not a date; write it as YYYY-MM-DD, "
                       "e.g. 2026-11-01") from None


def is_demo(location: str | os.PathLike[str]) -> bool:
    """Whether ``location`` is the cached demo workspace."""
    return Path(location).resolve() == demo_workspace(build=False).resolve()


def _demo_key() -> str:
    """Changes whenever the demo's source or kam's version changes."""
    from .. import demo

    h = hashlib.sha256(__version__.encode())
    root = Path(demo.__file__).parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:10]


def demo_workspace(build: bool = True) -> Path:
    """The demo workspace used when a report's ``workspace`` parameter is empty.

    It is built once into ``$KAM_DEMO_CACHE`` (default: a ``kam-demo-*`` folder in the system
    temporary folder, keyed by kam's version and the demo's source) and reused; concurrent
    builders (parallel notebooks) each build into a private folder and the first to finish wins.
    """
    base = Path(os.environ.get("KAM_DEMO_CACHE") or tempfile.gettempdir())
    uid = os.getuid() if hasattr(os, "getuid") else 0
    target = base / f"kam-demo-{uid}-{_demo_key()}"
    if not build or (target / "workspace.db").exists():
        return target
    from .. import demo

    base.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=base))
    try:
        ws = demo.build(scratch / "ws")
        ws.close()
        try:
            os.rename(scratch / "ws", target)
        except OSError:
            if not (target / "workspace.db").exists():
                raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target

