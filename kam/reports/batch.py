"""Render many reports at once: parallel workers, an index page, and re-runs that redo only what
changed.

Each worker process keeps one kernel (:class:`~kam.reports.render.KernelSession`) and converts
to HTML in-process, so a report pays neither a kernel start, nor the imports, nor an nbconvert
process. A failing report does not stop the batch: its annotated output notebook is kept and
the summary names it with the reason.

The workers are plain ``python -c`` processes that talk to the batch over their stdin and stdout
(pickles): they never import the caller's script, so a script needs no ``if __name__ ==
"__main__":`` guard. A signal (Ctrl-C, SIGTERM, SIGHUP) stops the batch at once
(:class:`BatchInterrupted`): the workers stop their kernels and remove their temporary folders,
the reports finished so far are kept and recorded, the rest are not rendered. A worker whose
batch is gone (killed with SIGKILL) sees its stdin close and ends the same way; a kernel whose
worker is gone ends by itself (ipykernel watches its parent). Temporary files live in one folder
per batch (``kam-batch-*`` in the system's temporary folder).

Report files are named after the report (:func:`~kam.reports.render.report_name`), made unique
also where case does not count (``plan-ACME``, ``plan-acme-d8101c``; see :func:`file_names`), and
written whole or not at all (a temporary file replaced in one step), as are ``index.html`` and
the manifest.

*Where* the reports run is an :class:`Executor`: :class:`LocalPool` (the worker processes above,
or one kernel in this process for one or two reports) or, with ``cluster=``, the workers of a
Dask cluster (:class:`kam.reports.cluster.DaskCluster`). Planning, the manifest, the index and
the summary are the same for both.

Every report has an *input hash* — the data it reads (the account's revision fingerprint; the
whole workspace for reports that rank an account in the portfolio), the content of the notebook
it runs (kam's packaged one, or the user's own copy given in ``notebooks``) and of the template
files, the parameters and kam's version — stored in ``.kam-batch.json`` in the output folder. A
re-run skips reports whose hash is unchanged and whose HTML is still there; failed reports are
always redone.
"""

from __future__ import annotations

import _thread
import contextlib
import hashlib
import json
import os
import pickle
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from .. import __version__
from ..config import templates_dir
from ..errors import AccountNotFound, InputError, ValidationProblem
from ..store import Workspace
from .html import write_plotly_js
from .params import ACCOUNT_KINDS, ReportParams, check_parameters
from .render import (
    CELL_TIMEOUT,
    KernelSession,
    ReportResult,
    check_notebook,
    execute,
    notebook_path,
    report_name,
    write_atomic,
)

__all__ = [
    "MANIFEST",
    "BatchInterrupted",
    "BatchResult",
    "Executor",
    "Job",
    "LocalPool",
    "file_names",
    "input_hash",
    "run_batch",
    "select_accounts",
]

MANIFEST = ".kam-batch.json"
"""The batch's memory in the output folder: per report, its input hash, status and key figures."""


@dataclass(frozen=True)
class Job:
    """One report to render."""

    name: str
    params: ReportParams
    hash: str
    label: str = ""
    notebook: Path | None = None
    """The user's own notebook to run; ``None``: kam's packaged one."""


