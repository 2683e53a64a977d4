"""The report notebooks as a KAM uses them in JupyterLab: Run All, a scratch cell, Run All again
in the same kernel — and a mistyped parameter still fails loudly, from papermill or typed into
the kernel by hand.

The notebooks run with their stored defaults and ``$KAM_WORKSPACE`` pointing at the built-in
demo (so an empty ``workspace`` is the demo, as it is for nbval).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import papermill as pm
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from kam.reports.params import NOTEBOOKS
from kam.reports.render import notebook_path

pytestmark = pytest.mark.slow

TYPO = {"plan": "acount_id", "profitability": "acount_id", "portfolio": "manger",
        "planner": "planer"}


@pytest.fixture
def demo_env(demo_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Kernels started in the test read the demo through ``$KAM_WORKSPACE``."""
    monkeypatch.setenv("KAM_WORKSPACE", str(demo_cache))
    return demo_cache


def cell_id(nb: nbformat.NotebookNode, cell_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells) if c.get("id") == cell_id)


def printed(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.parametrize("kind", list(NOTEBOOKS))
def test_run_all_twice_in_one_kernel(kind, demo_env, tmp_path):
    """Run All, ``x = 1`` in a scratch cell, Run All again: the leftovers of the first run
    (``center``, ``abc``, ``account``, ``params`` ...) and the scratch variable are not taken for
    parameters. Then a parameters cell edited by hand with a typo fails as papermill's would."""
    nb = nbformat.read(str(notebook_path(kind)), as_version=4)
    report = list(range(len(nb.cells)))
    scratch = nbformat.v4.new_code_cell("x = 1")
    typo = nbformat.v4.new_code_cell(f'{TYPO[kind]} = "X"  # an edited parameters cell')
    nb.cells += [scratch, typo]
    client = NotebookClient(nb, kernel_name="python3", timeout=120,
                            resources={"metadata": {"path": str(tmp_path)}})

    def run(indices: list[int]) -> None:
        for i in indices:
            if nb.cells[i].cell_type == "code":
                client.execute_cell(nb.cells[i], i)

    check = cell_id(nb, "check-parameters")
    with client.setup_kernel():
        run(report)
        first = printed(nb.cells[check])
        run([len(report)])                      # x = 1
        run(report)                             # Run All again: no error
        assert printed(nb.cells[check]) == first
        assert first.endswith(", demo workspace\n")
        # the user edits the parameters cell: setup, parameters (with the typo), check
        with pytest.raises(CellExecutionError, match=rf"field '{TYPO[kind]}': unknown "
                           r"parameter \(a typo\?\); the \w+ report takes: workspace"):
            run([cell_id(nb, "setup"), cell_id(nb, "parameters"), len(report) + 1, check])


@pytest.mark.parametrize("kind", list(NOTEBOOKS))
def test_papermill_typo_fails_loudly(kind, demo_cache, tmp_path):
    """``papermill -p acount_id X``: papermill only logs the unknown name; the notebook fails
    with the name, the note that it may be a typo and the parameters it takes."""
    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(str(notebook_path(kind)), str(tmp_path / "out.ipynb"),
                            parameters={"workspace": "demo", TYPO[kind]: "X"},
                            kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    assert info.value.ename == "InputError"
    assert (f"field '{TYPO[kind]}': unknown parameter (a typo?); the {kind} report takes: "
            "workspace, ") in info.value.evalue
