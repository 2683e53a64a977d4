"""Report parameters: what each report notebook takes, checked loudly before anything runs.

papermill only *logs* a parameter it does not know, and passes ``-p period 2025`` as the int
``2025``. Every report notebook therefore runs ``params = check_parameters(KIND, globals())``
right after its ``parameters`` cell: it refuses unknown names (a typo such as ``acount_id``),
unknown accounts and managers, malformed dates and periods, with one message that names the bad
value and the valid options. :func:`render_report <kam.reports.render.render_report>` runs the
same checks before it starts a kernel.

In a notebook the names checked are those the ``parameters`` cell and papermill's
``injected-parameters`` cell assign — read from the kernel's input history, not from
``globals()``, which also holds whatever an earlier run or a scratch cell left behind (see
:func:`parameter_cell_names`). So that the history shows where the parameters start, the cell
before the ``parameters`` cell must be an ordinary code cell (the notebooks' imports).

The ``workspace`` parameter: ``"demo"`` is the built-in demo, built once into a cache folder
(:func:`demo_workspace`); empty means ``$KAM_WORKSPACE`` or else ``./kam-workspace``
(:func:`kam.store.default_location`); anything else is a folder or a database URL.
"""

from __future__ import annotations

import ast
import hashlib
import os
import shlex
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from .. import __version__
from ..config import current_user
from ..errors import AccountNotFound, InputError, ValidationProblem
from ..model import check_period
from ..store import DEFAULT_PATH, Workspace, default_location

__all__ = [
    "DEMO",
    "KINDS",
    "NOTEBOOKS",
    "PARAMETERS",
    "Parameter",
    "ReportParams",
    "check_parameters",
    "demo_workspace",
    "is_demo",
    "parameter_cell_names",
]

DEMO = "demo"
"""The ``workspace`` value that asks for the built-in demo. A workspace folder called ``demo`` in
the current folder wins (``kam report --workspace demo`` keeps meaning it)."""


@dataclass(frozen=True)
class Parameter:
    """One parameter of a report notebook: its name, default and help text."""

    name: str
    default: str
    help: str


_WORKSPACE = Parameter("workspace", "", "workspace folder or database URL, or demo for the "
                       "built-in demo; empty: $KAM_WORKSPACE, else ./kam-workspace")
_ACCOUNT = Parameter("account_id", "", "account id; empty: your first account "
                     "(the demo: its first account)")
_PERIOD = Parameter("period", "", "year (2026), quarter (2026-Q3) or month (2026-09); "
                    "empty: the year of as_of")
_AS_OF = Parameter("as_of", "", "reporting date YYYY-MM-DD; "
                   "empty: today (the demo's own date for the demo)")
_MANAGER = Parameter("manager", "", "team member id: only the accounts they manage; "
                     "empty: all accounts")
_PLANNER = Parameter("planner", "", "team member id of a planner: their team's tasks, plans and "
                     "handovers; empty: the first planner of the team")
_WEEK = Parameter("week", "", "ISO week such as 2026-W48; empty: the current week "
                  "(the demo's own week for the demo)")
_PLANNER_PERIOD = Parameter("period", "", "period of the plan: year (2026), quarter (2026-Q4) or "
                            "month (2026-11); empty: the quarter of the week")

PARAMETERS: dict[str, tuple[Parameter, ...]] = {
    "plan": (_WORKSPACE, _ACCOUNT, _PERIOD, _AS_OF),
    "profitability": (_WORKSPACE, _ACCOUNT, _PERIOD, _AS_OF),
    "portfolio": (_WORKSPACE, _MANAGER, _PERIOD, _AS_OF),
    "planner": (_WORKSPACE, _PLANNER, _WEEK, _PLANNER_PERIOD),
}
"""The parameters each kind of report takes (the ``parameters`` cell of its notebook; the help
texts hold no ``=``, which papermill's parser would not take)."""

KINDS = tuple(PARAMETERS)
"""The kinds of report: ``plan`` and ``profitability`` per account, ``portfolio``, and
``planner`` (a planner's week: their team's tasks, KPIs against the plan, handovers)."""

NOTEBOOKS = {"plan": "account_plan.ipynb", "profitability": "profitability.ipynb",
             "portfolio": "portfolio.ipynb", "planner": "planner_week.ipynb"}
"""The notebook (in :func:`kam.config.notebooks_dir`) of each kind of report."""

ACCOUNT_KINDS = ("plan", "profitability")


