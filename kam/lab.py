"""Work on kam's notebooks in JupyterLab without touching the ones the reports run.

``kam report`` and ``kam batch`` run the notebooks in :func:`kam.config.notebooks_dir`. JupyterLab
autosaves what it opens (outputs and all), so a KAM works on copies: :func:`copy_notebooks` copies
every notebook into a folder of the user's (``./kam-notebooks`` by default) and never overwrites a
copy the user changed, :func:`lab_command` builds the command that starts JupyterLab there, and
:func:`run_lab` runs it until Ctrl-C, with the workspace in ``$KAM_WORKSPACE``.

The folder remembers, in ``.kam-notebooks.json``, the hash of each notebook as kam wrote it. A
copy still equal to that hash is untouched, so a newer kam may replace it; a copy that differs
from both that hash and kam's current notebook was changed by the user and is kept (``refresh``
overwrites it on purpose).
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from .config import notebooks_dir
from .store import Workspace, default_location

__all__ = [
    "DEFAULT_FOLDER",
    "WORKBOOK",
    "CopyReport",
    "copy_notebooks",
    "lab_command",
    "resolve_workspace",
    "run_lab",
]

DEFAULT_FOLDER = "kam-notebooks"
"""Where :func:`copy_notebooks` puts the copies unless told otherwise (relative to the current
folder)."""

WORKBOOK = "workbook.ipynb"
"""The notebook JupyterLab opens first, when kam ships one."""

STOP_TIMEOUT = 30.0
"""Seconds JupyterLab gets to shut its kernels down after Ctrl-C before it is killed."""

_MANIFEST = ".kam-notebooks.json"


@dataclass
class CopyReport:
    """What :func:`copy_notebooks` did (or, with ``dry_run``, would do) in ``folder``.

    Each list holds notebook file names: ``copied`` were missing, ``updated`` were replaced by
    kam's current version (untouched copies of an older version, or any copy with ``refresh``),
    ``kept`` differ from kam's version because the user changed them and were left alone,
    ``unchanged`` already equal kam's version.
    """

    folder: Path
    dry_run: bool = False
    copied: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        """Every notebook kam ships, sorted."""
        return sorted(self.copied + self.updated + self.kept + self.unchanged)

    def lines(self) -> list[str]:
        """One line per notebook copied, updated or kept, and one for those up to date."""
        verb = ("would copy", "would update", "would keep") if self.dry_run else (
            "copied", "updated", "kept")
        out = [f"{verb[0]} {name} into {self.folder}" for name in self.copied]
        out += [f"{verb[1]} {name} to kam's current version" for name in self.updated]
        out += [f"{verb[2]} {name}: it has your changes (kam lab --refresh replaces it with "
                "kam's version)" for name in self.kept]
        if self.unchanged:
            out.append("up to date: " + ", ".join(self.unchanged))
        return out


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read_manifest(folder: Path) -> dict[str, str]:
    try:
        data = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def copy_notebooks(dest: str | os.PathLike[str] = DEFAULT_FOLDER, refresh: bool = False, *,
                   dry_run: bool = False,
                   source: str | os.PathLike[str] | None = None) -> CopyReport:
    """Copy kam's notebooks into ``dest``, keeping every copy the user changed.

    Parameters
    ----------
    dest
        The user's notebook folder (created if missing).
    refresh
        Overwrite copies the user changed with kam's version too (their changes are lost).
    dry_run
        Only report what would happen; write nothing.
    source
        Folder of the notebooks to copy (default: :func:`kam.config.notebooks_dir`, whose files
        are only ever read).

    Returns
    -------
    CopyReport
        The notebooks copied, updated, kept and already up to date.

    Raises
    ------
    FileNotFoundError
        ``source`` holds no notebook.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     first, again = copy_notebooks(folder), copy_notebooks(folder)
    >>> "account_plan.ipynb" in first.copied, again.copied
    (True, [])
    """
    src = Path(source) if source is not None else notebooks_dir()
    folder = Path(dest)
    notebooks = sorted(src.glob("*.ipynb"))
    if not notebooks:
        raise FileNotFoundError(f"No notebooks (*.ipynb) in {src}: this kam installation is "
                                "incomplete; reinstall kam")
    report = CopyReport(folder=folder, dry_run=dry_run)
    manifest = _read_manifest(folder)
    writes: dict[str, bytes] = {}
    for path in notebooks:
        name, data = path.name, path.read_bytes()
        target, new = folder / name, _sha(data)
        have = _sha(target.read_bytes()) if target.exists() else None
        if have is None:
            report.copied.append(name)
        elif have == new:
            report.unchanged.append(name)
        elif refresh or manifest.get(name) == have:  # unchanged since kam wrote it
            report.updated.append(name)
        else:
            report.kept.append(name)
            continue
        manifest[name] = new
        if have != new:
            writes[name] = data
    if not dry_run:
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in writes.items():
            _write(folder / name, data)
        _write(folder / _MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
    return report


def resolve_workspace(workspace: str | os.PathLike[str] | None = None) -> str:
    """The workspace JupyterLab's kernels open, as an absolute path (or a database URL).

    ``workspace`` if given, else ``$KAM_WORKSPACE``, else ``./kam-workspace``.

    Raises
    ------
    FileNotFoundError
        No workspace in that folder; the message says to run ``kam demo`` or ``kam init``.
    """
    location = str(workspace or default_location())
    if "://" in location:
        return location
    Workspace(location).close()  # raises FileNotFoundError naming kam init / kam demo
    return str(Path(location).resolve())


def lab_command(folder: str | os.PathLike[str], *, port: int | None = None,
                browser: bool = True, open_file: str | None = None) -> list[str]:
    """The command that starts JupyterLab on ``folder`` with this Python (and so its kernel).

    Parameters
    ----------
    folder
        JupyterLab's root folder (``--ServerApp.root_dir``).
    port
        Port to listen on; fails if it is taken (default: JupyterLab's, 8888 or the next free).
    browser
        Open a browser tab.
    open_file
        A notebook in ``folder`` to open first (e.g. :data:`WORKBOOK`).

    Examples
    --------
    >>> lab_command("/tmp/nb", port=8899, browser=False)[1:4]
    ['-m', 'jupyterlab', '--ServerApp.root_dir=/tmp/nb']
    """
    root = Path(folder).resolve()
    argv = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}",
            "--ServerApp.answer_yes=True"]  # Ctrl-C stops at once, without a y/n prompt
    if port is not None:
        argv += [f"--ServerApp.port={port}", "--ServerApp.port_retries=0"]
    if not browser:
        argv.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")
    if open_file:
        argv.append(str(root / open_file))
    return argv


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run_lab(argv: list[str], *, workspace: str, cwd: str | os.PathLike[str],
            stop_timeout: float = STOP_TIMEOUT) -> int:
    """Run JupyterLab (``argv`` from :func:`lab_command`) until it ends or is interrupted.

    The kernels see ``workspace`` as ``$KAM_WORKSPACE``. Ctrl-C (SIGINT), SIGTERM or SIGHUP
    stops JupyterLab with SIGTERM, which shuts its kernels down; after ``stop_timeout`` seconds,
    or at a second Ctrl-C, it is killed.

    Returns
    -------
    int
        JupyterLab's exit status (0 after a clean stop).
    """
    env = {**os.environ, "KAM_WORKSPACE": workspace}
    # Handlers also when started with SIGINT ignored (a script's background job inherits that).
    stops = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGHUP"):  # the terminal closed
        stops.append(signal.SIGHUP)
    in_main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, _interrupt) for s in stops} if in_main else {}
    proc = None
    try:
        # In a session of its own, JupyterLab does not see the terminal's Ctrl-C (without a
        # terminal it would stop without shutting its kernels down): kam stops it, one way.
        proc = subprocess.Popen(argv, env=env, cwd=cwd, start_new_session=os.name == "posix")
        return proc.wait()
    except KeyboardInterrupt:
        if proc is None:
            raise
        return _stop(proc, stop_timeout)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _stop(proc: subprocess.Popen[bytes], timeout: float) -> int:
    """SIGTERM, then SIGKILL after ``timeout`` seconds or at a second Ctrl-C."""
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.wait(timeout=timeout)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        proc.kill()
        return proc.wait()
