"""The record store on SQLite and on a real PostgreSQL: migrations, records, deletion, all-or-nothing."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
import stat
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hairtrack.domain import Measurement, Money, Sex, Treatment, TreatmentKind, Zone
from hairtrack.errors import ConflictError, CsvError, DatabaseVersionError, HairtrackError, InputError, NotFoundError
from hairtrack.tracking import Store, read_measurements_csv, read_treatments_csv
from hairtrack.tracking import db as dbmod
from hairtrack.tracking.models import Base
from tests.conftest import snapshot

D = dt.date


def m(profile: str = "p1", date: dt.date = D(2025, 3, 1), zone: Zone = Zone.CROWN, replicate: int = 1, hairs: float = 150.0) -> Measurement:
    return Measurement(profile=profile, date=date, zone=zone, replicate=replicate, hairs_per_cm2=hairs)


# -- migrations --------------------------------------------------------------------------------------------


def test_migrating_an_empty_database_gives_exactly_the_models_schema(db_url: str, image_dir: Path) -> None:
    with Store(db_url, image_dir=image_dir) as store:
        assert store.revision == dbmod.head_revision()
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_to_base_and_up_again(db_url: str, image_dir: Path) -> None:
    store = Store(db_url, image_dir=image_dir)
    store.import_measurements([m()])
    dbmod.downgrade(store._engines, "base")
    assert set(snapshot(db_url)) == set()  # no hairtrack table left
    assert dbmod.migrate(store._engines) == dbmod.head_revision()
    assert store.measurements() == []
    store.close()


def test_an_older_database_with_data_is_migrated_on_start(db_url: str, image_dir: Path) -> None:
    engines = dbmod.create_engines(db_url)
    assert dbmod.migrate(engines, target="0001") == "0001"  # the first release's schema
    with engines.write.begin() as conn:
        conn.execute(sa.text("INSERT INTO profiles (name, created_at) VALUES ('old', CURRENT_TIMESTAMP)"))
    engines.dispose()
    with Store(db_url, image_dir=image_dir) as store:
        assert store.revision == dbmod.head_revision() != "0001"
        assert [p.name for p in store.list_profiles()] == ["old"]  # kept, and owned by the local user
        store.import_measurements([m("old")])
        assert len(store.measurements("old")) == 1


def test_migration_0005_gives_analysed_scans_the_method_their_analysis_names(db_url: str, image_dir: Path) -> None:
    engines = dbmod.create_engines(db_url)
    assert dbmod.migrate(engines, target="0004") == "0004"
    with engines.write.begin() as conn:
        conn.execute(sa.text("INSERT INTO profiles (name, created_at) VALUES ('old', CURRENT_TIMESTAMP)"))
        pid = conn.execute(sa.text("SELECT id FROM profiles")).scalar_one()
        for i, analysis in enumerate(['{"method": "learned/abc/r2", "hair_count": 3}', '{"hair_count": 3}', None], 1):
            conn.execute(sa.text("INSERT INTO scans (profile_id, zone, date, replicate, analysis, created_at) VALUES "
                                 "(:p, 'crown', '2025-03-01', :r, :a, CURRENT_TIMESTAMP)"), {"p": pid, "r": i, "a": analysis})
            sid = conn.execute(sa.text("SELECT id FROM scans WHERE replicate = :r"), {"r": i}).scalar_one()
            conn.execute(sa.text("INSERT INTO measurements (scan_id, source, hairs_per_cm2) VALUES (:s, 'analysis', 150)"),
                         {"s": sid})
    engines.dispose()
    with Store(db_url, image_dir=image_dir) as store:
        assert [x.method for x in store.measurements("old")] == ["learned/abc/r2", None, None]


def test_opening_twice_does_not_migrate_again_or_lose_data(db_url: str, image_dir: Path) -> None:
    with Store(db_url, image_dir=image_dir) as store:
        store.import_measurements([m()])
    before = snapshot(db_url)
    with Store(db_url, image_dir=image_dir) as store:
        assert len(store.measurements()) == 1
    assert snapshot(db_url) == before


def test_a_database_from_a_newer_hairtrack_is_refused(db_url: str, image_dir: Path) -> None:
    Store(db_url, image_dir=image_dir).close()
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    with pytest.raises(DatabaseVersionError, match="revision '9999_future'.*newer version; upgrade hairtrack"):
        Store(db_url, image_dir=image_dir)


def test_a_database_of_another_application_is_refused(db_url: str, image_dir: Path) -> None:
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    with pytest.raises(DatabaseVersionError, match=r"tables that are not hairtrack's \(invoices\)"):
        Store(db_url, image_dir=image_dir)


def test_a_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("this is not a database, it is a text file with enough bytes to look like a header" * 20)
    with pytest.raises(HairtrackError, match="not a SQLite database"):
        Store(f"sqlite:///{path}", image_dir=tmp_path / "img")
    assert path.read_text().startswith("this is not a database")


def test_sqlite_runs_with_wal_and_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    with Store(url, image_dir=tmp_path / "img") as store, store._engines.read.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_new_record_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    """Health data: with the usual umask 022 the database, its WAL and the image folders were readable by every
    user of the machine (the image files alone were 0600)."""
    old = os.umask(0o022)
    try:
        data = tmp_path / "data" / "nested"
        with Store(f"sqlite:///{data / 'h.sqlite3'}", image_dir=data / "images") as store:
            store.add_profile("p1")
            store.add_scan(m(), image_bytes=b"jpeg-bytes-1")
            made = [data.parent, data, *data.rglob("*")]
            assert any(p.name.endswith("-wal") for p in made)
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in made}
    finally:
        os.umask(old)
    assert all(mode & 0o077 == 0 for mode in modes.values()), modes


def test_opening_a_new_file_waits_while_another_process_converts_it(tmp_path: Path) -> None:
    # Two processes creating one new store: while one holds the write lock on the file, not yet in WAL
    # mode, SQLite refuses the other's switch to WAL at once, without its busy timeout (the cause of a
    # rare "database busy" when two imports started together on a new file).
    path = tmp_path / "h.sqlite3"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN IMMEDIATE")
    other.execute("INSERT INTO t VALUES (1)")
    committed: list[float] = []
    releases = threading.Timer(0.3, lambda: (other.execute("COMMIT"), committed.append(time.monotonic())))
    releases.start()
    engines = dbmod.create_engines(f"sqlite:///{path}", busy_timeout_s=5)
    try:
        with engines.read.connect() as conn:
            assert committed and time.monotonic() >= committed[0]  # it waited for the other (before the fix: at once)
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("SELECT x FROM t").scalars().all() == [1]
    finally:
        releases.join()
        engines.dispose()
        other.close()


def test_opening_a_file_held_past_the_busy_timeout_says_the_database_is_busy(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    try:
        with pytest.raises(HairtrackError, match="database busy"):
            Store(f"sqlite:///{path}", image_dir=tmp_path / "img", busy_timeout_s=0.2)
        assert time.monotonic() - started >= 0.15  # after the busy timeout, not at once
    finally:
        other.execute("ROLLBACK")
        other.close()


# -- records -----------------------------------------------------------------------------------------------


def test_profiles_are_added_listed_and_unique(store: Store) -> None:
    store.add_profile("zoe", sex=Sex.FEMALE, note="patient 12")
    store.add_profile("adam")
    assert [(p.name, p.sex, p.scans) for p in store.list_profiles()] == [("adam", None, 0), ("zoe", Sex.FEMALE, 0)]
    with pytest.raises(ConflictError, match="profile 'zoe' already exists"):
        store.add_profile("zoe")
    with pytest.raises(InputError, match="not usable"):
        store.add_profile("")
    with pytest.raises(NotFoundError, match="no profile named 'eve'"):
        store.profile("eve")


def test_measurements_come_back_ordered_by_profile_date_zone_replicate(store: Store) -> None:
    rows = [m("b", D(2025, 1, 1)), m("a", D(2025, 2, 1), Zone.DONOR), m("a", D(2025, 2, 1), Zone.CROWN, 2), m("a", D(2025, 2, 1), Zone.CROWN, 1), m("a", D(2025, 1, 1))]
    report = store.import_measurements(rows)
    assert report.rows == 5 and report.profiles_created == ("a", "b")
    got = store.measurements()
    assert [(x.profile, x.date, x.zone, x.replicate) for x in got] == sorted((x.profile, x.date, x.zone.value, x.replicate) for x in rows)
    assert store.measurements("b") == [rows[0]]


def test_import_is_all_or_nothing_when_one_row_is_already_stored(store: Store, db_url: str) -> None:
    store.import_measurements([m(replicate=1)])
    before = snapshot(db_url)
    parsed = read_measurements_csv(
        b"profile,date,zone,replicate,hairs_per_cm2\nnew,2025-03-02,crown,1,1\np1,2025-03-01,crown,1,2\n"
    )
    with pytest.raises(CsvError) as info:
        store.import_measurements(parsed)
    assert info.value.problems == [(3, "p1 2025-03-01 crown replicate 1 is already stored")]
    assert snapshot(db_url) == before  # not even the new profile of line 2


def test_import_without_creating_profiles_names_the_missing_one(store: Store, db_url: str) -> None:
    before = snapshot(db_url)
    with pytest.raises(CsvError, match="line 1: no profile named 'ghost'"):
        store.import_measurements([m("ghost")], create_profiles=False)
    assert snapshot(db_url) == before


def test_treatments_and_sessions_round_trip_exactly(store: Store) -> None:
    rows = [
        Treatment("p1", TreatmentKind.FINASTERIDE, D(2024, 3, 1), None, "1 mg daily", Money(Decimal("24.99"), "USD"), "Pharmacy"),
        Treatment("p1", TreatmentKind.MINOXIDIL_TOPICAL, D(2024, 3, 1), D(2024, 9, 1), "5% twice daily"),
        Treatment("p1", TreatmentKind.EV, D(2025, 2, 10), None, "2 ml", Money(Decimal("2500"), "USD"), "Clinic A", "first"),
        Treatment("p1", TreatmentKind.EV, D(2025, 3, 10), None, None, Money(Decimal("1234.5678"), "EUR"), "Clinic B"),
        Treatment("p1", TreatmentKind.PRP, D(2025, 1, 5), None, None, Money(Decimal("0"), "JPY")),
    ]
    store.import_treatments(rows)
    assert store.treatments("p1") == sorted(rows, key=lambda t: (t.date, t.treatment.value))
    assert store.profile("p1").treatments == 4 and store.profile("p1").sessions == 3  # 2 continuous + 2 courses


def test_a_session_on_the_same_day_or_a_repeated_start_is_refused(store: Store, db_url: str) -> None:
    store.import_treatments([Treatment("p1", TreatmentKind.PRP, D(2025, 1, 5)), Treatment("p1", TreatmentKind.FINASTERIDE, D(2024, 1, 1))])
    before = snapshot(db_url)
    text = b"treatment,date\nprp,2025-02-05\nprp,2025-01-05\nfinasteride,2024-01-01\n"
    with pytest.raises(CsvError) as info:
        store.import_treatments(read_treatments_csv(text, profile="p1"))
    assert info.value.problems == [
        (3, "p1 prp session on 2025-01-05 is already stored"),
        (4, "p1 finasteride started on 2024-01-01 is already stored"),
    ]
    assert snapshot(db_url) == before


def test_an_earlier_session_moves_the_course_start(store: Store) -> None:
    store.add_treatment(Treatment("p1", TreatmentKind.EV, D(2025, 3, 1)), create_profile=True)
    store.add_treatment(Treatment("p1", TreatmentKind.EV, D(2025, 1, 1)))
    assert [t.date for t in store.treatments("p1")] == [D(2025, 1, 1), D(2025, 3, 1)]


def test_devices_keep_their_scale(store: Store) -> None:
    info = store.add_device("dermlite", 152.5, px_per_mm_uncertainty=0.8)
    assert (info.name, info.px_per_mm, info.px_per_mm_uncertainty, info.calibration_method) == ("dermlite", 152.5, 0.8, "manual")
    with pytest.raises(ConflictError, match="already exists"):
        store.add_device("dermlite", 100)
    assert store.add_device("dermlite", 100, replace=True).px_per_mm == 100
    for bad in (0, -3.2, float("nan"), float("inf")):
        with pytest.raises(InputError, match="px_per_mm must be a finite number > 0"):
            store.add_device("x", bad)
    with pytest.raises(NotFoundError, match=r"no device named 'nope' \(saved devices: dermlite\)"):
        store.device("nope")


# -- scans with images and deletion ------------------------------------------------------------------------


def test_add_scan_stores_the_image_once_by_content_and_numbers_replicates(store: Store) -> None:
    store.add_profile("p1")
    first = store.add_scan(m(), image_bytes=b"jpeg-bytes-1", analysis={"hair_count": 31})
    second = store.add_scan(m(), image_bytes=b"jpeg-bytes-1")
    assert (first.replicate, second.replicate) == (1, 2)
    (_, digest), (_, digest2) = store.scan_images("p1")
    assert digest == digest2
    assert store.images.read(digest) == b"jpeg-bytes-1"
    assert len(list(store.images.root.rglob("*"))) == 2  # one fan-out folder, one file


def test_deleting_a_profile_removes_its_rows_and_files_and_says_how_many(store: Store, db_url: str) -> None:
    store.add_profile("p1")
    store.add_profile("p2")
    store.add_scan(m("p1", zone=Zone.CROWN), image_bytes=b"only-p1")
    store.add_scan(m("p1", zone=Zone.DONOR), image_bytes=b"shared")
    store.add_scan(m("p2"), image_bytes=b"shared")
    store.import_measurements([m("p1", D(2025, 4, 1))])
    store.import_treatments([Treatment("p1", TreatmentKind.EV, D(2025, 2, 1)), Treatment("p1", TreatmentKind.EV, D(2025, 3, 1)), Treatment("p1", TreatmentKind.FINASTERIDE, D(2024, 1, 1))])
    p2_before = (store.measurements("p2"), store.treatments("p2"))

    report = store.delete_profile("p1")

    assert (report.scans, report.measurements, report.treatments, report.sessions, report.providers, report.image_files) == (3, 3, 2, 2, 0, 1)
    assert [p.name for p in store.list_profiles()] == ["p2"]
    assert (store.measurements("p2"), store.treatments("p2")) == p2_before
    (_, shared), = store.scan_images("p2")
    assert store.images.read(shared) == b"shared"  # still used by p2
    assert sorted(p.name for p in store.images.root.rglob("*") if p.is_file()) == [shared]
    rows = snapshot(db_url)
    assert len(rows["scans"]) == len(rows["measurements"]) == 1 and rows["treatments"] == rows["sessions"] == []
    with pytest.raises(NotFoundError):
        store.delete_profile("p1")


def test_busy_sqlite_writer_gets_a_clear_error_and_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "h.sqlite3"
    url = f"sqlite:///{path}"
    with Store(url, image_dir=tmp_path / "img") as store:
        store.import_measurements([m()])
    before = snapshot(url)
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        with Store(url, image_dir=tmp_path / "img", busy_timeout_s=0.2) as store:
            with pytest.raises(HairtrackError, match="database busy"):
                store.import_measurements([m(date=D(2025, 3, 2))])
            assert len(store.measurements()) == 1  # reads go on under WAL while a writer holds the lock
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert snapshot(url) == before


def test_each_owner_sees_only_their_own_profiles(store: Store, db_url: str) -> None:
    alice = store.create_user("Alice@Example.org", "hash-a")
    bob = store.create_user("bob@example.org", "hash-b")
    assert alice.email == "alice@example.org"
    with pytest.raises(ConflictError, match="already exists"):
        store.create_user("ALICE@example.org", "x")
    with pytest.raises(InputError, match="not an e-mail address"):
        store.create_user("not-an-address", "x")
    as_alice, as_bob = store.as_owner(alice.id), store.as_owner(bob.id)
    as_alice.add_profile("me")
    as_bob.add_profile("me")  # the same name in another account is no conflict, and reveals nothing
    store.add_profile("me")  # the local (command-line) user
    as_alice.add_scan(m("me"), image_bytes=b"alice-image")
    as_bob.import_measurements([m("me", hairs=99.0)])
    assert [x.hairs_per_cm2 for x in as_alice.measurements()] == [150.0]
    assert [x.hairs_per_cm2 for x in as_bob.measurements("me")] == [99.0]
    assert store.measurements() == []
    (_, digest), = as_alice.scan_images("me")
    assert as_alice.image_of("me", digest) == b"alice-image"
    with pytest.raises(NotFoundError):
        as_bob.image_of("me", digest)
    with pytest.raises(NotFoundError):
        as_bob.delete_profile("nobody")
    as_bob.delete_profile("me")
    assert [p.name for p in as_alice.list_profiles()] == ["me"] and len(as_alice.measurements()) == 1
    assert store.user_by_email(" ALICE@example.org ") == alice and store.user(bob.id) == bob


def test_add_scans_is_all_or_nothing_and_leaves_no_stray_file(store: Store, db_url: str) -> None:
    store.add_profile("p1")
    before = snapshot(db_url)
    items = [(m(), b"photo-one", {"n": 1}), (m("ghost"), b"photo-two", {"n": 2})]  # the second names no profile
    with pytest.raises(NotFoundError):
        store.add_scans(items)
    assert snapshot(db_url) == before
    assert not store.images.root.exists() or not any(p.is_file() for p in store.images.root.rglob("*"))
    saved = store.add_scans([(m(), b"photo-one", None), (m(), b"photo-two", None)])
    assert [x.replicate for x in saved] == [1, 2]
