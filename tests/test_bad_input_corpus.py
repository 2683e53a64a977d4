"""The bad-input corpus (``tests/data/bad_input/``): every hostile or careless file gets a clear
one-line error from every entry point that reads it, and leaves the store exactly as it was;
every tricky-but-good file is accepted and survives an export and an import unchanged.

The cases are the table of ``tests/data/bad_input/README.md``: a new file is a new line there.
A new import format is a new entry point in :data:`ENTRY_POINTS`.
"""

from __future__ import annotations

import csv
import multiprocessing
import re
import shutil
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from io_samples import simple, snapshot
from openpyxl import load_workbook

from kam.cli import main
from kam.store import Workspace

CORPUS = Path(__file__).parent / "data" / "bad_input"
CRM_BASE = CORPUS / "crm_base"
ERP_BASE = CORPUS / "erp_base"
BASES = (CRM_BASE, ERP_BASE)  # the exports a case file is put into: no lines of their own
MAX_LINE = 1_000  # characters: a message never repeats a whole input
GUARD_MEMORY = 1_000_000_000  # bytes a guarded run may add to the test process
GUARD_SECONDS = 60


@dataclass(frozen=True)
class Case:
    """One line of the corpus table."""

    file: str
    entries: tuple[str, ...]
    guarded: bool
    what: str
    answer: str | None  # a regular expression; None: the file is good and must be accepted


def read_cases(readme: Path = CORPUS / "README.md") -> list[Case]:
    """The table of the corpus README, one :class:`Case` per line."""
    cases = []
    for line in readme.read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `"):
            continue
        file, entries, what, answer = (cell.strip() for cell in line.strip("| ").split(" | "))
        names, _, guard = entries.partition(";")
        cases.append(Case(
            file=file.strip("`"), entries=tuple(e.strip() for e in names.split(",")),
            guarded=guard.strip() == "guarded", what=what,
            answer=None if answer == "OK" else answer.removeprefix("`").removesuffix("`")))
    return cases


CASES = read_cases()


@dataclass
class Outcome:
    """What an entry point did with one file."""

    code: int
    output: str
    named: str  # the name the error must give
    unchanged: Callable[[], bool]  # the store (or the database file) is as it was
    workspace: Path | None = None  # where an accepted file was stored


@dataclass
class Run:
    """Runs ``kam`` in this process, or (guarded) in a forked child with a memory limit and a
    time limit, so that a file that makes kam grow without end fails the test, not the run."""

    guarded: bool

    def __call__(self, *args: str | Path) -> tuple[int, str]:
        argv = [str(a) for a in args]
        return _guarded(argv) if self.guarded else _invoke(argv)


def _invoke(argv: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, argv)
    out = result.output
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        out += "".join(traceback.format_exception(result.exception))
    return result.exit_code, out