@dataclass
class BatchResult:
    """The outcome of a batch.

    ``reports`` has one row per report: ``name``, ``kind``, ``account_id``, ``status``
    (``rendered``, ``unchanged`` or ``failed``), ``seconds``, ``html``, ``notebook`` and
    ``reason`` (why it failed). ``problems`` are faults of the place the reports ran that are
    not a report's own (a cluster worker that cannot read the store, say); ``where`` names that
    place (empty: this machine's worker processes).
    """

    out_dir: Path
    reports: pd.DataFrame
    index: Path
    seconds: float
    workers: int
    results: list[ReportResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    where: str = ""

    @property
    def failed(self) -> pd.DataFrame:
        return self.reports[self.reports["status"] == "failed"].reset_index(drop=True)

    @property
    def ok(self) -> bool:
        """No report failed and nothing went wrong where they ran."""
        return self.failed.empty and not self.problems

    def summary(self) -> str:
        """Counts, time, one line per problem of the workers, and one line per failure with its
        reason and kept notebook."""
        counts = self.reports["status"].value_counts()
        parts = [f"{counts.get(s, 0)} {s}" for s in ("rendered", "unchanged", "failed")]
        where = f" {self.where}" if self.where else ""
        lines = [f"{len(self.reports)} reports: " + ", ".join(parts)
                 + f" in {self.seconds:.1f} s ({self.workers} workers{where}); "
                 f"index: {self.index}"]
        lines += [f"PROBLEM {problem}" for problem in self.problems]
        for row in self.failed.itertuples():
            lines.append(f"FAILED {row.name}: {row.reason} (notebook kept: {row.notebook})")
        return "\n".join(lines)


class BatchInterrupted(KeyboardInterrupt):
    """A batch stopped by a signal (Ctrl-C = SIGINT, SIGTERM, SIGHUP) before its end.

    When it is raised, the batch's workers, their kernels and its temporary folder are gone; the
    reports finished before the signal are written and recorded in the manifest (a re-run skips
    them), the others are not rendered, and ``index.html`` is as it was. ``exit_code`` is what a
    shell reports for the signal (128 + its number: 130 for SIGINT, 143 for SIGTERM).
    """

    def __init__(self, signum: int, *, written: int = 0, failed: int = 0, total: int = 0):
        super().__init__(signum)
        self.signum = signum
        self.written = written
        self.failed = failed
        self.total = total

    @property
    def signal_name(self) -> str:
        try:
            return signal.Signals(self.signum).name
        except ValueError:
            return f"signal {self.signum}"

    @property
    def exit_code(self) -> int:
        return 128 + self.signum

    def __str__(self) -> str:
        if not self.total:
            return f"stopped by {self.signal_name} before any report was rendered"
        rest = self.total - self.written - self.failed
        failed = f", {self.failed} failed" if self.failed else ""
        if not rest:
            return (f"stopped by {self.signal_name}: all {self.total} reports done{failed}, "
                    "but index.html not updated; run the batch again to write it")
        return (f"stopped by {self.signal_name}: {self.written} of {self.total} report"
                f"{'' if self.total == 1 else 's'} written{failed}, the other {rest} not; "
                "run the batch again to render them (the written ones are skipped)")


# -- what to render ------------------------------------------------------------------------
def select_accounts(ws: Workspace, *, accounts: Sequence[str] = (), manager: str | None = None,
                    category: str | None = None) -> list[str]:
    """Ids of the accounts a batch covers: all, or those given, of a manager (their KAM), or of
    a category (A/B/C); filters combine."""
    known = ws.account_ids()
    if accounts:
        missing = [a for a in accounts if a not in known]
        if missing:
            raise AccountNotFound(missing[0], known)
    wanted = list(accounts) or known
    if manager is None and category is None:
        return sorted(wanted)
    out = []
    for d in ws.load_all(wanted):
        cat = d.account.category.value if d.account.category else None
        if manager is not None and d.account.kam != manager:
            continue
        if category is not None and cat != category.upper():
            continue
        out.append(d.account.id)
    return sorted(out)


def _file_hash(paths: Iterable[Path]) -> str:
    h = hashlib.sha256()
    for p in sorted(paths):
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def input_hash(params: ReportParams, data_fingerprint: str, *, notebook: Path,
               template_hash: str, self_contained: bool) -> str:
    """The hash that decides whether a report must be redone (see the module docstring)."""
    payload = {
        "kind": params.kind, "data": data_fingerprint,
        "notebook": _file_hash([notebook]), "template": template_hash,
        "parameters": params.papermill(), "as_of": params.as_of.isoformat(),
        "period": params.period, "kam": __version__, "self_contained": self_contained,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:16]


def _template_hash() -> str:
    folder = templates_dir() / "kam_report"
    return _file_hash([p for p in folder.rglob("*") if p.is_file()])[:16]


def file_names(names: Iterable[str]) -> dict[str, str]:
    """File stems for report names, unique also on a file system that ignores case.

    Of names that differ only in case, the first in sorted order keeps its name; each other one
    gets ``-`` and the start of the SHA-256 of its name (longer if that is taken too). The result
    depends on the set of names only, not on their order.

    >>> file_names(["plan-acme", "plan-ACME", "plan-BOLT"])
    {'plan-ACME': 'plan-ACME', 'plan-BOLT': 'plan-BOLT', 'plan-acme': 'plan-acme-d8101c'}
    """
    groups: dict[str, list[str]] = defaultdict(list)
    for name in sorted(set(names)):
        groups[name.casefold()].append(name)
    out = {group[0]: group[0] for group in groups.values()}
    taken = set(groups)
    for group in groups.values():
        for name in group[1:]:
            digest = hashlib.sha256(name.encode()).hexdigest()
            size = 6
            while f"{name}-{digest[:size]}".casefold() in taken:
                size += 2
            out[name] = f"{name}-{digest[:size]}"
            taken.add(out[name].casefold())
    return dict(sorted(out.items()))


def _jobs(ws: Workspace, ids: list[str], kinds: Sequence[str], portfolio: bool,
          manager: str | None, common: dict[str, str], self_contained: bool,
          notebooks: Mapping[str, Path]) -> list[Job]:
    tmpl = _template_hash()
    whole = ws.fingerprint()
    jobs = []
    names = {d.account.id: d.account.name for d in ws.load_all(ids)} if ids else {}
    base = check_parameters("portfolio", **common)
    for account_id in ids:
        for kind in kinds:
            # The ids come from the workspace: no need to check each one again.
            params = replace(base, kind=kind, account_id=account_id, manager=None,
                             given={**base.given, "account_id": account_id})
            data = ws.fingerprint([account_id]) if kind == "plan" else whole
            own = notebooks.get(kind)
            h = input_hash(params, data, notebook=own or notebook_path(kind),
                           template_hash=tmpl, self_contained=self_contained)
            jobs.append(Job(report_name(kind, account_id), params, h, names[account_id], own))
    if portfolio:
        params = check_parameters("portfolio", manager=manager or "", **common)
        own = notebooks.get("portfolio")
        h = input_hash(params, whole, notebook=own or notebook_path("portfolio"),
                       template_hash=tmpl, self_contained=self_contained)
        jobs.append(Job(report_name("portfolio", manager=manager), params, h, "Portfolio", own))
    unique = file_names(job.name for job in jobs)
    return [replace(job, name=unique[job.name]) for job in jobs]


# -- workers -------------------------------------------------------------------------------
def _failed(job: Job, out_dir: Path, reason: str) -> ReportResult:
    return ReportResult(name=job.name, kind=job.params.kind, account_id=job.params.account_id,
                        manager=job.params.manager,
                        notebook=out_dir / "notebooks" / f"{job.name}.ipynb", error=reason)


def _load_manifest(out_dir: Path) -> dict[str, Any]:
    path = out_dir / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data.get("reports", {}) if isinstance(data, dict) else {}


def _save_manifest(out_dir: Path, reports: dict[str, Any]) -> None:
    write_atomic(out_dir / MANIFEST, json.dumps({"kam": __version__, "reports": reports},
                                                indent=1, sort_keys=True))


def run_batch(workspace: str | os.PathLike[str] | None, out_dir: str | os.PathLike[str] = "reports",
              *, accounts: Sequence[str] = (), manager: str | None = None,
              category: str | None = None, kinds: Sequence[str] = ACCOUNT_KINDS,
              portfolio: bool = True, period: str = "", as_of: str = "",
              workers: int | None = None, force: bool = False, self_contained: bool = False,
              timeout: int | None = CELL_TIMEOUT, progress: bool = True,
              notebooks: Mapping[str, str | os.PathLike[str]] | None = None,
              cluster: str | None = None,
              connect_timeout: float = 10.0) -> BatchResult:
    """Render the reports of many accounts in parallel and write ``index.html``.

    Parameters
    ----------
    workspace
        Workspace folder or URL, or ``"demo"`` for the built-in demo; ``None`` or ``""`` =
        ``$KAM_WORKSPACE`` or else ``./kam-workspace``.
    out_dir
        Output folder (reports, ``plotly.min.js``, ``notebooks/``, ``index.html``, manifest).
    accounts, manager, category
        Filters (see :func:`select_accounts`); the portfolio report follows ``manager``.
    kinds
        Per-account report kinds (default both ``plan`` and ``profitability``).
    portfolio
        Also render the portfolio report.
    workers
        Worker processes (default: one per CPU core); with ``cluster="local"`` the number of
        Dask workers.
    force
        Redo every report, even unchanged ones.
    progress
        Show a progress bar (tqdm, on stderr).
    notebooks
        The user's own notebook per report kind (e.g. ``{"plan": "my/account_plan.ipynb"}``,
        checked by :func:`~kam.reports.render.check_notebook`); other kinds run kam's packaged
        notebooks. A changed notebook changes the input hash: its reports are redone.
    cluster
        Run the reports on Dask workers instead of this machine's worker processes: the
        address of a running scheduler (``tcp://HOST:8786``), or ``local`` / ``local:N`` for a
        ``distributed.LocalCluster`` of N workers started for the batch (see
        :mod:`kam.reports.cluster`; needs ``dask[distributed]``). The workers must see the
        workspace and ``out_dir`` at the same paths as this process.
    connect_timeout
        Seconds to wait for the scheduler (and for its first worker) before giving up.

    Returns
    -------
    BatchResult
        Check ``.ok`` / ``.failed``; the batch itself does not raise for a failing report.

    Raises
    ------
    ClusterError
        (:class:`kam.errors.ClusterError`) The scheduler cannot be reached, has no
        worker, or no worker can read the workspace and write ``out_dir``; no report was
        written.
    BatchInterrupted
        A signal (SIGINT, SIGTERM, SIGHUP) stopped the batch (handled so only when called from
        the main thread); the reports written so far are kept and recorded, nothing is left
        running and no temporary folder is left.
    """
    with _stop_on_signals() as stopping:
        return _run_batch(workspace, out_dir, accounts=accounts, manager=manager,
                          category=category, kinds=kinds, portfolio=portfolio, period=period,
                          as_of=as_of, workers=workers, force=force,
                          self_contained=self_contained, timeout=timeout, progress=progress,
                          notebooks=notebooks, cluster=cluster, connect_timeout=connect_timeout,
                          stopping=stopping)


def _run_batch(workspace: str | os.PathLike[str] | None, out_dir: str | os.PathLike[str], *,
               accounts: Sequence[str], manager: str | None, category: str | None,
               kinds: Sequence[str], portfolio: bool, period: str, as_of: str,
               workers: int | None, force: bool, self_contained: bool, timeout: int | None,
               progress: bool, notebooks: Mapping[str, str | os.PathLike[str]] | None,
               cluster: str | None, connect_timeout: float, stopping: _Stopping) -> BatchResult:
    started = time.perf_counter()
    out = Path(out_dir)
    common = {"workspace": str(workspace or ""), "period": period, "as_of": as_of}
    for kind in kinds:
        if kind not in ACCOUNT_KINDS:
            raise InputError([ValidationProblem("batch", "kinds", f"unknown per-account report "
                                                f"kind {kind!r}; options are "
                                                + ", ".join(ACCOUNT_KINDS))])
    if category is not None and category.upper() not in ("A", "B", "C"):
        raise InputError([ValidationProblem(
            "batch", "category", f"{category!r} is not a category; options are A, B, C")])
    own = {kind: check_notebook(path, kind) for kind, path in (notebooks or {}).items()}
    base = check_parameters("portfolio", manager=manager or "", **common)
    executor = _executor(cluster, workers, connect_timeout)
    jobs: list[Job] = []
    todo: list[Job] = []
    manifest: dict[str, Any] = {}
    results: dict[str, ReportResult] = {}
    try:
        with Workspace(base.workspace) as ws:
            ids = select_accounts(ws, accounts=accounts, manager=manager, category=category)
            jobs = _jobs(ws, ids, kinds, portfolio, manager, common, self_contained, own)
        manifest = _load_manifest(out)
        todo = [j for j in jobs if force or not _fresh(manifest.get(j.name), j, out)]
        if todo:
            executor.start(len(todo))  # a cluster that cannot be reached: nothing is written
        new = not out.exists()
        out.mkdir(parents=True, exist_ok=True)
        if todo:
            try:
                executor.check(base, out)
            except Exception:
                if new:  # leave no empty folder behind
                    with contextlib.suppress(OSError):
                        out.rmdir()
                raise
            _execute_all(todo, out, executor, self_contained, timeout, progress, results,
                         stopping)
        if not self_contained:
            write_plotly_js(out)
        rows, entries = _entries(jobs, results, manifest, out)
        _save_manifest(out, entries)
        index = write_index(out, jobs, entries)
    except BatchInterrupted as stop:
        if results:  # keep what was written: a re-run skips it; the index is left as it was
            _save_manifest(out, _entries(jobs, results, manifest, out)[1])
        stop.written = sum(r.ok for r in results.values())
        stop.failed = len(results) - stop.written
        stop.total = len(todo)
        raise
    finally:
        executor.close()
    frame = pd.DataFrame(rows, columns=["name", "kind", "account_id", "status", "seconds",
                                        "html", "notebook", "reason"])
    return BatchResult(out_dir=out, reports=frame, index=index,
                       seconds=time.perf_counter() - started,
                       workers=executor.workers if todo else 0,
                       results=list(results.values()), problems=list(executor.problems),
                       where=executor.where if todo else "")


def _entries(jobs: list[Job], results: Mapping[str, ReportResult], manifest: dict[str, Any],
             out: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Rows of :attr:`BatchResult.reports` and the manifest entries: this run's results, the
    manifest's entries of the reports it did not render."""
    rows, entries = [], {}
    for job in jobs:
        res = results.get(job.name)
        old = manifest.get(job.name, {})
        if res is None:
            status, entry = "unchanged", old
        else:
            status = "rendered" if res.ok else "failed"
            entry = {"hash": job.hash if res.ok else "", "status": "ok" if res.ok else "failed",
                     "kind": job.params.kind, "account_id": job.params.account_id,
                     "label": job.label, "html": res.html.name if res.html else None,
                     "notebook": str(res.notebook.relative_to(out)), "reason": res.error,
                     "meta": res.meta, "seconds": round(res.seconds, 3)}
        if entry:
            entries[job.name] = entry
        rows.append({"name": job.name, "kind": job.params.kind,
                     "account_id": job.params.account_id, "status": status,
                     "seconds": res.seconds if res else 0.0,
                     "html": str(out / entry["html"]) if entry.get("html") else "",
                     "notebook": str(out / entry.get("notebook", "")),
                     "reason": entry.get("reason") or ""})
    return rows, entries


def _fresh(entry: dict[str, Any] | None, job: Job, out: Path) -> bool:
    return bool(entry and entry.get("status") == "ok" and entry.get("hash") == job.hash
                and entry.get("html") and (out / entry["html"]).exists())


def _execute_all(todo: list[Job], out: Path, executor: Executor, self_contained: bool,
                 timeout: int | None, progress: bool, results: dict[str, ReportResult],
                 stopping: _Stopping) -> None:
    """Render ``todo`` into ``results`` with ``executor``, with a progress bar."""
    from tqdm import tqdm

    bar = tqdm(total=len(todo), desc="kam batch", unit="report", disable=not progress,
               file=sys.stderr, dynamic_ncols=True)

    def done(job: Job, res: ReportResult) -> None:
        results[job.name] = res
        bar.update(1)
        if not res.ok:
            bar.write(f"FAILED {job.name}: {res.error}", file=sys.stderr)

    try:
        executor.run(todo, out, self_contained, timeout, done, stopping)
    finally:
        bar.close()


# -- where the reports run -----------------------------------------------------------------
class Executor(Protocol):
    """Where a batch's reports run. The batch calls :meth:`start` (only when there is something
    to render; raises when the place cannot be used, before anything is written), then
    :meth:`check`, :meth:`run`, and always :meth:`close`."""

    workers: int
    """Workers the reports ran on (known after :meth:`start`)."""
    where: str
    """How :meth:`BatchResult.summary` names the place, after the worker count (may be empty)."""
    problems: list[str]
    """Faults of the place that are not a report's own (one line each, for the summary)."""

    def start(self, n_reports: int) -> None:
        """Get ready to render ``n_reports`` reports."""

    def check(self, params: ReportParams, out: Path) -> None:
        """Check up front that the workers can read the workspace of ``params`` and write to
        ``out``."""

    def run(self, todo: list[Job], out: Path, self_contained: bool, timeout: int | None,
            done: Callable[[Job, ReportResult], None], stopping: _Stopping) -> None:
        """Render ``todo``, calling ``done`` once per report, in the order they finish; a
        failing report is a failed :class:`ReportResult`, not an exception."""

    def close(self) -> None:
        """Stop whatever :meth:`start` started (safe to call when it was not called)."""


class LocalPool:
    """This machine's worker processes (see the module docstring); one or two reports run on
    one kernel in this process (a pool pays a process and a kernel start per worker)."""

    def __init__(self, workers: int | None = None):
        self.requested = workers
        self.workers = 0
        self.where = ""
        self.problems: list[str] = []

    def start(self, n_reports: int) -> None:
        wanted = self.requested or os.cpu_count() or 1
        self.workers = max(1, min(wanted, n_reports if n_reports > 2 else 1))

    def check(self, params: ReportParams, out: Path) -> None:
        """Nothing to check: the batch itself has just read the workspace."""

    def run(self, todo: list[Job], out: Path, self_contained: bool, timeout: int | None,
            done: Callable[[Job, ReportResult], None], stopping: _Stopping) -> None:
        if self.workers == 1:  # one worker: no process to start, one kernel in this process
            with KernelSession() as kernel:
                for job in todo:
                    done(job, execute(job.params, out, name=job.name,
                                      self_contained=self_contained, timeout=timeout,
                                      kernel=kernel, notebook=job.notebook, write_js=False))
        else:
            _run_pool(todo, (str(out), self_contained, timeout), self.workers, done, out,
                      stopping)

    def close(self) -> None:
        """Nothing to stop: :meth:`run` ends its workers itself."""


def _executor(cluster: str | None, workers: int | None, connect_timeout: float) -> Executor:
    """The executor for ``run_batch``'s ``cluster`` (``None``: :class:`LocalPool`)."""
    if not cluster:
        return LocalPool(workers)
    from .cluster import DaskCluster  # dask is imported only by a batch on a cluster

    return DaskCluster(cluster, workers=workers, connect_timeout=connect_timeout)


# -- stopping on a signal ------------------------------------------------------------------
_STOP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP")
                      if hasattr(signal, name))


@dataclass
class _Stopping:
    """``hurry`` is set by a second signal while the batch stops: no grace period for the
    workers."""

    hurry: bool = False


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[_Stopping]:
    """Turn SIGINT, SIGTERM and SIGHUP into :class:`BatchInterrupted` in the main thread (SIGINT
    also when inherited as ignored, as by a script's background job; SIGHUP unless ignored, as
    under ``nohup``); once stopping, a further signal only hurries the stop. Off the main thread
    signals are left to the caller."""
    state = _Stopping()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return

    def hurry(signum: int, frame: Any) -> None:
        state.hurry = True

    def stop(signum: int, frame: Any) -> None:
        for sig in wanted:
            signal.signal(sig, hurry)
        raise BatchInterrupted(signum)

    wanted = [s for s in _STOP_SIGNALS
              if s == signal.SIGINT or signal.getsignal(s) is not signal.SIG_IGN]
    previous = {sig: signal.signal(sig, stop) for sig in wanted}
    try:
        yield state
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)


