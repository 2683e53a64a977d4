"""Render a batch's reports on the workers of a Dask cluster (``kam batch --cluster``).

:class:`DaskCluster` is the batch's executor (:class:`~kam.reports.batch.Executor`) for a running
Dask scheduler (``tcp://HOST:8786``) or for a ``distributed.LocalCluster`` started for the batch
(``local`` or ``local:N``). The batch plans, keeps the manifest and writes the index as it does
with its own worker processes; only where a report runs differs:

- each report is one Dask task; a worker keeps one kernel per worker thread
  (:class:`~kam.reports.render.KernelSession`, cached in the worker process) across the reports
  it renders, and the batch stops those kernels at its end;
- a worker reads the workspace and writes the HTML and the executed notebook into the output
  folder itself: both must be reachable at the same path from the batch and from every worker
  (a shared folder, or a database URL);
- before the first report every worker is checked: one that cannot read the workspace or write
  the output folder gets no report and is named in the summary (the batch then exits non-zero);
  when no worker passes, the batch stops before writing anything;
- no more reports are submitted at a time than the usable workers have threads (a report
  queued on a worker that dies counts, for the scheduler, as one of that report's deaths);
- a report whose worker dies is run again on another worker by the scheduler; one whose worker
  died :data:`RETRIES` + 1 times (Dask's ``allowed-failures`` on a scheduler of one's own) is
  reported as failed, with the worker it last ran on -- unless it had not even started on some
  of those workers (each report logs its start as a Dask event under its task's key): then it
  is submitted again, at most :data:`RETRIES` times.

``dask`` and ``distributed`` are imported only here, and only when a batch runs on a cluster.
A script that calls ``run_batch(..., cluster="local")`` needs an ``if __name__ == "__main__":``
guard (the local cluster's workers are started as multiprocessing does).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import socket
import threading
import uuid
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import ClusterError
from ..store import Workspace
from .batch import Job, _failed, _Stopping
from .params import ReportParams
from .render import KernelSession, ReportResult, execute

__all__ = ["RETRIES", "ClusterError", "DaskCluster", "parse_cluster"]

RETRIES = 2
"""A report whose worker died is run again up to this many times (on a local cluster; a
scheduler of one's own applies its ``distributed.scheduler.allowed-failures``)."""

_SPEC = re.compile(r"^local(?::(\d+))?$")
_HINT = "start one with `dask scheduler` or use --cluster local"


def parse_cluster(spec: str) -> tuple[str, int | None]:
    """``("local", N or None)`` for ``local`` / ``local:N``, else ``(address, None)``.

    >>> parse_cluster("local:3"), parse_cluster("local"), parse_cluster("tcp://10.0.0.5:8786")
    (('local', 3), ('local', None), ('tcp://10.0.0.5:8786', None))
    """
    text = spec.strip()
    match = _SPEC.match(text)
    if match:
        n = int(match.group(1)) if match.group(1) else None
        if n == 0:
            raise ClusterError("--cluster local:0 starts no worker; give local:N with N >= 1, "
                               "or local for one worker per CPU core")
        return "local", n
    if not text or text.startswith("local") or text.count("://") > 1 or " " in text:
        raise ClusterError(f"--cluster {spec!r} is not a cluster; options are local, local:N "
                           "(N workers on this machine) or a Dask scheduler's address such as "
                           "tcp://HOST:8786")
    return text, None


class DaskCluster:
    """A batch's reports on Dask workers (see the module docstring).

    Parameters
    ----------
    spec
        ``local``, ``local:N`` or a scheduler address (:func:`parse_cluster`).
    workers
        Workers of a local cluster when ``spec`` gives no N (default: one per CPU core, at most
        one per report); not allowed with a scheduler's address (its workers are its own).
    connect_timeout
        Seconds to wait for the scheduler, and for its first worker.
    """

    def __init__(self, spec: str, *, workers: int | None = None, connect_timeout: float = 10.0):
        self.address, n = parse_cluster(spec)
        if self.address != "local" and workers:
            raise ClusterError(f"--workers sets the size of a local pool or cluster; the Dask "
                               f"scheduler at {self.address} has its own workers: leave it out")
        if n is not None and workers and workers != n:
            raise ClusterError(f"two sizes for the local cluster: local:{n} and --workers "
                               f"{workers}; give one")
        self.requested = n or workers
        self.connect_timeout = connect_timeout
        self.workers = 0
        self.where = ""
        self.problems: list[str] = []
        self.client: Any = None
        self.cluster: Any = None
        self._allowed: list[str] | None = None  # workers that passed the check (None: all)
        self._token = uuid.uuid4().hex[:8]

    # -- the executor ------------------------------------------------------------------------
    def start(self, n_reports: int) -> None:
        """Connect to the scheduler (or start the local cluster) and wait for a worker."""
        try:
            from distributed import Client
        except ImportError as e:
            raise ClusterError(f"--cluster needs Dask's distributed scheduler, which is not "
                               f"installed ({e}); install it with pip install "
                               "'dask[distributed]'") from None

        if self.address == "local":
            from distributed import LocalCluster

            n = self.requested or min(os.cpu_count() or 1, max(n_reports, 1))
            self.cluster = LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                silence_logs=logging.ERROR, scheduler_kwargs={"allowed_failures": RETRIES})
            self.client = Client(self.cluster, set_as_default=False)
            self.where = "of a local Dask cluster"
        else:
            try:
                self.client = Client(self.address, timeout=self.connect_timeout,
                                     set_as_default=False)
            except Exception as e:  # refused, timed out, unknown host, bad address
                raise ClusterError(
                    f"cannot reach the Dask scheduler at {self.address} within "
                    f"{self.connect_timeout:g} s: {_root_cause(e)}; {_HINT}") from None
            self.where = f"of the Dask cluster at {self.address}"
        try:
            self.client.wait_for_workers(1, timeout=self.connect_timeout)
        except Exception:
            raise ClusterError(
                f"the Dask scheduler at {self.address} has no worker (waited "
                f"{self.connect_timeout:g} s); start one with `dask worker {self.address}`"
            ) from None
        self.workers = len(self.client.nthreads())

    def check(self, params: ReportParams, out: Path) -> None:
        """Ask every worker whether it can read the workspace and write to ``out``; those that
        cannot are left out (and named in :attr:`problems`).

        Raises
        ------
        ClusterError
            No worker can.
        """
        answers = self.client.run(_check_worker, params.workspace, params.demo, str(out),
                                  on_error="return")
        good: list[str] = []
        bad: list[str] = []
        for address, answer in sorted(answers.items()):
            if isinstance(answer, BaseException):
                bad.append(f"worker {address} could not be checked ({_first_line(answer)})")
            elif answer:
                bad.append(answer)
            else:
                good.append(address)
        if not good:
            raise ClusterError(f"no worker {self.where} can render the "
                               "reports, nothing was written: " + "; ".join(bad))
        self.problems = [f"{problem}; it was given no reports" for problem in bad]
        self._allowed = good if bad else None
        self.workers = len(good)

    def run(self, todo: list[Job], out: Path, self_contained: bool, timeout: int | None,
            done: Callable[[Job, ReportResult], None], stopping: _Stopping) -> None:
        """Submit the reports as tasks, no more at a time than the workers have threads (so a
        worker that dies takes no queued report with it), and collect them as they finish."""
        from distributed import as_completed

        pending = deque(todo)
        running: dict[Any, Job] = {}
        attempts: dict[str, int] = {}
        finished = as_completed(loop=self.client.loop)

        def submit(job: Job) -> None:
            attempts[job.name] = attempts.get(job.name, 0) + 1
            key = f"kam-report-{job.name}-{self._token}-{attempts[job.name]}"
            future = self.client.submit(
                _render, job, str(out), self_contained, timeout, key, key=key, pure=False,
                workers=self._allowed, allow_other_workers=self._allowed is not None)
            running[future] = job
            finished.add(future)

        def fill() -> None:
            free = self._threads() - len(running)
            while pending and free > 0:
                submit(pending.popleft())
                free -= 1

        try:
            fill()
            for future in finished:
                job = running.pop(future)
                result = self._result(future, job, out, attempts[job.name])
                if result is None:  # its worker died while it only waited there: again
                    pending.appendleft(job)
                else:
                    done(job, result)
                fill()
        finally:
            if running:  # stopped: do not start what is left
                with contextlib.suppress(Exception):
                    self.client.cancel(list(running), force=True)

    def _threads(self) -> int:
        """Threads of the live workers the reports may run on (at least 1)."""
        threads = self.client.nthreads()
        allowed = set(self._allowed) if self._allowed is not None else set(threads)
        return max(1, sum(n for address, n in threads.items() if address in allowed))

    def close(self) -> None:
        """Stop the workers' kernels, disconnect, and stop the local cluster."""
        client, self.client = self.client, None
        cluster, self.cluster = self.cluster, None
        try:
            if client is not None:
                with contextlib.suppress(Exception):
                    client.run(_close_kernels, on_error="ignore")
                with contextlib.suppress(Exception):
                    client.close(timeout=self.connect_timeout)
        finally:
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.close(timeout=self.connect_timeout)

    # -- helpers -----------------------------------------------------------------------------
    def _key(self, job: Job) -> str:
        return f"kam-report-{job.name}-{self._token}"

    def _result(self, future: Any, job: Job, out: Path, attempt: int) -> ReportResult | None:
        """The report's result, a failed one saying what happened on the cluster, or ``None``
        when it should be submitted again: the workers that died with it were not all
        rendering it (the scheduler counts a report queued on a worker that dies as one of its
        failures), up to :data:`RETRIES` more times."""
        from distributed import KilledWorker

        try:
            result: ReportResult = future.result()
            return result
        except KilledWorker as e:
            deaths = e.allowed_failures + 1
            with contextlib.suppress(Exception):
                if len(self.client.get_events(future.key)) < deaths and attempt <= RETRIES:
                    return None
            last = getattr(e.last_worker, "address", e.last_worker)
            reason = (f"the Dask worker rendering it died {deaths} times (last {last}); it "
                      "was not retried again: most often the system ran out of memory, or the "
                      "notebook ends its own process")
        except Exception as e:  # cancelled (scheduler lost), a fault of the task itself, ...
            reason = f"the Dask cluster could not render it: {type(e).__name__}: {_first_line(e)}"
        return _failed(job, out, reason)


