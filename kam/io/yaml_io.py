"""Dossiers as YAML files a key-account manager can read, edit and import again.

Layout: :func:`export_yaml` to a folder writes one file per account, ``<account id>.yaml``; to a
path ending in ``.yaml``/``.yml`` it writes one file holding every selected dossier as a YAML
document of its own (separated by ``---``). :func:`read_yaml` reads either layout, and a folder
(its ``*.yaml`` and ``*.yml`` files, not sub-folders).

The files are plain YAML: keys in the order of the dossier template, dates as ISO
``2025-03-14``, no Python-specific tags, multi-line text as ``|`` blocks, short lists of plain
values on one line (``roles: [entry, power]``); fields at their default
value are left out (reading fills them in again, so a round trip is exact). ``yes``, ``no``,
``on`` and ``off`` are text, not booleans (as in YAML 1.2): only ``true``/``false`` are booleans.
Dates are read as text and parsed by the dossier model, so a bad date is reported on its field.
Exports write whole files (an export cut short leaves the previous file as it was), never write
anchors or aliases, and read back exactly whatever the text: line breaks, ``---``, ``#``,
quotes, YAML words. The header comment shows the account name on one line, its line breaks and
control characters escaped, so a name cannot end the comment and smuggle YAML into the file.

Reading refuses, naming the file, line and column: a key written twice in one mapping (the
second would silently replace the first), aliases that would expand a document by more than
:data:`MAX_ALIAS_EXPANSION` values (a "billion laughs" file) or that contain themselves, tags
other than YAML's own (``!!python/...``, ``!include``), and values a tag cannot read
(``!!int x``). Anchors, aliases and merge keys (``<<: *base``) of ordinary size are read.
"""

from __future__ import annotations

import os
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

import yaml

from ..errors import InputError, ValidationProblem
from ..model import Dossier, validate_dossier
from ..store import Workspace
from .report import ImportReport
from .saving import fail, gc_paused, save_dossiers, stage_problems

__all__ = [
    "MAX_ALIAS_EXPANSION",
    "CheckedLoader",
    "dossier_to_yaml",
    "export_yaml",
    "import_yaml",
    "read_yaml",
    "validate_yaml",
    "yaml_files",
]

_SUFFIXES = (".yaml", ".yml")
PathLike = str | os.PathLike[str]


# -- a YAML 1.2-like dialect: only true/false are booleans ----------------------------------
# libyaml's parser when PyYAML has it (about 5x faster on large files), else the Python one.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_ALIAS_EXPANSION = 10_000
"""How many values the aliases (``*name``) of one YAML document may add to it. A few repeated
addresses or lists are fine; a "billion laughs" file (9 aliases of 9 aliases of ...) would add
hundreds of millions and is refused before anything is built from it."""

# An alias needs an anchor: only a text holding both '&x' and '*x' can share nodes.
_ANCHOR = re.compile(r"&[^\s,\[\]{}]")
_ALIAS = re.compile(r"\*[^\s,\[\]{}]")
_SHORT_TAGS = {"tag:yaml.org,2002:int": "a whole number", "tag:yaml.org,2002:float": "a number",
               "tag:yaml.org,2002:bool": "true or false", "tag:yaml.org,2002:null": "null",
               "tag:yaml.org,2002:timestamp": "a date", "tag:yaml.org,2002:binary": "base64 data"}


class _Refused(yaml.MarkedYAMLError):
    """A YAML file that parses but that kam will not read: duplicate keys, aliases that expand
    beyond :data:`MAX_ALIAS_EXPANSION` or refer to themselves, unknown tags, unreadable values."""

    def __init__(self, message: str, mark: Any):
        super().__init__(problem=message, problem_mark=mark)


