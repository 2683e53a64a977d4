"""YAML dossier files: exact round trips, human-friendly output, all-or-nothing import, the
dossier template and the ``kam import/export/validate`` commands on YAML."""

from __future__ import annotations

import re
from datetime import date
from enum import Enum
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from io_samples import rich, simple, snapshot

from kam import demo
from kam.cli.io import export_cmd, import_cmd, validate_cmd
from kam.config import templates_dir
from kam.errors import AccountNotFound, ImportFailed, InputError
from kam.io import dossier_to_yaml, export_yaml, import_yaml, read_yaml, validate_yaml, yaml_io
from kam.io.yaml_io import _Dumper, _Loader, _plain, _PyDumper
from kam.model import Account, Deal, Dossier, Team, TeamMember, validate_dossier
from kam.model import account as account_module
from kam.store import Workspace


@pytest.fixture
def ws(tmp_path):
    w = Workspace(tmp_path / "ws", create=True)
    yield w
    w.close()


# -- round trips -------------------------------------------------------------------------------
def test_round_trip_folder_is_exact_and_imports_into_a_fresh_workspace(tmp_path, ws):
    dossiers = [rich("ACME"), simple("BETA", "Beta"), rich("GAMMA")]
    files = export_yaml(dossiers, tmp_path / "out")
    assert [f.name for f in files] == ["ACME.yaml", "BETA.yaml", "GAMMA.yaml"]
    assert read_yaml(tmp_path / "out") == dossiers
    report = import_yaml(ws, tmp_path / "out", author="ann")
    assert report.saved["action"].tolist() == ["new", "new", "new"]
    assert ws.load_all() == dossiers


def test_demo_workspace_round_trip_is_exact(tmp_path):
    """Export the demo workspace, import the files into a fresh workspace (with the demo team,
    whose members the dossiers name): every dossier comes back equal."""
    demo_ws = demo.build(tmp_path / "demo")
    export_yaml(demo_ws, tmp_path / "out")
    fresh = Workspace(tmp_path / "fresh", create=True)
    fresh.save_team(demo_ws.team())
    report = import_yaml(fresh, tmp_path / "out")
    assert report.count("dossiers") == len(demo_ws.account_ids()) == 12
    assert fresh.load_all() == demo_ws.load_all()
    assert read_yaml(tmp_path / "out") == demo_ws.load_all()  # files are read in id order
    assert demo_ws.load_all() == sorted(demo.dossiers(), key=lambda d: d.account.id)


def test_round_trip_through_one_multi_document_file(tmp_path):
    dossiers = [rich("ACME"), simple("BETA", "Beta")]
    (path,) = export_yaml(dossiers, tmp_path / "all.yaml")
    assert path.read_text(encoding="utf-8").count("\n---\n") == 1
    assert read_yaml(path) == dossiers


def test_export_from_a_workspace_selects_accounts(tmp_path, ws):
    ws.save_many([rich("ACME"), simple("BETA", "Beta")], author="ann")
    (path,) = export_yaml(ws, tmp_path / "acme.yaml", ["ACME"])
    assert read_yaml(path) == [ws.load("ACME")]
    with pytest.raises(AccountNotFound, match="Account 'NOPE' not found"):
        export_yaml(ws, tmp_path / "x", ["NOPE"])
    with pytest.raises(AccountNotFound, match="'NOPE' not found"):
        export_yaml([simple()], tmp_path / "x", ["NOPE"])


def test_export_is_human_friendly(tmp_path):
    text = export_yaml([rich()], tmp_path / "acme.yaml")[0].read_text(encoding="utf-8")
    assert "!!" not in text and "python" not in text  # no Python-specific tags
    body = [line for line in text.splitlines() if not line.startswith("#")]
    assert body[:3] == ["account:", "  id: ACME", "  name: Acme Stahl GmbH & Co. KG"]
    assert "  kam_since: 2024-01-15" in body  # ISO dates, unquoted
    assert "  category: A" in body  # enums by value
    assert "  roles: [entry, buyer]" in body  # short lists on one line
    assert "  notes: |-" in body  # multi-line text as a block
    assert "Hüttenstraße" in text  # unicode as is
    # Defaults are left out: the second person's influence (0.5) and attitude (neutral).
    petrov = text[text.index("id: petrov"):text.index("links:")]
    assert "influence" not in petrov and "attitude" not in petrov
    # Text that YAML would read as something else is quoted.
    assert "summary: '2025-01-01'" in text and "outcome: 'null'" in text


