"""Time of ``scan remeasure --all`` on the bundled sample history, beside the way it ran before.

Builds the sample profile with a synthetic close-up per scan (``hairtrack demo --images``: 144 scans, four
zones, a year of visits) in a temporary folder, then measures every stored photo again
(``tracking.ingest.remeasure_scans``, as the command does) and prints the seconds spent measuring, and
redoing the registrations and saving, for:

- the baseline: one process, each registration searching both photos' keypoints anew (the keypoint cache of
  ``imaging.register`` switched off: how hairtrack ran before the twelfth session);
- one process with the cache (a photo registered two to four times is searched once);
- ``--jobs`` worker processes (``scan remeasure --jobs N``), runs of up to 12 consecutive registrations of a zone
  a call.

All in the same run, each on its own copy of the same store, saving as the command does; the analyses each
run saves (measurements and registrations, less the elapsed times) must equal the baseline's. Run from the
repository root::

    PYTHONPATH=. .venv/bin/python benchmarks/remeasure.py [--jobs 2]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _comparable(value):
    """The stored analyses without what changes from run to run (the measuring time)."""
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k != "elapsed_ms"}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=2, help="worker processes for the parallel run (>= 2)")
    args = ap.parse_args(argv)
    if args.jobs < 2:
        ap.error("--jobs must be at least 2 (the one-process runs are always measured)")
    from hairtrack.cli.measuring import _map_in_pool, _pool, _usable_cores
    from hairtrack.imaging import register
    from hairtrack.imaging.analyze import measurement_method
    from hairtrack.imaging.measure import measure_stored
    from hairtrack.tracking import Store
    from hairtrack.tracking.ingest import remeasure_scans

    with tempfile.TemporaryDirectory() as tmp:
        db, data = Path(tmp) / "h.sqlite3", Path(tmp) / "data"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "hairtrack", "demo", "--images", "--db", str(db), "--data-dir", str(data)],
                       check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
        print(f"sample history with a close-up per scan made in {time.perf_counter() - t0:.1f} s; "
              f"{_usable_cores()} usable cores")
        method = measurement_method("learned")
        measure = functools.partial(measure_stored, detector=None)
        runs = [("baseline: one process, no keypoint cache", 1, 0),
                ("one process, keypoint cache", 1, register._FEATURE_CACHE_SIZE),
                (f"--jobs {args.jobs}, keypoint cache", args.jobs, register._FEATURE_CACHE_SIZE)]
        cache_size = register._FEATURE_CACHE_SIZE
        reference = None
        print(f"{'run':<44}{'scans':>6}{'regs':>6}{'measure s':>11}{'register+save s':>17}{'total s':>9}{'same':>6}")
        print("(same: the analyses saved, registrations included, equal the baseline's)")
        for label, jobs, size in runs:
            register._FEATURE_CACHE_SIZE = size  # in this process; workers start with the default
            register._feature_cache.clear()
            copy = Path(tmp) / f"run{len(label)}-{jobs}-{size}"
            shutil.copytree(data, copy / "data")
            shutil.copy(db, copy / "h.sqlite3")
            marks: dict[str, list[float]] = defaultdict(list)
            start = time.perf_counter()
            with Store(f"sqlite:///{copy / 'h.sqlite3'}", image_dir=copy / "data" / "images") as store, \
                    (_pool(jobs) if jobs > 1 else contextlib.nullcontext()) as pool:
                done = remeasure_scans(store, "sample", measure, method=method, every=True, today=dt.date(2026, 1, 1),
                                       on_step=lambda step: marks[step].append(time.perf_counter() - start),
                                       map_calls=None if pool is None else _map_in_pool(pool, jobs))
                total = time.perf_counter() - start
                result = _comparable(store.scan_analyses("sample"))
            reference = result if reference is None else reference
            measured = marks["measure"][-1] if marks["measure"] else 0.0
            print(f"{label:<44}{len(done):>6}{len(marks['register']):>6}{measured:>11.1f}{total - measured:>17.1f}"
                  f"{total:>9.1f}{'yes' if result == reference else 'NO':>6}")
        register._FEATURE_CACHE_SIZE = cache_size
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
