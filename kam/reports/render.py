"""Run a report notebook with papermill and convert it to an offline HTML report.

:func:`render_report` checks the parameters, executes the kind's notebook with papermill
(kernel ``python3``), refuses a failed run, and writes ``<name>.html`` plus the executed notebook
``notebooks/<name>.ipynb`` into the output folder. A failure keeps the annotated output notebook
(papermill's red banner, or ours for a time-out) and raises :class:`~kam.errors.ReportFailed`
naming it. The notebook is kam's packaged one (:func:`notebook_path`), never a copy a user may
be editing in JupyterLab, unless the caller passes the user's own (:func:`check_notebook`).

A :class:`KernelSession` keeps one kernel alive across many runs (the batch gives each worker
one): the kernel's namespace is reset before every notebook, so a run sees only its own
parameters, but pandas, plotly and kam stay imported. Kernels talk over IPC sockets in a private
temporary folder that also holds the connection file and the kernel's log (no TCP port races, no
"running over TCP without encryption" warning, one folder to remove).

The client never sends on the kernel's shell channel while it waits there for a reply. nbclient
mimics an output widget (``interact`` draws into one) by sending the widget's new state back to
the kernel from inside its IOPub handler; jupyter_client sends through a plain (non-asyncio) view
of the shell socket, and that send can swallow the socket's wake-up for the execute reply that
just arrived (the ZeroMQ file descriptor is edge-triggered). The reply then sat unread until the
cell time-out ended the wait — the 30 s stalls now and then. Reports are static: the widget's
outputs are kept in the saved widget state, and nothing is sent back (:class:`_OutputWidget`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
import papermill as pm
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.output_widget import OutputWidget
from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from papermill.exceptions import PapermillExecutionError
from papermill.log import logger as _pm_logger
from papermill.utils import merge_kwargs, remove_args

from .. import config
from ..config import notebooks_dir
from ..errors import InputError, ReportFailed, ValidationProblem
from .html import failure_of, notebook_to_html, report_meta, write_plotly_js
from .params import KINDS, NOTEBOOKS, PARAMETERS, ReportParams, check_parameters

__all__ = [
    "KernelSession",
    "ReportResult",
    "check_notebook",
    "notebook_path",
    "render_report",
    "report_name",
    "write_atomic",
]

KERNEL_NAME = "python3"
_ENGINE = "kam"
_RESET = "get_ipython().reset(new_session=True)"

CELL_TIMEOUT = config.CELL_TIMEOUT  # re-exported: the setting lives in kam.config


@dataclass
class ReportResult:
    """What one report run produced.

    ``html`` is ``None`` when the run failed (then ``error`` says why and ``notebook`` is the
    annotated output notebook); ``meta`` is the report header the notebook emitted (title, facts,
    key figures); ``warnings`` the stderr the notebook printed (never shown in the report).
    """

    name: str
    kind: str
    account_id: str | None
    manager: str | None
    notebook: Path
    html: Path | None = None
    error: str | None = None
    seconds: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.error is None


def report_name(kind: str, account_id: str | None = None, manager: str | None = None) -> str:
    """File stem of a report: ``plan-ACME``, ``profitability-ACME``, ``portfolio`` or
    ``portfolio-tom.hale``.

    >>> report_name("plan", "ACME"), report_name("portfolio", manager="tom.hale")
    ('plan-ACME', 'portfolio-tom.hale')
    """
    if kind not in KINDS:
        raise ValueError(f"unknown report kind {kind!r}; options are {', '.join(KINDS)}")
    if kind == "portfolio":
        return "portfolio" + (f"-{manager}" if manager else "")
    if not account_id:
        raise ValueError(f"a {kind} report needs an account id")
    return f"{kind}-{account_id}"


def notebook_path(kind: str) -> Path:
    """The notebook a ``kind`` report runs: kam's own (packaged) one."""
    if kind not in NOTEBOOKS:
        raise ValueError(f"unknown report kind {kind!r}; options are {', '.join(KINDS)}")
    return notebooks_dir() / NOTEBOOKS[kind]