# -- the worker pool -----------------------------------------------------------------------
# A worker runs in an interpreter of its own (no re-import of the caller's script). It skips
# rfc3987-syntax: jsonschema (imported by nbformat) loads it for IRI format checks no notebook
# needs, and it compiles a grammar at import, about half of a worker's start-up time.
_WORKER_CODE = ("import pickle, sys; sys.path[:] = pickle.load(sys.stdin.buffer); "
                "sys.modules.setdefault('rfc3987_syntax', None); "
                "from kam.reports.batch import _worker_main; _worker_main()")
_STOP_GRACE = 10.0
"""Seconds a worker gets to stop its kernel and remove its folder before it is killed."""


class _Worker:
    """A worker process as the batch sees it: jobs go to its stdin, results come from its stdout
    (read by a thread into the batch's event queue; ``None`` there means the process ended)."""

    def __init__(self, root: Path, events: queue.SimpleQueue[tuple[_Worker, Any]]):
        # a process group of its own: a terminal's Ctrl-C reaches the batch, which stops it
        self.proc = subprocess.Popen([sys.executable, "-c", _WORKER_CODE],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     process_group=0 if os.name == "posix" else None)
        self.job: Job | None = None
        self.ready = False
        self.kernel_pid: int | None = None
        self.send(sys.path)
        self.send(str(root))
        self.reader = threading.Thread(target=self._read, args=(events,), daemon=True)
        self.reader.start()

    def _read(self, events: queue.SimpleQueue[tuple[_Worker, Any]]) -> None:
        assert self.proc.stdout is not None
        while True:
            try:
                message = pickle.load(self.proc.stdout)
            except Exception:  # end of file (or a half message): the process is gone
                events.put((self, None))
                return
            events.put((self, message))

    def send(self, item: Any) -> None:
        assert self.proc.stdin is not None
        with contextlib.suppress(OSError, ValueError):  # gone: its reader reports it
            pickle.dump(item, self.proc.stdin)
            self.proc.stdin.flush()

    def take(self, pending: deque[Job], args: tuple[Any, ...]) -> None:
        """Give the worker the next job, or tell it to end when there is none."""
        if pending:
            self.job = pending.popleft()
            self.send((self.job, *args))
        else:
            self.send(None)
            with contextlib.suppress(OSError):
                assert self.proc.stdin is not None
                self.proc.stdin.close()


