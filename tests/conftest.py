"""Shared fixtures: an isolated data folder for every test, and a database on SQLite and on PostgreSQL.

PostgreSQL tests need ``HAIRTRACK_TEST_PG_URL`` (``.ci/run`` starts a server and sets it); each test
gets a database of its own, created empty and dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner, Result

from hairtrack.cli import app
from hairtrack.tracking import Store
from hairtrack.tracking.models import Base

PG_URL = os.environ.get("HAIRTRACK_TEST_PG_URL")
NO_PG = "HAIRTRACK_TEST_PG_URL is not set: no PostgreSQL to test against (.ci/run starts one and sets it)"


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Never touch the developer's real data folder or database.
    monkeypatch.setenv("HAIRTRACK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("HAIRTRACK_DB", raising=False)
    monkeypatch.delenv("HAIRTRACK_BUSY_TIMEOUT_S", raising=False)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a new, empty PostgreSQL database, dropped after the test."""
    if not PG_URL:
        pytest.skip(NO_PG)
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"hairtrack_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hairtrack.sqlite3'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def image_dir(tmp_path: Path) -> Path:
    return tmp_path / "data" / "images"


@pytest.fixture
def store(db_url: str, image_dir: Path) -> Iterator[Store]:
    with Store(db_url, image_dir=image_dir) as s:
        yield s


def snapshot(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every hairtrack table, read with a separate engine: 'the database is as before'."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            existing = set(sa.inspect(conn).get_table_names())
            return {
                table.name: sorted(tuple(map(repr, row)) for row in conn.execute(sa.select(table)))
                for table in Base.metadata.sorted_tables
                if table.name in existing
            }
    finally:
        engine.dispose()


@pytest.fixture
def cli(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Run ``hairtrack ARGS...`` in-process against the test database."""
    monkeypatch.setenv("HAIRTRACK_DB", db_url)
    runner = CliRunner()

    def run(*args: str, input: str | bytes | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return run


@pytest.fixture
def local_cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    """Like ``cli`` but on SQLite only: for commands whose storage is not what the test is about."""
    monkeypatch.setenv("HAIRTRACK_DB", f"sqlite:///{tmp_path / 'local.sqlite3'}")
    runner = CliRunner()

    def run(*args: str, input: str | bytes | None = None) -> Result:
        return runner.invoke(app, list(args), input=input, catch_exceptions=False)

    return run


@pytest.fixture
def image_threads(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A test may call ``set_threads``: the detector's count and OpenCV's are put back afterwards."""
    import cv2

    from hairtrack.imaging import learned

    monkeypatch.setattr(learned, "_THREADS", None)
    before = cv2.getNumThreads()
    yield
    cv2.setNumThreads(before)
