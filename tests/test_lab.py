"""``kam lab`` works on copies: kam's notebooks are copied into the user's folder (a copy the user
changed is kept), JupyterLab starts there and stops cleanly, and reports run kam's packaged
notebooks unless ``--notebook`` names the user's copy.

The real runs (reports, a JupyterLab server) are marked slow.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import psutil
import pytest
from click.testing import CliRunner
from jupyter_client import BlockingKernelClient

from kam import demo
from kam.cli import main
from kam.config import notebooks_dir
from kam.errors import InputError
from kam.lab import WORKBOOK, copy_notebooks, lab_command, resolve_workspace
from kam.reports.render import check_notebook

MARKER = "Annotation-7f3c by the KAM in JupyterLab"
AS_OF = "2026-11-01"  # the demo's date (kam.demo.TODAY)
STARTUP = 240  # seconds JupyterLab may take to answer (kam + JupyterLab imports, busy machine)


@pytest.fixture(scope="module")
def ws(tmp_path_factory) -> Path:
    """The demo workspace (shared: do not save into it)."""
    path = tmp_path_factory.mktemp("lab") / "ws"
    demo.build(path).close()
    return path


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args])


def packaged() -> dict[str, str]:
    """Name -> sha256 of every notebook kam ships."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(notebooks_dir().glob("*.ipynb"))}


def annotate(path: Path, text: str = MARKER) -> None:
    """What a KAM does in JupyterLab: add a markdown cell at the end and save."""
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell(text))
    nbformat.write(nb, path)


# -- copying ------------------------------------------------------------------------------------
def test_fresh_folder_gets_every_packaged_notebook(tmp_path):
    dest = tmp_path / "nb"
    report = copy_notebooks(dest)
    assert report.copied == list(packaged()) and not (report.kept or report.updated)
    for name in packaged():
        assert (dest / name).read_bytes() == (notebooks_dir() / name).read_bytes()
    assert copy_notebooks(dest).unchanged == list(packaged())


def test_rerun_keeps_a_notebook_the_user_changed_and_says_so(tmp_path):
    dest = tmp_path / "nb"
    copy_notebooks(dest)
    annotate(dest / "account_plan.ipynb")
    changed = (dest / "account_plan.ipynb").read_bytes()
    report = copy_notebooks(dest)
    assert report.kept == ["account_plan.ipynb"] and report.copied == []
    assert (dest / "account_plan.ipynb").read_bytes() == changed
    assert ("kept account_plan.ipynb: it has your changes (kam lab --refresh replaces it with "
            "kam's version)") in report.lines()


def test_rerun_copies_a_deleted_notebook_back(tmp_path):
    dest = tmp_path / "nb"
    copy_notebooks(dest)
    (dest / "portfolio.ipynb").unlink()
    assert copy_notebooks(dest).copied == ["portfolio.ipynb"]


def test_refresh_overwrites_the_users_changes(tmp_path):
    dest = tmp_path / "nb"
    copy_notebooks(dest)
    annotate(dest / "account_plan.ipynb")
    report = copy_notebooks(dest, refresh=True)
    assert report.updated == ["account_plan.ipynb"]
    assert (dest / "account_plan.ipynb").read_bytes() == (
        notebooks_dir() / "account_plan.ipynb").read_bytes()


def test_a_new_kam_version_replaces_untouched_copies_only(tmp_path):
    source, dest = tmp_path / "kam-v1", tmp_path / "nb"
    source.mkdir()
    for name in ("a.ipynb", "b.ipynb"):
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]),
                       source / name)
    copy_notebooks(dest, source=source)
    annotate(dest / "b.ipynb", "mine")
    for name in ("a.ipynb", "b.ipynb"):  # kam v2 ships new versions of both
        annotate(source / name, "kam v2")
    report = copy_notebooks(dest, source=source)
    assert (report.updated, report.kept) == (["a.ipynb"], ["b.ipynb"])
    assert (dest / "a.ipynb").read_bytes() == (source / "a.ipynb").read_bytes()
    assert "mine" in (dest / "b.ipynb").read_text(encoding="utf-8")


def test_dry_run_writes_nothing(tmp_path):
    report = copy_notebooks(tmp_path / "nb", dry_run=True)
    assert report.copied == list(packaged())
    assert report.lines()[0] == f"would copy {report.copied[0]} into {tmp_path / 'nb'}"
    assert not (tmp_path / "nb").exists()


def test_empty_source_says_the_installation_is_incomplete(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"No notebooks \(\*\.ipynb\) in .*reinstall kam"):
        copy_notebooks(tmp_path / "nb", source=tmp_path)


def test_packaged_notebooks_are_never_written(tmp_path, ws):
    before = packaged()
    dest = tmp_path / "nb"
    copy_notebooks(dest)
    for name in before:
        annotate(dest / name)
    copy_notebooks(dest)
    copy_notebooks(dest, refresh=True)
    assert run("lab", ws, "--dir", dest, "--dry-run", "--refresh").exit_code == 0
    assert packaged() == before