def _cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters: a message never repeats a whole file."""
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} characters)"


def _shown(value: object, limit: int = 40) -> str:
    """``repr`` of a value, cut to ``limit`` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(str(value)):,} characters)"


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_aliases(root: yaml.Node) -> None:
    """Refuse a document whose aliases refer to themselves, or would add more than
    :data:`MAX_ALIAS_EXPANSION` values to it when expanded (counted without expanding)."""
    open_ = -1
    sizes: dict[int, int] = {id(root): open_}
    first_repeat: yaml.Node | None = None
    stack = [(root, iter(_children(root)))]
    while stack:
        node, rest = stack[-1]
        for child in rest:
            size = sizes.get(id(child))
            if size is None:
                sizes[id(child)] = open_
                stack.append((child, iter(_children(child))))
                break
            if size == open_:
                raise _Refused(
                    "an alias (*name) refers to the value that holds it: the value would contain "
                    "itself without end; write the value out instead of the alias",
                    child.start_mark)
            first_repeat = first_repeat or child
        else:
            stack.pop()
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in _children(node))
    extra = sizes[id(root)] - len(sizes)
    if extra > MAX_ALIAS_EXPANSION:
        assert first_repeat is not None
        raise _Refused(
            f"the aliases (*name) of this document would expand it by {extra:,} values (at "
            f"most {MAX_ALIAS_EXPANSION:,} are allowed: this looks like a 'billion laughs' "
            "file); write the values out instead of repeating them through aliases",
            first_repeat.start_mark)


class CheckedLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    r"""PyYAML's safe loader (libyaml's parser when there), refusing with the line and column
    what a YAML file must not do to kam: duplicate keys in a mapping, aliases that would expand
    a document by more than :data:`MAX_ALIAS_EXPANSION` values or that contain themselves, tags
    other than YAML's own, values a tag cannot read. Errors are :class:`yaml.MarkedYAMLError`.
    For any YAML file kam reads (configuration, mappings); dossier files use a stricter dialect.

    Examples
    --------
    >>> try:
    ...     yaml.load("a: 1\nb: 2\na: 3\n", Loader=CheckedLoader)
    ... except yaml.MarkedYAMLError as e:
    ...     print(f"line {e.problem_mark.line + 1}: {e.problem.split(':')[0]}")
    line 3: duplicate key 'a' (first at line 1, column 1)
    """

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        text = stream if isinstance(stream, str) else ""
        self._aliases = not isinstance(stream, str) or bool(
            _ANCHOR.search(text) and _ALIAS.search(text))

    def construct_document(self, node: Any) -> Any:
        if self._aliases:
            _check_aliases(node)
        return super().construct_document(node)

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        # Merge keys (<<: *base) are deleted from the list node.value in place, and node.value
        # becomes a new list (merged + explicit pairs): the old list holds the explicit keys,
        # and only those must be unique (an explicit key overrides a merged one).
        explicit = node.value
        mapping = super().construct_mapping(node, deep=deep)
        if node.value is not explicit or len(mapping) < len(explicit):  # merged, or a repeat
            self._refuse_duplicate_keys(explicit)
        return mapping

    def _refuse_duplicate_keys(self, pairs: list[tuple[yaml.Node, yaml.Node]]) -> None:
        first: dict[Any, yaml.Node] = {}
        for key_node, _ in pairs:
            key = self.construct_object(key_node)
            try:
                seen = first.setdefault(key, key_node)
            except TypeError:  # an unhashable key: the constructor has said so already
                continue
            if seen is not key_node:
                first_at = seen.start_mark
                raise _Refused(
                    f"duplicate key {_shown(key)} (first at line {first_at.line + 1}, column "
                    f"{first_at.column + 1}): the second would silently replace the first; keep "
                    "one of them, or merge the two into one", key_node.start_mark)

    def refuse_tag(self, node: yaml.Node) -> Any:
        tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
        raise _Refused(
            f"the tag {_shown(tag, 60)} is not allowed: kam reads plain values only "
            "(text, numbers, true/false, dates, lists and mappings); remove the tag",
            node.start_mark)


def _checked(tag: str, construct: Any) -> Any:
    """The constructor of a scalar ``tag``, turning Python's errors on an unreadable value
    (``!!int x``, an integer of 5,000 digits) into a message with its line."""

    def checked(loader: CheckedLoader, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, TypeError, KeyError, IndexError, OverflowError) as e:
            why = f" ({_cut(str(e), 80)})" if tag.endswith("timestamp") else ""
            raise _Refused(f"cannot read {_shown(node.value)} as {_SHORT_TAGS[tag]}{why}",
                           node.start_mark) from None

    return checked


CheckedLoader.add_constructor(None, CheckedLoader.refuse_tag)
for _tag in _SHORT_TAGS:
    CheckedLoader.add_constructor(
        _tag, _checked(_tag, _SafeLoader.yaml_constructors[_tag]))