def test_libyaml_and_python_emitters_write_the_same_text(tmp_path):
    """Exports use libyaml's fast emitter when PyYAML has it; without it the pure-Python one
    must write exactly the same files."""
    for d in [rich(), *demo.dossiers()]:
        data = _plain(d.model_dump(mode="python", exclude_defaults=True))
        fast, slow = (yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True,
                                width=100) for dumper in (_Dumper, _PyDumper))
        assert fast == slow, d.account.id


def test_yes_no_on_are_text_only_true_false_are_booleans():
    data = yaml.load("a: yes\nb: on\nc: no\nd: true\ne: False\nf: 2025-03-14", Loader=_Loader)
    assert data == {"a": "yes", "b": "on", "c": "no", "d": True, "e": False, "f": "2025-03-14"}
    # A stage change written by hand as "on: 2025-03-14" keeps its key.
    d = validate_dossier(yaml.load(
        "account: {id: A, name: B}\ndeals:\n  - id: D\n    title: T\n    history:\n"
        "      - stage: lead\n        on: 2025-03-14\n", Loader=_Loader))
    assert d.deals[0].history[0].on == date(2025, 3, 14)


def test_dossier_to_yaml_omits_defaults():
    text = dossier_to_yaml(Dossier(account=Account(id="A", name="B")))
    assert text == "account:\n  id: A\n  name: B\n"


# Simple generated dossiers: any text, amounts, dates and enum values survive the round trip.
_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=30)
_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,10}", fullmatch=True)
_money = st.floats(min_value=0, max_value=1e12, allow_nan=False, allow_infinity=False)
_dates = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 12, 31))


@st.composite
def _dossiers(draw: st.DrawFn) -> Dossier:
    deal_ids = draw(st.lists(_ids, max_size=4, unique=True))
    deals = [Deal(id=i, title=draw(_text.filter(lambda s: s.strip())),
                  planned_budget=draw(st.none() | _money), created=draw(st.none() | _dates),
                  probability=draw(st.none() | st.floats(0, 1)),
                  risks=draw(st.lists(_text, max_size=3)), next_steps=draw(st.none() | _text))
             for i in deal_ids]
    return Dossier(
        account=Account(
            id=draw(_ids), name=draw(_text.filter(lambda s: s.strip())),
            notes=draw(st.none() | _text), employees=draw(st.none() | st.integers(0, 10**6)),
            category=draw(st.none() | st.sampled_from(account_module.Category)),
            kam_since=draw(st.none() | _dates),
            relationship_stage=draw(st.sampled_from(account_module.RelationshipStage))),
        deals=deals)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_dossiers())
def test_round_trip_of_generated_dossiers_is_exact(d):
    data = yaml.load(dossier_to_yaml(d), Loader=_Loader)
    assert validate_dossier(data) == d


# -- import: all or nothing, every problem with its file -----------------------------------
def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_import_reports_every_problem_of_every_file_and_saves_nothing(tmp_path, ws):
    ws.save(simple("KEEP", "Keep"), author="ann")
    before = snapshot(ws)
    _write(tmp_path / "in" / "a.yaml", "account: {id: A, name: Alpha, phone: '1', categry: A}\n")
    _write(tmp_path / "in" / "b.yaml",
           "account: {id: B, name: Beta, phone: '1', employees: lots}\n")
    _write(tmp_path / "in" / "c.yaml", "account: {id: C, name: Gamma, phone: '1'}\n")
    with pytest.raises(ImportFailed) as err:
        import_yaml(ws, tmp_path / "in")
    files = {Path(p.file).name for p in err.value.problems}
    assert files == {"a.yaml", "b.yaml"}
    assert re.search(r"a\.yaml: account A, field 'categry': unknown field", str(err.value))
    assert re.search(r"b\.yaml: account B, field 'employees'", str(err.value))
    assert "2 problems; nothing was saved" in str(err.value)
    assert snapshot(ws) == before


