"""The README's tour runs as written: its Python blocks are executed in order, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 3
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for i, block in enumerate(blocks):
        exec(compile(block, f"README.md python block {i + 1}", "exec"), namespace)
    # The tour's claims in comments hold.
    ws = namespace["ws"]
    assert ws.account_ids()[:3] == ["AZURCHEM", "BRIGHTWELL", "HELVIA"]
    assert namespace["needs"].validate() == []
    d = namespace["d"]
    assert (d.account.name, d.account.sales_stage.value) == ("Nordstahl Rolling Mills AG", "repeat")
    score = namespace["score"]
    assert abs(sum(score.contributions["contribution"]) - score.score) < 1e-9
    assert not ws.diff("NORDSTAHL", namespace["rev"].number - 1).empty
