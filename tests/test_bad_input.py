"""Bad input: every case gets one clear error naming the file, the record and the field, and
the workspace (a real SQLite file under tmp_path) is left exactly as it was."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from io_samples import simple, snapshot

from kam.cli.io import import_cmd
from kam.errors import ImportFailed
from kam.io import import_crm, import_yaml
from kam.store import Workspace


@pytest.fixture
def ws(tmp_path):
    """A workspace that already holds an account (so 'unchanged' means something)."""
    w = Workspace(tmp_path / "ws", create=True)
    w.save(simple("KEEP", "Keep Ltd"), author="ann", message="before the import")
    yield w
    w.close()


# -- YAML dossiers ---------------------------------------------------------------------------
OK = "account: {id: A, name: Alpha, phone: '1'}\n"
YAML_CASES = {
    "wrong type": (
        "account: {id: A, name: Alpha, phone: '1', employees: lots}\n",
        r"bad\.yaml: account A, field 'employees': Input should be a valid integer, unable to "
        r"parse string as an integer; found 'lots'"),
    "unknown field (typo)": (
        "account: {id: A, name: Alpha, phone: '1', categry: A}\n",
        r"bad\.yaml: account A, field 'categry': unknown field \(a typo\?\)"),
    "missing required field": (
        "account: {id: A, phone: '1'}\n",
        r"bad\.yaml: account A, field 'name': required field is missing"),
    "duplicate ids": (
        OK + "persons:\n  - {id: p1, name: Pat}\n  - {id: p1, name: Sam}\n",
        r"bad\.yaml: account A / persons, field 'id': duplicate id 'p1' \(2 records\)"),
    "dangling reference": (
        OK + "persons:\n  - {id: p1, name: Pat}\nlinks:\n  - {source: p1, target: ghost}\n",
        r"bad\.yaml: account A / links\[0\], field 'target': refers to unknown person 'ghost'; "
        r"known: p1"),
    "negative budget": (
        OK + "deals:\n  - {id: D-1, title: Coil, planned_budget: -5}\n",
        r"bad\.yaml: account A / deals\[0\] \(D-1\), field 'planned_budget': Input should be "
        r"greater than or equal to 0; found -5"),
    "probability above 1": (
        OK + "deals:\n  - {id: D-1, title: Coil, probability: 1.5}\n",
        r"bad\.yaml: account A / deals\[0\] \(D-1\), field 'probability': Input should be less "
        r"than or equal to 1; found 1.5"),
    "probability below 0": (
        OK + "deals:\n  - {id: D-1, title: Coil, probability: -0.1}\n",
        r"field 'probability': Input should be greater than or equal to 0; found -0.1"),
    "unparseable date": (
        OK + "deals:\n  - {id: D-1, title: Coil, created: 2025-02-30}\n",
        r"bad\.yaml: account A / deals\[0\] \(D-1\), field 'created': Input should be a valid "
        r"date or datetime, day value is outside expected range; found '2025-02-30'"),
    "not a date at all": (
        OK + "commitments:\n  - {id: C-1, description: Trial, due: next week}\n",
        r"account A / commitments\[0\] \(C-1\), field 'due': Input should be a valid date"),
    "bad id": (
        "account: {id: 'a b', name: Alpha}\n",
        r"bad\.yaml: account a b, field 'id': 'a b' is not a valid id: use 1-64 letters"),
    "empty file": (
        "", r"bad\.yaml: file: the file is empty: expected a dossier with an 'account' section"),
    "comments only": (
        "# to do\n", r"bad\.yaml: file: the file is empty"),
    "not a mapping": (
        "- account: {id: A}\n",
        r"bad\.yaml: dossier: expected a mapping with an 'account' section, found list"),
    "YAML syntax": (
        "account: {id: A\n", r"bad\.yaml: file: line 2, column 1: not valid YAML"),
    "stage gate": (
        "account: {id: A, name: Alpha, phone: '1', sales_stage: potential}\n",
        r"bad\.yaml: account A, field 'sales_stage': cannot move into stage 'potential'; "
        r"missing: address of the account"),
}


@pytest.mark.parametrize("case", list(YAML_CASES))
def test_bad_yaml_is_refused_naming_file_record_field_and_store_is_unchanged(tmp_path, ws, case):
    text, message = YAML_CASES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    before = snapshot(ws)
    with pytest.raises(ImportFailed, match=message) as err:
        import_yaml(ws, path)
    assert all(p.file == str(path) for p in err.value.problems)
    assert "Nothing was saved" in str(err.value)
    assert snapshot(ws) == before


def test_non_utf8_yaml_file(tmp_path, ws):
    path = tmp_path / "bad.yaml"
    path.write_bytes("account: {id: A, name: Caf\u00e9}\n".encode("latin-1"))
    before = snapshot(ws)
    # "account: {id: A, name: Caf" is 26 bytes (offsets 0-25): the latin-1 e-acute is at 26.
    with pytest.raises(ImportFailed, match=r"bad\.yaml: file: not UTF-8 text: line 1 has the "
                                           r"byte 0xe9 \(offset 26\); save the file as UTF-8"):
        import_yaml(ws, path)
    assert snapshot(ws) == before


def test_multi_file_import_where_only_the_last_file_is_bad_imports_nothing(tmp_path, ws):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "b", "c", "d"):
        (folder / f"{name}.yaml").write_text(
            f"account: {{id: {name.upper()}, name: Client {name}, phone: '1'}}\n",
            encoding="utf-8")
    (folder / "z.yaml").write_text(OK.replace("id: A", "id: Z") + "deals:\n"
                                   "  - {id: D-1, title: Coil, probability: 2}\n", encoding="utf-8")
    before = snapshot(ws)
    with pytest.raises(ImportFailed, match=r"z\.yaml: account Z / deals\[0\] \(D-1\), field "
                                           r"'probability'"):
        import_yaml(ws, folder)
    assert snapshot(ws) == before
    assert ws.account_ids() == ["KEEP"]


def test_several_bad_files_are_all_reported_at_once(tmp_path, ws):
    folder = tmp_path / "in"
    folder.mkdir()
    for i, case in enumerate(("wrong type", "negative budget", "empty file")):
        (folder / f"f{i}.yaml").write_text(YAML_CASES[case][0].replace("id: A", f"id: A{i}"),
                                           encoding="utf-8")
    with pytest.raises(ImportFailed, match="3 problems; nothing was saved") as err:
        import_yaml(ws, folder)
    assert sorted(Path(p.file).name for p in err.value.problems) == [
        "f0.yaml", "f1.yaml", "f2.yaml"]


# -- CRM CSV export --------------------------------------------------------------------------
def _export(folder: Path, **replace: str) -> Path:
    """A tiny export in the Maven layout; ``replace`` swaps a file's whole text."""
    files = {
        "accounts.csv": "account,sector,year_established,revenue,employees,office_location,"
                        "subsidiary_of\nAcme,retail,1990,10.5,100,Chile,\n"
                        "Beta,medical,2001,2,20,Peru,Acme\n",
        "products.csv": "product,series,sales_price\nGTX Basic,GTX,550\nMG Special,MG,55\n",
        "sales_teams.csv": "sales_agent,manager,regional_office\nAnn Lee,Bo Chen,West\n",
        "sales_pipeline.csv": "opportunity_id,sales_agent,product,account,deal_stage,engage_date,"
                              "close_date,close_value\n"
                              "OPP1,Ann Lee,GTX Basic,Acme,Won,2017-01-02,2017-02-01,540\n"
                              "OPP2,Ann Lee,MG Special,Beta,Lost,2017-01-05,2017-01-20,0\n"
                              "OPP3,Ann Lee,MG Special,,Prospecting,,,\n",
    }
    files.update({k.replace("_csv", ".csv"): v for k, v in replace.items()})
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_the_tiny_export_imports(tmp_path, ws):
    report = import_crm(ws, _export(tmp_path / "crm"))
    assert report.count("accounts") == 2 and report.count("opportunities in dossiers") == 2
    assert report.quirk_count("opportunities without an account") == 1
    assert ws.load("beta").account.parent == "acme"