def test_the_same_account_in_two_files_is_refused(tmp_path, ws):
    _write(tmp_path / "in" / "a.yaml", "account: {id: A, name: Alpha, phone: '1'}\n")
    _write(tmp_path / "in" / "b.yaml", "account: {id: A, name: Alpha again, phone: '1'}\n")
    with pytest.raises(ImportFailed, match=r"b\.yaml: account A, field 'id': duplicate "
                                           r"account id: also in .*a\.yaml"):
        import_yaml(ws, tmp_path / "in")
    assert ws.account_ids() == []


def test_reimporting_the_same_files_is_a_no_op_and_a_change_is_a_new_revision(tmp_path, ws):
    """DOMAIN.md §1: every change is kept, nothing is overwritten: an import that changes an
    account adds a revision; one that changes nothing adds none."""
    export_yaml([rich("ACME"), simple("BETA", "Beta")], tmp_path / "out")
    import_yaml(ws, tmp_path / "out")
    before = snapshot(ws)
    again = import_yaml(ws, tmp_path / "out")
    assert again.saved["action"].tolist() == ["unchanged", "unchanged"]
    assert snapshot(ws) == before
    path = tmp_path / "out" / "BETA.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name: Beta", "name: Beta AG"),
                    encoding="utf-8")
    third = import_yaml(ws, tmp_path / "out", author="bob", message="renamed")
    assert third.saved.set_index("account_id")["action"].to_dict() == {
        "ACME": "unchanged", "BETA": "updated"}
    assert ws.history("BETA")["message"].tolist()[-1] == "renamed"
    assert ws.load("BETA").account.name == "Beta AG" and len(ws.history("ACME")) == 1


def test_import_checks_the_stage_gate_and_names_the_file(tmp_path, ws):
    """DOMAIN.md §1 stage gate: an account may not come in at a stage whose information is
    missing; the error says exactly what is missing, and in which file."""
    path = _write(tmp_path / "buyer.yaml",
                  "account: {id: B, name: Beta, phone: '1', sales_stage: buyer}\n")
    with pytest.raises(ImportFailed, match=r"buyer\.yaml: account B, field 'sales_stage': "
                                           r"cannot move into stage 'buyer'; missing: address"):
        import_yaml(ws, path)
    assert validate_yaml(path)[0].field == "sales_stage"


def test_import_names_the_file_of_a_team_reference_problem(tmp_path, ws):
    ws.save_team(Team(members=[TeamMember(id="ann", name="Ann")]))
    path = _write(tmp_path / "x.yaml", "account: {id: X, name: Xeno, phone: '1', kam: zed}\n")
    with pytest.raises(ImportFailed, match=r"x\.yaml: account X, field 'kam': 'zed' is not a "
                                           "team member"):
        import_yaml(ws, path)
    assert ws.account_ids() == []


def test_no_yaml_files_is_an_error(tmp_path, ws):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ImportFailed, match="no YAML files"):
        import_yaml(ws, tmp_path / "empty")


def test_read_yaml_raises_input_error_with_the_line_of_a_syntax_error(tmp_path):
    path = _write(tmp_path / "bad.yaml", "account:\n  id: A\n  name: [unclosed\n")
    with pytest.raises(InputError, match=r"bad\.yaml: file: line 4, column 1: not valid YAML"):
        read_yaml(path)


# -- reading hostile YAML: aliases, duplicate keys, tags --------------------------------------
def _load(text: str) -> object:
    return yaml.load(text, Loader=_Loader)


