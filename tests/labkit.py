"""A real JupyterLab for tests: started on 127.0.0.1 on a free port, driven with playwright on
Debian's headless chromium, stopped by its PID.

The page records every request and console error: a test asserts that no request left the
machine and that nothing went wrong in the page.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic"]
TOKEN = "kam-e2e-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Lab:
    """A running JupyterLab server."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, notebook: str) -> str:
        # reset: open only this notebook, not the tabs a previous page left in the layout
        return f"{self.base}/lab/tree/{notebook}?reset&token={TOKEN}"

    def api(self, path: str) -> Any:
        req = urllib.request.Request(f"{self.base}/api/{path}",
                                     headers={"Authorization": f"token {TOKEN}"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def kernels_idle(self) -> bool:
        try:
            kernels = self.api("kernels")
        except OSError:  # the server answers 500 now and then while a kernel starts
            return False
        return bool(kernels) and all(k["execution_state"] == "idle" for k in kernels)


@contextmanager
def running_lab(root: Path, env: dict[str, str]) -> Iterator[Lab]:
    """Start JupyterLab on ``root`` and stop it (and its kernels) at the end."""
    port = free_port()
    log = root.parent / f"jupyterlab-{port}.log"
    state = root.parent / f"jupyter-state-{port}"  # nothing of the user's JupyterLab is used
    env = {"JUPYTERLAB_WORKSPACES_DIR": str(state / "workspaces"),
           "JUPYTER_RUNTIME_DIR": str(state / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(state / "settings"), **env}
    args = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
            f"--port={port}", f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={root}", "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        args.append("--allow-root")
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=root, env={**os.environ, **env}, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)
    lab = Lab(root, port, proc, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                lab.api("status")
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"JupyterLab did not start:\n{log.read_text()[-3000:]}")
                time.sleep(0.3)
        yield lab
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@dataclass
class Seen:
    """What a page did: its requests and its console errors."""

    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def outside(self, lab: Lab) -> list[str]:
        return [u for u in self.requests
                if not u.startswith((lab.base, "data:", "blob:", "about:"))]


@contextmanager
def chromium() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: the JupyterLab checks need Debian's chromium "
                    "(apt-get install chromium); never 'playwright install'", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# Messages JupyterLab itself logs as console errors in a closed network (no extension manager,
# no news): they are about the network, not about our notebooks.
_LAB_NOISE = ("Failed to load resource", "lsp", "LSP", "net::ERR")


def open_notebook(browser: Any, lab: Lab, notebook: str) -> tuple[Any, Seen]:
    """Open ``notebook`` in JupyterLab and wait until its kernel is idle."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    seen = Seen()
    page.on("request", lambda r: seen.requests.append(r.url))
    page.on("console", lambda m: seen.errors.append(m.text)
            if m.type == "error" and not m.text.startswith(_LAB_NOISE) else None)
    page.on("pageerror", lambda e: seen.errors.append(str(e)))
    page.goto(lab.url(notebook))
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    wait_idle(page, lab)
    return page, seen


def wait_idle(page: Any, lab: Lab, timeout: float = 120) -> None:
    """Wait until the notebook's kernel exists and is idle, with no cell waiting to run."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = page.locator(".jp-InputPrompt", has_text="[*]").count()
        if not busy and lab.kernels_idle():
            time.sleep(0.3)
            if not page.locator(".jp-InputPrompt", has_text="[*]").count() and lab.kernels_idle():
                return
        time.sleep(0.3)
    pytest.fail(f"the kernel did not become idle in {timeout} s")


def run_all(page: Any, lab: Lab) -> None:
    """Run > Run All Cells, as a user does, and wait until every cell ran."""
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
    time.sleep(0.5)
    wait_idle(page, lab)


def error_outputs(page: Any) -> list[str]:
    """Texts of the error and stderr outputs shown in the notebook."""
    out = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
    return [out.nth(i).inner_text()[:2000] for i in range(out.count())]
