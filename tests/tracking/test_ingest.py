"""Saved scans are registered to the zone's previous scan; a different patch is excluded from the verdict."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from hairtrack.analysis import judge
from hairtrack.analysis.protocol import check_protocol, protocol_weights
from hairtrack.domain import Measurement, Zone
from hairtrack.imaging.measure import measure_upload
from hairtrack.synth import render_scalp
from hairtrack.tracking import Store
from hairtrack.tracking.ingest import NewScan, matched_pairs, registration_figures, save_scans


def _scan(rgb: np.ndarray, name: str, px_per_mm: float = 150.0) -> NewScan:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    measured = measure_upload(buffer.getvalue(), name, zone=Zone.CROWN, px_per_mm=px_per_mm, overlay=False)
    return NewScan(name, buffer.getvalue(), measured.loaded.rgb, measured.result)


def test_registration_is_stored_and_feeds_the_capture_checks(tmp_path: Path) -> None:
    scalp = np.asarray(render_scalp(seed=4, shape=(512, 640), px_per_mm=150.0, n_units=30, difficulty="easy").image)
    moved = cv2.warpAffine(scalp, cv2.getRotationMatrix2D((320, 256), 8, 1.0), (640, 512), borderMode=cv2.BORDER_REFLECT)
    elsewhere = np.asarray(render_scalp(seed=77, shape=(512, 640), px_per_mm=150.0, n_units=30, difficulty="easy").image)
    with Store(f"sqlite:///{tmp_path / 'h.sqlite3'}", image_dir=tmp_path / "img") as store:
        store.add_profile("p")
        days = [dt.date(2025, 1, 6), dt.date(2025, 2, 3), dt.date(2025, 3, 3)]
        for day, rgb in zip(days, (scalp, moved, elsewhere), strict=True):
            save_scans(store, Measurement(profile="p", date=day, zone=Zone.CROWN), [_scan(rgb, f"{day}.png")])
        analyses = store.scan_analyses("p")
        first, second, third = (analyses[(d, Zone.CROWN, 1)] for d in days)
        assert "registration" not in first
        assert second["registration"]["reference"]["date"] == "2025-01-06"
        assert not second["registration"]["different_field"] and second["registration"]["overlap_pct"] > 70
        assert third["registration"]["different_field"]
        assert third["registration_first"]["reference"]["date"] == "2025-01-06"  # also against the first visit
        assert third["registration_first"]["different_field"] and "registration_first" not in second
        checks = check_protocol(store.measurements("p"), figures=registration_figures(analyses))
        weights = protocol_weights(checks)
        assert weights[(days[2], Zone.CROWN, 1)] == 0.0 and weights[(days[1], Zone.CROWN, 1)] > 0.0
        verdict = judge(store.measurements("p"), scan_weights=weights)
        assert "capture_excluded" in {f.code for f in verdict.flags}


def test_a_blurred_photo_is_saved_but_weighs_less_in_the_verdict(tmp_path: Path) -> None:
    """The photo's own quality check (blurry) reaches the capture check through the stored analysis: the flag
    halves the scan's weight and names why (a blurred photo once counted at full weight, unless its registration
    failed, as this one's does too)."""
    scalp = np.asarray(render_scalp(seed=4, shape=(512, 640), px_per_mm=179.0, n_units=12, difficulty="easy").image)
    soft = cv2.GaussianBlur(scalp, (0, 0), 6)
    with Store(f"sqlite:///{tmp_path / 'h.sqlite3'}", image_dir=tmp_path / "img") as store:
        store.add_profile("p")
        days = [dt.date(2025, 1, 6), dt.date(2025, 2, 3)]
        for day, rgb in zip(days, (scalp, soft), strict=True):
            save_scans(store, Measurement(profile="p", date=day, zone=Zone.CROWN), [_scan(rgb, f"{day}.png", 179.0)])
        analyses = store.scan_analyses("p")
        assert "blurry" in analyses[(days[1], Zone.CROWN, 1)]["quality"]["issues"]
        checks = check_protocol(store.measurements("p"), figures=registration_figures(analyses))
    [late] = [c for c in checks if c.date == days[1]]
    [flag] = [f for f in late.flags if f.code == "photo_quality"]
    assert flag.factor == 0.5 and "blurry" in flag.message


