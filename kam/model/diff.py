"""Field-level differences between two versions of a record tree (a dossier and its revisions:
the history, the workbook's diff view, the changes of an account plan)."""

from __future__ import annotations

from typing import Any

import pandas as pd

__all__ = ["diff_records", "flatten"]


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Flatten nested dicts and lists into ``{path: leaf}``. List items that carry an ``id``
    are addressed by it (``deals[D-7].stage``), links by ``source->target``, others by position;
    lists of plain values are leaves."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        if not value and prefix:
            out[prefix] = {}
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for i, v in enumerate(value):
            label = _label(v, i)
            out.update(flatten(v, f"{prefix}[{label}]"))
    else:
        out[prefix] = value
    return out


def _label(item: dict[str, Any], index: int) -> str:
    """How a list item is named in a path: its id, else ``source->target`` for links, else its
    position."""
    if "id" in item:
        return str(item["id"])
    if "source" in item and "target" in item:
        return f"{item['source']}->{item['target']}"
    return str(index)


def diff_records(before: dict[str, Any], after: dict[str, Any]) -> pd.DataFrame:
    """What changed from ``before`` to ``after``, one row per field.

    Examples
    --------
    >>> diff_records({"a": 1, "xs": [{"id": "k", "v": 1}]},
    ...              {"a": 2, "xs": [{"id": "k", "v": 1}, {"id": "m", "v": 3}]}).values.tolist()
    [['a', 'changed', 1, 2], ['xs[m].id', 'added', None, 'm'], ['xs[m].v', 'added', None, 3]]
    """
    a, b = flatten(before), flatten(after)
    rows = []
    for path in list(a) + [p for p in b if p not in a]:
        if path not in b:
            rows.append((path, "removed", a[path], None))
        elif path not in a:
            rows.append((path, "added", None, b[path]))
        elif a[path] != b[path]:
            rows.append((path, "changed", a[path], b[path]))
    return pd.DataFrame(rows, columns=["field", "change", "before", "after"], dtype=object)