# -- the command --------------------------------------------------------------------------------
def test_lab_dry_run_prints_the_copies_and_the_command(tmp_path, ws):
    dest = tmp_path / "nb"
    result = run("lab", ws, "--dir", dest, "--port", "8899", "--no-browser", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[:-1] == [f"would copy {name} into {dest}" for name in packaged()]
    command = lines[-1]
    assert command.startswith(f"would run: KAM_WORKSPACE={ws.resolve()} {sys.executable} "
                              f"-m jupyterlab --ServerApp.root_dir={dest.resolve()} ")
    for flag in ("--ServerApp.port=8899", "--ServerApp.port_retries=0", "--no-browser"):
        assert flag in command.split()
    assert command.endswith(str(dest.resolve() / WORKBOOK)) == (WORKBOOK in packaged())
    assert not dest.exists()


def test_lab_dry_run_says_which_copies_it_keeps(tmp_path, ws):
    dest = tmp_path / "nb"
    copy_notebooks(dest)
    annotate(dest / "portfolio.ipynb")
    result = run("lab", ws, "--dir", dest, "--dry-run")
    assert result.exit_code == 0, result.output
    assert "would keep portfolio.ipynb: it has your changes" in result.output


def test_lab_workspace_comes_from_the_environment_as_an_absolute_path(tmp_path, ws, monkeypatch):
    monkeypatch.chdir(ws.parent)
    monkeypatch.setenv("KAM_WORKSPACE", ws.name)
    result = run("lab", "--dir", tmp_path / "nb", "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"would run: KAM_WORKSPACE={ws.resolve()} " in result.output


def test_open_file_is_the_last_argument():
    argv = lab_command("/tmp/nb", open_file=WORKBOOK)
    assert argv[-1] == str(Path("/tmp/nb").resolve() / WORKBOOK)
    assert "--no-browser" not in argv and not any(a.startswith("--ServerApp.port=")
                                                  for a in argv)


@pytest.mark.parametrize("given", [None, "missing-ws"])
def test_lab_refuses_a_missing_workspace_in_one_line(tmp_path, monkeypatch, given):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KAM_WORKSPACE", raising=False)
    args = ["lab", "--dry-run"] + ([given] if given else [])
    result = run(*args)
    name = given or "kam-workspace"
    assert result.exit_code == 1
    assert result.output == (f"Error: No kam workspace at {name}: run 'kam init {name}' or "
                             f"'kam demo {name}' first, or set KAM_WORKSPACE to an existing "
                             "workspace\n")
    assert not (tmp_path / "kam-notebooks").exists()


def test_resolve_workspace_keeps_database_urls():
    assert resolve_workspace("postgresql://kam@db/kam") == "postgresql://kam@db/kam"


# -- reports with the user's own notebook ----------------------------------------------------
def test_report_refuses_a_missing_notebook(tmp_path, ws):
    result = run("report", "NORDSTAHL", "-w", ws, "-o", tmp_path / "out", "--notebook",
                 tmp_path / "nope.ipynb")
    assert result.exit_code == 1
    assert result.output == (f"Error: {tmp_path / 'nope.ipynb'}: plan report notebook: no such "
                             "file; give the path of your copy of kam's account_plan.ipynb "
                             "(kam lab makes one)\n")
    assert not (tmp_path / "out" / "plan-NORDSTAHL.html").exists()


def test_report_refuses_a_notebook_without_parameters_cell(tmp_path, ws):
    path = tmp_path / "account_plan.ipynb"
    nb = nbformat.read(notebooks_dir() / "account_plan.ipynb", as_version=4)
    for cell in nb.cells:
        cell.metadata["tags"] = [t for t in cell.metadata.get("tags", []) if t != "parameters"]
    nbformat.write(nb, path)
    result = run("report", "NORDSTAHL", "-w", ws, "-o", tmp_path / "out", "--notebook", path)
    assert result.exit_code == 1
    assert "plan report notebook: no cell is tagged 'parameters'" in result.output
    assert len(result.output.splitlines()) == 1


def test_a_notebook_of_another_kind_is_refused(tmp_path):
    with pytest.raises(InputError, match="does not declare account_id; a plan report passes "
                       "workspace, account_id, period, as_of"):
        check_notebook(notebooks_dir() / "portfolio.ipynb", "plan")
    (tmp_path / "x.ipynb").write_text("not json", encoding="utf-8")
    with pytest.raises(InputError, match="plan report notebook: not a readable notebook"):
        check_notebook(tmp_path / "x.ipynb", "plan")


def test_batch_needs_the_kind_of_a_notebook_it_cannot_tell(tmp_path, ws):
    result = run("batch", "-w", ws, "-o", tmp_path / "out", "--notebook", tmp_path / "mine.ipynb")
    assert result.exit_code == 2
    assert "cannot tell which report" in result.output and "write KIND=PATH" in result.output


def test_batch_refuses_a_missing_notebook_before_running_anything(tmp_path, ws):
    result = run("batch", "-w", ws, "-o", tmp_path / "out", "--notebook",
                 f"profitability={tmp_path / 'gone.ipynb'}")
    assert result.exit_code == 1
    assert "gone.ipynb: profitability report notebook: no such file" in result.output
    assert not (tmp_path / "out" / "index.html").exists()


@pytest.mark.slow
def test_report_runs_the_users_copy_only_when_asked(tmp_path, ws):
    dest = tmp_path / "nb"
    copy_notebooks(dest)
    annotate(dest / "account_plan.ipynb")
    out = tmp_path / "out"
    common = ["report", "NORDSTAHL", "-w", ws, "-o", out, "--as-of", AS_OF]
    own = run(*common, "--notebook", dest / "account_plan.ipynb")
    assert own.exit_code == 0, own.output
    assert MARKER in (out / "plan-NORDSTAHL.html").read_text(encoding="utf-8")
    packaged_run = run(*common)
    assert packaged_run.exit_code == 0, packaged_run.output
    assert MARKER not in (out / "plan-NORDSTAHL.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_batch_redoes_a_report_when_its_notebook_changes(tmp_path, ws):
    dest = tmp_path / "nb"
    copy_notebooks(dest)
    out = tmp_path / "out"
    common = ["batch", "-w", ws, "-o", out, "-a", "NORDSTAHL", "--kind", "plan", "--no-portfolio",
              "--no-progress", "--as-of", AS_OF, "--notebook", dest / "account_plan.ipynb"]

    def status() -> str:
        result = run(*common)
        assert result.exit_code == 0, result.output
        counts = re.search(r"\d+ rendered, \d+ unchanged, \d+ failed", result.output)
        assert counts is not None, result.output
        return counts.group(0)

    assert status() == "1 rendered, 0 unchanged, 0 failed"
    assert status() == "0 rendered, 1 unchanged, 0 failed"
    annotate(dest / "account_plan.ipynb")
    assert status() == "1 rendered, 0 unchanged, 0 failed"
    assert MARKER in (out / "plan-NORDSTAHL.html").read_text(encoding="utf-8")


# -- a real JupyterLab ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, method: str = "GET") -> dict:
    data = b"{}" if method == "POST" else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method),
                                timeout=5) as r:
        return json.loads(r.read())


def alive(procs: list[psutil.Process]) -> list[psutil.Process]:
    out = []
    for p in procs:
        try:
            if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                out.append(p)
        except psutil.NoSuchProcess:
            pass
    return out


@pytest.mark.slow
@pytest.mark.parametrize("stop", ["ctrl-c", "sigterm"])
def test_lab_serves_the_copies_and_stops_with_its_kernels(tmp_path, ws, stop):
    port, token, dest = free_port(), "kam-test-token", tmp_path / "nb"
    env = {**os.environ, "JUPYTER_TOKEN": token,
           **{var: str(tmp_path / "jupyter" / var) for var in (
               "JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR")}}
    env.pop("KAM_WORKSPACE", None)
    log = (tmp_path / "lab.log").open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "kam", "lab", str(ws), "--dir", str(dest), "--no-browser",
         "--port", str(port)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True)  # its own process group, as a terminal's foreground job
    base = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + STARTUP  # generous: 2 shared cores can be very busy
        while True:
            assert proc.poll() is None, (tmp_path / "lab.log").read_text(errors="replace")
            try:
                get(f"{base}/status?token={token}")
                break
            except OSError:
                assert time.monotonic() < deadline, f"JupyterLab did not answer in {STARTUP} s"
                time.sleep(0.5)
        listing = get(f"{base}/contents?token={token}")
        assert {c["name"] for c in listing["content"]} >= set(packaged())
        assert get(f"{base}/contents/account_plan.ipynb?content=0&token={token}")["type"] == (
            "notebook")
        kernel_id = get(f"{base}/kernels?token={token}", "POST")["id"]
        client = BlockingKernelClient(connection_file=str(
            tmp_path / "jupyter" / "JUPYTER_RUNTIME_DIR" / f"kernel-{kernel_id}.json"))
        client.load_connection_file()
        client.start_channels(hb=False)
        try:
            client.wait_for_ready(timeout=STARTUP)  # a kernel at work, as a notebook has one
        finally:
            client.stop_channels()
        children = psutil.Process(proc.pid).children(recursive=True)
        kernel = next(c for c in children if "ipykernel" in " ".join(c.cmdline()))
        assert kernel.cmdline()[0] == sys.executable  # the project's interpreter
        assert kernel.environ()["KAM_WORKSPACE"] == str(ws.resolve())

        if stop == "ctrl-c":
            os.killpg(proc.pid, signal.SIGINT)  # what the terminal does
        else:
            proc.terminate()
        assert proc.wait(timeout=60) == 0
        deadline = time.monotonic() + 15
        while alive(children) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert alive(children) == []
        assert (tmp_path / "lab.log").read_text(errors="replace").rstrip().endswith(
            "JupyterLab stopped.")
    finally:
        if proc.poll() is None:  # a failed test: leave nothing running
            for p in [*psutil.Process(proc.pid).children(recursive=True), proc]:
                p.kill()
            proc.wait()
        log.close()