def test_matched_pairs_link_each_visit_to_the_previous_and_the_first(tmp_path: Path) -> None:
    scalp = np.asarray(render_scalp(seed=4, shape=(512, 640), px_per_mm=110.0, n_units=30, difficulty="easy").image)
    turned = [cv2.warpAffine(scalp, cv2.getRotationMatrix2D((320, 256), a, 1.0), (640, 512),
                             borderMode=cv2.BORDER_REFLECT) for a in (0, 6, -9)]
    with Store(f"sqlite:///{tmp_path / 'h.sqlite3'}", image_dir=tmp_path / "img") as store:
        store.add_profile("p")
        days = [dt.date(2025, 1, 6), dt.date(2025, 2, 3), dt.date(2025, 3, 3)]
        for day, rgb in zip(days, turned, strict=True):
            save_scans(store, Measurement(profile="p", date=day, zone=Zone.CROWN), [_scan(rgb, f"{day}.png", 110.0)])
        pairs = matched_pairs(store.scan_analyses("p"))
    links = sorted((p.reference_date, p.date) for p in pairs)
    assert links == [(days[0], days[1]), (days[0], days[2]), (days[1], days[2])]
    for p in pairs:  # the same ~40 hairs, turned: most kept, the count about the same (the detector is not
        # perfectly consistent: about one hair in seven is seen in one photo only, see analysis.matched)
        assert not p.different_field and p.kept >= 20
        assert abs(p.log_ratio) < 0.2 and p.kept / (p.kept + p.lost) > 0.75


def test_unreadable_stored_registrations_are_skipped_not_fatal() -> None:
    day, ref = dt.date(2025, 2, 3), {"date": "2025-01-06", "zone": "crown", "replicate": 1}
    good = {"reference": ref, "kept": 40, "lost": 3, "new": 5, "overlap_pct": 80.0, "different_field": False}
    analyses = {
        (day, Zone.CROWN, 1): {"registration": good},
        (day, Zone.CROWN, 2): {"registration": {**good, "reference": {**ref, "date": "2025-13-45"}}},
        (day, Zone.CROWN, 3): {"registration": {**good, "kept": "forty"}},
        (day, Zone.CROWN, 4): {"registration": {**good, "lost": -3}},
        (day, Zone.CROWN, 5): {"registration": {"error": "no features"}},
        (day, Zone.CROWN, 6): {"registration": {**good, "reference": None}},
    }
    pairs = matched_pairs(analyses)
    assert [(p.replicate, p.kept, p.lost, p.new) for p in pairs] == [(1, 40, 3, 5)]


# -- measuring stored photos again ----------------------------------------------------------------------


def _png(rgb: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "PNG")
    return buffer.getvalue()


def _turned_visits() -> list[bytes]:
    scalp = np.asarray(render_scalp(seed=4, shape=(512, 640), px_per_mm=110.0, n_units=30, difficulty="easy").image)
    return [_png(cv2.warpAffine(scalp, cv2.getRotationMatrix2D((320, 256), a, 1.0), (640, 512), borderMode=cv2.BORDER_REFLECT))
            for a in (0, 6, -9)]


DAYS = [dt.date(2025, 1, 6), dt.date(2025, 2, 3), dt.date(2025, 3, 3)]


def _save(store: Store, pngs: list[bytes], detectors: list[str], zone: Zone = Zone.CROWN) -> None:
    for day, data, detector in zip(DAYS, pngs, detectors, strict=True):
        measured = measure_upload(data, f"{day}.png", zone=zone, px_per_mm=110.0, overlay=False, detector=detector)
        save_scans(store, Measurement(profile="p", date=day, zone=zone, device="derm"),
                   [NewScan(f"{day}.png", data, measured.loaded.rgb, measured.result)])


def _measure(data: bytes, name: str, zone: Zone, px_per_mm: float) -> dict:
    from hairtrack.imaging.measure import measure_stored

    return measure_stored(data, name, zone, px_per_mm)


def _registrations(store: Store) -> dict:
    keep = ("reference", "overlap_pct", "different_field", "kept", "lost", "new")
    return {k: {f: {x: a[f][x] for x in keep} for f in ("registration", "registration_first") if f in a}
            for k, a in store.scan_analyses("p").items()}


