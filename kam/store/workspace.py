"""The workspace: a versioned store of dossiers (SQLite file by default, any SQLAlchemy URL).

History is never overwritten: every save of an account is a new revision with author, time and
message. A save names the revision it was based on; if someone saved in between, it raises
:class:`~kam.errors.StaleRevision` and writes nothing. Multi-account writes (imports) run in one
transaction: all or nothing.

A workspace that another program keeps locked longer than the wait, a damaged file or another
application's database gives a :class:`~kam.errors.WorkspaceError` naming the file, never a
database traceback.
"""

from __future__ import annotations

import dataclasses
import getpass
import hashlib
import json
import os
import shlex
import sqlite3
import time as _time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError
from sqlalchemy import (
    Engine,
    and_,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError

try:
    import fcntl
except ImportError:  # Windows: SQLite's own busy wait only
    fcntl = None  # type: ignore[assignment]

from .._gc import gc_paused
from ..config import ConfigSource
from ..errors import (
    AccountNotFound,
    DuplicateAccount,
    InputError,
    NotAWorkspace,
    RevisionNotFound,
    StaleRevision,
    ValidationProblem,
    WorkspaceError,
    WorkspaceLocked,
)
from ..model import (
    Dossier,
    SalesStage,
    StageModel,
    Tables,
    Team,
    check_deal_stage,
    check_stage,
    default_cost_config,
    load_cost_to_serve,
    load_stages,
    tables,
    validate_dossier,
)
from ..model.base import TEXT_PATTERN, bound_message, check_text, short_repr
from ..model.diff import diff_records
from ..model.dossier import error_message, problems_from_pydantic
from ..model.scenario_config import load_scenarios
from .access import Access, AccessDenied, Role
from .columnar import DamagedColumns
from .lines import (
    assemble,
    current_lines,
    line_changes,
    line_frames,
    lines_at,
    split,
    write_lines,
)
from .migrate import check_version, create_schema, schema_version
from .schema import documents, members, revisions, users

__all__ = ["DEFAULT_PATH", "Revision", "Workspace", "default_location"]

DEFAULT_PATH = "kam-workspace"
_DB_FILE = "workspace.db"
_ACCOUNT = "account"
_TEAM = "team"
_TEAM_KEY = "team"
# Stored revisions passed every check when they were saved: loading skips the reference checks.
_TRUSTED = {"skip_references": True}
LOCK_TIMEOUT = 5.0
"""Seconds a save waits for another writer to finish before it gives up (SQLite)."""
_READ = "kam_read"  # execution option of read-only connections: a deferred BEGIN
_TABLES = {
    "documents": {"kind", "key", "head", "name"},
    "revisions": {"id", "kind", "key", "number", "based_on", "author", "created_at", "message",
                  "data"},
}


def default_location() -> str:
    """``$KAM_WORKSPACE`` if set, else ``./kam-workspace``."""
    return os.environ.get("KAM_WORKSPACE") or DEFAULT_PATH


@dataclass(frozen=True)
class Revision:
    """One saved revision of an account (or of the team roster)."""

    key: str
    number: int
    based_on: int | None
    author: str
    created_at: datetime
    message: str


def _to_url(location: str | os.PathLike[str]) -> tuple[str, Path | None]:
    text = str(location)
    if "://" in text:
        return text, None
    folder = Path(text)
    return f"sqlite:///{folder / _DB_FILE}", folder


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        if conn.get_execution_options().get(_READ):
            conn.exec_driver_sql("BEGIN")  # readers see a snapshot and never wait for a writer
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # writers queue instead of failing late


def _check_file(db: Path, create: bool, timeout: float) -> None:
    """Refuse a ``workspace.db`` that is damaged or not a kam workspace before kam touches it
    (opening it as a workspace would switch another application's database to WAL mode, and
    ``create`` would add kam's tables to it)."""
    try:
        con = sqlite3.connect(str(db), timeout=timeout)
    except sqlite3.Error as e:
        raise WorkspaceError(f"{db}: cannot open the workspace file ({e}); check that it exists "
                             "and that you may read it") from None
    try:
        tables = {r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        columns = {t: {r[1] for r in con.execute(f"PRAGMA table_info({t})")}
                   for t in _TABLES if t in tables}
    except sqlite3.DatabaseError as e:
        if "locked" in str(e):
            raise WorkspaceLocked(str(db.parent), timeout, writing=False,
                                  holders=_holders(str(db))) from None
        if "unable to open" in str(e):
            raise WorkspaceError(f"{db}: cannot open the workspace file ({e}); check that you "
                                 "may read and write it and its folder") from None
        raise NotAWorkspace(
            f"{db} is not a kam workspace: the file is damaged or is not an SQLite database "
            f"({e}). Restore it from a backup, or move it away and create a new workspace with "
            f"'kam init {shlex.quote(str(db.parent))}'") from None
    finally:
        con.close()
    if not tables:
        if create:
            return
        raise NotAWorkspace(
            f"{db} holds no kam workspace (an empty database); create one with "
            f"'kam init {shlex.quote(str(db.parent))}'")
    if set(_TABLES) - tables:
        shown = ", ".join(sorted(tables)[:8]) + (", ..." if len(tables) > 8 else "")
        raise NotAWorkspace(
            f"{db} is not a kam workspace: it is an SQLite database of another application "
            f"(tables: {shown}); kam left it untouched. Use another folder for the workspace")
    for table, wanted in _TABLES.items():
        lacking = wanted - columns[table]
        if lacking:
            raise NotAWorkspace(
                f"{db} is not a kam workspace this version can read: its table {table!r} lacks "
                f"the columns {', '.join(sorted(lacking))}")


def _holders(db: str, limit: int = 3) -> list[str]:
    """Best effort (Linux): the other local processes that have the database file open, as
    ``pid <n> (<command line>)``, so a locked workspace can say who holds it."""
    proc = Path("/proc")
    if not proc.is_dir():
        return []
    try:
        wanted = {str(Path(db).resolve()), str(Path(db + "-wal").resolve())}
    except OSError:
        return []
    out = []
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            opened = any(os.readlink(fd) in wanted for fd in (entry / "fd").iterdir())
            if not opened:
                continue
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone, or another user's process
            continue
        cmd = " ".join(cmd.split())
        out.append(f"pid {entry.name} ({cmd if len(cmd) <= 60 else cmd[:57] + '...'})")
        if len(out) >= limit:
            break
    return out


def _check_revision_text(author: object, message: object) -> None:
    """Author and message of a revision are text without control characters."""
    problems = []
    for field, value in (("author", author), ("message", message)):
        if not isinstance(value, str):
            problems.append(ValidationProblem(
                "revision", field, f"expected text, found {short_repr(value)}"))
            continue
        try:
            check_text(value)
        except ValueError as e:
            problems.append(ValidationProblem("revision", field, str(e)))
    if problems:
        raise InputError(problems)


class Workspace:
    """A store of key-account dossiers with full history.

    Parameters
    ----------
    location
        A folder (the SQLite file ``workspace.db`` lives in it) or a SQLAlchemy URL such as
        ``postgresql+psycopg://user@host/db`` (a team store on a PostgreSQL server). Default:
        ``$KAM_WORKSPACE`` or ``./kam-workspace``.
    create
        Create the folder and tables if they do not exist. Opening a folder that holds no
        workspace without ``create=True`` raises ``FileNotFoundError``.
    stages
        The stage model deal stages are checked against on every save (default:
        ``templates/stages.yaml``).
    cost_config
        The cost-to-serve configuration cost lines, budgets and activity lines are checked
        against on every save (a :class:`~kam.model.CostToServeConfig`, a YAML file or a mapping
        of settings; default: ``templates/cost_to_serve.yaml``): a line a profitability report
        would refuse is never stored.
    scenarios, scoring
        The regulated interaction scenarios (``templates/scenarios.yaml``) and the prospect
        scoring factors (``templates/scoring.yaml``) that the scenario steps and the
        assessments of a dossier are checked against on every save (a model, a file or a
        mapping of settings; default: those files).
    user
        Who is working (their role in the store decides what they may read and change; see
        :mod:`kam.store.access`). On PostgreSQL it is the database role connected as; on a
        SQLite file the name given here, else ``$KAM_USER``, else the login name.
    lock_timeout
        Seconds to wait for another program that is writing (SQLite) before giving up with
        :class:`~kam.errors.WorkspaceLocked`.

    Examples
    --------
    >>> import tempfile
    >>> from kam.model import Account, Dossier
    >>> ws = Workspace(tempfile.mkdtemp(), create=True)
    >>> acme = Dossier(account=Account(id="ACME", name="Acme Steel", phone="+1 555 0100"))
    >>> rev = ws.save(acme, author="ann")
    >>> rev.number
    1
    >>> d = ws.load("ACME")
    >>> d.account.category = "A"
    >>> ws.save(d, author="ann", message="categorised").number
    2
    >>> ws.diff("ACME", 1, 2)[["field", "before", "after"]].to_dict("records")
    [{'field': 'account.category', 'before': None, 'after': 'A'}]
    """

    def __init__(self, location: str | os.PathLike[str] | None = None, *, create: bool = False,
                 stages: StageModel | None = None,
                 cost_config: ConfigSource = None,
                 scenarios: ConfigSource = None,
                 scoring: ConfigSource = None,
                 user: str | None = None,
                 lock_timeout: float = LOCK_TIMEOUT):
        self.location = str(location or default_location())
        self._user = user
        self.stages = stages or load_stages()
        self.cost_config = (default_cost_config() if cost_config is None
                            else load_cost_to_serve(cost_config))
        # None: the default files, read when a dossier first records a scenario step or an
        # assessment.
        self.scenarios = None if scenarios is None else load_scenarios(scenarios)
        self.scoring = None if scoring is None else _load_scoring(scoring)
        self.lock_timeout = lock_timeout
        url, folder = _to_url(self.location)
        if folder is not None:
            db = folder / _DB_FILE
            if create:
                folder.mkdir(parents=True, exist_ok=True)
            elif not db.exists():
                raise FileNotFoundError(
                    f"No kam workspace at {folder}: run 'kam init {folder}' or 'kam demo {folder}' "
                    "first, or set KAM_WORKSPACE to an existing workspace"
                )
            if db.is_dir():
                raise NotAWorkspace(f"{db} is a folder, not a workspace file")
            if db.exists():
                _check_file(db, create, lock_timeout)
        sqlite = url.startswith("sqlite")
        self.engine = create_engine(url, connect_args={"timeout": lock_timeout} if sqlite else {})
        if sqlite:
            _sqlite_pragmas(self.engine)
        with self._db_errors(writing=create):
            self._open(create)

    def _open(self, create: bool) -> None:
        """Check the schema version; create the tables in an empty database when asked."""
        with self.engine.connect().execution_options(**{_READ: True}) as conn:
            found = schema_version(conn)
        if found is None:
            if not create:
                raise NotAWorkspace(
                    f"{self._db_name()} holds no kam workspace; create one with "
                    f"'kam init {shlex.quote(self.location)}'")
            with self._write_turn(), self.engine.begin() as conn:
                if schema_version(conn) is None:
                    create_schema(conn)
            return
        check_version(found, self._db_name(), self.location)

    def __repr__(self) -> str:
        return f"Workspace({self.location!r})"

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """One write transaction (all or nothing)."""
        with self._db_errors(writing=True), self._write_turn(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _write_turn(self) -> Iterator[None]:
        """Wait for our turn to write (SQLite file): kam's writers take an advisory lock on
        ``workspace.db.lock`` before they begin, polling every few milliseconds. SQLite's own
        busy wait backs off to 100 ms sleeps, so under many writers one of them could lose the
        race for seconds and fail with "database is locked"; here the lock goes to a waiting
        writer within milliseconds of its release."""
        _, folder = _to_url(self.location)
        if folder is None or fcntl is None:
            yield
            return
        try:
            fd = os.open(folder / (_DB_FILE + ".lock"), os.O_RDONLY | os.O_CREAT, 0o644)
        except OSError:  # a read-only folder: no writer can get further anyway
            yield
            return
        try:
            deadline = _time.monotonic() + self.lock_timeout
            pause = 0.0005
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if _time.monotonic() > deadline:
                        raise WorkspaceLocked(self.location, self.lock_timeout, writing=True,
                                              holders=_holders(self._db_name())) from None
                    _time.sleep(pause)
                    pause = min(pause * 2, 0.004)
            yield
        finally:
            os.close(fd)  # releases the lock

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        """A read-only connection: one consistent snapshot, never waiting for a writer."""
        with self._db_errors(writing=False), self.engine.connect().execution_options(
                **{_READ: True}) as conn:
            yield conn

    @contextmanager
    def _db_errors(self, *, writing: bool) -> Iterator[None]:
        """Turn the database's own failures into errors that say what happened and what to do."""
        try:
            yield
        except DBAPIError as e:
            text = str(e.orig if e.orig is not None else e)
            where = self._db_name()
            if "locked" in text:
                raise WorkspaceLocked(self.location, self.lock_timeout, writing=writing,
                                      holders=_holders(self._db_name())) from None
            if any(s in text for s in ("not a database", "malformed", "no such table",
                                       "no such column")):
                raise NotAWorkspace(
                    f"{where} is not a kam workspace, or is damaged ({text}); restore it from a "
                    "backup or create a new workspace with 'kam init'") from None
            if "readonly" in text or "read-only" in text:
                raise WorkspaceError(
                    f"{where} is read-only: kam cannot save into it; ask for write access or "
                    "copy the workspace to a folder of your own") from None
            raise

    def _db_name(self) -> str:
        _, folder = _to_url(self.location)
        return str(folder / _DB_FILE) if folder is not None else self.location

    def _parse(self, data: str, key: str, number: int) -> Dossier:
        """A stored revision as a dossier (a damaged one is named, not shown as a traceback)."""
        try:
            dossier = Dossier.model_validate_json(data, context=_TRUSTED)
        except ValidationError as e:
            kept = _as_stored(data, e)
            if kept is not None:
                dossier = kept
                dossier._loaded_from = (self.location, key, number)
                return dossier
            first = problems_from_pydantic(e, {})[0]
            raise NotAWorkspace(
                f"{self._db_name()}: revision {number} of account {key!r} is damaged and cannot "
                f"be read ({first.field}: {first.message}); restore the account with "
                f"ws.restore({key!r}, <an earlier revision>) or the file from a backup"
            ) from None
        dossier._loaded_from = (self.location, key, number)
        return dossier

    # -- who is working ----------------------------------------------------------------------
    @property
    def user(self) -> str:
        """Who is working: the database role on a server, else the name given, ``$KAM_USER``
        or the login name."""
        if self.engine.dialect.name == "postgresql":
            if not hasattr(self, "_db_user"):
                with self._read() as conn:
                    self._db_user = str(conn.execute(select(func.current_user())).scalar_one())
                if self._user is not None and self._user != self._db_user:
                    raise AccessDenied(
                        f"{self.location}: connected as {self._db_user}, not {self._user}; on a "
                        "PostgreSQL store you work as the role you connect with")
            return self._db_user
        return self._user or os.environ.get("KAM_USER") or getpass.getuser()

    def _access(self, conn: Connection) -> Access:
        user = self.user
        row = conn.execute(select(users.c.role, users.c.member).where(users.c.name == user)
                           ).first()
        if row is None:
            return Access(user)
        managers = dict(conn.execute(select(members.c.id, members.c.manager)).all())
        return Access.of(user, (row[0], row[1]), managers)

    def access(self) -> Access:
        """What the current user may read and change (:class:`~kam.store.access.Access`)."""
        with self._read() as conn:
            return self._access(conn)

    def users(self) -> pd.DataFrame:
        """The users with a role in this workspace: ``user``, ``role``, ``member``."""
        with self._read() as conn:
            rows = conn.execute(select(users.c.name, users.c.role, users.c.member)
                                .order_by(users.c.name)).all()
        return pd.DataFrame(rows, columns=["user", "role", "member"])

    def grant(self, user: str, role: Role | str, member: str | None = None) -> None:
        """Give ``user`` a role (``kam``, ``planner``, ``director``, ``analyst``) as team member
        ``member`` (needed for a KAM or planner). Only the workspace's administrator -- a user
        without a role -- may. On PostgreSQL the database role ``user`` (made by the server's
        administrator) is also granted what the role needs on kam's tables; row-level security
        does the rest."""
        role = Role(role)
        if role in (Role.KAM, Role.PLANNER) and not member:
            raise InputError([ValidationProblem(f"user {user}", "member",
                                                f"a {role} needs the team member they are")])
        with self._tx() as conn:
            self._administrator(conn, "grant roles")
            conn.execute(users.delete().where(users.c.name == user))
            conn.execute(insert(users).values(name=user, role=role.value, member=member))
            if self.engine.dialect.name == "postgresql":
                _grant_tables(conn, user, role)

    def revoke(self, user: str) -> None:
        """Take ``user``'s role away (the administrator only)."""
        with self._tx() as conn:
            self._administrator(conn, "revoke roles")
            conn.execute(users.delete().where(users.c.name == user))
            if self.engine.dialect.name == "postgresql":
                _revoke_tables(conn, user)

    def _administrator(self, conn: Connection, what: str) -> None:
        me = self._access(conn)
        if me.restricted:
            raise AccessDenied(f"{me.user} ({me.role}) may not {what}: only the workspace's "
                               "administrator (a user without a role) may")

    def _owners(self, conn: Connection) -> dict[str, str | None]:
        return dict(conn.execute(select(documents.c.key, documents.c.owner)
                                 .where(documents.c.kind == _ACCOUNT)).all())

    def _readable(self, conn: Connection, access: Access,
                  keys: Iterable[str] | None = None) -> set[str]:
        """The accounts (of ``keys``) the user may read; an unknown or unreadable one named in
        ``keys`` is refused."""
        query = select(documents.c.key, documents.c.owner).where(documents.c.kind == _ACCOUNT)
        asked = None if keys is None else list(keys)
        if asked is not None and len(asked) <= 500:
            query = query.where(documents.c.key.in_(asked))
        owners = dict(conn.execute(query).all())
        visible = {k for k, o in owners.items() if access.may_read(o)}
        for key in asked or ():
            if key not in owners:
                raise AccountNotFound(key, self._keys(conn))
            if key not in visible:
                raise access.refuse_read(key, owners[key])
        return visible if asked is None else visible & set(asked)

    # -- reading ---------------------------------------------------------------------------
    def account_ids(self) -> list[str]:
        """Ids of all accounts the user may read, sorted."""
        with self._read() as conn:
            return sorted(self._readable(conn, self._access(conn)))

    def __contains__(self, account_id: object) -> bool:
        return account_id in self.account_ids()

    def __len__(self) -> int:
        return len(self.account_ids())

    def head(self, account_id: str) -> int:
        """The newest revision number of an account."""
        with self._read() as conn:
            return self._head(conn, _ACCOUNT, account_id)

    def _head(self, conn: Connection, kind: str, key: str) -> int:
        row = conn.execute(
            select(documents.c.head).where(and_(documents.c.kind == kind, documents.c.key == key))
        ).first()
        if row is None:
            if kind == _ACCOUNT:
                raise AccountNotFound(key, self._keys(conn))
            return 0
        return int(row[0])

    def _keys(self, conn: Connection) -> list[str]:
        return sorted(self._readable(conn, self._access(conn)))

    def _revision_number(
        self, conn: Connection, key: str, as_of: int | date | datetime | None
    ) -> int:
        head = self._head(conn, _ACCOUNT, key)
        if as_of is None:
            return head
        if isinstance(as_of, bool) or not isinstance(as_of, int | date | datetime):
            raise TypeError("as_of must be a revision number, a date or a datetime, got "
                            f"{short_repr(as_of)}")
        if isinstance(as_of, int):
            if not 1 <= as_of <= head:
                raise RevisionNotFound(
                    f"Account {key!r} has revisions 1..{head}; there is no revision {as_of}"
                )
            return as_of
        moment = as_of if isinstance(as_of, datetime) else datetime.combine(as_of, time.max)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        row = conn.execute(
            select(func.max(revisions.c.number)).where(
                and_(
                    revisions.c.kind == _ACCOUNT,
                    revisions.c.key == key,
                    revisions.c.created_at <= moment.astimezone(UTC).replace(tzinfo=None),
                )
            )
        ).first()
        if row is None or row[0] is None:
            raise RevisionNotFound(f"Account {key!r} did not exist yet on {as_of}")
        return int(row[0])

    def load(self, account_id: str, as_of: int | date | datetime | None = None) -> Dossier:
        """The dossier of an account: the newest revision, or the one in force ``as_of`` a
        revision number, a date (end of that day) or a datetime (UTC if naive)."""
        with self._read() as conn:
            self._readable(conn, self._access(conn), [account_id])
            number = self._revision_number(conn, account_id, as_of)
            data = _dossier_data(conn, account_id, number)
        return self._parse(data, account_id, number)

    def load_all(self, account_ids: Iterable[str] | None = None) -> list[Dossier]:
        """The newest dossier of every account the user may read (or of ``account_ids``),
        sorted by id."""
        out = []
        # Thousands of freshly built models would trigger the cyclic GC over and over (they are
        # all alive, so it finds nothing); pausing it makes a bulk load ~3x faster.
        with self._read() as conn, gc_paused():
            heads, only = self._heads(conn, account_ids)
            lines = current_lines(conn, only)
            for key, number, data in heads:
                out.append(self._parse(assemble(data, lines.get(key, ())), key, number))
        return out

    def tables(self, account_ids: Iterable[str] | None = None) -> Tables:
        """The portfolio tables of the newest revisions of every account the user may read (or
        of ``account_ids``): the same frames as ``kam.model.tables(ws.load_all())``, read
        without building a record per transactional line: the lines come from each account's
        line columns (:mod:`kam.store.columnar`), one row per account."""
        with self._read() as conn, gc_paused():
            heads, only = self._heads(conn, account_ids)
            # Without their lines: these objects only feed the tables and never leave here.
            lean = [self._parse(data, key, number) for key, number, data in heads]
            try:
                frames = line_frames(conn, only)
            except DamagedColumns as e:
                raise NotAWorkspace(
                    f"{self._db_name()}: {e}; each account's dossier and its own report still "
                    f"read, the portfolio tables do not: restore the file from a backup"
                ) from None
            out = dataclasses.replace(tables(lean), **frames)
            # Freed while the collector is paused: the first collection after it would
            # otherwise walk every one of them.
            del heads, lean
        return out

    def _heads(self, conn: Connection, account_ids: Iterable[str] | None
               ) -> tuple[list[Any], list[str] | None]:
        """The newest revision rows (key, number, lean JSON) of the readable accounts (of
        ``account_ids``), sorted by key, and the keys to restrict line reads to (``None``:
        every account)."""
        access = self._access(conn)
        asked = None if account_ids is None else list(account_ids)
        keep = self._readable(conn, access, asked)
        # Driven from the heads (one per account), each revision found by its unique key: a
        # join lets SQLite scan every revision of every account instead.
        data = (select(revisions.c.data)
                .where(revisions.c.kind == documents.c.kind, revisions.c.key == documents.c.key,
                       revisions.c.number == documents.c.head)
                .scalar_subquery())
        query = select(documents.c.key, documents.c.head, data).where(
            documents.c.kind == _ACCOUNT)
        heads = sorted(row for row in conn.execute(query) if row[0] in keep)
        everyone = asked is None and not access.restricted
        return heads, None if everyone else sorted(keep)

    def revision_of(self, dossier: Dossier) -> int | None:
        """The revision a dossier object was loaded from (``None`` for a new one)."""
        entry = dossier._loaded_from
        if entry is None or entry[0] != self.location or entry[1] != dossier.account.id:
            return None
        return entry[2]

    def history(self, account_id: str) -> pd.DataFrame:
        """Every revision of an account, oldest first."""
        with self._read() as conn:
            self._readable(conn, self._access(conn), [account_id])
            rows = conn.execute(
                select(
                    revisions.c.number,
                    revisions.c.based_on,
                    revisions.c.author,
                    revisions.c.created_at,
                    revisions.c.message,
                )
                .where(and_(revisions.c.kind == _ACCOUNT, revisions.c.key == account_id))
                .order_by(revisions.c.number)
            ).all()
        frame = pd.DataFrame(
            rows, columns=["revision", "based_on", "author", "created_at", "message"]
        )
        frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
        return frame

    def diff(
        self,
        account_id: str,
        rev_a: int | date | datetime,
        rev_b: int | date | datetime | None = None,
    ) -> pd.DataFrame:
        """Field-level changes from ``rev_a`` to ``rev_b`` (default: newest).

        Columns: ``field`` (a path such as ``deals[D-7].probability``; list items with an id
        are named by it), ``change`` (added / removed / changed), ``before``, ``after``.
        """
        a = self.load(account_id, rev_a)
        b = self.load(account_id, rev_b)
        return diff_records(a.model_dump(mode="json"), b.model_dump(mode="json"))

    def fingerprint(self, account_ids: Iterable[str] | None = None) -> str:
        """A short hash of the newest revisions of some (default: all) accounts and the team:
        it changes whenever their data changes."""
        h = hashlib.sha256()
        with self._read() as conn:
            readable = self._readable(conn, self._access(conn))
            wanted = readable if account_ids is None else set(account_ids) & readable
            for kind, key, head in conn.execute(
                select(documents.c.kind, documents.c.key, documents.c.head).order_by(
                    documents.c.kind, documents.c.key
                )
            ):
                if kind == _ACCOUNT and key not in wanted:
                    continue
                h.update(f"{kind}/{key}@{head};".encode())
        return h.hexdigest()[:12]

    def _revision(self, conn: Connection, key: str, number: int) -> Revision:
        row = conn.execute(
            select(
                revisions.c.based_on,
                revisions.c.author,
                revisions.c.created_at,
                revisions.c.message,
            ).where(
                and_(
                    revisions.c.kind == _ACCOUNT,
                    revisions.c.key == key,
                    revisions.c.number == number,
                )
            )
        ).one()
        return Revision(key, number, row[0], row[1], row[2].replace(tzinfo=UTC), row[3])

    # -- writing ---------------------------------------------------------------------------
    def save(
        self,
        dossier: Dossier,
        *,
        author: str = "kam",
        message: str = "",
        based_on: int | None = None,
        at: datetime | None = None,
    ) -> Revision:
        """Save a dossier as a new revision and return it.

        ``based_on`` defaults to the revision the dossier was loaded from (``None`` for a new
        account). If the account changed since, :class:`~kam.errors.StaleRevision` is raised and
        nothing is written. Moving the account, or one of its deals, into a later sales stage
        checks the stage gate (DOMAIN.md §1); a new account is gated at its stage, a new deal is
        recorded where it stands.
        """
        with self._tx() as conn:
            return self._save(conn, dossier, author, message, based_on, at)

    def restore(
        self,
        account_id: str,
        revision: int | date | datetime,
        *,
        author: str = "kam",
        message: str = "",
        based_on: int | None = None,
    ) -> Revision:
        """Undo: save an earlier revision's content as a new revision (history is kept).

        ``based_on`` (default: the newest revision) guards against restoring over a change
        someone saved in the meantime. The restored content is checked as any save is.

        Examples
        --------
        >>> import tempfile
        >>> from kam.model import Account, Dossier
        >>> ws = Workspace(tempfile.mkdtemp(), create=True)
        >>> _ = ws.save(Dossier(account=Account(id="ACME", name="Acme", phone="+1 555 0100")),
        ...            author="ann")
        >>> d = ws.load("ACME")
        >>> d.account.name = "Acme Steel"
        >>> _ = ws.save(d, author="ann")
        >>> rev = ws.restore("ACME", 1, author="ann", message="undo the rename")
        >>> rev.number, ws.load("ACME").account.name
        (3, 'Acme')
        """
        old = self.load(account_id, revision)
        with self._tx() as conn:
            head = self._head(conn, _ACCOUNT, account_id)
            if based_on is not None and based_on != head:
                raise StaleRevision(account_id, based_on, head)
            number = self._revision_number(conn, account_id, revision)
            text = message or f"restored revision {number}"
            return self._save(conn, old, author, text, head, None, restoring=True)

    def save_many(
        self,
        dossiers: Iterable[Dossier],
        *,
        author: str = "kam",
        message: str = "",
        at: datetime | None = None,
        file: str | None = None,
        team: Team | None = None,
    ) -> list[Revision]:
        """Save many dossiers in one transaction: if any fails, none is saved.

        An account that exists gets a new revision based on its newest one (this is how an
        import updates accounts); a new account gets revision 1. A ``team`` given is saved as
        the new team roster first, in the same transaction (the dossiers are checked against it).
        """
        out: list[Revision] = []
        problems: list[ValidationProblem] = []
        dossiers = list(dossiers)
        # A failed batch is rolled back: its dossier objects stay based on what they were.
        marks = [d._loaded_from for d in dossiers]
        try:
            with self._tx() as conn:
                self._save_all(conn, dossiers, author, message, at, file, team, out, problems)
        except BaseException:
            for d, mark in zip(dossiers, marks, strict=True):
                d._loaded_from = mark
            raise
        return out

    def _save_all(self, conn: Connection, dossiers: list[Dossier], author: str, message: str,
                  at: datetime | None, file: str | None, team: Team | None,
                  out: list[Revision], problems: list[ValidationProblem]) -> None:
        if team is not None:
            self._save_team(conn, team, author, message, at)
        for d in dossiers:
            try:
                key = d.account.id
                exists = conn.execute(
                    select(documents.c.head).where(
                        and_(documents.c.kind == _ACCOUNT, documents.c.key == key)
                    )
                ).first()
                base = int(exists[0]) if exists else None
                out.append(self._save(conn, d, author, message, base, at))
            except InputError as e:
                problems += [
                    ValidationProblem(p.record, p.field, p.message, p.file or file)
                    for p in e.problems
                ]
        if problems:
            raise InputError(problems)  # rolls the transaction back

    def _save(
        self,
        conn: Connection,
        dossier: Dossier,
        author: str,
        message: str,
        based_on: int | None,
        at: datetime | None,
        *,
        restoring: bool = False,
    ) -> Revision:
        _check_revision_text(author, message)
        key = dossier.account.id
        if based_on is None:
            based_on = self.revision_of(dossier)
        access = self._access(conn)
        if access.role in (Role.DIRECTOR, Role.ANALYST):
            raise access.refuse_write(key, None)
        # The head row is locked until the transaction ends: on a server database concurrent
        # saves of one account queue here and the later ones see the newer head (SQLite's
        # BEGIN IMMEDIATE already serialises all writers).
        row = conn.execute(
            select(documents.c.head, documents.c.owner).where(
                and_(documents.c.kind == _ACCOUNT, documents.c.key == key)
            ).with_for_update()
        ).first()
        head = int(row[0]) if row else 0
        if row is not None and not access.may_write(row[1]):
            raise access.refuse_write(key, row[1])
        if not access.may_write(dossier.account.kam):
            raise access.refuse_write(key, dossier.account.kam, new_owner=True)
        if row is not None and based_on is None:
            raise DuplicateAccount(
                f"Account {key!r} already exists (revision {head}); load it with "
                f"ws.load({key!r}) and edit that, or pass based_on={head} to overwrite on purpose"
            )
        if row is None and based_on is not None:
            raise AccountNotFound(key, self._keys(conn))
        if row is not None and based_on != head:
            raise StaleRevision(key, based_on, head)
        dossier.assign_ids()  # lines appended since validation get theirs before they are stored
        # The door of the store: the whole dossier is checked as an import checks it, however
        # its objects were changed (ids, references, stages, value ranges), then against the
        # revision it replaces (stage gate, stage history) and the team.
        checked = validate_dossier(dossier, stages=self.stages, cost_config=self.cost_config,
                                   scenarios=self.scenarios, scoring=self.scoring)
        before = _revision_data(conn, _ACCOUNT, key, head) if head else None
        self._check(conn, checked, before, restoring=restoring)
        # Lean revisions: the revision keeps what people edit; the lines go to their own
        # table, where only the lines that changed are written.
        data, new_lines = split(checked)
        changes = line_changes(conn, key, new_lines)
        if before is not None and data == before and not changes:
            # Nothing changed (a re-run cell, a save pressed twice): no new revision.
            dossier._loaded_from = (self.location, key, head)
            return self._revision(conn, key, head)
        number = head + 1
        created = (at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
        if row is None:
            try:
                with conn.begin_nested():
                    conn.execute(insert(documents).values(
                        kind=_ACCOUNT, key=key, head=number, name=dossier.account.name,
                        owner=dossier.account.kam))
            except IntegrityError:  # created by someone else since we looked
                raise DuplicateAccount(
                    f"Account {key!r} was just created by someone else; load it with "
                    f"ws.load({key!r}) and edit that") from None
        else:
            res = conn.execute(
                update(documents)
                .where(
                    and_(
                        documents.c.kind == _ACCOUNT,
                        documents.c.key == key,
                        documents.c.head == head,
                    )
                )
                .values(head=number, name=dossier.account.name, owner=dossier.account.kam)
            )
            if res.rowcount != 1:  # someone else won the race on a server database
                raise StaleRevision(key, based_on, head + 1)
        write_lines(conn, changes, number)
        conn.execute(
            insert(revisions).values(
                kind=_ACCOUNT,
                key=key,
                number=number,
                based_on=based_on or None,
                author=author,
                created_at=created,
                message=message,
                data=data,
            )
        )
        dossier._loaded_from = (self.location, key, number)
        return Revision(key, number, based_on or None, author, created.replace(tzinfo=UTC), message)

    def _check(self, conn: Connection, dossier: Dossier, before: str | None, *,
               restoring: bool = False) -> None:
        """Checks against the stored revision and the team: the stage gate on a move forward,
        a stage history entry for every deal whose stage changed, team references."""
        previous = SalesStage.LEAD.number - 1
        was: dict[str, str] = {}
        if before is not None:
            old = json.loads(before)
            previous = SalesStage(old["account"]["sales_stage"]).number
            was = {x["id"]: x["stage"] for x in old.get("deals", [])}
        if dossier.account.sales_stage.number > previous:
            check_stage(dossier)
        problems: list[ValidationProblem] = []
        # Deals moved to a later stage are gated. A deal saved for the first time is a record of
        # where it stands (e.g. history from a CRM import, whose report lists what it lacks).
        for i, deal in enumerate(dossier.deals):
            stage_before = was.get(deal.id)
            if stage_before is None or stage_before == deal.stage:
                continue
            if SalesStage.number_of(deal.stage) > SalesStage.number_of(stage_before):
                check_deal_stage(dossier, deal)
            if not restoring and not (deal.history and deal.history[-1].stage == deal.stage):
                problems.append(ValidationProblem(
                    f"account {dossier.account.id} / deals[{i}] ({deal.id})", "history",
                    f"the stage changed from {stage_before!r} to {deal.stage!r} without a stage "
                    f"history entry; move deals with dossier.move_deal({deal.id!r}, "
                    f"{deal.stage!r}, on=...)"))
        team = self._team(conn)
        if team.members:
            problems += _team_problems(dossier, team)
        if problems:
            raise InputError(problems)

    # -- the team roster -------------------------------------------------------------------
    def team(self) -> Team:
        """Our sales team (planners, KAMs, client-managers)."""
        with self._read() as conn:
            return self._team(conn)

    def _team(self, conn: Connection) -> Team:
        head = self._head(conn, _TEAM, _TEAM_KEY)
        if not head:
            return Team()
        return Team.model_validate_json(_revision_data(conn, _TEAM, _TEAM_KEY, head))

    def save_team(
        self, team: Team, *, author: str = "kam", message: str = "", at: datetime | None = None
    ) -> Revision:
        """Save the team roster as a new revision (the roster has history too)."""
        with self._tx() as conn:
            return self._save_team(conn, team, author, message, at)

    def _save_team(
        self, conn: Connection, team: Team, author: str, message: str, at: datetime | None
    ) -> Revision:
        _check_revision_text(author, message)
        access = self._access(conn)
        if access.restricted and access.role is not Role.PLANNER:
            raise access.refuse_team()
        team = _checked_team(team)
        row = conn.execute(select(documents.c.head).where(
            and_(documents.c.kind == _TEAM, documents.c.key == _TEAM_KEY)).with_for_update()
        ).first()
        head = int(row[0]) if row else 0
        created = (at or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
        conn.execute(
            insert(revisions).values(
                kind=_TEAM,
                key=_TEAM_KEY,
                number=head + 1,
                based_on=head or None,
                author=author,
                created_at=created,
                message=message,
                data=team.model_dump_json(),
            )
        )
        if head:
            conn.execute(
                update(documents)
                .where(and_(documents.c.kind == _TEAM, documents.c.key == _TEAM_KEY))
                .values(head=head + 1)
            )
        else:
            conn.execute(insert(documents).values(kind=_TEAM, key=_TEAM_KEY, head=1, name="team"))
        # The reporting lines, for the roles' reach (and the row-level security on a server).
        conn.execute(members.delete())
        if team.members:
            conn.execute(insert(members), [{"id": m.id, "manager": m.manager}
                                           for m in team.members])
        return Revision(
            _TEAM_KEY, head + 1, head or None, author, created.replace(tzinfo=UTC), message
        )


def _load_scoring(source: ConfigSource) -> Any:
    from ..prospects import load_scoring_config

    return load_scoring_config(source)


def _older_rule(err: Any) -> bool:
    """Whether a stored value breaks only a rule newer than the revision: text with a control
    character, or a figure beyond +-1e15 (both were accepted before they were refused)."""
    ctx = err.get("ctx") or {}
    if err["type"] == "string_pattern_mismatch":
        return ctx.get("pattern") == TEXT_PATTERN
    if err["type"] in ("less_than_equal", "greater_than_equal"):
        return bound_message(ctx.get("le", ctx.get("ge")), "") is not None
    return False


def _as_stored(text: str, error: ValidationError) -> Dossier | None:
    """A stored revision that breaks only rules newer than itself, loaded exactly as stored.

    History is never lost to a new rule, and one old revision must not stop every analysis of
    the workspace: the values are checked against placeholders, then put back as stored. The next
    save of the account is checked as every save is, and names each value to fix. ``None`` when
    the revision is damaged in any other way."""
    errors = error.errors(include_url=False)
    if not all(_older_rule(err) for err in errors):
        return None
    kept: list[tuple[list[int | str], int | str, Any]] = []
    try:
        data = json.loads(text)
        for err in errors:
            *path, last = err["loc"]
            node = data
            for step in path:
                node = node[step]
            kept.append((path, last, node[last]))
            node[last] = "?" if isinstance(node[last], str) else 1
        dossier = Dossier.model_validate(data, context=_TRUSTED)
    except (ValidationError, ValueError, LookupError, TypeError):
        return None
    for path, last, value in kept:
        obj: Any = dossier
        for step in path:
            obj = obj[step] if isinstance(step, int) else getattr(obj, step)
        if isinstance(last, int):
            obj[last] = value
        else:
            obj.__dict__[last] = value  # as stored, past the check it predates
    return dossier


def _checked_team(team: Team) -> Team:
    """The team roster validated again as a whole (lists changed in place included)."""
    data = team.model_dump(mode="json", warnings=False, fallback=lambda v: f"<{type(v).__name__}>")
    try:
        return Team.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors(include_url=False):
            loc = list(err["loc"])
            record = "team" + (f" / members[{loc[1]}]" if loc[:1] == ["members"] and len(loc) > 1
                               and isinstance(loc[1], int) else "")
            rest = loc[2:] if record != "team" else loc
            field, msg = error_message(err, ".".join(str(x) for x in rest))
            problems.append(ValidationProblem(record, field, msg))
        raise InputError(problems) from None


def _revision_data(conn: Connection, kind: str, key: str, number: int) -> str:
    """The stored JSON of one revision."""
    query = select(revisions.c.data).where(
        and_(revisions.c.kind == kind, revisions.c.key == key, revisions.c.number == number)
    )
    return str(conn.execute(query).scalar_one())


_DOSSIER_TABLES = "documents, revisions, lines, line_columns"
"""The tables of dossiers, which a KAM or planner writes (row-level security decides which
rows)."""


def _grant_tables(conn: Connection, name: str, role: Role) -> None:
    """Let the database role ``name`` use kam's tables (PostgreSQL): read them all -- the
    row-level security policies decide which rows --, write dossiers as a KAM or planner, and
    the team's reporting lines as a planner."""
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": name}).first()
    if exists is None:
        return  # the server's administrator makes logins; granted when the role exists
    who = conn.dialect.identifier_preparer.quote(name)
    writing = role in (Role.KAM, Role.PLANNER)
    conn.execute(text(f"GRANT SELECT ON {_DOSSIER_TABLES}, users, members, alembic_version "
                      f"TO {who}"))
    conn.execute(text(f"REVOKE INSERT, UPDATE, DELETE ON {_DOSSIER_TABLES}, users, members "
                      f"FROM {who}"))
    if writing:
        conn.execute(text(f"GRANT INSERT, UPDATE ON {_DOSSIER_TABLES} TO {who}"))
        conn.execute(text(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {who}"))
    if role is Role.PLANNER:
        conn.execute(text(f"GRANT DELETE, INSERT ON members TO {who}"))


def _revoke_tables(conn: Connection, name: str) -> None:
    """Take back everything :func:`_grant_tables` gave the database role ``name``."""
    if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": name}).first():
        who = conn.dialect.identifier_preparer.quote(name)
        conn.execute(text(f"REVOKE ALL ON {_DOSSIER_TABLES}, users, members, alembic_version "
                          f"FROM {who}"))
        conn.execute(text(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {who}"))


def _dossier_data(conn: Connection, key: str, number: int) -> str:
    """The whole dossier of one revision as JSON: the revision and its lines."""
    return assemble(_revision_data(conn, _ACCOUNT, key, number), lines_at(conn, key, number))


def _team_problems(d: Dossier, team: Team) -> list[ValidationProblem]:
    """References from a dossier to our team must name team members."""
    known = team.ids()
    persons = {p.id for p in d.persons}
    acc = f"account {d.account.id}"
    problems: list[ValidationProblem] = []
    hint = ", ".join(sorted(known)[:8])

    def check(record: str, field: str, values: Iterable[str | None],
              also: set[str] | None = None) -> None:
        for value in values:
            if value and value not in known and not (also and value in also):
                what = "a team member or a client person" if also else "a team member"
                problems.append(
                    ValidationProblem(record, field,
                                      f"{short_repr(value)} is not {what}; team: {hint}")
                )

    check(acc, "kam", [d.account.kam])
    for i, p in enumerate(d.persons):
        check(f"{acc} / persons[{i}] ({p.id})", "reached_by", p.reached_by)
    for i, x in enumerate(d.interactions):
        check(f"{acc} / interactions[{i}] ({x.id})", "our_participants", x.our_participants)
    for i, c in enumerate(d.commitments):
        check(f"{acc} / commitments[{i}] ({c.id})", "owner", [c.owner])
    for i, deal in enumerate(d.deals):
        check(f"{acc} / deals[{i}] ({deal.id})", "manager", [deal.manager])
    for i, t in enumerate(d.tasks):
        check(f"{acc} / tasks[{i}] ({t.id})", "assignee", [t.assignee])
        check(f"{acc} / tasks[{i}] ({t.id})", "created_by", [t.created_by])
    for i, judged in enumerate(d.assessments):
        check(f"{acc} / assessments[{i}] ({judged.id})", "by", [judged.by])
    if d.plan is not None:
        for i, a in enumerate(d.plan.actions):
            check(f"{acc} / plan / actions[{i}] ({a.id})", "owner", [a.owner], persons)
    return problems