def check_notebook(path: str | os.PathLike[str], kind: str) -> Path:
    """Check a user's own notebook for a ``kind`` report (instead of :func:`notebook_path`).

    It must be a readable notebook with a cell tagged ``parameters`` that declares every
    parameter of the kind (:data:`~kam.reports.params.PARAMETERS`).

    Raises
    ------
    InputError
        The file is missing or not a notebook, has no ``parameters`` cell, or that cell lacks a
        parameter (most likely the notebook of another kind of report).
    """
    source = Path(path)

    def problem(message: str) -> InputError:
        return InputError([ValidationProblem(record=f"{kind} report notebook", field="",
                                             message=message, file=str(source))])

    if kind not in PARAMETERS:
        raise ValueError(f"unknown report kind {kind!r}; options are {', '.join(KINDS)}")
    if not source.is_file():
        raise problem("no such file; give the path of your copy of kam's "
                      f"{NOTEBOOKS[kind]} (kam lab makes one)")
    try:
        nb = nbformat.read(source, as_version=4)
    except (OSError, ValueError) as e:
        raise problem(f"not a readable notebook ({_first_line(e)})") from None
    if not any("parameters" in c.get("metadata", {}).get("tags", []) for c in nb.cells):
        raise problem("no cell is tagged 'parameters'; a report notebook needs kam's "
                      f"parameters cell (copy it from kam's {NOTEBOOKS[kind]}, e.g. with kam lab)")
    declared = pm.inspect_notebook(str(source))
    missing = [p.name for p in PARAMETERS[kind] if p.name not in declared]
    if missing:
        raise problem(f"its parameters cell does not declare {', '.join(missing)}; a {kind} "
                      "report passes " + ", ".join(p.name for p in PARAMETERS[kind])
                      + " (is it the notebook of another kind of report?)")
    return source


# -- papermill engine that can reuse a kernel -------------------------------------------------
class _OutputWidget(OutputWidget):
    """nbclient's output-widget mimic that keeps the captured outputs (in the saved widget state)
    but sends nothing back to the kernel: a send on the shell channel from the IOPub handler can
    lose the wake-up of the execute reply being awaited (see the module docstring)."""

    def _publish_msg(self, msg_type: str, data: dict[str, Any] | None = None,
                     metadata: dict[str, Any] | None = None, buffers: list[Any] | None = None,
                     **keys: Any) -> None:
        return None