def _run_pool(todo: list[Job], args: tuple[Any, ...], n_workers: int,
              done: Callable[[Job, ReportResult], None], out: Path, stopping: _Stopping) -> None:
    """Render ``todo`` with ``n_workers`` worker processes (see the module docstring)."""
    root = Path(tempfile.mkdtemp(prefix="kam-batch-"))
    events: queue.SimpleQueue[tuple[_Worker, Any]] = queue.SimpleQueue()
    pending = deque(todo)
    workers: list[_Worker] = []
    try:
        for _ in range(n_workers):
            workers.append(_Worker(root, events))
            workers[-1].take(pending, args)
        while workers:
            try:
                worker, message = events.get(timeout=1.0)
            except queue.Empty:
                continue
            if message is None:  # the process ended: on its own only when told to
                workers.remove(worker)
                code = worker.proc.wait()
                if worker.job is not None:
                    done(worker.job, _failed(worker.job, out, _death(code, worker.ready)))
                    worker.job = None
                if pending and worker.ready:
                    workers.append(_Worker(root, events))
                    workers[-1].take(pending, args)
                elif pending and not workers:
                    while pending:
                        left = pending.popleft()
                        done(left, _failed(left, out, _death(code, worker.ready)))
            elif message[0] == "ready":
                worker.ready, worker.kernel_pid = True, message[1]
            elif message[0] == "done":
                _, res, worker.kernel_pid = message
                finished, worker.job = worker.job, None
                assert finished is not None
                done(finished, res)
                worker.take(pending, args)
    finally:
        _end_workers(workers, stopping)
        # results that arrived while the batch was stopping: those reports are written
        for worker in workers:
            worker.reader.join(timeout=2.0)
        with contextlib.suppress(queue.Empty):
            while True:
                worker, message = events.get_nowait()
                if message is not None and message[0] == "done" and worker.job is not None:
                    done(worker.job, message[1])
                    worker.job = None
        shutil.rmtree(root, ignore_errors=True)


