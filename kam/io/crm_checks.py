"""Checks of the values of a CRM export, made before anything is corrected or converted.

Each check adds one row to the :class:`~kam.io.report.ImportReport` quirks, also when it found
nothing, so the report shows what was looked at. Nothing here changes the data except
:func:`apply_corrections`, which applies only the corrections the mapping lists.
"""

from __future__ import annotations

import pandas as pd

from .crm_mapping import CrmMapping
from .csv_files import CsvTable, nearest
from .report import ImportReport

__all__ = [
    "Q_KNOWN",
    "Q_NEAR",
    "Q_PRODUCT",
    "Q_UNMAPPED",
    "apply_corrections",
    "check_known_values",
    "check_near_duplicates",
    "check_products",
    "check_unmapped_columns",
]

Q_PRODUCT = "products not in the product list"
Q_KNOWN = "{column} values not among the known values"
Q_NEAR = "{column} values spelled almost like another value"
Q_UNMAPPED = "columns not imported"
_MAX_DISTINCT = 200  # near-duplicate search is quadratic: only for category-like columns


def _correction_note(m: CrmMapping, column: str, value: str) -> str:
    fix = m.corrections.get(column, {}).get(value)
    return f"corrected to {fix!r} by the mapping" if fix is not None else "kept as written"


def check_products(m: CrmMapping, opportunities: CsvTable, products: CsvTable | None,
                   report: ImportReport) -> None:
    """Opportunities naming a product the product list does not have."""
    col = m.opportunities.product
    if col is None or products is None or m.products is None:
        return
    known = set(products.frame[m.products.name])
    values = opportunities.frame[col]
    bad = values[(values != "") & ~values.isin(known)]
    counts = bad.value_counts()
    examples = [f"{v!r} in {int(n)} opportunities (product list has {near!r}; "
                f"{_correction_note(m, col, str(v))})" if (near := nearest(str(v), known))
                else f"{v!r} in {int(n)} opportunities (no similar product; "
                     f"{_correction_note(m, col, str(v))})"
                for v, n in counts.items()]
    fixed = all(v in m.corrections.get(col, {}) for v in counts.index)
    action = ("corrected as the mapping's corrections say" if fixed else
              "kept as written (product group and list price unknown for those not corrected); "
              f"add them under corrections: {col}: in the mapping to fix them")
    detail = opportunities.frame.loc[bad.index, [m.opportunities.id, col]]
    report.add_quirk(Q_PRODUCT, examples, action, count=len(bad), detail=detail)


def check_known_values(m: CrmMapping, files: list[CsvTable], report: ImportReport) -> None:
    """Values of the columns listed under ``known_values`` that are not in their list."""
    for column, known in m.known_values.items():
        examples: list[str] = []
        details = []
        total = 0
        for t in files:
            if column not in t.frame.columns:
                continue
            values = t.frame[column]
            bad = values[(values != "") & ~values.isin(known)]
            total += len(bad)
            for v, n in bad.value_counts().items():
                near = nearest(str(v), known)
                hint = f"nearest known {near!r}" if near else "nothing similar known"
                examples.append(f"{v!r} in {int(n)} rows of {t.name} ({hint}; "
                                f"{_correction_note(m, column, str(v))})")
            details.append(pd.DataFrame({"file": t.name, "line": [t.line(i) for i in bad.index],
                                         column: bad.to_numpy()}))
        fixed = all(ex.endswith("by the mapping)") for ex in examples)
        action = ("corrected as the mapping's corrections say" if fixed else
                  "kept as written; add a correction to the mapping, or the value to "
                  "known_values if it is right")
        detail = pd.concat(details, ignore_index=True) if details else None
        report.add_quirk(Q_KNOWN.format(column=column), examples, action, count=total,
                         detail=detail)


def check_near_duplicates(m: CrmMapping, columns: list[tuple[CsvTable, str]],
                          report: ImportReport) -> None:
    """Values of one category-like column spelled almost like another value of it
    (``Retail``/``retail``, ``GTX Pro``/``GTXPro``): likely one thing written two ways."""
    for table, column in columns:
        values = table.frame[column]
        counts = values[values != ""].value_counts()
        examples: list[str] = []
        total = 0
        if len(counts) <= _MAX_DISTINCT:
            names = [str(v) for v in counts.index]
            for v in names:
                near = nearest(v, names, cutoff=0.9)
                # Report the rarer spelling against the more frequent one.
                if near is not None and (counts[v], v) < (counts[near], near):
                    total += int(counts[v])
                    examples.append(f"{v!r} ({int(counts[v])} rows) ~ {near!r} "
                                    f"({int(counts[near])} rows); {_correction_note(m, column, v)}")
        report.add_quirk(Q_NEAR.format(column=f"{table.name} {column}"), examples,
                         "kept as written; add a correction to the mapping if they are the "
                         "same", count=total)


def check_unmapped_columns(used: dict[str, set[str]], files: list[CsvTable],
                           report: ImportReport) -> None:
    """Columns of the export that no kam field reads (so their data is not imported)."""
    examples = []
    for t in files:
        rest = [c for c in t.frame.columns if c not in used.get(t.name, set())]
        examples += [f"{t.name}: {c}" for c in rest]
    report.add_quirk(Q_UNMAPPED, examples, "not imported; map them in the mapping to keep them")


def apply_corrections(m: CrmMapping, files: list[CsvTable], report: ImportReport) -> None:
    """Replace the values listed under ``corrections`` (only those) and record each one,
    with the number of rows changed (0 if the value did not occur)."""
    rows = []
    for column, fixes in m.corrections.items():
        tables = [t for t in files if column in t.frame.columns]
        for found, replacement in fixes.items():
            total = 0
            for t in tables:
                mask = t.frame[column] == found
                n = int(mask.sum())
                if n:
                    t.frame.loc[mask, column] = replacement
                    rows.append({"file": t.name, "column": column, "found": found,
                                 "replaced_by": replacement, "rows": n})
                total += n
            if not total:
                rows.append({"file": "(value not found in any file)", "column": column,
                             "found": found, "replaced_by": replacement, "rows": 0})
    if rows:
        report.corrections = pd.DataFrame(rows, dtype=object)
