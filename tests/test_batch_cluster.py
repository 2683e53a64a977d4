"""``kam batch --cluster``: the batch's reports on the workers of a real Dask cluster.

One ``LocalCluster`` (two worker processes of one thread each, as ``dask worker`` runs them) serves
the module; the batch reaches it by its ``tcp://`` address, as it would reach a remote scheduler.
The report notebook is a small one with kam's parameters cell. To compare with the local batch it
reads the account from the store and emits the report header with a key figure (the number of
contact persons), so the index has something to compare; for the faults it only prints, and per
account it fails, or stalls so the test can kill its worker, or ends its own worker (no kam import
in the kernel: a worker restarted after a kill starts its kernel quickly).
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from click.testing import CliRunner

from kam.cli.reports import batch as batch_command
from kam.reports.batch import MANIFEST, run_batch
from kam.reports.cluster import RETRIES, ClusterError, DaskCluster
from kam.store import Workspace

distributed = pytest.importorskip("distributed")

AS_OF = "2026-11-01"
STALL = 60
"""Seconds the stalled report sleeps: far longer than the test waits for its worker to die."""


# -- fixtures and helpers ------------------------------------------------------------------------
def report_notebook(path: Path, marks: Path | None = None) -> Path:
    """A plan-report notebook. Without ``marks``: reads the account, shows its header with the
    number of persons as the index's key figure. With ``marks``: prints the account id, appends
    its worker's pid (the kernel's parent) to ``marks/<account>.starts``; then account ``FAIL``
    raises, ``STALL`` sleeps :data:`STALL` seconds on its first run, and ``KILLER`` ends its own
    worker every time."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('workspace: str = ""\naccount_id: str = ""\n'
                                       'period: str = ""\nas_of: str = ""')
    params.metadata["tags"] = ["parameters"]
    cells = [params]
    if marks is None:
        cells.append(nbformat.v4.new_code_cell(
            "from kam.reports.display import KeyFigure, report_header\n"
            "from kam.store import Workspace\n"
            "with Workspace(workspace) as ws:\n"
            "    d = ws.load(account_id)\n"
            "print('report of', d.account.name)\n"))
        cells.append(nbformat.v4.new_code_cell(
            "report_header('plan', d.account.name, key_figures=[KeyFigure('Persons', "
            "len(d.persons), 'int', index=True)])"))
    else:
        cells.append(nbformat.v4.new_code_cell(
            "print('report of', account_id)\n"
            "import os, pathlib, signal, time\n"
            f"starts = pathlib.Path({str(marks)!r}) / f'{{account_id}}.starts'\n"
            "with open(starts, 'a') as f:\n"
            "    f.write(f'{os.getppid()}\\n')\n"
            "if account_id == 'FAIL':\n"
            "    raise ValueError('no data for this account')\n"
            f"if account_id == 'STALL' and len(starts.read_text().split()) == 1:\n"
            f"    time.sleep({STALL})\n"
            "if account_id == 'KILLER':\n"
            "    os.kill(os.getppid(), signal.SIGKILL)\n"))
    nb.cells = cells
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module")
def scheduler() -> str:
    """The address of a local Dask cluster: two worker processes, one thread each; a report
    whose worker died is given one more try (``allowed_failures=1``)."""
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        silence_logs=logging.CRITICAL, scheduler_kwargs={"allowed_failures": 1})
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture
def client(scheduler):
    with distributed.Client(scheduler, set_as_default=False) as c:
        c.wait_for_workers(2, timeout=60)
        yield c


def save_accounts(workspace, acme, ids) -> Path:
    """Save a small account per id (``acme`` with that id); the workspace's folder."""
    for account_id in ids:
        workspace.save(acme("potential", id=account_id, name=f"{account_id} Ltd"))
    workspace.close()
    return Path(workspace.location)


def common(notebook: Path) -> dict:
    return {"kinds": ["plan"], "portfolio": False, "as_of": AS_OF, "progress": False,
            "notebooks": {"plan": notebook}}