PIPELINE_HEAD = ("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,"
                 "close_value\n")
CRM_CASES = {
    "missing column": (
        {"sales_pipeline_csv": "opportunity_id,sales_agent,product,account,deal_stage,"
                               "engage_date,close_date\nOPP1,Ann Lee,GTX Basic,Acme,Won,"
                               "2017-01-02,2017-02-01\n"},
        r"sales_pipeline\.csv: header, field 'close_value': missing column 'close_value'; "
        r"columns found: opportunity_id, sales_agent, product, account, deal_stage, "
        r"engage_date, close_date; fix the file, or the mapping \(.*maven\.yaml\)"),
    "empty file": (
        {"accounts_csv": ""},
        r"accounts\.csv: file: the file is empty; expected a header row with the columns "
        r"account, sector, office_location"),
    "unparseable date": (
        {"sales_pipeline_csv": PIPELINE_HEAD
         + "OPP1,Ann Lee,GTX Basic,Acme,Won,2017-01-02,01/02/2017,540\n"},
        r"sales_pipeline\.csv: row 2 \(opportunity OPP1\), field 'close_date': '01/02/2017' is "
        r"not a date; write it as YYYY-MM-DD"),
    "not a number": (
        {"sales_pipeline_csv": PIPELINE_HEAD
         + "OPP1,Ann Lee,GTX Basic,Acme,Won,2017-01-02,2017-02-01,lots\n"},
        r"sales_pipeline\.csv: row 2 \(opportunity OPP1\), field 'close_value': 'lots' is not a "
        r"number"),
    "negative value": (
        {"sales_pipeline_csv": PIPELINE_HEAD
         + "OPP1,Ann Lee,GTX Basic,Acme,Won,2017-01-02,2017-02-01,-540\n"},
        r"sales_pipeline\.csv: row 2 \(opportunity OPP1\), field 'close_value': -540 is "
        r"negative; it must be 0 or more"),
    "duplicate opportunity id": (
        {"sales_pipeline_csv": PIPELINE_HEAD
         + "OPP1,Ann Lee,GTX Basic,Acme,Won,2017-01-02,2017-02-01,540\n"
         + "OPP1,Ann Lee,MG Special,Beta,Lost,2017-01-05,2017-01-20,0\n"},
        r"sales_pipeline\.csv: rows 2, 3, field 'opportunity_id': duplicate opportunity id "
        r"'OPP1': each must appear once"),
    "unknown deal stage": (
        {"sales_pipeline_csv": PIPELINE_HEAD
         + "OPP1,Ann Lee,GTX Basic,Acme,Negotiating,2017-01-02,,\n"},
        r"sales_pipeline\.csv: rows 2 \(1 opportunities\), field 'deal_stage': unknown deal "
        r"stage 'Negotiating'; the mapping knows: Prospecting, Engaging, Won, Lost"),
    "duplicate account": (
        {"accounts_csv": "account,sector,year_established,revenue,employees,office_location,"
                         "subsidiary_of\nAcme,retail,1990,1,1,Chile,\nAcme,retail,1990,1,1,"
                         "Peru,\n"},
        r"accounts\.csv: rows 2, 3, field 'account': duplicate account name 'Acme'"),
    "employees not whole": (
        {"accounts_csv": "account,sector,year_established,revenue,employees,office_location,"
                         "subsidiary_of\nAcme,retail,1990,1,10.5,Chile,\n"},
        r"accounts\.csv: row 2 \(account Acme\), field 'employees': '10.5' is not a whole "
        r"number"),
}


