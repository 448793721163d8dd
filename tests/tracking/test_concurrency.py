"""Two hairtrack processes writing one SQLite file at once: both land, or one is told the database is
busy; never a torn import."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest

from hairtrack.tracking import Store, write_measurements_csv
from hairtrack.domain import Measurement, Zone


def _history(profile: str, visits: int) -> str:
    start = dt.date(2020, 1, 1)
    rows = [
        Measurement(profile=profile, date=start + dt.timedelta(days=7 * i), zone=zone, replicate=r, hairs_per_cm2=100.0 + i % 50 + r)
        for i in range(visits)
        for zone in Zone
        for r in (1, 2, 3)
    ]
    return write_measurements_csv(rows)


def _import(path: Path, db: Path, timeout_s: str) -> subprocess.Popen[str]:
    env = {**os.environ, "HAIRTRACK_BUSY_TIMEOUT_S": timeout_s}
    return subprocess.Popen(
        [sys.executable, "-m", "hairtrack", "import", "measurements", str(path), "--db", str(db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


@pytest.mark.parametrize("timeout_s", ["10", "0.001"])
def test_two_processes_importing_at_once(tmp_path: Path, timeout_s: str) -> None:
    db = tmp_path / "shared.sqlite3"  # new: both processes also race to create the schema
    files = {}
    for name in ("a", "b"):
        files[name] = tmp_path / f"{name}.csv"
        files[name].write_text(_history(name, 150))  # 2,250 rows each
    procs = {name: _import(path, db, timeout_s) for name, path in files.items()}
    results = {name: (p.wait(timeout=120), *p.communicate()) for name, p in procs.items()}

    with Store(f"sqlite:///{db}", image_dir=tmp_path / "img") as store:
        counts = {p.name: p.scans for p in store.list_profiles()}
    for name, (rc, out, err) in results.items():
        if rc == 0:
            assert out == "imported 2250 measurements (new profiles: %s)\n" % name
            assert counts[name] == 2250
        else:
            # Only a too-short wait may fail, with the clear message, and then nothing of it is stored.
            assert timeout_s != "10", err
            assert rc == 1 and "database busy" in err, err
            assert name not in counts
    if timeout_s == "10":
        assert counts == {"a": 2250, "b": 2250}