@dataclass(frozen=True)
class ReportParams:
    """Checked parameters of one report run.

    ``workspace`` is the location to open (for the demo its cache folder, and ``demo`` is true);
    ``origin`` says where it came from: ``"parameter"`` (given, also ``"demo"``),
    ``"KAM_WORKSPACE"`` or ``"default"`` (``./kam-workspace``, made absolute) for an empty
    parameter. ``as_of`` is a date, ``period`` a period string, ``account_id`` / ``manager``
    ``None`` when not given or not applicable.
    """

    kind: str
    workspace: str
    demo: bool
    as_of: date
    period: str
    account_id: str | None = None
    manager: str | None = None
    given: dict[str, str] = field(default_factory=dict)
    planner: str | None = None
    """The planner of a ``planner`` report (``None`` for the other kinds)."""
    week: str | None = None
    """The ISO week of a ``planner`` report, e.g. ``2026-W48``."""
    origin: str = "parameter"
    account_note: str = ""
    """Why this account (or planner), when ``account_id`` (``planner``) was left empty outside
    the demo."""

    def papermill(self) -> dict[str, str]:
        """The parameters to pass to papermill (strings, as the notebook declares them); the
        workspace as resolved here, so the kernel opens the same one."""
        out = {p.name: self.given.get(p.name, p.default) for p in PARAMETERS[self.kind]}
        out["workspace"] = DEMO if self.demo else self.workspace
        return out

    def describe(self) -> str:
        """One line naming the report and the workspace it reads, e.g. ``account plan report of
        ACME, period 2026, as of 2026-11-01, demo workspace``."""
        what = {"plan": "account plan", "profitability": "profitability"}.get(self.kind,
                                                                              self.kind)
        if self.kind == "planner":
            note = f" ({self.account_note})" if self.account_note else ""
            return (f"planner report of {self.planner}'s team{note}, week {self.week}, plan "
                    f"period {self.period}, as of {self.as_of.isoformat()}, {self.where()}")
        subject = (f" of {self.account_id}" if self.account_id else
                   f" of {self.manager}'s accounts" if self.manager else " of all accounts")
        note = f" ({self.account_note})" if self.account_note else ""
        return (f"{what} report{subject}{note}, period {self.period}, as of "
                f"{self.as_of.isoformat()}, {self.where()}")

    def where(self) -> str:
        """Which workspace the report reads and why, e.g. ``demo workspace`` or ``workspace
        /home/ann/kam-workspace (the default: $KAM_WORKSPACE is not set)``."""
        if self.demo:
            return "demo workspace"
        why = {"KAM_WORKSPACE": " (from $KAM_WORKSPACE)",
               "default": " (the default: $KAM_WORKSPACE is not set)"}.get(self.origin, "")
        return f"workspace {self.workspace}{why}"

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
            elif p.name == "planner":
                value = self.planner or ""
            elif p.name == "week":
                value = self.week or ""
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