@pytest.mark.parametrize("run", [12, 2], ids=["one-run", "runs-of-2"])
def test_remeasuring_stale_scans_gives_the_record_a_fresh_save_would_give(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                         run: int) -> None:
    from hairtrack.imaging.analyze import measurement_method
    from hairtrack.tracking import ingest
    from hairtrack.tracking.ingest import remeasure_scans

    monkeypatch.setattr(ingest, "_REGISTRATIONS_PER_CALL", run)  # the zone's 3 registrations in one call, or 2 + 1

    pngs, learned, classical = _turned_visits(), measurement_method("learned"), measurement_method("classical")
    with Store(f"sqlite:///{tmp_path / 'fresh.sqlite3'}", image_dir=tmp_path / "fresh") as fresh, \
            Store(f"sqlite:///{tmp_path / 'old.sqlite3'}", image_dir=tmp_path / "old") as old:
        for store in (fresh, old):
            store.add_profile("p")
        _save(fresh, pngs, ["learned"] * 3)
        _save(old, pngs, ["classical", "learned", "learned"])  # the first visit measured by an older method
        old.import_measurements([Measurement("p", DAYS[1], Zone.DONOR, hairs_per_cm2=180.0)])  # no photo
        before = old.measurements("p")
        assert [m.method for m in before] == [classical, learned, None, learned]
        first_before = old.scan_analyses("p")[(DAYS[0], Zone.CROWN, 1)]

        steps: list[str] = []
        in_turn = lambda fn, args: (fn(*a) for a in args)  # noqa: E731 - a map given, as a pool is: runs are used
        done = remeasure_scans(old, "p", _measure, method=learned, today=dt.date(2026, 1, 2), on_step=steps.append,
                               map_calls=in_turn)
        # only the stale scan is measured again, but the registrations that used its hairs are redone
        assert [(r.before.date, r.before.method, r.after.method, r.registered) for r in done] == [(DAYS[0], classical, learned, False)]
        # every registration in the zone is redone: each of them may rest on the changed hairs
        assert steps.count("measure") == 1 and steps.count("register") == 3
        crown = [m for m in old.measurements("p") if m.zone == Zone.CROWN]
        assert crown == fresh.measurements("p") and before[2] in old.measurements("p")  # the imported row untouched
        assert _registrations(old) == _registrations(fresh)
        stored = old.scan_analyses("p")[(DAYS[0], Zone.CROWN, 1)]
        assert stored["replaced"] == [{"method": classical, "hairs_per_cm2": first_before["hairs_per_cm2"],
                                       "fu_per_cm2": first_before["fu_per_cm2"], "hairs_per_fu": first_before["hairs_per_fu"],
                                       "mean_width_um": first_before["mean_width_um"],
                                       "terminal_fraction": first_before["terminal_fraction"], "replaced_on": "2026-01-02"}]
        assert stored["image"] == f"{DAYS[0]}.png" and stored["method"] == learned

        # nothing left to do; --all measures everything again and keeps the whole history
        assert remeasure_scans(old, "p", _measure, method=learned) == []
        again = remeasure_scans(old, "p", _measure, method=learned, every=True, zones=[Zone.CROWN])
        assert len(again) == 3 and all(r.after == r.before for r in again)
        assert [x["method"] for x in old.scan_analyses("p")[(DAYS[0], Zone.CROWN, 1)]["replaced"]] == [classical, learned]


def test_remeasuring_is_all_or_nothing_and_a_dry_run_saves_nothing(tmp_path: Path) -> None:
    from hairtrack.errors import InputError
    from hairtrack.imaging.analyze import measurement_method
    from hairtrack.tracking.ingest import remeasure_scans
    from tests.conftest import snapshot

    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    with Store(url, image_dir=tmp_path / "img") as store:
        store.add_profile("p")
        _save(store, _turned_visits(), ["classical"] * 3)
        before = snapshot(url)

        preview = remeasure_scans(store, "p", _measure, method="learned/x/r2", save=False)
        assert len(preview) == 3 and all(r.after.method != measurement_method("classical") for r in preview)
        assert snapshot(url) == before

        calls = []

        def fails_on_the_second(data: bytes, name: str, zone: Zone, px_per_mm: float) -> dict:
            calls.append(name)
            if len(calls) == 2:
                raise InputError("this does not look like a close-up of scalp")
            return _measure(data, name, zone, px_per_mm)

        with pytest.raises(InputError, match=r"photo of 2025-02-03 crown replicate 1 cannot be measured again \(this does not look.*nothing was saved"):
            remeasure_scans(store, "p", fails_on_the_second, method="learned/x/r2")
        assert snapshot(url) == before

        # a stored analysis without its scale (a damaged record) is named, not guessed
        with store._write() as s:
            from hairtrack.tracking.models import Scan

            scan = s.query(Scan).filter(Scan.date == DAYS[2]).one()
            scan.analysis = {k: v for k, v in scan.analysis.items() if k != "px_per_mm"}
        damaged = snapshot(url)
        with pytest.raises(InputError, match="2025-03-03 crown replicate 1 has no stored scale"):
            remeasure_scans(store, "p", _measure, method="learned/x/r2")
        assert snapshot(url) == damaged