def _end_workers(workers: list[_Worker], stopping: _Stopping) -> None:
    """Stop the workers still running (SIGTERM: each stops its kernel and removes its folder),
    kill those that do not end within :data:`_STOP_GRACE` seconds (at once when hurried), and
    wait for their kernels, which end by themselves when their worker is gone."""
    running = [w for w in workers if w.proc.poll() is None]
    for worker in running:
        with contextlib.suppress(OSError):
            worker.proc.terminate()
    deadline = time.monotonic() + _STOP_GRACE
    killed = []
    for worker in running:
        while worker.proc.poll() is None and not stopping.hurry and time.monotonic() < deadline:
            time.sleep(0.05)
        if worker.proc.poll() is None:
            worker.proc.kill()
            killed.append(worker.kernel_pid)
        worker.proc.wait()
    deadline = time.monotonic() + 3.0
    for pid in filter(None, killed):
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _death(code: int, started: bool) -> str:
    """Why a report failed whose worker process ended (``code``: its exit status)."""
    how = f"exit status {code}"
    if code < 0:
        with contextlib.suppress(ValueError):
            how = f"killed by {signal.Signals(-code).name}"
        if -code == getattr(signal, "SIGKILL", None):
            how += ", most often because the system ran out of memory"
    if not started:
        return (f"no worker process could start ({how}; its error is printed above); check "
                f"that {sys.executable} -c 'import kam.reports.batch' works")
    return (f"the worker process rendering it ended unexpectedly ({how}); its kernel was "
            "stopped; run the batch again to retry")