class _Client(PapermillNotebookClient):
    """papermill's client, resetting a reused kernel's namespace before the first cell, with an
    output-widget mimic that never sends on the shell channel."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.widget_registry = {"@jupyter-widgets/output": {"OutputModel": _OutputWidget}}

    def papermill_execute_cells(self) -> None:
        if not self.owns_km:
            assert self.kc is not None
            reply = self.wait_for_reply(self.kc.execute(_RESET, silent=True, store_history=False))
            if reply is None or reply["content"].get("status") != "ok":
                raise DeadKernelError("could not reset the reused kernel's namespace")
        super().papermill_execute_cells()


class _Engine(NBClientEngine):
    @classmethod
    def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, log_output: bool = False,
                                 stdout_file: Any = None, stderr_file: Any = None,
                                 start_timeout: int = 60, execution_timeout: int | None = None,
                                 **kwargs: Any) -> Any:
        partial = kwargs.pop("partial_path", None)
        shared_kc = kwargs.pop("kc", None)
        kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
        final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                             kernel_name=kernel_name, log=_pm_logger, log_output=log_output,
                             stdout_file=stdout_file, stderr_file=stderr_file)
        client = _Client(nb_man, **final)
        if shared_kc is not None:
            # Reuse the session's client: one set of channels for the kernel's whole life
            # (replies and IOPub messages of earlier runs are skipped by their parent id).
            client.kc = shared_kc
        try:
            return client.execute()
        except (CellTimeoutError, DeadKernelError) as e:
            if partial:
                _save_with_banner(nb_man.nb, partial, f"This run stopped: {_first_line(e)}")
            raise
        finally:
            if shared_kc is None and not client.owns_km and client.kc is not None:
                client.kc.stop_channels()


papermill_engines.register(_ENGINE, _Engine)


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


def _save_with_banner(nb: nbformat.NotebookNode, path: str | os.PathLike[str], text: str) -> None:
    banner = nbformat.v4.new_markdown_cell(
        f'<span style="color:red; font-size:2em">{text}</span>')
    banner.metadata["tags"] = ["kam-failure"]
    nb = nbformat.from_dict(nb)
    nb.cells.insert(0, banner)
    nbformat.write(nb, str(path))


class KernelSession:
    """One ``python3`` kernel reused for many report runs (see the module docstring).

    The kernel is started on first use, restarted after ``max_runs`` runs or when a run timed
    out or killed it, and shut down by :meth:`close` (or leaving a ``with`` block), which also
    removes the session's temporary folder (``kam-k-*`` in ``root``, default the system's
    temporary folder). The kernel ends by itself within about a second when the process that
    started it is gone (ipykernel watches its parent).
    """

    def __init__(self, kernel_name: str = KERNEL_NAME, *, max_runs: int = 100,
                 root: str | os.PathLike[str] | None = None):
        self.kernel_name = kernel_name
        self.max_runs = max_runs
        self.runs = 0
        self._dir = tempfile.mkdtemp(prefix="kam-k-", dir=root)
        self._km: AsyncKernelManager | None = None
        self._kc: Any = None
        self._log: Any = None

    @property
    def log_path(self) -> Path:
        """Where the kernel's own stderr goes (startup noise, crashes)."""
        return Path(self._dir) / "kernel.log"

    @property
    def kernel_pid(self) -> int | None:
        """The process id of the running kernel, ``None`` when none runs."""
        provisioner = getattr(self._km, "provisioner", None)
        pid = getattr(provisioner, "pid", None)
        return pid if isinstance(pid, int) else None

    def manager(self) -> AsyncKernelManager:
        """A running kernel's manager (started or restarted as needed)."""
        km = self._km
        if km is not None and (self.runs >= self.max_runs or not run_sync(km.is_alive)()):
            self.restart()
            km = None
        if self._km is None:
            if self._log is None:
                self._log = open(self.log_path, "ab")  # noqa: SIM115 - closed in close()
            km = AsyncKernelManager(kernel_name=self.kernel_name, transport="ipc",
                                    ip=os.path.join(self._dir, "k"),
                                    connection_file=os.path.join(self._dir, "kernel.json"))
            self._km, self.runs = km, 0
            try:
                run_sync(km.start_kernel)(
                    extra_arguments=["--HistoryManager.hist_file=:memory:"],
                    stderr=self._log, stdout=self._log)
            except BaseException:  # a failed or interrupted start: stop what did start
                self.restart()
                raise
        assert self._km is not None
        return self._km

    def client(self) -> Any:
        """The client of the running kernel, started and ready (one per kernel, reused)."""
        km = self.manager()
        if self._kc is None:
            kc = km.client()
            kc.start_channels()
            run_sync(kc.wait_for_ready)(timeout=60)
            self._kc = kc
        return self._kc

    def restart(self) -> None:
        """Stop the kernel; the next run starts a fresh one."""
        kc, self._kc = self._kc, None
        if kc is not None:
            with contextlib.suppress(Exception):
                kc.stop_channels()
        km, self._km = self._km, None
        if km is not None:
            process = getattr(km.provisioner, "process", None)  # the kernel's Popen
            try:
                with contextlib.suppress(Exception):
                    run_sync(km.shutdown_kernel)(now=True)
                with contextlib.suppress(Exception):
                    run_sync(km.cleanup_resources)()
            finally:
                _kill(process)  # if the shutdown above failed or was cut short

    def close(self) -> None:
        """Stop the kernel and remove the session's temporary folder."""
        try:
            self.restart()
        finally:
            if self._log is not None:
                self._log.close()
                self._log = None
            shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> KernelSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _kill(process: Any) -> None:
    """Kill and reap a kernel process (a ``Popen``) that is still running."""
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(Exception):
        process.kill()
        process.wait(timeout=10)


# -- one report -------------------------------------------------------------------------------
def execute(params: ReportParams, out_dir: str | os.PathLike[str], *, name: str,
            self_contained: bool = False, timeout: int | None = CELL_TIMEOUT,
            kernel: KernelSession | None = None, notebook: str | os.PathLike[str] | None = None,
            write_js: bool = True) -> ReportResult:
    """Run and convert one report whose parameters are already checked (the batch's unit;
    ``write_js=False`` leaves writing the shared plotly.js to the caller)."""
    out = Path(out_dir)
    nb_dir = out / "notebooks"
    nb_dir.mkdir(parents=True, exist_ok=True)
    nb_out = nb_dir / f"{name}.ipynb"
    html_out = out / f"{name}.html"
    source = Path(notebook) if notebook else notebook_path(params.kind)
    result = ReportResult(name=name, kind=params.kind, account_id=params.account_id,
                          manager=params.manager, notebook=nb_out)
    start = time.perf_counter()
    extra: dict[str, Any] = {"partial_path": str(nb_out)}
    try:
        if kernel is not None:
            extra["km"] = kernel.manager()
            extra["kc"] = kernel.client()
            kernel.runs += 1
        nb = pm.execute_notebook(
            str(source), str(nb_out), parameters=params.papermill(), engine_name=_ENGINE,
            kernel_name=KERNEL_NAME, progress_bar=False, request_save_on_cell_execute=False,
            execution_timeout=timeout, **extra)
        result.warnings = _stderr_of(nb)
        result.meta = report_meta(nb)
        why = failure_of(nb)
        if why:
            result.error = f"{_what(params)} did not complete: {why}"
        else:
            html = notebook_to_html(nb, self_contained=self_contained)
            write_atomic(html_out, html)
            if write_js and not self_contained:
                write_plotly_js(out)
            result.html = html_out
    except PapermillExecutionError as e:
        result.error = (f"{_what(params)} failed in cell {e.cell_index}: {e.ename}: "
                        f"{_first_line(Exception(e.evalue))}")
    except CellTimeoutError as e:
        result.error = f"{_what(params)} timed out: {_first_line(e)}"
        if kernel is not None:
            kernel.restart()
    except DeadKernelError as e:
        result.error = f"{_what(params)}: the kernel died ({_first_line(e)})"
        if kernel is not None:
            kernel.restart()
    except Exception as e:  # a kernel that would not start, a full disk, ...: report, go on
        result.error = f"{_what(params)}: {type(e).__name__}: {_first_line(e)}"
        if kernel is not None:
            kernel.restart()
    finally:
        result.seconds = time.perf_counter() - start
    if result.error:
        html_out.unlink(missing_ok=True)  # never leave a stale report beside a failed run
    return result