@pytest.mark.parametrize("jobs", [1, 2], ids=["in-turn", "pool"])
def test_a_lost_photo_is_named_when_measured_and_recorded_when_only_a_reference(tmp_path: Path, jobs: int) -> None:
    """A stored photo gone from the image folder: measuring it fails with its scan named and saves nothing;
    as the reference of a registration redone it is recorded in that registration, and the rest is saved.
    The same in one process and over a pool of workers (``scan remeasure --jobs``)."""
    import contextlib

    from hairtrack.cli.measuring import _map_in_pool, _pool
    from hairtrack.errors import InputError
    from hairtrack.imaging.analyze import measurement_method
    from hairtrack.imaging.measure import measure_stored
    from hairtrack.tracking.ingest import remeasure_scans
    from tests.conftest import snapshot

    learned = measurement_method("learned")
    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    with Store(url, image_dir=tmp_path / "img") as store:
        store.add_profile("p")
        _save(store, _turned_visits(), ["learned", "classical", "classical"])
        first_sha = next(sha for m, sha in store.scan_images("p") if m.date == DAYS[0])
        store.images.path_for(first_sha).unlink()
        before = snapshot(url)
        pool = _pool(jobs) if jobs > 1 else contextlib.nullcontext()
        with pool as workers:
            map_calls = None if workers is None else _map_in_pool(workers, jobs)
            with pytest.raises(InputError, match=r"photo of 2025-01-06 crown replicate 1 cannot be read .*nothing was saved"):
                remeasure_scans(store, "p", measure_stored, method="classical/r2", every=True, map_calls=map_calls)
            assert snapshot(url) == before
            # only Feb and Mar: Jan is learned already
            done = remeasure_scans(store, "p", measure_stored, method=learned, map_calls=map_calls)
        assert [r.before.date for r in done] == DAYS[1:]
        stored = store.scan_analyses("p")
        assert "No such file" in stored[(DAYS[1], Zone.CROWN, 1)]["registration"]["error"]  # to Jan
        assert "error" not in stored[(DAYS[2], Zone.CROWN, 1)]["registration"]  # Mar to Feb
        assert [m.method for m in store.measurements("p")] == [learned] * 3


def test_a_visit_added_later_with_an_earlier_date_is_registered_against_the_new_hairs(tmp_path: Path) -> None:
    """Jan (old method), Mar (registered to Jan), then Feb saved afterwards: Mar's stored registration names Jan,
    whose hairs change; after measuring again the record is the one a fresh save in date order gives."""
    from hairtrack.imaging.analyze import measurement_method
    from hairtrack.tracking.ingest import remeasure_scans

    pngs = dict(zip(DAYS, _turned_visits(), strict=True))
    with Store(f"sqlite:///{tmp_path / 'h.sqlite3'}", image_dir=tmp_path / "img") as store, \
            Store(f"sqlite:///{tmp_path / 'fresh.sqlite3'}", image_dir=tmp_path / "fresh") as fresh:
        for st, order, detectors in ((store, (0, 2, 1), ("classical", "learned", "learned")), (fresh, (0, 1, 2), ("learned",) * 3)):
            st.add_profile("p")
            for i, detector in zip(order, detectors, strict=True):
                day = DAYS[i]
                measured = measure_upload(pngs[day], f"{day}.png", zone=Zone.CROWN, px_per_mm=110.0, overlay=False, detector=detector)
                save_scans(st, Measurement(profile="p", date=day, zone=Zone.CROWN),
                           [NewScan(f"{day}.png", pngs[day], measured.loaded.rgb, measured.result)])
        assert store.scan_analyses("p")[(DAYS[2], Zone.CROWN, 1)]["registration"]["reference"]["date"] == "2025-01-06"
        remeasure_scans(store, "p", _measure, method=measurement_method("learned"))
        assert _registrations(store) == _registrations(fresh)
        assert store.scan_analyses("p")[(DAYS[2], Zone.CROWN, 1)]["registration"]["reference"]["date"] == "2025-02-03"