def _root_cause(e: BaseException) -> str:
    """The first line of the innermost cause of ``e`` (``ConnectionRefusedError: ...`` rather
    than distributed's "Timed out trying to connect")."""
    root = e
    while (inner := root.__cause__ or root.__context__) is not None and inner is not root:
        root = inner
    return _first_line(e) if root is e else f"{type(root).__name__}: {_first_line(root)}"


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


# -- on the worker ---------------------------------------------------------------------------
_KERNELS: dict[int, KernelSession] = {}
"""This worker process's kernels, one per worker thread (by thread id)."""
_CHECKED: dict[tuple[str, bool, str], str | None] = {}
_LOCK = threading.Lock()


def _worker_name(address: str | None = None) -> str:
    if address is None:
        with contextlib.suppress(Exception):
            from distributed import get_worker

            address = get_worker().address
    return f"worker {address or '?'} (host {socket.gethostname()})"


def _check_worker(workspace: str, demo: bool, out: str, dask_worker: Any = None) -> str | None:
    """On a worker: ``None`` when it can read ``workspace`` and write to ``out``, else one
    sentence naming the worker, the path and the error (remembered for :func:`_render`)."""
    problem = _problem(workspace, demo, out, getattr(dask_worker, "address", None))
    with _LOCK:
        _CHECKED[(workspace, demo, out)] = problem
    return problem