def test_small_anchors_aliases_and_merge_keys_are_read():
    """A repeated address or a person written once and varied with a merge key is fine YAML
    and reads as written out (an explicit key overrides a merged one)."""
    data = _load("hq: &hq Mill Road 1\nbase: &p {id: p1, name: Pat, roles: [entry]}\n"
                 "persons:\n  - *p\n  - <<: *p\n    id: p2\nwhere: *hq\n")
    assert data["persons"] == [{"id": "p1", "name": "Pat", "roles": ["entry"]},
                               {"id": "p2", "name": "Pat", "roles": ["entry"]}]
    assert data["where"] == "Mill Road 1"


@pytest.mark.parametrize(("n", "refused"), [(3333, False), (3334, True)])
def test_aliases_may_add_at_most_ten_thousand_values(n, refused):
    """`m` is a mapping of one key and one value: 3 values (the mapping, k, v). Each alias *m
    repeats them: n aliases add 3n values. 3 x 3333 = 9,999 is allowed, 3 x 3334 = 10,002 not."""
    assert yaml_io.MAX_ALIAS_EXPANSION == 10_000
    text = "a: &m {k: v}\nb: [" + ", ".join(["*m"] * n) + "]\n"
    if not refused:
        assert len(_load(text)["b"]) == n
        return
    with pytest.raises(yaml.YAMLError, match=r"the aliases \(\*name\) of this document would "
                                             r"expand it by 10,002 values \(at most 10,000"):
        _load(text)


def test_a_billion_laughs_file_is_refused_at_once_naming_the_file(tmp_path):
    """Nine lists, each of nine aliases of the list before, from a few hundred bytes. Counting
    takes no time; building them would not end. By hand: list a is 1 + 9 values (S_a = 10),
    each next S = 1 + 9 S_before, so S_a..S_i = 10, 91, 820, 7,381, 66,430, 597,871, 5,380,840,
    48,427,561, 435,848,050 (sum 490,329,054). Expanded, the document is the root, its 10 keys,
    every list, and the account mapping (4 values) whose name is list i once more:
    1 + 10 + 490,329,054 + 4 + 435,848,050 = 926,177,119 values, of which 33 are in the file
    (root, 10 keys, list a and its 9 items, 8 lists of aliases, the account's 4):
    926,177,086 added by aliases."""
    lines = ["a: &a [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"{b}: &{b} [" + ", ".join([f"*{a}"] * 9) + "]"
              for a, b in zip("abcdefgh", "bcdefghi", strict=True)]
    path = _write(tmp_path / "lol.yaml", "\n".join(lines) + "\naccount: {id: A, name: *i}\n")
    with pytest.raises(InputError, match=r"lol\.yaml: file: line 1, column 4: the aliases "
                                         r"\(\*name\) of this document would expand it by "
                                         r"926,177,086 values"):
        read_yaml(path)


def test_an_alias_inside_its_own_value_is_refused():
    with pytest.raises(yaml.YAMLError, match="refers to the value that holds it"):
        _load("a: &a [1, *a]\n")


@pytest.mark.parametrize(("text", "where", "key", "first"), [
    ("account: {id: A, name: B}\ndeals: []\npersons: []\ndeals: []\n", "line 4, column 1",
     "deals", "line 2, column 1"),
    ("account:\n  id: A\n  name: B\n  name: C\n", "line 4, column 3", "name", "line 3, column 3"),
    ("account: {id: A, name: B}\ndeals:\n  - id: D\n    title: T\n    title: U\n",
     "line 5, column 5", "title", "line 4, column 5"),
    ("account: {id: A, name: B, id: C}\n", "line 1, column 27", "id", "line 1, column 11"),
])
def test_a_duplicate_key_is_refused_at_any_depth_with_its_file_line_and_key(
        tmp_path, text, where, key, first):
    """A second key of the same name would silently replace the first (the second deals:
    section drops every deal of the first)."""
    path = _write(tmp_path / "dup.yaml", text)
    with pytest.raises(InputError, match=rf"dup\.yaml: file: {where}: duplicate key '{key}' "
                                         rf"\(first at {first}\): the second would silently "
                                         r"replace the first"):
        read_yaml(path)


