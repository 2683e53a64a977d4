"""The line columns an account's lines are kept in for the portfolio tables
(:mod:`kam.store.columnar`): whatever the lines, decoding gives the frames plain pandas builds
from the same lines as records, which is what ``kam.model.tables`` does."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kam.store.columnar import FRAME_COLUMNS, DamagedColumns, decode_frames, encode

# Text as kam's model admits it: anything but control characters, tabs and line breaks allowed.
_chars = st.characters(exclude_categories=("Cc", "Cs")) | st.sampled_from("\t\n\r")
_text = st.one_of(st.none(), st.sampled_from(["2025-01", "2025-02", "drives", "Ünïcode ✓", ""]),
                  st.text(_chars, max_size=6))
_number = st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False, width=64))
_line = st.fixed_dictionaries({"period": _text, "label": _text, "grp": _text, "amount": _number,
                               "cogs": _number, "list_value": _number, "quantity": _number})
_account = st.dictionaries(st.sampled_from(list(FRAME_COLUMNS)), st.lists(_line, max_size=6),
                           max_size=4)


def _records(accounts: dict[str, dict[str, list[dict]]], coll: str) -> pd.DataFrame:
    """The independent path: one record per line, the frame pandas infers from them (as
    ``kam.model.tables`` builds it)."""
    names = ["account_id", *(name for name, _ in FRAME_COLUMNS[coll])]
    rows = [{"account_id": account, **{name: line[src] for name, src in FRAME_COLUMNS[coll]}}
            for account, lines in accounts.items() for line in lines.get(coll, [])]
    return pd.DataFrame(rows, columns=names) if rows else pd.DataFrame(columns=names)


@settings(max_examples=60, deadline=None)
@given(st.dictionaries(st.from_regex(r"[A-Z]{1,3}-[0-9]", fullmatch=True), _account,
                       max_size=5))
def test_decoded_line_columns_are_the_frames_of_the_lines_as_records(accounts):
    ordered = dict(sorted(accounts.items()))
    frames = decode_frames([(account, encode(lines)) for account, lines in ordered.items()])
    for coll in FRAME_COLUMNS:
        pd.testing.assert_frame_equal(frames[coll], _records(ordered, coll), obj=coll)


def test_figures_only_data_written_around_the_checks_can_hold_are_kept_as_text_or_none():
    """A number that is not a number shows no number; a label that is not text shows as text;
    the separator of the text (a control character kam's text never holds) shows as U+FFFD."""
    frames = decode_frames([("A", encode({"costs": [
        {"period": "2025-01", "label": 12, "amount": "12"},
        {"period": "2025-01", "label": "a\x1fb", "amount": 3.5}]}))])
    assert frames["costs"]["amount"].isna().tolist() == [True, False]
    assert frames["costs"]["category"].tolist() == ["12", "a\ufffdb"]


@pytest.mark.parametrize("damage", [
    lambda b: b[:-3],  # cut short
    lambda b: b + b"\0" * 8,  # too long
    lambda b: b"\xff\x00\x00\x00" + b[4:],  # header length beyond the row
    lambda b: b[:4] + b"[" + b[5:],  # header not JSON
])
def test_damaged_columns_are_refused_naming_the_account(damage):
    good = encode({"revenue": [{"period": "2025-01", "label": "P", "amount": 1.0}]})
    decode_frames([("OK", good)])
    with pytest.raises(DamagedColumns, match=r"line columns of account 'BAD' are damaged"):
        decode_frames([("OK", good), ("BAD", damage(good))])


def test_a_code_beyond_the_accounts_values_is_refused_not_read_as_another_accounts():
    """Each account's text codes index its own distinct values; a code past them would read a
    neighbour's value, so it is refused."""
    one = encode({"costs": [{"period": "2025-01", "label": "x", "amount": 1.0}]})
    # The first code (the period's) is the uint32 after the header and the period's text.
    start = 4 + int.from_bytes(one[:4], "little") + len(b"2025-01")
    bad = one[:start] + (7).to_bytes(4, "little") + one[start + 4:]
    with pytest.raises(DamagedColumns, match=r"account 'A'.*costs\.period"):
        decode_frames([("A", bad), ("B", one)])
