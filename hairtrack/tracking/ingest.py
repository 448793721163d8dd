"""Saving measured photos as scans: one path for the command line and the web app.

Each new image is also registered to the previous scan of its zone (the same replicate number where
there is one), so that the record knows whether it shows the same patch of scalp: the overlap, the
hairs kept, lost and new in the common field, and ``different_field``. The capture checks use these
figures (a different patch is left out of the verdict; a small overlap counts for less). When the zone's
first visit is an earlier one, the image is registered to it as well (``registration_first``): the
verdict measures the change on the matched hairs (``analysis.matched``), and steps straight to the
first visit keep the error from piling up along a chain of monthly steps.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from hairtrack.domain import Measurement, Zone
from hairtrack.errors import HairtrackError, InputError
from hairtrack.tracking.store import Store

__all__ = ["NewScan", "save_scans", "registration_figures", "matched_pairs", "Remeasured", "remeasure_scans", "register_zone", "is_stale"]


@dataclass(frozen=True)
class NewScan:
    """A measured photo ready to save: its name, the stored (metadata-free) bytes, the decoded pixels and
    the analyze object."""

    name: str
    stored_bytes: bytes
    rgb: np.ndarray
    result: dict[str, Any]


def _points(result: Mapping[str, Any]) -> np.ndarray:
    return np.array([(h["y_px"], h["x_px"]) for h in result.get("hairs", [])], dtype=float).reshape(-1, 2)


def _register(reference: tuple[Measurement, bytes | np.ndarray, Mapping[str, Any]], scan: NewScan) -> dict[str, Any]:
    from hairtrack.imaging.io import load_image
    from hairtrack.imaging.register import compare, comparison_to_dict, match_tolerance_px

    ref_m, ref_image, ref_result = reference
    lengths = [h["length_px"] for h in (*ref_result.get("hairs", []), *scan.result.get("hairs", [])) if h.get("length_px")]
    ref_rgb = ref_image if isinstance(ref_image, np.ndarray) else load_image(ref_image).rgb
    found = comparison_to_dict(compare(ref_rgb, scan.rgb, _points(ref_result), _points(scan.result),
                                       tol_px=match_tolerance_px(ref_rgb.shape, lengths)))
    return {
        "reference": {"date": ref_m.date.isoformat(), "zone": ref_m.zone.value, "replicate": ref_m.replicate},
        "overlap_pct": found["overlap_pct"], "different_field": "different_field" in found["flags"],
        "flags": found["flags"], "kept": len(found["kept"]), "lost": len(found["lost"]), "new": len(found["new"]),
        "change_pct": found.get("change_pct"), "transform": found["transform"],
    }


_ScanKey = tuple[dt.date, Zone, int]
_REGISTRATIONS_PER_CALL = 12
# a registration to redo: the reference scan, its photo's sha and its result, the scan's photo's sha and result
_RegistrationJob = tuple[Measurement, str, Mapping[str, Any], str, Mapping[str, Any]]


def register_zone(jobs: Sequence[_RegistrationJob], images: Mapping[str, bytes | str]) -> list[dict[str, Any]]:
    """Stored scans registered to their reference scans again, in turn: a ``registration`` record, or
    ``{"error"}``, for each ``(reference, reference sha, reference result, sha, result)`` of ``jobs``.

    ``images`` maps each sha to the photo's bytes or to why the store could not read it. Registration is a
    check on the photo, never a reason to lose it, so any failure is recorded, not raised. Consecutive
    registrations of one zone run in one call so that each photo's keypoints are found once
    (``imaging.register`` keeps the last few) although it is registered two to four times; a top-level
    function of plain values, so that worker processes can run it.
    """
    from hairtrack.imaging.io import load_image

    out: list[dict[str, Any]] = []
    decoded: dict[str, np.ndarray] = {}  # a scan with two references is decoded once
    for ref_m, ref_sha, ref_result, sha, result in jobs:
        ref_image, image = images[ref_sha], images[sha]
        if isinstance(ref_image, str) or isinstance(image, str):
            out.append({"error": ref_image if isinstance(ref_image, str) else image})
            continue
        try:
            if sha not in decoded:
                decoded[sha] = load_image(image).rgb
            out.append(_register((ref_m, ref_image, ref_result), NewScan("", b"", decoded[sha], dict(result))))
        except Exception as exc:
            out.append({"error": str(exc)})
    return out


def _method_of(result: Mapping[str, Any]) -> str | None:
    method = result.get("method")
    return method[:100] if isinstance(method, str) and method else None


def save_scans(
    store: Store,
    template: Measurement,
    scans: Sequence[NewScan],
    *,
    register: bool = True,
) -> list[Measurement]:
    """Save measured photos of one zone at one visit as replicates (numbered after those already there).

    ``template`` carries the profile, date, zone and capture conditions; each scan's figures come from its
    analyze object. With ``register``, each image is compared with the zone's previous scan that has an
    image, and the result is kept in the scan's analysis under ``registration``.
    """
    stored = store.scan_images(template.profile)
    _check_new(stored, template.profile, scans)
    previous = first = None
    if register:
        earlier = [(m, sha) for m, sha in stored if m.zone == template.zone and m.date < template.date]
        if earlier:
            def visit(day):
                return sorted([(m, sha) for m, sha in earlier if m.date == day], key=lambda x: x[0].replicate)
            previous = visit(max(m.date for m, _ in earlier))
            first_day = min(m.date for m, _ in earlier)
            first = visit(first_day) if first_day != previous[0][0].date else None
    items = []
    analyses = store.scan_analyses(template.profile) if previous else {}
    for i, scan in enumerate(scans):
        analysis = dict(scan.result)
        for key, refs in (("registration", previous), ("registration_first", first)):
            if not refs:
                continue
            ref_m, sha = refs[min(i, len(refs) - 1)]  # i-th new photo to i-th replicate, as _reference picks
            ref_result = analyses.get((ref_m.date, ref_m.zone, ref_m.replicate)) or {}
            try:
                analysis[key] = _register((ref_m, store.images.read(sha), ref_result), scan)
            except Exception as exc:  # registration is a check on the photo, never a reason to lose it
                analysis[key] = {"error": str(exc)}
        r = scan.result
        items.append((
            replace(template, replicate=1, hairs_per_cm2=r["hairs_per_cm2"], fu_per_cm2=r.get("fu_per_cm2"),
                    hairs_per_fu=r.get("hairs_per_fu"), mean_width_um=r.get("mean_width_um"),
                    terminal_fraction=r.get("terminal_fraction"), coverage_pct=r.get("coverage_pct"), image=scan.name),
            scan.stored_bytes, analysis,
        ))
    saved = store.add_scans(items)  # one transaction: all the photos of the visit, or none
    return saved


def _check_new(stored: Iterable[tuple[Measurement, str]], profile: str, scans: Sequence[NewScan]) -> None:
    """Refuse, before anything is written, a batch with a photo that gives no density or that is saved already.

    The same photo twice is not two replicates: it would halve the noise the verdict sees, and a re-added
    month would show no change at all. Photos are compared by the SHA-256 of their stored bytes (metadata
    removed, so a copy that differs only in its EXIF is the same photo).
    """
    from hairtrack.imaging.measure import no_density_reason

    saved = {sha: m for m, sha in stored}
    seen: dict[str, str] = {}
    for scan in scans:
        reason = no_density_reason(scan.result)
        if reason:
            raise InputError(f"{scan.name}: {reason} Nothing was saved.")
        digest = hashlib.sha256(scan.stored_bytes).hexdigest()
        if digest in saved:
            m = saved[digest]
            raise InputError(f"{scan.name}: this photo is already saved for {profile} ({m.date} {m.zone.value} replicate "
                             f"{m.replicate}); the same photo again is not a new measurement. Nothing was saved.")
        if digest in seen:
            raise InputError(f"{scan.name}: the same photo as {seen[digest]} earlier in this batch; replicates must be "
                             "separate photos. Nothing was saved.")
        seen[digest] = scan.name


def registration_figures(analyses: Mapping[tuple[dt.date, Zone, int], Mapping[str, Any]]) -> dict[tuple[dt.date, Zone, int], Any]:
    """Per-scan figures for :func:`hairtrack.analysis.protocol.check_protocol` from stored analyses."""
    from hairtrack.analysis.protocol import ScanFigures

    figures = {}
    for key, analysis in analyses.items():
        reg = analysis.get("registration") or {}
        issues = tuple((analysis.get("quality") or {}).get("issues") or ())
        if "overlap_pct" in reg or analysis.get("px_per_mm") or issues:
            figures[key] = ScanFigures(
                px_per_mm=analysis.get("px_per_mm"),
                overlap_pct=reg.get("overlap_pct"),
                different_field=reg.get("different_field"),
                quality_issues=issues,
            )
    return figures


def matched_pairs(analyses: Mapping[tuple[dt.date, Zone, int], Mapping[str, Any]]) -> list[Any]:
    """The hairs matched between each stored image and its reference scan, for ``judge(..., matched=...)``.

    Scans without a registration (imported rows, the first visit of a zone), whose registration failed,
    or whose stored figures are not readable (a damaged or hand-edited record) give nothing: the verdict
    then uses independent counts for them instead of failing.
    """
    from hairtrack.analysis.matched import MatchedPair

    out = []
    for (date, zone, replicate), analysis in analyses.items():
        for key in ("registration", "registration_first"):
            reg = analysis.get(key) or {}
            ref = reg.get("reference") or {}
            try:
                ref_date = dt.date.fromisoformat(ref["date"])
            except (KeyError, TypeError, ValueError):
                continue
            counts = [reg.get(k) for k in ("kept", "lost", "new")]
            if reg.get("different_field"):
                counts = [0, 0, 0]  # a different patch: no counts, kept out by matched_steps
            elif not all(isinstance(c, int) and c >= 0 for c in counts):
                continue
            overlap = reg.get("overlap_pct")
            out.append(MatchedPair(Zone(zone), date, replicate, ref_date, *counts,
                                   float(overlap) if isinstance(overlap, (int, float)) else None,
                                   bool(reg.get("different_field"))))
    return out


@dataclass(frozen=True)
class Remeasured:
    """One scan measured again: its stored figures (``before``) and the new ones (``after``, with the new
    ``method``). ``registered`` says whether a registration of it was redone (it has an earlier visit)."""

    before: Measurement
    after: Measurement
    registered: bool

    def to_dict(self) -> dict[str, Any]:
        """The JSON of the CLI's ``scan remeasure --json`` lines and of the API's ``scans``."""
        return {
            "date": self.after.date.isoformat(), "zone": self.after.zone.value, "replicate": self.after.replicate,
            "image": self.after.image, "method_before": self.before.method, "method": self.after.method,
            "hairs_per_cm2_before": self.before.hairs_per_cm2, "hairs_per_cm2": self.after.hairs_per_cm2,
            "registration_redone": self.registered,
        }


def _reference(
    candidates: Sequence[tuple[Measurement, str]], stored: Any, replicate: int
) -> tuple[Measurement, str] | None:
    """The reference scan a registration uses: the one its stored registration names while that scan exists,
    else the replicate of the same number (or the last one). (``save_scans`` pairs the i-th photo of a batch
    with the i-th replicate, which is the same unless replicates were added in later batches.)"""
    if not candidates:
        return None
    ref = stored.get("reference") if isinstance(stored, Mapping) else None
    if isinstance(ref, Mapping):  # a damaged record is treated as none
        for m, sha in candidates:
            if ref.get("date") == m.date.isoformat() and ref.get("replicate") == m.replicate:
                return m, sha
    return candidates[min(replicate, len(candidates)) - 1]


def is_stale(measurement: Measurement, method: str) -> bool:
    """Whether ``measurement`` was measured by another method than ``method`` (or by an unnamed one)."""
    return (measurement.method or "").strip().lower() != method.strip().lower()


def _map_in_turn(fn: Callable[..., Any], args: Iterable[tuple[Any, ...]]) -> Generator[Any, None, None]:
    for a in args:
        yield fn(*a)


class _Unreadable(InputError):
    """A stored photo the store could not read (its message names the scan)."""


def remeasure_scans(
    store: Store,
    profile: str,
    measure: Callable[[bytes, str, Zone, float], dict[str, Any]],
    *,
    method: str,
    zones: Sequence[Zone] | None = None,
    every: bool = False,
    save: bool = True,
    today: dt.date | None = None,
    on_step: Callable[[str], None] | None = None,
    map_calls: Callable[[Callable[..., Any], Iterable[tuple[Any, ...]]], Generator[Any, None, None]] | None = None,
) -> list[Remeasured]:
    """Measure a profile's stored photos again with the current method, so that its history is like for like.

    Parameters
    ----------
    store : Store
        The record.
    profile : str
        Whose scans.
    measure : callable
        ``measure(image_bytes, name, zone, px_per_mm) -> analyze object``; raises a ``HairtrackError``
        (with a message for the person) for a photo that cannot be measured.
    method : str
        The method ``measure`` uses (``imaging.analyze.measurement_method``). Unless ``every``, only scans
        measured by another method (or by an unnamed one) are measured again.
    zones : sequence of Zone, optional
        Only these zones.
    every : bool
        Measure every stored photo again, whatever its method.
    save : bool
        Without it nothing is written: the result says what would change.
    today : date, optional
        The date written into each replaced analysis's history (default: today).
    on_step : callable, optional
        Called with a short label after each photo measured and each registration redone (a progress bar).
    map_calls : callable, optional
        ``map_calls(fn, args)``, a generator, yields ``fn(*a)`` for each ``a`` of ``args`` in order, raising
        where that call raised, and is closed when left: a process pool (the CLI's ``--jobs``). It runs the
        measuring, a photo a call (``measure``, which must then be picklable), and the registrations, a run
        of consecutive ones of a zone a call (:func:`register_zone`); by default they run one after another
        here. ``args`` reads the photos from the store as it is drawn.

    Returns
    -------
    list of Remeasured
        The scans measured again, by date, zone and replicate. Scans without a stored photo (imported rows)
        are never touched.

    Notes
    -----
    Each photo keeps the scale it was measured with (its stored ``px_per_mm``). Registrations to the earlier
    scans of a zone compare hairs, so every registration in a zone with a scan measured again is redone. The
    figures replaced are kept in the analysis under ``replaced`` (method, densities, width and the date),
    newest last. All or nothing: one photo that cannot be measured now
    saves none, with an error that names the scan.
    """
    today = today or dt.date.today()
    step = on_step or (lambda _label: None)
    images = [(m, sha) for m, sha in store.scan_images(profile) if zones is None or m.zone in zones]
    analyses = store.scan_analyses(profile)
    key = lambda m: (m.date, m.zone, m.replicate)  # noqa: E731
    chosen = [(m, sha) for m, sha in images if every or is_stale(m, method)]
    if not chosen:
        return []
    where = lambda m: f"{m.date} {m.zone.value} replicate {m.replicate}"  # noqa: E731
    scales: list[float] = []
    for m, _sha in chosen:  # every scale is checked before any photo is measured
        px_per_mm = (analyses.get(key(m)) or {}).get("px_per_mm")
        if isinstance(px_per_mm, bool) or not isinstance(px_per_mm, int | float) or not px_per_mm > 0:
            raise InputError(f"the scan {where(m)} has no stored scale (px/mm), so it cannot be measured again; nothing was saved")
        scales.append(float(px_per_mm))

    def measure_args() -> Iterator[tuple[bytes, str, Zone, float]]:
        for (m, sha), ppm in zip(chosen, scales, strict=True):
            try:
                data = store.images.read(sha)
            except (OSError, HairtrackError) as exc:  # named here: a pool reads ahead of the results
                raise _Unreadable(f"the photo of {where(m)} cannot be read ({exc}); nothing was saved") from exc
            yield data, m.image or sha[:12], m.zone, ppm

    pooled = map_calls is not None
    map_calls = map_calls or _map_in_turn
    new_results: dict[_ScanKey, dict[str, Any]] = {}
    with contextlib.closing(map_calls(measure, measure_args())) as results:
        for m, _sha in chosen:
            try:
                result = next(results)
            except _Unreadable:
                raise
            except HairtrackError as exc:
                raise InputError(f"the photo of {where(m)} cannot be measured again ({exc}); nothing was saved") from exc
            new_results[key(m)] = {**result, "image": m.image or result.get("image")}
            step("measure")

    # Registrations compare hairs: in a zone where any scan has other hairs now, every registration is redone
    # (a stored one may name a reference that the rule below would no longer pick, e.g. after a visit was
    # added later with an earlier date).
    changed = set(new_results)
    by_zone: dict[Zone, list[tuple[Measurement, str]]] = {}
    for m, sha in store.scan_images(profile):
        by_zone.setdefault(m.zone, []).append((m, sha))
    planned: list[list[tuple[tuple[_ScanKey, str], _RegistrationJob]]] = []  # runs of ((scan, field), job)
    for zone_scans in by_zone.values():
        if not changed & {key(m) for m, _ in zone_scans}:
            continue
        days = sorted({m.date for m, _ in zone_scans})
        visit = {d: sorted([x for x in zone_scans if x[0].date == d], key=lambda x: x[0].replicate) for d in days}
        zone_jobs: list[tuple[tuple[_ScanKey, str], _RegistrationJob]] = []
        for m, sha in zone_scans:
            earlier = [d for d in days if d < m.date]
            if not earlier:
                continue
            stored = analyses.get(key(m)) or {}
            result = new_results.get(key(m)) or stored
            for field, day in (("registration", earlier[-1]), ("registration_first", earlier[0] if earlier[0] != earlier[-1] else None)):
                if day is None:
                    continue
                found = _reference(visit[day], stored.get(field), m.replicate)
                if found is None:
                    continue
                ref_m, ref_sha = found
                ref_result = new_results.get(key(ref_m)) or analyses.get(key(ref_m)) or {}
                zone_jobs.append(((key(m), field), (ref_m, ref_sha, ref_result, sha, result)))
        # Given a pool, in runs of consecutive registrations: a photo's keypoints are found once per run, in the
        # worker that has it, and a run's photos are all one call holds. Here, one at a time: the keypoint
        # cache of this process serves them all.
        per_call = _REGISTRATIONS_PER_CALL if pooled else 1
        planned.extend(zone_jobs[i:i + per_call] for i in range(0, len(zone_jobs), per_call))

    def registration_args() -> Iterator[tuple[Any, ...]]:
        for zone_jobs in planned:
            images: dict[str, bytes | str] = {}
            for _which, (_ref_m, ref_sha, _ref_result, sha, _result) in zone_jobs:
                for one in (ref_sha, sha):
                    if one not in images:
                        try:
                            images[one] = store.images.read(one)
                        except (OSError, HairtrackError) as exc:  # recorded in the registration, as any failure
                            images[one] = str(exc)
            yield [job for _which, job in zone_jobs], images

    registrations: dict[_ScanKey, dict[str, Any]] = {}
    with contextlib.closing(map_calls(register_zone, registration_args())) as zones_found:
        for zone_jobs, found in zip(planned, zones_found, strict=True):
            for ((k, field), _job), one in zip(zone_jobs, found, strict=True):
                registrations.setdefault(k, {})[field] = one
                step("register")

    out: list[Remeasured] = []
    items: list[tuple[Measurement, str, dict[str, Any]]] = []
    for m, sha in sorted(images, key=lambda x: (x[0].date, x[0].zone.value, x[0].replicate)):
        k = key(m)
        if k not in new_results and k not in registrations:
            continue
        stored = analyses.get(k) or {}
        if k in new_results:
            r = new_results[k]
            earlier_figures = stored.get("replaced")
            replaced = [x for x in earlier_figures if isinstance(x, dict)] if isinstance(earlier_figures, list) else []
            replaced.append({"method": m.method, "hairs_per_cm2": m.hairs_per_cm2, "fu_per_cm2": m.fu_per_cm2,
                             "hairs_per_fu": m.hairs_per_fu, "mean_width_um": m.mean_width_um,
                             "terminal_fraction": m.terminal_fraction, "replaced_on": today.isoformat()})
            analysis = {**r, "replaced": replaced}
            for field in ("registration", "registration_first"):  # kept where not redone
                if field in stored:
                    analysis[field] = stored[field]
            after = replace(m, hairs_per_cm2=r["hairs_per_cm2"], fu_per_cm2=r.get("fu_per_cm2"), hairs_per_fu=r.get("hairs_per_fu"),
                            mean_width_um=r.get("mean_width_um"), terminal_fraction=r.get("terminal_fraction"),
                            coverage_pct=r.get("coverage_pct"), method=_method_of(r))
        else:
            analysis, after = dict(stored), m
        analysis.update(registrations.get(k, {}))
        items.append((after, sha, analysis))
        if k in new_results:
            out.append(Remeasured(before=m, after=after, registered=k in registrations))
    if save:
        store.replace_analyses(profile, items)
    return out