def _literal_assignments(source: str) -> set[str] | None:
    """The names a parameters-like cell assigns (only ``name = literal`` or ``name: type =
    literal`` statements), or ``None`` for any other cell."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return None
    names: set[str] = set()
    for stmt in body:
        value: ast.expr | None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            targets, value = [stmt.target], stmt.value
        else:
            return None
        if not all(isinstance(target, ast.Name) for target in targets):
            return None
        if value is not None:
            try:
                ast.literal_eval(value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                return None
        names.update(target.id for target in targets if isinstance(target, ast.Name))
    return names


def parameter_cell_names(history: Sequence[str]) -> set[str]:
    """The names assigned by the parameter cells that ran just before the current cell.

    ``history`` is the kernel's input history (IPython's ``In``), the current cell last. Going
    back from the cell before it, every cell that only assigns literals (``name = "x"``) counts —
    the ``parameters`` cell and papermill's ``injected-parameters`` cell — up to the first other
    cell: the code cell before the ``parameters`` cell. A scratch variable or what an earlier
    run left behind is not among them.

    >>> sorted(parameter_cell_names(["x = 1", "import kam", 'workspace: str = ""  # help',
    ...                              "# Parameters\\nacount_id = 'A'", "check(globals())"]))
    ['acount_id', 'workspace']
    """
    cells = list(history)
    if cells and _literal_assignments(cells[-1]) is None:
        cells.pop()  # the current cell (unless the kernel keeps no history of it)
    names: set[str] = set()
    for source in reversed(cells):
        found = _literal_assignments(source)
        if found is None:
            break
        names |= found
    return names


def _shell_of(namespace: Mapping[str, Any]) -> Any:
    """The IPython shell whose user namespace ``namespace`` is, or ``None``."""
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython ships with ipykernel
        return None
    shell = get_ipython()
    return shell if shell is not None and getattr(shell, "user_ns", None) is namespace else None


def _namespace_values(namespace: Mapping[str, Any], declared: set[str]) -> dict[str, Any]:
    """The parameter values a notebook namespace holds: the declared parameters, plus every name
    the parameter cells assigned (so a typo shows). Outside a kernel (a plain dict), every user
    variable counts."""
    shell = _shell_of(namespace)
    if shell is None or shell.history_manager is None:
        return _user_names(namespace)
    assigned = parameter_cell_names(shell.history_manager.input_hist_parsed)
    return {name: namespace[name] for name in sorted(declared | assigned)
            if name in namespace and not name.startswith("_")}


def _user_names(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The variables of a plain namespace: not private, not modules or functions."""
    out = {}
    for name, value in namespace.items():
        if name.startswith("_") or name in ("In", "Out", "exit", "quit", "get_ipython",
                                            "open"):
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
        ``"plan"``, ``"profitability"``, ``"portfolio"`` or ``"planner"``.
    namespace
        In a notebook, ``globals()``: the values of the declared parameters are read from it, and
        every name the parameter cells assign (the ``parameters`` cell and papermill's
        ``injected-parameters`` cell, see :func:`parameter_cell_names`) must be a parameter of
        the report — papermill injects unknown parameters and only logs a warning. Other
        variables (a scratch ``x = 1``, what an earlier run left) are ignored. A plain mapping
        (no kernel) is checked whole: each of its variables must be a parameter.
    **values
        Parameter values (override the namespace).

    Raises
    ------
    InputError
        Unknown kind or parameter name, a malformed date, period or week, an unknown manager,
        a planner who is not a planner of the team.
    AccountNotFound
        ``account_id`` is not an account of the workspace (the message lists the known ones).
    FileNotFoundError
        No workspace at the folder the ``workspace`` parameter names (or, left empty, at
        ``$KAM_WORKSPACE`` or ``./kam-workspace``); the message says how to create one.

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
    given_raw = _namespace_values(namespace, declared) if namespace is not None else {}
    given_raw.update(values)
    unknown = sorted(set(given_raw) - declared)
    if unknown:
        raise _problem(kind, unknown[0], "unknown parameter (a typo?); the "
                       f"{kind} report takes: " + ", ".join(p.name for p in PARAMETERS[kind]))
    given = {k: _as_text(kind, k, v) for k, v in given_raw.items()}
    location, demo, origin = _locate(given.get("workspace", ""))
    as_of = _parse_date(kind, given.get("as_of", ""), demo)
    if kind == "planner":
        return _planner_params(given, location, demo, origin, as_of)
    period = given.get("period", "") or str(as_of.year)
    try:
        check_period(period)
    except ValueError as e:
        raise _problem(kind, "period", str(e)) from None
    account_id: str | None = None
    account_note = ""
    manager: str | None = None
    with _open(location, origin) as ws:
        if kind in ACCOUNT_KINDS or given.get("manager"):
            ids = ws.account_ids()
            if kind in ACCOUNT_KINDS:
                account_id = given.get("account_id", "")
                if not account_id:
                    if not ids:
                        raise _problem(kind, "account_id", f"the workspace {location} holds no "
                                       "account yet: import or create one first")
                    account_id, account_note = _default_account(ws, ids, demo)
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
                        account_id=account_id, manager=manager, given=given, origin=origin,
                        account_note=account_note)