@pytest.mark.parametrize("tag", ["!!python/object/apply:os.system", "!include", "!!foo"])
def test_tags_other_than_yaml_s_own_are_refused_naming_the_tag(tag):
    with pytest.raises(yaml.YAMLError, match=rf"the tag '{re.escape(tag)}' is not "
                                             r"allowed: kam reads plain values only"):
        _load(f"a: {tag} [echo]\n")


@pytest.mark.parametrize(("text", "message"), [
    ("a: !!int x", r"cannot read 'x' as a whole number"),
    ("a: !!float x", r"cannot read 'x' as a number"),
    ("a: !!bool maybe", r"cannot read 'maybe' as true or false"),
    ("a: !!timestamp 2025-13-45", r"cannot read '2025-13-45' as a date \(month must be in"),
    ("a: " + "9" * 5000, r"cannot read '9{39}\.\.\. \(5,000 characters\) as a whole number"),
])
def test_an_unreadable_scalar_is_a_message_with_its_line_not_a_traceback(tmp_path, text,
                                                                          message):
    path = _write(tmp_path / "x.yaml", text + "\n")
    with pytest.raises(InputError, match=r"x\.yaml: file: line 1, column 4: " + message):
        read_yaml(path)


def test_a_control_character_in_the_file_names_its_line_and_column(tmp_path):
    path = _write(tmp_path / "x.yaml", "account:\n  id: A\n  name: Ac\x1bme\n")
    with pytest.raises(InputError, match=r"x\.yaml: file: line 3, column 11: not valid YAML: "
                                         r"the character '\\x1b' cannot be in a YAML file"):
        read_yaml(path)


# -- the template -----------------------------------------------------------------------------
TEMPLATE = templates_dir() / "dossier.yaml"


def test_template_imports_when_filled_minimally(tmp_path, ws):
    data = yaml.load(TEMPLATE.read_text(encoding="utf-8"), Loader=_Loader)
    data["account"].update(id="ACME", name="Acme Steel", phone="+1 555 0100")
    path = _write(tmp_path / "acme.yaml", yaml.safe_dump(data, sort_keys=False))
    import_yaml(ws, path)
    assert ws.load("ACME").account.phone == "+1 555 0100"


def test_template_blank_is_refused_naming_the_required_fields(tmp_path):
    problems = validate_yaml(TEMPLATE)
    assert {(p.field, p.message) for p in problems} >= {
        ("id", "Input should be a valid string; found None"),
        ("name", "Input should be a valid string; found None")}


def test_template_examples_form_a_valid_dossier_when_uncommented():
    """Every commented example entry of the template, uncommented, is valid (ids, enums,
    references between the examples)."""
    text = TEMPLATE.read_text(encoding="utf-8")
    head, tail = text.split("\npersons: []\n", 1)
    tail = re.sub(r"^#(  .*)$", r"\1", "persons: []\n" + tail, flags=re.M)
    tail = re.sub(r"^(\w+): \[\]$", r"\1:", tail, flags=re.M)
    data = yaml.load(head + "\n" + tail, Loader=_Loader)
    data["account"].update(id="ACME", name="Acme", phone="1")
    d = validate_dossier(data)
    counts = {k: len(getattr(d, k)) for k in ("persons", "links", "interactions", "projects",
                                              "needs", "commitments", "deals", "revenue",
                                              "costs", "activities", "budgets", "ratings")}
    assert all(n >= 1 for n in counts.values()), counts
    assert d.plan is not None and d.plan.kpis and d.plan.actions


def _models(model: type, seen: set[type] | None = None) -> set[type]:
    """The dossier model and every record model below it."""
    seen = seen if seen is not None else set()
    seen.add(model)
    for f in model.model_fields.values():
        for t in _types(f.annotation):
            if hasattr(t, "model_fields") and t not in seen:
                _models(t, seen)
    return seen


def _types(annotation: object) -> list[type]:
    args = getattr(annotation, "__args__", None)
    if args:
        return [t for a in args for t in _types(a)]
    return [annotation] if isinstance(annotation, type) else []


