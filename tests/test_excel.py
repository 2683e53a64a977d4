"""The Excel export: one formatted sheet per portfolio table, readable back with pandas."""

from __future__ import annotations

from dataclasses import fields
from datetime import date, datetime

import pandas as pd
import pytest
from click.testing import CliRunner
from io_samples import rich, simple
from openpyxl import load_workbook

from kam.cli.io import export_cmd
from kam.io import export_excel
from kam.model import Tables, tables
from kam.store import Workspace


@pytest.fixture
def portfolio():
    return [rich("ACME"), simple("BETA", "Beta"), rich("GAMMA")]


def test_one_sheet_per_table_with_every_row(tmp_path, portfolio):
    path = export_excel(portfolio, tmp_path / "p.xlsx")
    t = tables(portfolio)
    book = load_workbook(path)
    assert book.sheetnames == [f.name for f in fields(Tables)]
    for f in fields(Tables):
        frame = getattr(t, f.name)
        sheet = book[f.name]
        assert [c.value for c in sheet[1]] == list(frame.columns)
        assert sheet.max_row == len(frame) + 1, f.name


def test_numbers_text_and_dates_read_back_as_written(tmp_path, portfolio):
    path = export_excel(portfolio, tmp_path / "p.xlsx")
    deals = pd.read_excel(path, sheet_name="deals")
    expected = tables(portfolio).deals
    assert deals["id"].tolist() == expected["id"].tolist()
    assert deals["planned_budget"].tolist() == expected["planned_budget"].tolist()
    # Rich dossiers: D-1 planned 2,000,000 and D-2 planned 0.1; two rich accounts.
    assert deals["planned_budget"].sum() == pytest.approx(2 * (2_000_000 + 0.1))
    assert deals["outcome"].tolist() == ["open", "refused"] * 2
    # Empty cells stay empty (no "None", "nan" or "NaT" text).
    assert deals["refined_budget"].isna().tolist() == [False, True] * 2
    book = load_workbook(path)
    created = book["deals"]["M2"]
    assert book["deals"]["M1"].value == "created"
    assert created.value == datetime(2025, 3, 1) and created.number_format == "yyyy-mm-dd"


def test_list_columns_are_text(tmp_path, portfolio):
    path = export_excel(portfolio, tmp_path / "p.xlsx")
    persons = pd.read_excel(path, sheet_name="persons")
    assert persons["roles"].tolist() == ["entry, buyer", "power"] * 2
    interactions = pd.read_excel(path, sheet_name="interactions")
    assert interactions["participants"].tolist() == ["ivanova", "ivanova"]


def test_header_is_formatted_frozen_filtered_and_columns_fit(tmp_path, portfolio):
    book = load_workbook(export_excel(portfolio, tmp_path / "p.xlsx"))
    sheet = book["accounts"]
    assert sheet.freeze_panes == "A2"
    assert all(c.font.bold for c in sheet[1])
    assert sheet["A1"].fill.start_color.rgb.endswith("1F5F8B")
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}4"
    # The name column fits the longest name, "Acme Stahl GmbH & Co. KG" (24 chars) + 2.
    name_col = [c.value for c in sheet[1]].index("name") + 1
    assert sheet.column_dimensions[sheet.cell(1, name_col).column_letter].width == 26


def test_empty_portfolio_gives_headers_only(tmp_path):
    book = load_workbook(export_excel([], tmp_path / "empty.xlsx"))
    assert book["deals"].max_row == 1 and book["deals"]["A1"].value == "account_id"


def test_any_dict_of_frames_and_a_workspace_are_accepted(tmp_path, portfolio):
    frame = pd.DataFrame({"name": ["x", "y"], "a": [1, None], "when": [date(2025, 1, 2), None],
                          "tags": [["x", "y"], []]})
    path = export_excel({"mine": frame}, tmp_path / "own.xlsx")
    back = pd.read_excel(path, sheet_name="mine")
    assert back["name"].tolist() == ["x", "y"]
    assert back["a"].tolist()[0] == 1 and pd.isna(back["a"].tolist()[1])
    assert back["when"].tolist()[0] == pd.Timestamp(2025, 1, 2) and pd.isna(back["when"][1])
    assert back["tags"].tolist()[0] == "x, y" and pd.isna(back["tags"][1])
    ws = Workspace(tmp_path / "ws", create=True)
    ws.save_many(portfolio, author="ann")
    path = export_excel(ws, tmp_path / "ws.xlsx")
    assert pd.read_excel(path, sheet_name="accounts")["account_id"].tolist() == [
        "ACME", "BETA", "GAMMA"]


def test_cli_export_excel_for_some_accounts(tmp_path, portfolio):
    ws = Workspace(tmp_path / "ws", create=True)
    ws.save_many(portfolio, author="ann")
    res = CliRunner().invoke(export_cmd, ["ACME", "BETA", "--to", str(tmp_path / "p.xlsx"),
                                          "-w", ws.location])
    assert res.exit_code == 0, res.output
    assert res.output == f"Exported 2 accounts to {tmp_path / 'p.xlsx'} (one sheet per table)\n"
    assert pd.read_excel(tmp_path / "p.xlsx", sheet_name="accounts")["account_id"].tolist() == [
        "ACME", "BETA"]
