"""The dossier JSON schema: generated from the model, committed, never stale, and it agrees with
the model on what a valid dossier file is."""

from __future__ import annotations

import json

import jsonschema
import pytest
import yaml
from io_samples import rich

from kam.config import templates_dir
from kam.io import dossier_schema, dossier_to_yaml, write_schema
from kam.io.schema import schema_text
from kam.io.yaml_io import _Loader

COMMITTED = templates_dir() / "dossier.schema.json"


def test_committed_schema_equals_the_generated_one():
    assert COMMITTED.read_text(encoding="utf-8") == schema_text(), (
        "templates/dossier.schema.json is stale: regenerate it with "
        "`python -m kam.io.schema templates/dossier.schema.json`")


def test_write_schema_writes_valid_json(tmp_path):
    path = write_schema(tmp_path / "s.json")
    schema = json.loads(path.read_text(encoding="utf-8"))
    assert schema == dossier_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.fixture(scope="module")
def validator():
    return jsonschema.Draft202012Validator(dossier_schema(),
                                           format_checker=jsonschema.FormatChecker())


def test_an_exported_dossier_file_passes_the_schema(validator):
    data = yaml.load(dossier_to_yaml(rich()), Loader=_Loader)
    assert list(validator.iter_errors(data)) == []


@pytest.mark.parametrize(("change", "expected"), [
    ({"categry": "A"}, "Additional properties are not allowed ('categry' was unexpected)"),
    ({"category": "D"}, "'D' is not valid under any of the given schemas"),
    ({"id": "has space"}, "'has space' does not match"),
])
def test_the_schema_refuses_what_the_model_refuses(validator, change, expected):
    data = {"account": {"id": "ACME", "name": "Acme", **change}}
    messages = [e.message for e in validator.iter_errors(data)]
    assert any(m.startswith(expected) for m in messages), messages