@pytest.mark.parametrize("damaged", ["garbage", ["x"], {"reference": "2025-01-06"}, {"reference": {"date": 5}}])
def test_a_damaged_stored_registration_is_redone_not_fatal(tmp_path: Path, damaged: object) -> None:
    from hairtrack.imaging.analyze import measurement_method
    from hairtrack.tracking.ingest import remeasure_scans
    from hairtrack.tracking.models import Scan

    with Store(f"sqlite:///{tmp_path / 'h.sqlite3'}", image_dir=tmp_path / "img") as store:
        store.add_profile("p")
        _save(store, _turned_visits(), ["classical"] * 3)
        with store._write() as s:
            scan = s.query(Scan).filter(Scan.date == DAYS[1]).one()
            scan.analysis = {**scan.analysis, "registration": damaged, "replaced": "not a list"}
        done = remeasure_scans(store, "p", _measure, method=measurement_method("learned"))
        assert len(done) == 3
        stored = store.scan_analyses("p")[(DAYS[1], Zone.CROWN, 1)]
        assert stored["registration"]["reference"]["date"] == "2025-01-06" and stored["registration"]["kept"] > 0
        assert [x["method"] for x in stored["replaced"]] == [measurement_method("classical")]


def test_replacing_analyses_checks_each_scan_and_is_all_or_nothing(tmp_path: Path) -> None:
    from hairtrack.errors import ConflictError, NotFoundError
    from tests.conftest import snapshot

    url = f"sqlite:///{tmp_path / 'h.sqlite3'}"
    with Store(url, image_dir=tmp_path / "img") as store:
        store.add_profile("p")
        _save(store, _turned_visits(), ["classical"] * 3)
        (m1, sha1), (m2, sha2), _ = store.scan_images("p")
        before = snapshot(url)
        new = dataclasses.replace(m1, hairs_per_cm2=1.0, method="x/r9")
        with pytest.raises(ConflictError, match="2025-02-03 crown replicate 1 no longer shows the image"):
            store.replace_analyses("p", [(new, sha1, {"method": "x/r9"}), (m2, sha1, {})])
        with pytest.raises(NotFoundError, match="no scan p 2025-02-03 donor replicate 1"):
            store.replace_analyses("p", [(new, sha1, {}), (dataclasses.replace(m2, zone=Zone.DONOR), sha2, {})])
        assert snapshot(url) == before  # the first item of each call was rolled back
        (saved,) = store.replace_analyses("p", [(new, sha1, {"method": "x/r9"})])
        assert saved == dataclasses.replace(new, device=m1.device) and store.scan_analyses("p")[(DAYS[0], Zone.CROWN, 1)] == {"method": "x/r9"}
        with pytest.raises(NotFoundError):
            store.as_owner(12345).replace_analyses("p", [(new, sha1, {})])


def test_a_scan_saved_with_an_analysis_takes_its_method(tmp_path: Path) -> None:
    with Store(f"sqlite:///{tmp_path / 'h.sqlite3'}", image_dir=tmp_path / "img") as store:
        store.add_profile("p")
        store.add_scan(Measurement("p", DAYS[0], Zone.CROWN, hairs_per_cm2=150.0), analysis={"method": "learned/abc/r2"})
        store.add_scan(Measurement("p", DAYS[1], Zone.CROWN, hairs_per_cm2=150.0, method="mine"), analysis={"method": "other"})
        store.add_scan(Measurement("p", DAYS[2], Zone.CROWN, hairs_per_cm2=150.0), analysis={"method": 7})
        assert [m.method for m in store.measurements("p")] == ["learned/abc/r2", "mine", None]


def test_a_stored_photo_that_now_gives_no_density_is_refused_when_measured_again() -> None:
    """The rule that keeps a photo with no density from being saved holds when a stored one is measured again:
    a picture too small to measure (saved by an older version) is refused, not saved over its old figures."""
    import io

    from PIL import Image

    from hairtrack.errors import InputError
    from hairtrack.imaging.measure import measure_stored
    from hairtrack.synth import render_scalp

    buffer = io.BytesIO()
    Image.fromarray(render_scalp(seed=2, shape=(48, 60), px_per_mm=220.0, difficulty="easy").image).save(buffer, "PNG")
    with pytest.raises(InputError, match="no density could be measured: the picture is only 60 x 48 px"):
        measure_stored(buffer.getvalue(), "tiny.png", Zone.CROWN, 220.0)