@pytest.mark.parametrize("case", list(CRM_CASES))
def test_bad_crm_export_is_refused_naming_file_row_column_and_store_is_unchanged(
        tmp_path, ws, case):
    replace, message = CRM_CASES[case]
    folder = _export(tmp_path / "crm", **replace)
    before = snapshot(ws)
    with pytest.raises(ImportFailed, match=message):
        import_crm(ws, folder)
    assert snapshot(ws) == before


def test_crm_file_missing_names_the_file_and_what_is_there(tmp_path, ws):
    folder = _export(tmp_path / "crm")
    (folder / "sales_teams.csv").unlink()
    before = snapshot(ws)
    with pytest.raises(ImportFailed, match=r"sales_teams\.csv: file: file not found \(files "
                                           r"found: accounts\.csv, products\.csv, "
                                           r"sales_pipeline\.csv\)"):
        import_crm(ws, folder)
    assert snapshot(ws) == before


def test_crm_file_not_utf8(tmp_path, ws):
    folder = _export(tmp_path / "crm")
    (folder / "accounts.csv").write_bytes(
        "account,sector,year_established,revenue,employees,office_location,subsidiary_of\n"
        "Caf\u00e9,retail,1990,1,1,Chile,\n".encode("latin-1"))
    before = snapshot(ws)
    # The header is 7 names (73 letters) and 6 commas, 80 bytes with its newline (offsets
    # 0-79); "Caf" takes 80-82, so the latin-1 e-acute is at offset 83, on line 2.
    with pytest.raises(ImportFailed, match=r"accounts\.csv: file: not UTF-8 text: line 2 has "
                                           r"the byte 0xe9 \(offset 83\); export or save the "
                                           r"file as UTF-8"):
        import_crm(ws, folder)
    assert snapshot(ws) == before


def test_every_problem_of_a_bad_export_is_reported_at_once(tmp_path, ws):
    folder = _export(tmp_path / "crm", sales_pipeline_csv=PIPELINE_HEAD
                     + "OPP1,Ann Lee,GTX Basic,Acme,Won,2017-13-02,2017-02-01,540\n"
                     + "OPP2,Ann Lee,MG Special,Beta,Lost,2017-01-05,2017-01-20,x\n")
    with pytest.raises(ImportFailed, match="2 problems; nothing was saved") as err:
        import_crm(ws, folder)
    assert [(p.record, p.field) for p in err.value.problems] == [
        ("row 2 (opportunity OPP1)", "engage_date"), ("row 3 (opportunity OPP2)", "close_value")]


def test_a_bad_mapping_names_the_file_and_the_setting(tmp_path, ws):
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("accounts: {file: a.csv, name: account}\nopportunities:\n"
                       "  {file: p.csv, id: id, account: account, manager: agent, stage: s,\n"
                       "   stages: {Won: {stage: won}}}\n", encoding="utf-8")
    with pytest.raises(Exception, match=r"mapping\.yaml: opportunities\.stages\.Won\.stage: "
                                        r"Input should be 'lead', 'potential', 'sale', 'buyer' or "
                                        r"'repeat'"):
        import_crm(ws, _export(tmp_path / "crm"), mapping)


def test_cli_reports_a_bad_export_in_one_message_without_traceback(tmp_path, ws):
    folder = _export(tmp_path / "crm", **CRM_CASES["missing column"][0])
    before = snapshot(ws)
    res = CliRunner().invoke(import_cmd, [str(folder), "--format", "crm", "-w", ws.location])
    assert res.exit_code == 1
    assert res.output.startswith("Error: ")
    assert re.search(r"missing column 'close_value'; columns found: ", res.output)
    assert "Traceback" not in res.output
    assert snapshot(ws) == before