def index_body(out: Path) -> str:
    """``index.html`` without its time stamp."""
    page = (out / "index.html").read_text(encoding="utf-8")
    return re.sub(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC", "generated -", page)


# -- the same batch, on the cluster --------------------------------------------------------------
@pytest.mark.slow
def test_cluster_batch_writes_the_same_reports_and_index_as_the_local_batch(
        demo_workspace, scheduler, tmp_path):
    """Three demo accounts: the local batch and the Dask workers write the same files, the
    same manifest (input hashes, key figures) and the same index; a re-run on the cluster finds
    every report unchanged and renders nothing."""
    location = demo_workspace.location
    ids = demo_workspace.account_ids()[:3]
    notebook = report_notebook(tmp_path / "nb.ipynb")
    # the local batch on one kernel in this process (what it writes does not depend on that)
    local = run_batch(location, tmp_path / "local", accounts=ids, workers=1, **common(notebook))
    dask = run_batch(location, tmp_path / "dask", accounts=ids, cluster=scheduler,
                     **common(notebook))
    assert local.ok and dask.ok, (local.summary(), dask.summary())
    assert dask.workers == 2 and "Dask cluster at tcp://" in dask.summary()

    def files(out: Path) -> list[str]:
        return sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())

    assert files(tmp_path / "dask") == files(tmp_path / "local")
    assert [f for f in files(tmp_path / "dask") if f.endswith(".html")] == sorted(
        [f"plan-{a}.html" for a in ids] + ["index.html"])

    def manifest(out: Path) -> dict:
        reports = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["reports"]
        return {name: {k: v for k, v in entry.items() if k != "seconds"}
                for name, entry in reports.items()}

    assert manifest(tmp_path / "dask") == manifest(tmp_path / "local")
    # the key figure the index lists comes from the store, read on the worker
    names = {d.account.id: d for d in demo_workspace.load_all(ids)}
    page = index_body(tmp_path / "dask")
    assert page == index_body(tmp_path / "local")
    for account_id, d in names.items():
        html = (tmp_path / "dask" / f"plan-{account_id}.html").read_text(encoding="utf-8")
        assert f"report of {d.account.name}" in html
    again = run_batch(location, tmp_path / "dask", accounts=ids, cluster=scheduler,
                      **common(notebook))
    assert list(again.reports["status"]) == ["unchanged"] * 3 and again.workers == 0


# -- faults -------------------------------------------------------------------------------------
def _hidden_store_worker(scheduler: str, share: Path) -> subprocess.Popen[bytes] | None:
    """A third worker that sees an empty folder at ``share`` (a mount namespace of its own with
    a tmpfs there), as a worker where the shared folder is not mounted; ``None`` when this
    system does not allow unprivileged mount namespaces."""
    unshare = shutil.which("unshare")
    if unshare is None or subprocess.run([unshare, "-rm", "true"],
                                         capture_output=True).returncode != 0:
        return None
    script = (f'mount -t tmpfs none "{share}" && exec "{sys.executable}" -m '
              f'distributed.cli.dask_worker {scheduler} --nthreads 1 --no-nanny '
              "--no-dashboard")
    return subprocess.Popen([unshare, "-rm", "sh", "-c", script], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


@pytest.mark.slow
def test_a_failing_account_and_a_worker_that_cannot_read_the_store_are_lines_of_the_summary(
        acme, client, scheduler, tmp_path):
    """``kam batch --cluster``: account FAIL raises in its notebook, and the workspace lives in a
    shared folder a third worker does not see. The failure keeps its annotated notebook; the
    check up front names that worker and the path and gives it no report; the two other workers
    write every other report; the summary has a line for each, and the exit status is 1."""
    share = tmp_path / "share"
    location = save_accounts(Workspace(share / "ws", create=True), acme, ("A1", "FAIL", "Z9"))
    out = tmp_path / "out"
    before = set(client.nthreads())
    worker = _hidden_store_worker(scheduler, share)
    try:
        if worker is not None:
            client.wait_for_workers(3, timeout=60)
        result = CliRunner().invoke(batch_command, [
            "-w", str(location), "-o", str(out), "--kind", "plan", "--no-portfolio",
            "--no-progress", "--as-of", AS_OF, "--cluster", scheduler,
            "--notebook", f"plan={report_notebook(tmp_path / 'nb.ipynb', tmp_path)}"])
        hidden = set(client.nthreads()) - before
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=30)
    assert result.exit_code == 1, result.output
    assert "3 reports: 2 rendered, 0 unchanged, 1 failed" in result.output
    assert re.search(r"FAILED plan-FAIL: plan report of FAIL failed in cell \d+: ValueError: no "
                     r"data for this account \(notebook kept: .*notebooks/plan-FAIL\.ipynb\)",
                     result.output)
    assert sorted(p.name for p in out.glob("*.html")) == ["index.html", "plan-A1.html",
                                                         "plan-Z9.html"]
    kept = nbformat.read(out / "notebooks" / "plan-FAIL.ipynb", as_version=4)
    assert any("no data for this account" in str(o.get("evalue", ""))
               for c in kept.cells for o in c.get("outputs", []))
    if worker is None:
        pytest.skip("the worker without the store needs unprivileged mount namespaces "
                    "(unshare -rm); the failing account was checked")
    (address,) = hidden
    problem = re.search(r"^PROBLEM (.*)$", result.output, re.MULTILINE)
    assert problem, result.output
    assert re.fullmatch(
        rf"worker {re.escape(address)} \(host .+\) cannot read the workspace "
        rf"{re.escape(str(location))} \(.+\); make it reachable at the same path on every "
        r"worker; it was given no reports", problem.group(1))
    assert "(2 workers of the Dask cluster at" in result.output
    # nothing ran on the worker without the store
    assert len((tmp_path / "A1.starts").read_text().split()) == 1


