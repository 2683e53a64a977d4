"""The ``kam`` command's workspace commands, run through click's test runner on real files."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from kam.cli import main
from kam.store import Workspace


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "ws"
    result = CliRunner().invoke(main, ["demo", str(path)])
    assert result.exit_code == 0, result.output
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def test_init_creates_an_empty_workspace(tmp_path):
    result = run("init", str(tmp_path / "new"))
    assert result.exit_code == 0
    assert (tmp_path / "new" / "workspace.db").exists()
    assert Workspace(tmp_path / "new").account_ids() == []


def test_demo_builds_twelve_accounts_and_refuses_to_overwrite(demo_path):
    assert len(Workspace(demo_path).account_ids()) == 12
    again = run("demo", str(demo_path))
    assert again.exit_code != 0
    assert "Traceback" not in again.output


def test_accounts_lists_every_account(demo_path):
    result = run("accounts", "-w", str(demo_path))
    assert result.exit_code == 0
    for account_id in Workspace(demo_path).account_ids():
        assert account_id in result.output


def test_history_shows_every_revision(demo_path):
    ws = Workspace(demo_path)
    account = ws.account_ids()[0]
    result = run("history", account, "-w", str(demo_path))
    assert result.exit_code == 0
    lines = [ln for ln in result.output.splitlines()[1:] if ln.strip()]
    assert len(lines) == ws.head(account)
    for message in ws.history(account)["message"]:
        assert message in result.output


def test_diff_prints_changed_fields(demo_path):
    ws = Workspace(demo_path)
    account = ws.account_ids()[0]
    expected = ws.diff(account, 1, 2)
    result = run("diff", account, "1", "2", "-w", str(demo_path))
    assert result.exit_code == 0
    assert not expected.empty
    for field in expected["field"]:
        assert field in result.output


def test_diff_of_identical_revisions_says_so(demo_path):
    account = Workspace(demo_path).account_ids()[0]
    result = run("diff", account, "1", "1", "-w", str(demo_path))
    assert result.output.strip() == "No changes."


def test_gate_lists_what_is_missing(tmp_path):
    from kam.model import Account, Dossier

    ws = Workspace(tmp_path / "ws", create=True)
    ws.save(Dossier(account=Account(id="ACME", name="Acme Steel", phone="+1 555 0100")))
    result = run("gate", "ACME", "-w", str(tmp_path / "ws"))
    assert result.exit_code == 0
    assert "Missing for stage 'potential':" in result.output
    assert "address of the account (account.address)" in result.output
    assert "a category (A/B/C) is recommended" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["history", "NOPE"], "Account 'NOPE' not found in the workspace; known accounts:"),
        (["diff", "NOPE", "1"], "Account 'NOPE' not found"),
    ],
)
def test_user_errors_print_one_message_and_no_traceback(demo_path, args, message):
    result = run(*args, "-w", str(demo_path))
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_missing_workspace_is_a_user_error(tmp_path):
    result = run("accounts", "-w", str(tmp_path / "none"))
    assert result.exit_code == 1
    assert "No kam workspace at" in result.output


def test_kam_console_script_runs(demo_path):
    out = subprocess.run([sys.executable, "-m", "kam", "--version"], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "kam, version" in out.stdout