def _problem(workspace: str, demo: bool, out: str, address: str | None) -> str | None:
    name = _worker_name(address)
    if not demo:  # the demo is built on the worker from kam's own package
        try:
            with Workspace(workspace) as ws:
                ws.account_ids()
        except Exception as e:
            return (f"{name} cannot read the workspace {workspace} ({type(e).__name__}: "
                    f"{_first_line(e)}); make it reachable at the same path on every worker")
    probe = Path(out) / f".kam-probe-{uuid.uuid4().hex}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        return (f"{name} cannot write to the output folder {out} ({type(e).__name__}: "
                f"{e.strerror or e}); make it writable at the same path on every worker")
    return None


def _render(job: Job, out: str, self_contained: bool, timeout: int | None,
            key: str) -> ReportResult:
    """A Dask task: one report, on this worker thread's kernel (started on first use). Its
    start is logged under its ``key`` (the batch tells a report that killed its worker from one
    that waited there)."""
    from distributed import get_worker

    with contextlib.suppress(Exception):
        get_worker().log_event(key, "started")
    params = job.params
    where = (params.workspace, params.demo, out)
    with _LOCK:
        checked = where in _CHECKED
    if not checked:  # a worker that joined after the batch's check
        _check_worker(*where)
    problem = _CHECKED.get(where)
    if problem:
        return _failed(job, Path(out), problem)
    thread = threading.get_ident()
    with _LOCK:
        kernel = _KERNELS.get(thread)
        if kernel is None:
            kernel = _KERNELS[thread] = KernelSession()
    return execute(params, out, name=job.name, self_contained=self_contained, timeout=timeout,
                   kernel=kernel, notebook=job.notebook, write_js=False)


def _close_kernels() -> int:
    """On a worker: stop its kernels (in a thread of its own: this runs in the worker's event
    loop, and a kernel's client runs an event loop of its own); how many were stopped."""
    with _LOCK:
        kernels = list(_KERNELS.values())
        _KERNELS.clear()
        _CHECKED.clear()

    def close() -> None:
        for kernel in kernels:
            with contextlib.suppress(Exception):
                kernel.close()

    closer = threading.Thread(target=close, daemon=True)
    closer.start()
    closer.join(timeout=30)
    return len(kernels)
