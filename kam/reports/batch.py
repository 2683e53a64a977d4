"""Render many reports at once: parallel workers, an index page, and re-runs that redo only what
changed.

Each worker process keeps one kernel (:class:`~kam.reports.render.KernelSession`) and converts
to HTML in-process, so a report pays neither a kernel start, nor the imports, nor an nbconvert
process. A failing report does not stop the batch: its annotated output notebook is kept and
the summary names it with the reason.

Every report has an *input hash* — the data it reads (the account's revision fingerprint; the
whole workspace for reports that rank an account in the portfolio), the content of the notebook
it runs (kam's packaged one, or the user's own copy given in ``notebooks``) and of the template
files, the parameters and kam's version — stored in ``.kam-batch.json`` in the output folder. A
re-run skips reports whose hash is unchanged and whose HTML is still there; failed reports are
always redone.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from html import escape
from pathlib import Path
from typing import Any

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
)

__all__ = ["MANIFEST", "BatchResult", "Job", "input_hash", "run_batch", "select_accounts"]

MANIFEST = ".kam-batch.json"
"""The batch's memory in the output folder: per report, its input hash, status and key figures."""

_WORKER: dict[str, Any] = {}


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
    ``reason`` (why it failed).
    """

    out_dir: Path
    reports: pd.DataFrame
    index: Path
    seconds: float
    workers: int
    results: list[ReportResult] = field(default_factory=list)

    @property
    def failed(self) -> pd.DataFrame:
        return self.reports[self.reports["status"] == "failed"].reset_index(drop=True)

    @property
    def ok(self) -> bool:
        return self.failed.empty

    def summary(self) -> str:
        """Counts, time, and one line per failure with its reason and kept notebook."""
        counts = self.reports["status"].value_counts()
        parts = [f"{counts.get(s, 0)} {s}" for s in ("rendered", "unchanged", "failed")]
        lines = [f"{len(self.reports)} reports: " + ", ".join(parts)
                 + f" in {self.seconds:.1f} s ({self.workers} workers); index: {self.index}"]
        for row in self.failed.itertuples():
            lines.append(f"FAILED {row.name}: {row.reason} (notebook kept: {row.notebook})")
        return "\n".join(lines)


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
    return jobs


# -- workers -------------------------------------------------------------------------------
def _init_worker() -> None:
    from multiprocessing import util

    session = KernelSession()
    _WORKER["kernel"] = session
    util.Finalize(session, session.close, exitpriority=10)


def _run(job: Job, out_dir: str, self_contained: bool, timeout: int | None) -> ReportResult:
    kernel = _WORKER.get("kernel")
    return execute(job.params, out_dir, name=job.name, self_contained=self_contained,
                   timeout=timeout, kernel=kernel, notebook=job.notebook, write_js=False)


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
    path = out_dir / MANIFEST
    tmp = path.with_name(f".{MANIFEST}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"kam": __version__, "reports": reports}, indent=1,
                              sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def run_batch(workspace: str | os.PathLike[str] | None, out_dir: str | os.PathLike[str] = "reports",
              *, accounts: Sequence[str] = (), manager: str | None = None,
              category: str | None = None, kinds: Sequence[str] = ACCOUNT_KINDS,
              portfolio: bool = True, period: str = "", as_of: str = "",
              workers: int | None = None, force: bool = False, self_contained: bool = False,
              timeout: int | None = CELL_TIMEOUT, progress: bool = True,
              notebooks: Mapping[str, str | os.PathLike[str]] | None = None) -> BatchResult:
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
        Worker processes (default: one per CPU core).
    force
        Redo every report, even unchanged ones.
    progress
        Show a progress bar (tqdm, on stderr).
    notebooks
        The user's own notebook per report kind (e.g. ``{"plan": "my/account_plan.ipynb"}``,
        checked by :func:`~kam.reports.render.check_notebook`); other kinds run kam's packaged
        notebooks. A changed notebook changes the input hash: its reports are redone.

    Returns
    -------
    BatchResult
        Check ``.ok`` / ``.failed``; the batch itself does not raise for a failing report.
    """
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
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
    location = check_parameters("portfolio", manager=manager or "", **common).workspace
    with Workspace(location) as ws:
        ids = select_accounts(ws, accounts=accounts, manager=manager, category=category)
        jobs = _jobs(ws, ids, kinds, portfolio, manager, common, self_contained, own)
    manifest = _load_manifest(out)
    todo = [j for j in jobs if force or not _fresh(manifest.get(j.name), j, out)]
    results: dict[str, ReportResult] = {}
    # a pool pays a process and a kernel start per worker: not worth it for one or two reports
    n_workers = max(1, min(workers or os.cpu_count() or 1, len(todo) if len(todo) > 2 else 1))
    if todo:
        results = _execute_all(todo, out, n_workers, self_contained, timeout, progress)
    if not self_contained:
        write_plotly_js(out)
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
        entries[job.name] = entry
        rows.append({"name": job.name, "kind": job.params.kind,
                     "account_id": job.params.account_id, "status": status,
                     "seconds": res.seconds if res else 0.0,
                     "html": str(out / entry["html"]) if entry.get("html") else "",
                     "notebook": str(out / entry.get("notebook", "")),
                     "reason": entry.get("reason") or ""})
    _save_manifest(out, entries)
    index = write_index(out, jobs, entries)
    frame = pd.DataFrame(rows, columns=["name", "kind", "account_id", "status", "seconds",
                                        "html", "notebook", "reason"])
    return BatchResult(out_dir=out, reports=frame, index=index,
                       seconds=time.perf_counter() - started, workers=n_workers if todo else 0,
                       results=list(results.values()))


def _fresh(entry: dict[str, Any] | None, job: Job, out: Path) -> bool:
    return bool(entry and entry.get("status") == "ok" and entry.get("hash") == job.hash
                and entry.get("html") and (out / entry["html"]).exists())


def _execute_all(todo: list[Job], out: Path, n_workers: int, self_contained: bool,
                 timeout: int | None, progress: bool) -> dict[str, ReportResult]:
    from tqdm import tqdm

    results: dict[str, ReportResult] = {}
    bar = tqdm(total=len(todo), desc="kam batch", unit="report", disable=not progress,
               file=sys.stderr, dynamic_ncols=True)

    def done(job: Job, res: ReportResult) -> None:
        results[job.name] = res
        bar.update(1)
        if not res.ok:
            bar.write(f"FAILED {job.name}: {res.error}", file=sys.stderr)

    if n_workers == 1:  # one worker: no process pool to start, one kernel in this process
        try:
            with KernelSession() as kernel:
                for job in todo:
                    done(job, execute(job.params, out, name=job.name,
                                      self_contained=self_contained, timeout=timeout,
                                      kernel=kernel, notebook=job.notebook, write_js=False))
        finally:
            bar.close()
        return results
    ctx = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx,
                                 initializer=_init_worker) as pool:
            futures: dict[Future[ReportResult], Job] = {
                pool.submit(_run, job, str(out), self_contained, timeout): job for job in todo}
            for fut in as_completed(futures):
                job = futures[fut]
                try:
                    res = fut.result()
                except BrokenProcessPool:
                    res = _failed(job, out, "a worker process died (crash or out of memory); "
                                  "run the batch again to retry")
                except Exception as e:  # pickling trouble and the like: report, go on
                    res = _failed(job, out, f"{type(e).__name__}: {e}")
                done(job, res)
    finally:
        bar.close()
    return results


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
    path = out / "index.html"
    path.write_text(html, encoding="utf-8")
    return path


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