def _planner_params(given: dict[str, str], location: str, demo: bool, origin: str,
                    today: date) -> ReportParams:
    """The parameters of a ``planner`` report: the week (``as_of`` is its Sunday, or today
    while the week runs), the plan period (default: the quarter of ``as_of``) and the planner
    (default: the first planner of the team)."""
    from ..control import week_of, week_span

    week = given.get("week", "") or week_of(today)
    try:
        _, sunday = week_span(week)
    except ValueError as e:
        raise _problem("planner", "week", str(e)) from None
    as_of = min(sunday, today)
    period = given.get("period", "") or f"{as_of.year}-Q{(as_of.month - 1) // 3 + 1}"
    try:
        check_period(period)
    except ValueError as e:
        raise _problem("planner", "period", str(e)) from None
    with _open(location, origin) as ws:
        team = ws.team()
    planners = sorted(m.id for m in team.members if m.role.value == "planner")
    planner, note = given.get("planner", ""), ""
    if not planner:
        if not planners:
            raise _problem("planner", "planner", "the team has no planner: give a member the "
                           "role planner (kam's team roster) first")
        planner = planners[0]
        note = "" if demo else "the first planner of the team; set planner to choose"
    elif planner not in planners:
        raise _problem("planner", "planner", f"{planner!r} is not a planner of the team; "
                       "planners: " + (", ".join(planners) or "none"))
    return ReportParams(kind="planner", workspace=location, demo=demo, as_of=as_of,
                        period=period, given=given, origin=origin, account_note=note,
                        planner=planner, week=week)


def _default_account(ws: Workspace, ids: list[str], demo: bool) -> tuple[str, str]:
    """The account of a report whose ``account_id`` was left empty: the demo's first account;
    elsewhere the first account of the current user (:func:`kam.config.current_user`), else
    the first account, with a note saying so."""
    if demo:
        return ids[0], ""
    user = current_user()
    mine = [d.account.id for d in ws.load_all() if d.account.kam == user]
    if mine:
        return mine[0], f"the first of {user}'s accounts; set account_id to choose"
    return ids[0], "the first account; set account_id to choose"


def _locate(workspace: str) -> tuple[str, bool, str]:
    """``(location, demo, origin)`` of the ``workspace`` parameter (see :class:`ReportParams`).

    An empty parameter's folder is made absolute: the kernel of a notebook runs in the
    notebook's folder, so the message and the report footer say which folder that is.
    """
    if workspace == DEMO and not _holds_workspace(DEMO):
        return str(demo_workspace()), True, "parameter"
    if workspace:
        return workspace, is_demo(workspace), "parameter"
    origin = "KAM_WORKSPACE" if os.environ.get("KAM_WORKSPACE") else "default"
    location = default_location()
    if "://" not in location:
        location = str(Path(location).absolute())
    return location, is_demo(location), origin


def _holds_workspace(folder: str) -> bool:
    try:
        Workspace(folder).close()
    except FileNotFoundError:
        return False
    return True


def _open(location: str, origin: str) -> Workspace:
    """The workspace at ``location``; a folder without one raises ``FileNotFoundError`` naming
    the folder, why it was tried and how to create a workspace there."""
    try:
        return Workspace(location)
    except FileNotFoundError:
        if "://" in location:
            raise
    why = {"KAM_WORKSPACE": " (the workspace parameter is empty, so $KAM_WORKSPACE is used)",
           "default": " (the workspace parameter is empty and $KAM_WORKSPACE is not set, so "
                      f"./{DEFAULT_PATH} is used)"}.get(origin, "")
    folder = shlex.quote(location)
    raise FileNotFoundError(
        f"No kam workspace at {location}{why}: create one with 'kam init {folder}', or build "
        f"the demo there with 'kam demo {folder}'; or pass workspace {DEMO!r} for the built-in "
        "demo") from None


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
    """Whether ``location`` is the cached demo workspace (:func:`demo_workspace`)."""
    if "://" in str(location):
        return False
    return Path(location).resolve() == demo_workspace(build=False).resolve()


def _demo_key() -> str:
    """Changes whenever the demo's source, kam's version or the store's schema changes."""
    from .. import demo
    from ..store.schema import SCHEMA_VERSION

    h = hashlib.sha256(f"{__version__} {SCHEMA_VERSION}".encode())
    root = Path(demo.__file__).parent
    for path in sorted(root.rglob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:10]


def demo_workspace(build: bool = True) -> Path:
    """The demo workspace a report uses when its ``workspace`` parameter is ``"demo"``.

    It is built once into a ``kam-demo-*`` folder (keyed by kam's version and the demo's source)
    of the user's private cache folder (:func:`kam.demo.cache.demo_cache_dir`:
    ``$KAM_DEMO_CACHE``, else ``$XDG_CACHE_HOME/kam`` or ``~/.cache/kam``, mode 0700, never a
    shared temporary folder another user could create first) and reused; concurrent builders
    (parallel notebooks) each build into a private folder and the first to finish wins.
    """
    from ..demo.cache import demo_cache_dir

    base = demo_cache_dir(create=build)
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