class _Loader(CheckedLoader):
    """The dossier dialect: only true/false are booleans, dates stay text (see below)."""

    # Resolving the type of a plain scalar (regexes in Python) is most of the reading time, and
    # the same values (stages, products, dates) come back again and again: remember them.
    _resolved: ClassVar[dict[str, str]] = {}

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is yaml.ScalarNode and implicit[0]:
            tag = self._resolved.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(self._resolved) < 50_000:
                    self._resolved[value] = tag
            return tag
        return super().resolve(kind, value, implicit)


# libyaml's emitter likewise; both write the same text (list items at their key's indent).
_SafeDumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class _Dumper(_SafeDumper):  # type: ignore[valid-type,misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True  # the same date twice is written twice, never as &id001 / *id001


class _PyDumper(yaml.SafeDumper):  # the pure-Python emitter, to check both agree
    def ignore_aliases(self, data: Any) -> bool:
        return True


_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
# The loader leaves dates as text: the dossier model parses them, so a bad date such as
# 2025-13-45 is reported on its field like any other bad value. The dumper keeps the date
# resolver so that text looking like a date is quoted (other YAML readers would take it for one).
for _cls, _drop in ((_Loader, {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp"}),
                    (_Dumper, {"tag:yaml.org,2002:bool"}),
                    (_PyDumper, {"tag:yaml.org,2002:bool"})):
    _cls.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag not in _drop]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    _cls.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # NEL (U+0085) is a line break to YAML: the Python emitter would write it raw in a block or
    # quoted scalar and read it back as a blank; double quotes escape it as \N (libyaml does so).
    style = '"' if "\x85" in value else "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.SequenceNode:
    # Short lists of plain values on one line: ``roles: [power, entry]``.
    flat = all(not isinstance(v, dict | list) and not (isinstance(v, str) and "\n" in v)
               for v in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flat)


for _cls in (_Dumper, _PyDumper):
    _cls.add_representer(str, _represent_str)
    _cls.add_representer(list, _represent_list)


def _plain(value: Any) -> Any:
    """Enums to their values, recursively (dates stay dates: YAML writes them as ISO)."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


_HEADER_NAME = 80  # characters of the account name shown in a file's header comment


def _one_line(text: str, limit: int) -> str:
    """``text`` on one line: every character that is not printable (line breaks of any kind,
    tabs, control and format characters) written as its Python escape (``\\n``, ``\\x1b``,
    ``\\u2028``); cut to ``limit`` characters with ``...``."""
    if len(text) > limit:
        text = text[:limit] + "..."
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _header(d: Dossier) -> str:
    # The name is user text: written raw, a line break in it would end the comment, and what
    # follows (say "---" and another account) would be read as part of the file.
    return (f"# kam dossier: {_one_line(d.account.name, _HEADER_NAME)} ({d.account.id})\n"
            "# Edit it, check it with `kam validate FILE`, load it with `kam import FILE`.\n")


def dossier_to_yaml(dossier: Dossier) -> str:
    """The YAML text of one dossier (without header comment).

    Examples
    --------
    >>> from datetime import date
    >>> from kam.model import Account, Deal, Dossier
    >>> d = Dossier(account=Account(id="ACME", name="Acme Steel", phone="+1 555 0100"),
    ...             deals=[Deal(id="D-1", title="Rolling mill", created=date(2025, 3, 14))])
    >>> print(dossier_to_yaml(d))
    account:
      id: ACME
      name: Acme Steel
      phone: +1 555 0100
    deals:
    - id: D-1
      title: Rolling mill
      created: 2025-03-14
    <BLANKLINE>
    """
    data = _plain(dossier.model_dump(mode="python", exclude_defaults=True))
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def _dossiers(source: Workspace | Iterable[Dossier], account_ids: Iterable[str] | None,
              ) -> list[Dossier]:
    if isinstance(source, Workspace):
        return source.load_all(account_ids)
    ds = list(source)
    if account_ids is None:
        return ds
    from ..errors import AccountNotFound

    by_id = {d.account.id: d for d in ds}
    out = []
    for a in account_ids:
        if a not in by_id:
            raise AccountNotFound(a, by_id)
        out.append(by_id[a])
    return out


def export_yaml(source: Workspace | Iterable[Dossier], path: PathLike,
                account_ids: Iterable[str] | None = None) -> list[Path]:
    """Write dossiers as YAML and return the files written.

    Parameters
    ----------
    source
        A workspace (its newest revisions) or dossiers.
    path
        A folder (created if needed): one ``<account id>.yaml`` per account. Or a file ending
        in ``.yaml``/``.yml``: every dossier as one YAML document in that file.
    account_ids
        Only these accounts (default: all).

    Examples
    --------
    >>> import tempfile
    >>> from kam.model import Account, Dossier
    >>> ds = [Dossier(account=Account(id=i, name=f"Client {i}", phone="1")) for i in ("A1", "B2")]
    >>> folder = Path(tempfile.mkdtemp())
    >>> [p.name for p in export_yaml(ds, folder)]
    ['A1.yaml', 'B2.yaml']
    >>> read_yaml(folder) == ds
    True
    """
    with gc_paused():
        return _export(_dossiers(source, account_ids), Path(path))


def _write(file: Path, text: str) -> None:
    """Write ``file`` whole or not at all: an export cut short (a full disk, Ctrl-C) leaves the
    previous file as it was, never half a backup."""
    tmp = file.with_name(f".{file.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, file)
    finally:
        tmp.unlink(missing_ok=True)


def _file_names(ids: list[str]) -> list[str]:
    """``<id>.yaml`` per account; ids that differ only in case (``ACME``, ``acme``) would be
    one file on Windows and macOS, so the later ones get ``~2``, ``~3`` (``~`` is never part
    of an id)."""
    seen: dict[str, int] = {}
    names = []
    for account_id in ids:
        key = account_id.casefold()
        seen[key] = seen.get(key, 0) + 1
        names.append(f"{account_id}.yaml" if seen[key] == 1 else f"{account_id}~{seen[key]}.yaml")
    return names


def _export(dossiers: list[Dossier], target: Path) -> list[Path]:
    if target.suffix.lower() in _SUFFIXES:
        target.parent.mkdir(parents=True, exist_ok=True)
        _write(target, "---\n".join(_header(d) + dossier_to_yaml(d) for d in dossiers))
        return [target]
    target.mkdir(parents=True, exist_ok=True)
    written = []
    for d, name in zip(dossiers, _file_names([d.account.id for d in dossiers]), strict=True):
        file = target / name
        _write(file, _header(d) + dossier_to_yaml(d))
        written.append(file)
    return written


# -- reading ---------------------------------------------------------------------------------
def yaml_files(paths: PathLike | Iterable[PathLike]) -> list[Path]:
    """The YAML files named by ``paths`` (files, or folders: their ``*.yaml``/``*.yml``)."""
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    out: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.suffix.lower() in _SUFFIXES and f.is_file())
        else:
            out.append(p)
    return out


def _documents(file: Path) -> Iterator[tuple[str, Any] | ValidationProblem]:
    """(label, data) per YAML document of ``file``, or a problem if the file cannot be read."""
    name = str(file)

    def bad(message: str) -> ValidationProblem:
        return ValidationProblem(record="file", field="", message=message, file=name)

    try:
        text = file.read_bytes().decode("utf-8")
    except FileNotFoundError:
        yield bad("file not found")
        return
    except IsADirectoryError:
        yield bad("is a folder, not a file")
        return
    except OSError as e:
        yield bad(f"cannot be read: {e.strerror or e}")
        return
    except UnicodeDecodeError as e:
        line = e.object[:e.start].count(b"\n") + 1
        yield bad(f"not UTF-8 text: line {line} has the byte 0x{e.object[e.start]:02x} (offset "
                  f"{e.start}); save the file as UTF-8")
        return
    try:
        docs = [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.reader.ReaderError as e:  # a character YAML does not allow in a file
        line = text.count("\n", 0, e.position) + 1
        column = e.position - text.rfind("\n", 0, e.position)
        yield bad(f"line {line}, column {column}: not valid YAML: the character "
                  f"{chr(e.character)!r} cannot be in a YAML file; remove it")
        return
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        what = "" if isinstance(e, _Refused) else "not valid YAML: "
        yield bad(f"{where}{what}{_cut(str(getattr(e, 'problem', None) or e), 300)}")
        return
    except RecursionError:  # the pure-Python parser, when libyaml is missing
        yield bad("not valid YAML: values are nested too deeply (lists in lists in lists ...)")
        return
    if not docs:
        yield bad("the file is empty: expected a dossier with an 'account' section")
        return
    for i, doc in enumerate(docs, start=1):
        yield (name if len(docs) == 1 else f"{name} (document {i})"), doc


def _parse(files: list[Path], good: list[tuple[Dossier, str]],
           problems: list[ValidationProblem]) -> None:
    """Validate every document of ``files`` into ``good``; problems into ``problems``."""
    for file in files:
        for item in _documents(file):
            if isinstance(item, ValidationProblem):
                problems.append(item)
                continue
            label, data = item
            try:
                good.append((validate_dossier(data, file=label), label))
            except InputError as e:
                problems += [p if p.file else ValidationProblem(p.record, p.field, p.message, label)
                             for p in e.problems]


def _read(paths: PathLike | Iterable[PathLike],
          ) -> tuple[list[tuple[Dossier, str]], list[ValidationProblem]]:
    """Every dossier that validates, with its file, and every problem found."""
    files = yaml_files(paths)
    problems: list[ValidationProblem] = []
    if not files:
        problems.append(ValidationProblem(record="input", field="", message=(
            f"no YAML files (*.yaml, *.yml) found in {paths}")))
    good: list[tuple[Dossier, str]] = []
    with gc_paused():
        _parse(files, good, problems)
    seen: dict[str, list[str]] = defaultdict(list)
    for d, label in good:
        seen[d.account.id].append(label)
    for account_id, labels in seen.items():
        if len(labels) > 1:
            problems.append(ValidationProblem(
                record=f"account {account_id}", field="id", file=labels[-1],
                message=f"duplicate account id: also in {', '.join(labels[:-1])}; "
                        "each account must appear once"))
    return good, problems


def read_yaml(paths: PathLike | Iterable[PathLike]) -> list[Dossier]:
    """Read and validate the dossiers of YAML files or folders.

    Raises :class:`~kam.errors.InputError` listing every problem of every file (file,
    record and field), e.g. a typo in a field name, a wrong type, a missing required field, a
    duplicate id, a dangling reference, a file that is not UTF-8 or is empty.
    """
    good, problems = _read(paths)
    if problems:
        raise InputError(problems)
    return [d for d, _ in good]


def validate_yaml(paths: PathLike | Iterable[PathLike], ws: Workspace | None = None,
                  ) -> list[ValidationProblem]:
    """Every problem that importing ``paths`` would meet, without saving anything.

    Besides the checks of :func:`read_yaml`, the stage gate is checked: against the account's
    newest revision in ``ws`` if given, else as for a new account (a dossier claiming a sales
    stage needs what that stage requires).
    """
    good, problems = _read(paths)
    known = set(ws.account_ids()) if ws is not None else set()
    previous = ({d.account.id: d.account.sales_stage for d in ws.load_all(
        [d.account.id for d, _ in good if d.account.id in known])} if ws is not None else {})
    for d, label in good:
        problems += stage_problems(d, previous.get(d.account.id), label)
    return problems


def import_yaml(ws: Workspace, paths: PathLike | Iterable[PathLike], *, author: str = "import",
                message: str | None = None) -> ImportReport:
    """Import YAML dossiers into ``ws``: all of them, or (on any problem) none.

    Every file is read and validated first and every problem of every file is reported in one
    :class:`~kam.errors.ImportFailed`. An account that exists gets a new revision holding the
    file's dossier (its history keeps the previous ones); an account whose newest revision
    equals the file is left unchanged, so importing the same files twice is a no-op.
    """
    start = time.perf_counter()
    files = yaml_files(paths)
    good, problems = _read(files)
    if problems:
        raise fail(problems)
    source = ", ".join(str(f) for f in files) if len(files) <= 3 else f"{len(files)} files"
    saved = save_dossiers(ws, good, author=author,
                          message=message or f"imported from {source}")
    report = ImportReport(source=source, saved=saved)
    report.add_count("files", len(files))
    report.add_count("dossiers", len(good))
    report.seconds = time.perf_counter() - start
    return report