def test_an_unreachable_scheduler_is_one_line_and_nothing_is_written(workspace, acme, tmp_path):
    location = save_accounts(workspace, acme, ("A1",))
    out = tmp_path / "out"
    result = CliRunner().invoke(batch_command, [
        "-w", str(location), "-o", str(out), "--no-progress", "--cluster", "tcp://127.0.0.1:1",
        "--connect-timeout", "1"])
    assert result.exit_code == 1
    assert result.output.startswith("kam batch: cannot reach the Dask scheduler at "
                                    "tcp://127.0.0.1:1 within 1 s: ")
    assert result.output.rstrip().endswith(
        "; start one with `dask scheduler` or use --cluster local")
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


@pytest.mark.parametrize(("spec", "workers", "message"), [
    ("local:x", None, r"--cluster 'local:x' is not a cluster; options are local, local:N"),
    ("local:0", None, r"local:0 starts no worker"),
    ("tcp://10.0.0.5:8786", 2, r"the Dask scheduler at tcp://10.0.0.5:8786 has its own workers"),
    ("local:2", 3, r"two sizes for the local cluster: local:2 and --workers 3"),
])
def test_a_bad_cluster_is_refused_before_anything_runs(spec, workers, message):
    with pytest.raises(ClusterError, match=message):
        DaskCluster(spec, workers=workers)



@pytest.mark.slow
def test_a_killed_worker_s_report_is_retried_and_one_that_kills_its_worker_fails(
        workspace, acme, client, scheduler, tmp_path):
    """STALL's worker is killed (SIGKILL) while it renders: the scheduler runs STALL again on a
    live worker and the batch completes. KILLER ends its worker each time: after two deaths
    while it ran (the cluster allows one retry) it is reported as failed, not retried
    forever."""
    location = save_accounts(workspace, acme, ("A1", "KILLER", "STALL"))
    marks = tmp_path / "marks"
    marks.mkdir()
    notebook = report_notebook(tmp_path / "nb.ipynb", marks)
    killed: list[tuple[int, set[int]]] = []

    def kill_the_stalled_worker() -> None:
        starts = marks / "STALL.starts"
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if starts.exists() and starts.read_text().strip():
                pid = int(starts.read_text().split()[0])
                workers = set(client.run(os.getpid, on_error="ignore").values())
                os.kill(pid, signal.SIGKILL)
                killed.append((pid, workers))
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_the_stalled_worker, daemon=True)
    killer.start()
    started = time.monotonic()
    result = run_batch(location, tmp_path / "out", cluster=scheduler, **common(notebook))
    killer.join(timeout=5)
    runs = {p.stem: p.read_text().split() for p in marks.glob("*.starts")}
    why = f"{result.summary()}\nworker pids per run: {runs}\nkilled: {killed}"

    assert time.monotonic() - started < STALL, why  # the stalled run was not waited for
    assert len(killed) == 1, why
    (pid, workers), = killed
    assert pid in workers, why  # a worker process of the cluster was killed mid-report
    stall = runs["STALL"]
    # Run again by another worker process: at least once more (KILLER may take down the
    # worker STALL's retry landed on, and the scheduler then runs it a third time).
    assert len(stall) >= 2 and stall[1] != stall[0], why
    rows = result.reports.set_index("name")
    assert rows.loc["plan-STALL", "status"] == "rendered", why
    assert rows.loc["plan-A1", "status"] == "rendered", why
    assert rows.loc["plan-KILLER", "status"] == "failed", why
    # it ran at least twice: the cluster allows one retry; a death it only waited for (queued
    # on a worker killed by another report) earns it another submission, at most RETRIES
    assert 2 <= len(runs["KILLER"]) <= 2 * (RETRIES + 1), why
    assert re.match(r"the Dask worker rendering it died 2 times \(last tcp://[\d.:]+\); it was "
                    r"not retried again", rows.loc["plan-KILLER", "reason"])
    assert not result.ok
    assert sorted(p.name for p in (tmp_path / "out").glob("*.html")) == [
        "index.html", "plan-A1.html", "plan-STALL.html"]
