"""``kam batch`` stopped by a signal, and the batch's robustness: a real ``kam batch`` runs as a
subprocess on a small workspace with a tiny report notebook (the first account's report is
quick, the others sleep for a minute), is signalled once the first report is written, and must
end at once with the shell's exit status, keep what it wrote, and leave no process and no
temporary folder behind; a batch killed with SIGKILL (run from a script without a ``__main__``
guard) must leave no orphan for long. Then: account ids that differ only in case, and an index
that is replaced whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from kam.reports.batch import MANIFEST, Job, file_names, run_batch, write_index
from kam.reports.params import check_parameters

psutil = pytest.importorskip("psutil")

MARK = "KAM_TEST_BATCH_MARK"
"""Set in the batch's environment: every process it starts (workers, kernels) inherits it."""
SLEEP = 60
"""Seconds each report but the first sleeps: a batch that waits for running reports is slow."""
PROMPT = 10.0
"""A stopped batch must end within this many seconds (well below SLEEP)."""


# -- fixtures and helpers ------------------------------------------------------------------------
def report_notebook(path: Path, *, slow: bool) -> Path:
    """A plan-report notebook with kam's parameters cell that prints its account; with
    ``slow`` every account but A1 then sleeps for :data:`SLEEP` seconds."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('workspace: str = ""\naccount_id: str = ""\n'
                                       'period: str = ""\nas_of: str = ""')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell('print("report of", account_id)')]
    if slow:
        nb.cells.append(nbformat.v4.new_code_cell(
            f'import time\ntime.sleep(0 if account_id == "A1" else {SLEEP})'))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, str(path))
    return path


def save_accounts(workspace, acme, ids) -> Path:
    """Save a small account per id into the (empty) ``workspace`` fixture; its folder."""
    for account_id in ids:
        workspace.save(acme(id=account_id, name=f"{account_id} Ltd"))
    workspace.close()
    return Path(workspace.location)


@pytest.fixture
def three_accounts(workspace, acme) -> Path:
    """A workspace of accounts A1, A2, A3 (three reports: the batch starts two workers)."""
    return save_accounts(workspace, acme, ("A1", "A2", "A3"))


@pytest.fixture
def env(tmp_path_factory) -> dict[str, str]:
    """The batch's environment: its own temporary folder, and a mark on its processes.

    The folder is a short one of pytest's (``.../tmp0``, not under the test's own folder,
    named after the test): the kernels' sockets are files in it, and a Unix socket's path may
    not exceed 107 bytes (pytest-xdist's worker folders make every path longer)."""
    return {**os.environ, "TMPDIR": str(tmp_path_factory.mktemp("tmp")), MARK: uuid.uuid4().hex}


def marked(mark: str) -> list[psutil.Process]:
    """Running processes (not zombies) whose environment carries ``mark``."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get(MARK) == mark and proc.status() != psutil.STATUS_ZOMBIE:
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def gone_within(mark: str, seconds: float) -> list[psutil.Process]:
    """Wait up to ``seconds`` for the marked processes to end; return those still there."""
    deadline = time.monotonic() + seconds
    while (left := marked(mark)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return left


def kernels_of(pid: int) -> list[psutil.Process]:
    """The kernels among the descendants of process ``pid``."""
    found = []
    for child in psutil.Process(pid).children(recursive=True):
        try:
            if "ipykernel" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.Error:
            continue
    return found


def kam_batch(workspace: Path, out: Path, notebook: Path) -> list[str]:
    """The command line of ``kam batch`` for the plan reports of ``workspace`` (two workers)."""
    return [sys.executable, "-m", "kam", "batch", "-w", str(workspace), "-o", str(out),
            "--kind", "plan", "--no-portfolio", "--no-progress", "-j", "2",
            "--as-of", "2026-11-01", "--notebook", f"plan={notebook}"]


def start_batch(command: list[str] | Path, out: Path, env: dict[str, str], *,
                kernels: int = 2) -> subprocess.Popen[str]:
    """Start a batch (a command line, or a Python script) in a session of its own (its process
    group is what a terminal's Ctrl-C would reach); wait until the first report is written and
    ``kernels`` kernels run."""
    if isinstance(command, Path):
        command = [sys.executable, str(command)]
    proc = subprocess.Popen(
        command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "plan-A1.html").exists() and len(kernels_of(proc.pid)) == kernels:
            return proc
        time.sleep(0.1)
    proc.kill()
    raise AssertionError(f"the batch did not get going: {proc.communicate()}")


# -- stopping ------------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.parametrize(("signum", "whole_group", "accounts", "tree", "status"), [
    # Ctrl-C in a terminal: the whole process group gets it; three reports: two workers
    (signal.SIGINT, True, ("A1", "A2", "A3"), 4, 130),
    # kill PID; two reports: one kernel in the batch's own process
    (signal.SIGTERM, False, ("A1", "A2"), 1, 143),
], ids=["ctrl-c-workers", "sigterm-in-process"])
def test_a_signal_stops_the_batch_at_once_and_leaves_nothing_behind(
        workspace, acme, env, tmp_path, signum, whole_group, accounts, tree, status):
    out = tmp_path / "out"
    notebook = report_notebook(tmp_path / "nb.ipynb", slow=True)
    proc = start_batch(kam_batch(save_accounts(workspace, acme, accounts), out, notebook), out,
                       env, kernels=min(2, len(accounts) - 1))
    children = psutil.Process(proc.pid).children(recursive=True)
    assert len(children) == tree  # workers and their kernels, or the one kernel
    started = time.monotonic()
    if whole_group:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    took = time.monotonic() - started

    assert proc.returncode == status, err
    assert took < PROMPT, f"took {took:.1f} s to stop"
    rest = len(accounts) - 1
    assert (f"kam batch stopped by {signal.Signals(signum).name}: 1 of {len(accounts)} reports "
            f"written, the other {rest} not; run the batch again") in err
    assert gone_within(env[MARK], 2.0) == []
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in children)
    assert list(Path(env["TMPDIR"]).iterdir()) == []  # no kam-batch-*, kam-k-*, connection file
    # what was written is kept and recorded (a re-run skips it); the rest is not written
    manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))["reports"]
    assert set(manifest) == {"plan-A1"} and manifest["plan-A1"]["status"] == "ok"
    assert sorted(p.name for p in out.glob("*.html")) == ["plan-A1.html"]
    assert not list(out.rglob("*.tmp"))


@pytest.mark.slow
def test_a_killed_batch_of_an_unguarded_script_leaves_no_orphan(three_accounts, env, tmp_path):
    """A script without ``if __name__ == "__main__":`` runs a batch with workers (they never
    import the caller's script; spawned pool workers re-ran it and died). SIGKILL then gives
    the batch no chance to clean up: its workers see their stdin close, stop their kernels and
    remove their folders; a kernel whose worker is gone ends by itself."""
    out = tmp_path / "out"
    notebook = report_notebook(tmp_path / "nb.ipynb", slow=True)
    script = tmp_path / "make_reports.py"
    script.write_text(
        "from kam.reports.batch import run_batch\n"
        f"run_batch({str(three_accounts)!r}, {str(out)!r}, kinds=['plan'], portfolio=False, "
        f"workers=2, progress=False, notebooks={{'plan': {str(notebook)!r}}})\n",
        encoding="utf-8")
    proc = start_batch(script, out, env)
    assert len(marked(env[MARK])) == 5  # the script, two workers, two kernels
    proc.kill()
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert gone_within(env[MARK], 5.0) == []
    assert list(Path(env["TMPDIR"]).iterdir()) == []


# -- robustness ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_accounts_differing_only_in_case_get_their_own_files_and_links(workspace, acme,
                                                                       tmp_path):
    """``acme`` and ``ACME`` would be one file where case does not count (macOS, Windows):
    ACME sorts first and keeps the plain name, acme gets the start of its SHA-256 (worked out
    here with hashlib), and the index links each account to its own report."""
    location = save_accounts(workspace, acme, ("acme", "ACME"))
    out = tmp_path / "out"
    result = run_batch(location, out, kinds=["plan"], portfolio=False, progress=False,
                       notebooks={"plan": report_notebook(tmp_path / "nb.ipynb", slow=False)})
    assert result.ok, result.summary()
    suffix = hashlib.sha256(b"plan-acme").hexdigest()[:6]
    pages = sorted(p.name for p in out.glob("*.html") if p.name != "index.html")
    assert pages == ["plan-ACME.html", f"plan-acme-{suffix}.html"]
    index = (out / "index.html").read_text(encoding="utf-8")
    for account_id in ("acme", "ACME"):
        href = re.search(rf"<small>{account_id}</small></td><td><a href=\"([^\"]+)\"", index)
        assert href, account_id
        assert f"report of {account_id}" in (out / href.group(1)).read_text(encoding="utf-8")


@pytest.mark.parametrize("names", [
    ["plan-acme", "plan-ACME", "plan-Acme", "plan-BOLT"],
    ["plan-BOLT", "plan-Acme", "plan-ACME", "plan-acme"],
])
def test_file_names_are_unique_ignoring_case_and_independent_of_order(names):
    unique = file_names(names)
    assert set(unique) == set(names)
    assert len({stem.casefold() for stem in unique.values()}) == len(names)
    # sorted: ACME < Acme < BOLT < acme; the first of the three ACMEs keeps its name
    assert unique["plan-ACME"] == "plan-ACME" and unique["plan-BOLT"] == "plan-BOLT"
    for name in ("plan-Acme", "plan-acme"):
        assert unique[name] == f"{name}-{hashlib.sha256(name.encode()).hexdigest()[:6]}"
    assert unique == file_names(reversed(names))


def test_file_names_never_take_an_existing_name():
    """An id that looks like a suffixed one: the suffix grows until it is free."""
    taken = f"plan-acme-{hashlib.sha256(b'plan-acme').hexdigest()[:6]}"
    unique = file_names(["plan-ACME", "plan-acme", taken.upper()])
    assert unique["plan-acme"] == f"plan-acme-{hashlib.sha256(b'plan-acme').hexdigest()[:8]}"
    assert len({stem.casefold() for stem in unique.values()}) == 3


def test_index_is_replaced_whole_or_not_at_all(workspace, acme, tmp_path, monkeypatch):
    location = str(save_accounts(workspace, acme, ("A1", "A2")))
    jobs = [Job(f"plan-{a}", check_parameters("plan", workspace=location,
                                              account_id=a), "h", f"{a} Ltd")
            for a in ("A1", "A2")]
    out = tmp_path / "out"
    out.mkdir()
    entries = {"plan-A1": {"status": "ok", "html": "plan-A1.html"}}
    first = write_index(out, jobs[:1], entries).read_text(encoding="utf-8")
    assert "A1 Ltd" in first

    def disk_full(src, dst):
        raise OSError(28, "No space left on device")

    # the replacing step fails: the old index is intact, no temporary file is left
    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(OSError, match="No space left"):
        write_index(out, jobs, entries)
    assert (out / "index.html").read_text(encoding="utf-8") == first
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
    monkeypatch.undo()

    page = write_index(out, jobs, entries).read_text(encoding="utf-8")
    assert "A2 Ltd" in page
    assert sorted(p.name for p in out.iterdir()) == ["index.html"]