def test_template_mentions_every_field_and_every_allowed_value():
    """DOMAIN.md §1: every dossier is formalised on one template; the template names every
    field of every record and every allowed value, so it cannot fall behind the model."""
    text = TEMPLATE.read_text(encoding="utf-8")
    missing_fields = sorted({f"{m.__name__}.{name}" for m in _models(Dossier)
                             for name in m.model_fields if f"{name}:" not in text})
    assert missing_fields == []
    enums = {t for m in _models(Dossier) for f in m.model_fields.values()
             for t in _types(f.annotation) if issubclass(t, Enum)}
    missing_values = sorted(f"{e.__name__}.{v.value}" for e in enums for v in e
                            if v.value not in text)
    assert missing_values == []


def test_template_points_editors_at_the_schema():
    first = TEMPLATE.read_text(encoding="utf-8").splitlines()[0]
    assert first == "# yaml-language-server: $schema=dossier.schema.json"
    assert (TEMPLATE.parent / "dossier.schema.json").is_file()


# -- the commands -------------------------------------------------------------------------------
def test_cli_export_import_validate_round_trip(tmp_path, ws):
    ws.save_many([rich("ACME"), simple("BETA", "Beta")], author="ann")
    runner = CliRunner()
    out = runner.invoke(export_cmd, ["ACME", "--to", str(tmp_path / "out"), "-w", ws.location])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("Exported 1 account to")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["ACME.yaml"]

    ok = runner.invoke(validate_cmd, [str(tmp_path / "out")])
    assert ok.exit_code == 0 and ok.output == "OK: 1 file checked, no problems\n"

    fresh = tmp_path / "fresh"
    res = runner.invoke(import_cmd, [str(tmp_path / "out"), "-w", str(fresh), "--create"])
    assert res.exit_code == 0, res.output
    assert "Saved: 1 new, 0 updated, 0 unchanged" in res.output
    assert Workspace(fresh).load("ACME") == ws.load("ACME")


def test_cli_validate_prints_every_problem_and_exits_1(tmp_path):
    _write(tmp_path / "a.yaml", "account: {id: A, name: Alpha, categry: A}\n")
    _write(tmp_path / "b.yaml", "account: {id: B, name: Beta}\n")  # only a name: no lead
    _write(tmp_path / "c.yaml", "account: {id: C, name: ''}\n")
    _write(tmp_path / "d.yaml", "account: {id: D, name: Delta, phone: '1'}\n")
    res = CliRunner().invoke(validate_cmd, [str(tmp_path)])
    assert res.exit_code == 1
    lines = res.output.splitlines()
    assert re.fullmatch(r".*a\.yaml: account A, field 'categry': unknown field \(a typo\?\)",
                        lines[0])
    assert any("c.yaml: account C, field 'name'" in line for line in lines)
    assert any(re.search(r"b\.yaml: account B, field 'sales_stage': cannot move into stage "
                         r"'lead'; missing: contact information", line) for line in lines)
    assert lines[-1] == "3 problems in 3 of 4 files"
    assert "Traceback" not in res.output


def test_cli_import_refusal_is_one_message_without_traceback(tmp_path, ws):
    _write(tmp_path / "a.yaml", "account: {id: A, name: Alpha, categry: A}\n")
    res = CliRunner().invoke(import_cmd, [str(tmp_path / "a.yaml"), "-w", ws.location])
    assert res.exit_code == 1
    assert res.output.startswith("Error: ") and "field 'categry': unknown field" in res.output
    assert "Nothing was saved" in res.output and "Traceback" not in res.output
    assert ws.account_ids() == []


def test_cli_import_into_a_missing_workspace_says_how_to_create_it(tmp_path):
    _write(tmp_path / "a.yaml", "account: {id: A, name: Alpha, phone: '1'}\n")
    res = CliRunner().invoke(import_cmd, [str(tmp_path / "a.yaml"), "-w", str(tmp_path / "no")])
    assert res.exit_code == 1
    assert "No kam workspace at" in res.output and "Traceback" not in res.output
