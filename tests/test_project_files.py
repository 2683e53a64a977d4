"""The two-command setup stays true: the Makefile, CI script and README agree with the code."""

from __future__ import annotations

import re
from pathlib import Path

from kam import demo

ROOT = Path(__file__).resolve().parents[1]


def test_makefile_demo_date_is_the_demo_today():
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"^DEMO_DATE \?= (\S+)", make, re.M)
    assert match is not None
    assert match.group(1) == demo.TODAY.isoformat()


def test_readme_setup_is_the_two_make_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    setup = readme.split("## Setup", 1)[1].split("##", 1)[0]
    assert re.findall(r"^make (\w+)", setup, re.M) == ["demo", "test"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^make test$", ci, re.M)
