"""Engines and migrations: SQLite (WAL, foreign keys, write transactions that queue) or PostgreSQL.

SQLite allows one writer at a time. A plain ``BEGIN`` takes the write lock only at the first write, and
two such transactions can deadlock (each holds a read snapshot the other must wait out), which SQLite
answers with an immediate "database is locked" that the busy timeout does not cover. Writers here
therefore start with ``BEGIN IMMEDIATE``: they queue on the lock for up to ``busy_timeout_s`` and then
fail with :class:`~hairtrack.errors.DatabaseBusyError`. Readers use plain ``BEGIN`` and, under WAL, never
wait for a writer.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from hairtrack.errors import DatabaseBusyError, DatabaseVersionError, HairtrackError

__all__ = ["Engines", "create_engines", "migrate", "downgrade", "head_revision", "current_revision", "translate_db_errors"]

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
# Any constant works; it only has to be the same for every hairtrack process on one PostgreSQL.
_PG_MIGRATION_LOCK = 0x4A17_7AC4


class Engines:
    """A reading and a writing engine on one database (the same engine on PostgreSQL)."""

    def __init__(self, read: sa.Engine, write: sa.Engine):
        self.read = read
        self.write = write

    @property
    def dialect(self) -> str:
        return self.read.dialect.name

    def dispose(self) -> None:
        self.read.dispose()
        if self.write is not self.read:
            self.write.dispose()


def _switch_to_wal(cur: sqlite3.Cursor, database: str, busy_timeout_s: float) -> None:
    """Put the file in WAL mode, waiting up to ``busy_timeout_s`` for other processes.

    Converting needs an exclusive lock, and when another connection holds the write lock (another
    process creating the same new file, say) SQLite answers "database is locked" at once without
    calling the busy handler, so the timeout alone does not cover it. WAL mode is stored in the file,
    so the common case, a file already converted, is answered by reading it and takes no lock.
    """
    deadline = time.monotonic() + busy_timeout_s
    pause_s = 0.005
    while True:
        try:
            mode = str(cur.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            if mode != "wal":
                mode = str(cur.execute("PRAGMA journal_mode = WAL").fetchone()[0]).lower()
            if mode != "wal":
                raise HairtrackError(f"could not switch {database} to WAL journal mode (got {mode})")
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy_message(str(exc)) or time.monotonic() + pause_s > deadline:
                raise
        time.sleep(pause_s)
        pause_s = min(2 * pause_s, 0.1)


def _sqlite_engine(url: sa.URL, *, busy_timeout_s: float, begin: str) -> sa.Engine:
    engine = sa.create_engine(url, connect_args={"timeout": busy_timeout_s})

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
        # Take transaction control from pysqlite so that BEGIN is ours (SQLAlchemy's documented recipe).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
        cur.execute("PRAGMA foreign_keys = ON")
        if url.database in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode = WAL")  # a memory database answers "memory"; nothing to share
        else:
            _switch_to_wal(cur, url.database, busy_timeout_s)
        cur.execute("PRAGMA synchronous = NORMAL")  # safe under WAL; a crash loses at most the last commit
        cur.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql(begin)

    return engine


def _create_private(path: Path) -> None:
    """Create a new SQLite file (and the folders it needs) readable by its owner only: it holds health data,
    and a default umask would let every user of the machine read it. SQLite gives its -wal and -shm files the
    database's permissions; an existing file and folders keep theirs."""
    missing = [p for p in (path.parent, *path.parent.parents) if not p.exists()]
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            folder.mkdir(mode=0o700)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))  # an empty file is an empty database


def create_engines(url: str, *, busy_timeout_s: float = 10.0) -> Engines:
    """Create the engines for ``url``; for a SQLite file, create its folder first."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:" and not parsed.database.startswith("file:"):
            _create_private(Path(parsed.database).expanduser())
        return Engines(
            read=_sqlite_engine(parsed, busy_timeout_s=busy_timeout_s, begin="BEGIN"),
            write=_sqlite_engine(parsed, busy_timeout_s=busy_timeout_s, begin="BEGIN IMMEDIATE"),
        )
    if parsed.get_backend_name() == "postgresql":
        engine = sa.create_engine(parsed, pool_pre_ping=True)
        return Engines(read=engine, write=engine)
    raise HairtrackError(
        f"unsupported database {parsed.get_backend_name()!r}: use a SQLite path or a postgresql:// URL"
    )


def _alembic_config(connection: sa.Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The newest migration this version of hairtrack knows."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None  # the package always ships at least one migration
    return head


def current_revision(connection: sa.Connection) -> str | None:
    """The migration the database is at, or None for an empty database."""
    return MigrationContext.configure(connection).get_current_revision()


def migrate(engines: Engines, *, target: str = "head") -> str:
    """Bring the database to ``target`` (an empty one included), safely against concurrent starts.

    Returns the revision the database is at afterwards.

    Raises
    ------
    DatabaseVersionError
        The database holds tables that are not hairtrack's, or a revision newer than this program.
    """
    script = ScriptDirectory.from_config(_alembic_config())
    if target == "head":
        # The common case, an up-to-date database, needs no write lock: a reader can open the store
        # while another process writes.
        with translate_db_errors(), engines.read.connect() as conn:
            current = current_revision(conn)
        if current is not None and current == script.get_current_head():
            return current
    with translate_db_errors(), engines.write.begin() as conn:
        if engines.dialect == "postgresql":
            # Serialises concurrent migrations; SQLite's BEGIN IMMEDIATE already did that.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
        current = current_revision(conn)
        if current is None:
            foreign = [t for t in sa.inspect(conn).get_table_names() if t != "alembic_version"]
            if foreign:
                raise DatabaseVersionError(
                    "this database already has tables that are not hairtrack's "
                    f"({', '.join(sorted(foreign)[:5])}); point --db at a new or hairtrack database"
                )
        else:
            try:
                script.get_revision(current)
            except Exception as exc:  # alembic raises several types for an unknown revision
                raise DatabaseVersionError(
                    f"the database is at schema revision {current!r}, which this hairtrack does not know: "
                    "it was written by a newer version; upgrade hairtrack"
                ) from exc
        if current != script.get_current_head() or target != "head":
            command.upgrade(_alembic_config(conn), target)
        return current_revision(conn) or "base"


def downgrade(engines: Engines, target: str) -> None:
    """Take the schema back to ``target`` (for tests and for developers; the app never does this)."""
    with engines.write.begin() as conn:
        command.downgrade(_alembic_config(conn), target)


def _is_busy_message(message: str) -> bool:
    message = message.lower()
    return "database is locked" in message or "database is busy" in message


def _is_busy(exc: sa.exc.OperationalError) -> bool:
    return _is_busy_message(str(exc.orig))


@contextlib.contextmanager
def translate_db_errors() -> Iterator[None]:
    """Turn driver errors a person can act on into :class:`HairtrackError` subclasses."""
    try:
        yield
    except sa.exc.OperationalError as exc:
        if _is_busy(exc):
            raise DatabaseBusyError(
                "database busy: another hairtrack process kept it locked past the busy timeout "
                "(HAIRTRACK_BUSY_TIMEOUT_S); nothing was changed, try again"
            ) from exc
        raise HairtrackError(f"database error: {exc.orig}") from exc
    except sa.exc.DatabaseError as exc:
        if isinstance(exc.orig, sqlite3.DatabaseError) and "not a database" in str(exc.orig):
            raise HairtrackError("the --db file is not a SQLite database") from exc
        raise