class _Stopped(KeyboardInterrupt):
    """Ends a worker's main thread: SIGTERM from the batch, or the batch is gone. (A
    KeyboardInterrupt, so that asyncio and ``except Exception`` let it through.)"""


def _worker_main() -> None:
    """A worker process (started by :class:`_Worker`): reads ``sys.path``, then the batch's
    temporary folder, then jobs from stdin; answers ``("ready", kernel pid)`` once, then
    ``("done", result, kernel pid)`` per job on the original stdout (anything printed goes to
    stderr). ``None`` ends it; so do SIGTERM and the end of stdin (the batch is gone), also in the
    middle of a report; SIGINT is ignored (the batch decides). On the way out it stops its kernel
    and removes its folder."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    channel = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    inbox = sys.stdin.buffer
    root = pickle.load(inbox)
    os.makedirs(root, exist_ok=True)
    # until the handler below, SIGTERM ends the worker at once (the batch removes the folder)
    session = KernelSession(root=root)
    main = threading.main_thread()
    orphaned = threading.Event()
    jobs: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def stop(signum: int, frame: Any) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # let the clean-up below finish
        raise _Stopped

    def read() -> None:
        while True:
            try:
                item = pickle.load(inbox)
            except Exception:  # end of file: the batch is gone
                orphaned.set()
                jobs.put(None)
                if hasattr(signal, "pthread_kill"):
                    signal.pthread_kill(main.ident or 0, signal.SIGTERM)
                else:
                    _thread.interrupt_main(signal.SIGTERM)
                return
            jobs.put(item)
            if item is None:
                return

    def send(message: Any) -> None:
        pickle.dump(message, channel)
        channel.flush()

    status = 0
    try:
        signal.signal(signal.SIGTERM, stop)
        threading.Thread(target=read, daemon=True).start()
        with contextlib.suppress(Exception):  # a kernel that will not start fails each report
            session.client()
        send(("ready", session.kernel_pid))
        while (item := jobs.get()) is not None:
            job, out, self_contained, timeout = item
            res = execute(job.params, out, name=job.name, self_contained=self_contained,
                          timeout=timeout, kernel=session, notebook=job.notebook,
                          write_js=False)
            send(("done", res, session.kernel_pid))
    except (_Stopped, BrokenPipeError):
        pass
    except BaseException:
        traceback.print_exc()
        status = 1
    finally:
        session.close()
        if orphaned.is_set():  # the last worker out removes the folder of a batch that is gone
            with contextlib.suppress(OSError):
                os.rmdir(root)
        sys.stderr.flush()
        # no interpreter shutdown: the reader thread may hold stdin's lock, and all is cleaned up
        os._exit(status)


# -- the index page -----------------------------------------------------------------------
def write_index(out: Path, jobs: list[Job], entries: dict[str, Any]) -> Path:
    """Write ``index.html``: every report, each account with the key figures its reports mark
    for the index (profitability first, then the plan's), all text escaped."""
    by_account: dict[str, dict[str, Any]] = {}
    portfolio: list[tuple[Job, dict[str, Any]]] = []
    labels: dict[str, list[str]] = {kind: [] for kind in _INDEX_ORDER}
    for job in jobs:
        entry = entries.get(job.name, {})
        if job.params.kind == "portfolio":
            portfolio.append((job, entry))
            continue
        acc = by_account.setdefault(job.params.account_id or "", {"label": job.label,
                                                                 "reports": [], "figures": {}})
        acc["reports"].append((job, entry))
        for kf in (entry.get("meta") or {}).get("key_figures", []):
            if not kf.get("index"):
                continue
            seen = labels.setdefault(job.params.kind, [])
            if kf["label"] not in seen:
                seen.append(kf["label"])
            acc["figures"].setdefault(kf["label"], kf)
    columns = list(dict.fromkeys(lbl for kind in labels for lbl in labels[kind]))
    n_failed = sum(1 for e in entries.values() if e.get("status") == "failed")
    head = "".join(f'<th class="num">{escape(lbl)}</th>' for lbl in columns)
    body = []
    for account_id, acc in by_account.items():
        links = " · ".join(_link(job, entry) for job, entry in acc["reports"])
        cells = []
        for lbl in columns:
            kf = acc["figures"].get(lbl)
            if kf is None:
                cells.append('<td class="num">—</td>')
            else:
                cls = "num neg" if kf.get("negative") else "num"
                cells.append(f'<td class="{cls}">{escape(str(kf["value"]))}</td>')
        body.append(f"<tr><td><b>{escape(acc['label'])}</b><br><small>{escape(account_id)}"
                    f"</small></td><td>{links}</td>{''.join(cells)}</tr>")
    port = " · ".join(_link(job, entry) for job, entry in portfolio)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    warn = (f'<p class="failed">{n_failed} report{"s" if n_failed != 1 else ""} failed; '
            "their notebooks are kept in <code>notebooks/</code>.</p>" if n_failed else "")
    html = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>kam reports</title>
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<style>{_INDEX_CSS}</style></head>
<body><h1>Key-account reports</h1>
<p class="meta">{len(by_account)} accounts · generated {escape(when)}
by kam {escape(__version__)}</p>
{warn}{f'<p>Portfolio: {port}</p>' if port else ''}
<div class="wrap"><table><thead><tr><th>Account</th><th>Reports</th>{head}</tr></thead>
<tbody>{''.join(body)}</tbody></table></div></body></html>
"""
    return write_atomic(out / "index.html", html)


_INDEX_ORDER = ("profitability", "plan")
_KIND_TEXT = {"plan": "account plan", "profitability": "profitability", "portfolio": "portfolio"}


def _link(job: Job, entry: dict[str, Any]) -> str:
    text = _KIND_TEXT.get(job.params.kind, job.params.kind)
    if job.params.kind == "portfolio" and job.params.manager:
        text += f" ({job.params.manager})"
    if entry.get("status") == "ok" and entry.get("html"):
        return f'<a href="{escape(entry["html"])}">{escape(text)}</a>'
    reason = entry.get("reason") or "not rendered"
    return (f'<span class="failed" title="{escape(reason)}">{escape(text)}: failed</span>'
            f' <a href="{escape(entry.get("notebook", ""))}">notebook</a>')


_INDEX_CSS = """
body{font-family:"Segoe UI",Helvetica,Arial,sans-serif;max-width:1280px;margin:24px auto;
padding:0 24px;color:#222}h1{border-bottom:3px solid #1f5f8b;padding-bottom:6px}
.meta{color:#5f6670}table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{padding:5px 10px;border-bottom:1px solid #dde1e6;text-align:left;vertical-align:top}
thead th{background:#f5f7f9;border-bottom:2px solid #b9c0c8}.num{text-align:right;
font-variant-numeric:tabular-nums;white-space:nowrap}.neg{color:#b3261e}.failed{color:#b3261e}
a{color:#1f5f8b}small{color:#5f6670}.wrap{overflow-x:auto}td:nth-child(2){white-space:nowrap}
td:first-child{min-width:190px}thead th,thead th.num{white-space:normal;vertical-align:bottom}
"""