def _memory() -> int:
    """This process's virtual memory in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmSize:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmSize in /proc/self/status")


def _guarded(argv: list[str]) -> tuple[int, str]:
    if not sys.platform.startswith("linux"):
        pytest.skip("guarded runs need fork and /proc (Linux)")
    ctx = multiprocessing.get_context("fork")  # the child has kam imported already: fast
    receive, send = ctx.Pipe(duplex=False)

    def child() -> None:
        import resource

        limit = _memory() + GUARD_MEMORY
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
        send.send(_invoke(argv))

    process = ctx.Process(target=child)
    process.start()
    deadline = time.monotonic() + GUARD_SECONDS
    while not receive.poll(0.05):
        if not process.is_alive() or time.monotonic() > deadline:
            process.kill()
            process.join()
            pytest.fail(f"kam {' '.join(argv)} gave no answer within {GUARD_SECONDS} s and "
                        f"{GUARD_MEMORY / 1e9:.0f} GB (exit code {process.exitcode})")
    answer: tuple[int, str] = receive.recv()
    process.join()
    return answer


# -- entry points ---------------------------------------------------------------------------------
def _workspace(folder: Path) -> Path:
    """A workspace holding one account, so that 'unchanged' means something."""
    with Workspace(folder, create=True) as ws:
        ws.save(simple("KEEP", "Keep Ltd"), author="ann", message="before the bad input")
    return folder


def _store_unchanged(folder: Path) -> Callable[[], bool]:
    with Workspace(folder) as ws:
        before = snapshot(ws)

    def check() -> bool:
        with Workspace(folder) as ws:
            return snapshot(ws) == before

    return check


def _copy(file: Path, tmp_path: Path) -> Path:
    """The case file in a folder of the test (the corpus is never written to)."""
    (tmp_path / "in").mkdir(exist_ok=True)
    return Path(shutil.copy(file, tmp_path / "in" / file.name))


def validate(file: Path, tmp_path: Path, run: Run) -> Outcome:
    path = _copy(file, tmp_path)
    code, out = run("validate", path)
    return Outcome(code, out, named=path.name, unchanged=lambda: True)


def import_file(file: Path, tmp_path: Path, run: Run) -> Outcome:
    path, ws = _copy(file, tmp_path), _workspace(tmp_path / "ws")
    unchanged = _store_unchanged(ws)
    code, out = run("import", path, "-w", ws)
    return Outcome(code, out, named=path.name, unchanged=unchanged, workspace=ws)


def _export_with(file: Path, base: Path, tmp_path: Path, fmt: str, run: Run) -> Outcome:
    """The export ``base`` with ``file`` put in place of the file its name ends with
    (``unclosed_quote.accounts.csv`` replaces ``accounts.csv``), imported as ``fmt``."""
    folder = Path(shutil.copytree(base, tmp_path / base.name))
    target = file.name.split(".", 1)[1]
    assert (folder / target).is_file(), f"{base.name}/ has no {target} to replace"
    shutil.copy(file, folder / target)
    ws = _workspace(tmp_path / "ws")
    unchanged = _store_unchanged(ws)
    code, out = run("import", folder, "--format", fmt, "-w", ws)
    return Outcome(code, out, named=target, unchanged=unchanged, workspace=ws)


def crm(file: Path, tmp_path: Path, run: Run) -> Outcome:
    return _export_with(file, CRM_BASE, tmp_path, "crm", run)


def transactions(file: Path, tmp_path: Path, run: Run) -> Outcome:
    return _export_with(file, ERP_BASE, tmp_path, "transactions", run)


def mapping(file: Path, tmp_path: Path, run: Run) -> Outcome:
    path, folder = _copy(file, tmp_path), Path(shutil.copytree(CRM_BASE, tmp_path / "crm"))
    ws = _workspace(tmp_path / "ws")
    unchanged = _store_unchanged(ws)
    code, out = run("import", folder, "--format", "crm", "--mapping", path, "-w", ws)
    return Outcome(code, out, named=path.name, unchanged=unchanged, workspace=ws)


def workspace_db(file: Path, tmp_path: Path, run: Run) -> Outcome:
    folder = tmp_path / "ws"
    folder.mkdir()
    shutil.copy(file, folder / "workspace.db")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    code, out = run("accounts", "-w", folder)

    def unchanged() -> bool:
        return {p.name: p.read_bytes() for p in folder.iterdir()} == before

    return Outcome(code, out, named="workspace.db", unchanged=unchanged)


EntryPoint = Callable[[Path, Path, Run], Outcome]
ENTRY_POINTS: dict[str, EntryPoint] = {
    "validate": validate,
    "import": import_file,
    "crm": crm,
    "transactions": transactions,
    "mapping": mapping,
    "workspace": workspace_db,
}
"""Each entry point: (corpus file, a temporary folder, how to run kam) -> what kam did."""


# -- the checks ---------------------------------------------------------------------------------
def test_every_corpus_file_has_a_line_and_every_line_a_file():
    files = {p.name for p in CORPUS.iterdir() if p.name != "README.md" and p not in BASES}
    assert sorted(files - {c.file for c in CASES}) == []  # files without a line
    assert sorted({c.file for c in CASES} - files) == []  # lines without a file
    assert len({c.file for c in CASES}) == len(CASES)
    assert {e for c in CASES for e in c.entries} <= set(ENTRY_POINTS)
    for c in CASES:
        if c.answer is not None:
            re.compile(c.answer)


@pytest.mark.parametrize(("base", "fmt", "accounts_file"), [
    (CRM_BASE, "crm", "accounts.csv"), (ERP_BASE, "transactions", "customers.csv")])
def test_base_export_imports_cleanly(base: Path, fmt: str, accounts_file: str, tmp_path: Path):
    """Each base export is good on its own: a refused case is refused for its own file."""
    folder = Path(shutil.copytree(base, tmp_path / base.name))
    ws = _workspace(tmp_path / "ws")
    code, out = _invoke(["import", str(folder), "--format", fmt, "-w", str(ws)])
    assert code == 0, out
    with (folder / accounts_file).open(encoding="utf-8", newline="") as f:
        rows = len(list(csv.reader(f))) - 1  # one account per row below the header
    with Workspace(ws) as w:
        assert len(w.account_ids()) == 1 + rows  # and the account KEEP
    _export_round_trip(ws, tmp_path)


def _params() -> list[object]:
    return [pytest.param(case, entry, id=f"{case.file}-{entry}")
            for case in CASES for entry in case.entries]


@pytest.mark.parametrize(("case", "entry"), _params())
def test_corpus_file(case: Case, entry: str, tmp_path: Path):
    outcome = ENTRY_POINTS[entry](CORPUS / case.file, tmp_path, Run(case.guarded))
    assert "Traceback" not in outcome.output, outcome.output
    if case.answer is None:
        assert outcome.code == 0, outcome.output
        if outcome.workspace is not None:
            _export_round_trip(outcome.workspace, tmp_path)
        return
    lines = outcome.output.splitlines()
    assert outcome.code == 1, outcome.output
    assert max(len(line) for line in lines) <= MAX_LINE, [len(line) for line in lines]
    matching = [line for line in lines if re.search(case.answer, line)]
    assert matching, f"no line matches {case.answer!r}:\n{outcome.output}"
    assert outcome.named in matching[0], f"{outcome.named} not named in {matching[0]!r}"
    assert outcome.unchanged(), "the store changed"


def _export_round_trip(ws: Path, tmp_path: Path) -> None:
    """What was stored survives ``kam export`` to one YAML file and ``kam import`` of it into
    a fresh workspace, and the Excel export holds no formula."""
    code, out = _invoke(["export", "--to", str(tmp_path / "all.yaml"), "-w", str(ws)])
    assert code == 0, out
    with Workspace(ws) as source, Workspace(tmp_path / "fresh", create=True) as fresh:
        fresh.save_team(source.team())
        code, out = _invoke(["import", str(tmp_path / "all.yaml"), "-w", fresh.location])
        assert code == 0, out
        assert fresh.load_all() == source.load_all()
    code, out = _invoke(["export", "--to", str(tmp_path / "all.xlsx"), "-w", str(ws)])
    assert code == 0, out
    book = load_workbook(tmp_path / "all.xlsx")
    formulas = [f"{sheet.title}!{cell.coordinate}" for sheet in book.worksheets
                for row in sheet.iter_rows() for cell in row if cell.data_type == "f"]
    assert formulas == []