def write_atomic(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file beside it and :func:`os.replace`: a
    reader sees the old file or the new one, never a part; nothing is left over on failure."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def _what(params: ReportParams) -> str:
    if params.kind == "portfolio":
        return "portfolio report" + (f" of {params.manager}" if params.manager else "")
    return f"{params.kind} report of {params.account_id}"


def _stderr_of(nb: nbformat.NotebookNode) -> list[str]:
    return [str(o.get("text", "")) for c in nb.cells for o in c.get("outputs", [])
            if o.get("output_type") == "stream" and o.get("name") == "stderr"]


def render_report(workspace: str | os.PathLike[str] | None, account_id: str | None = None,
                  kind: str = "plan", out_dir: str | os.PathLike[str] = "reports", *,
                  manager: str | None = None, period: str = "", as_of: str = "",
                  self_contained: bool = False, timeout: int | None = CELL_TIMEOUT,
                  kernel: KernelSession | None = None,
                  notebook: str | os.PathLike[str] | None = None) -> ReportResult:
    """Run the ``kind`` report notebook for one account (or the portfolio) and write its HTML.

    Parameters
    ----------
    workspace
        Workspace folder or URL, or ``"demo"`` for the built-in demo; ``None`` or ``""`` =
        ``$KAM_WORKSPACE`` or else ``./kam-workspace``.
    account_id
        The account (``plan`` and ``profitability`` reports); ignored for ``portfolio``.
    kind
        ``"plan"``, ``"profitability"`` or ``"portfolio"``.
    out_dir
        Folder of the reports: ``<name>.html`` (see :func:`report_name`), the shared
        ``plotly.min.js`` and ``notebooks/<name>.ipynb``.
    manager
        Portfolio report of one team member's accounts.
    period, as_of
        Report period (``2026``, ``2026-Q3``, ``2026-09``) and reporting date (``YYYY-MM-DD``).
    self_contained
        Inline plotly.js into the HTML file (≈ 4.8 MB) instead of sharing ``plotly.min.js``.
    timeout
        Seconds a single cell may run.
    kernel
        A :class:`KernelSession` to reuse (default: a fresh kernel, stopped afterwards).
    notebook
        The user's own notebook for this kind (see :func:`check_notebook`); default: kam's
        packaged one (:func:`notebook_path`).

    Returns
    -------
    ReportResult
        With ``html`` set.

    Raises
    ------
    InputError, AccountNotFound
        Bad parameters or a bad ``notebook`` (nothing was run).
    ReportFailed
        The run failed or timed out; ``output_path`` is the annotated output notebook.
    """
    values: dict[str, Any] = {"workspace": str(workspace or ""), "period": period,
                              "as_of": as_of}
    if kind == "portfolio":
        values["manager"] = manager or ""
    else:
        values["account_id"] = account_id or ""
    params = check_parameters(kind, **values)
    source = check_notebook(notebook, kind) if notebook is not None else None
    name = report_name(kind, params.account_id, params.manager)
    if kernel is None:
        with KernelSession() as own:
            result = execute(params, out_dir, name=name, self_contained=self_contained,
                             timeout=timeout, kernel=own, notebook=source)
    else:
        result = execute(params, out_dir, name=name, self_contained=self_contained,
                         timeout=timeout, kernel=kernel, notebook=source)
    if result.error:
        raise ReportFailed(result.error, str(result.notebook))
    return result
