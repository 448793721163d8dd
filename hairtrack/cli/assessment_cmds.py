"""Commands for head photos and hair transplants: ``norwood``, ``grafts`` and ``diagrams``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hairtrack.cli._common import DataDirOpt, DbOpt, JsonOpt, emit_json, err, fail, open_store, out

__all__ = ["norwood", "grafts", "diagrams"]


def norwood(
    images: Annotated[list[Path] | None, typer.Argument(help="Head photos (front, top-down, left, right, back).", show_default=False)] = None,
    combine: Annotated[bool, typer.Option("--combine", help="The photos are views of one person: one answer for all.")] = False,
    profile: Annotated[str | None, typer.Option("--profile", "-p", help="Also use this profile's zone scans (density over the donor's): they tell stage I and the a variants apart. The photos are taken to be this person's.", show_default=False)] = None,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    json: JsonOpt = False,
) -> None:
    """Norwood-Hamilton stage from head photos and/or a profile's zone scans, with every stage's probability (men).

    An image that cannot be read gives {"image", "error"} (exit status 1); a photo that shows no usable
    head answers stage "unknown" with the reason rather than a guess.
    """
    from hairtrack.assessment import assess_photos, norwood_to_dict
    from hairtrack.imaging.io import ImageError, load_image

    images = images or []
    if not images and profile is None:
        fail("give head photos, or --profile NAME to stage from that profile's zone scans (or both)")
    scans = None
    if profile is not None:
        from hairtrack.assessment.record import norwood_from_scans

        with open_store(db, data_dir) as store:
            scans = norwood_from_scans(store.measurements(profile))
        if scans is None:
            message = f"{profile} needs a donor scan and a scan of another zone; staging from the photos only"
            if not images:
                fail(message.replace("; staging from the photos only", ""))
            err.print(f"hairtrack: note: {message}", markup=False)
    loaded, names, errors = [], [], []
    for path in images:
        try:
            loaded.append(load_image(path).rgb)
            names.append(str(path))
        except ImageError as exc:
            errors.append({"image": str(path), "error": str(exc).removeprefix(f"{path.name}: ").removeprefix(f"{path}: ")})
    one_person = combine or scans is not None
    results = [norwood_to_dict(r) for r in assess_photos(loaded, names=names, combine=one_person)] if loaded else []
    if scans is not None:
        from hairtrack.assessment.norwood_scans import norwood_with_scans_to_dict

        results = [norwood_with_scans_to_dict(results[0] if results else None, scans)]
    for item in errors + results if json else results:
        if json:
            emit_json(item)
            continue
        probs = sorted(item["probabilities"].items(), key=lambda kv: -kv[1])[:3]
        shown = ", ".join(f"stage {k}: {100 * v:.0f}%" for k, v in probs if v > 0)
        label = item["image"] if item["image"] else f"{profile} (scans)"
        source = f"; from {item['stage_source']}" if "stage_source" in item else ""
        out.print(f"{escape(str(label))}: [bold]{escape(item['stage'])}[/bold] ({item.get('view') or 'view unknown'}; {shown}{source})")
        cov = item.get("coverage") or {}
        measured = [f"{z.replace('_', ' ')} {v['area_cm2']:.0f} cm² ({v['coverage_pct']:.0f}% hair)"
                    for z, v in (cov.get("zones") or {}).items() if v.get("area_cm2") is not None]
        if cov.get("vertex_bald_area_cm2") is not None:
            measured.append(f"bare crown {cov['vertex_bald_area_cm2']:.1f} cm²")
        if measured:
            out.print(f"  measured with the card's scale: {', '.join(measured)}", markup=False)
        if "scans" in item:
            ratios = ", ".join(f"{z} {100 * r:.0f}%" for z, r in item["scans"]["ratios_to_donor"].items())
            out.print(f"  scans say {item['scans']['stage']} (density as a share of the donor's: {ratios})", markup=False)
        for warning in item.get("warnings", []):
            out.print(f"  ! {warning}", markup=False)
    for e in errors if not json else []:
        err.print(f"hairtrack: {e['image']}: {e['error']}", markup=False)
    if errors:
        raise typer.Exit(1)


def _pairs(values: list[str] | None, option: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for text in values or []:
        zone, _, number = text.partition("=")
        try:
            out[zone.strip()] = float(number)
        except ValueError:
            fail(f"{option} takes ZONE=NUMBER, e.g. {option} crown=20; got {text!r}")
    return out


def grafts(
    area: Annotated[list[str] | None, typer.Option("--area", help="Recipient area, ZONE=cm² (hairline, mid_scalp, crown); repeat for each zone.", show_default=False)] = None,
    photo: Annotated[list[Path] | None, typer.Option("--photo", help="Head photo showing the calibration card: the bare area of each zone is measured on it (repeat for more views; --area overrides a zone).", show_default=False)] = None,
    stage: Annotated[str | None, typer.Option("--stage", help="Norwood stage, to compare with published first-session ranges.", show_default=False)] = None,
    existing: Annotated[list[str] | None, typer.Option("--existing", help="Units/cm² still present, ZONE=number (default: from the profile's scans, else 0).", show_default=False)] = None,
    profile: Annotated[str | None, typer.Option("--profile", "-p", help="Use this profile's measured donor density, hairs per unit and calibre.", show_default=False)] = None,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    json: JsonOpt = False,
) -> None:
    """Graft estimate per zone, bounded by the donor supply (measured when a profile has donor scans)."""
    from hairtrack.assessment import estimate_grafts, graft_estimate_to_dict
    from hairtrack.assessment.record import donor_profile_from, existing_units_from

    areas = _pairs(area, "--area")
    present = _pairs(existing, "--existing")
    if photo:
        from hairtrack.assessment import assess_photos
        from hairtrack.assessment.grafts import bare_areas_from_photos
        from hairtrack.imaging.io import ImageError, load_image

        try:
            rgbs = [load_image(p).rgb for p in photo]
        except ImageError as exc:
            fail(str(exc))
        results = assess_photos(rgbs, names=[str(p) for p in photo])
        measured = bare_areas_from_photos([r.coverage for r in results if r.coverage is not None])
        if not measured:
            fail("no zone could be measured on the photos: the calibration card must be in the photo (print it with "
                 "'hairtrack card' and hold it at the scalp), or give --area ZONE=cm²")
        areas = {**measured, **areas}
        if stage is None:
            from hairtrack.assessment import combine_results

            combined = combine_results(results)
            if combined.stage != "unknown":
                stage = combined.stage
                err.print(f"hairtrack: note: Norwood {stage} from the photos, for the published ranges", markup=False)
        err.print("hairtrack: note: measured bare areas (projected, cm²): "
                  + ", ".join(f"{z} {a:g}" for z, a in measured.items()), markup=False)
    if not areas:
        fail("give --area ZONE=cm² (repeat for each zone) or --photo with the calibration card in it")
    donor = None
    if profile is not None:
        with open_store(db, data_dir) as store:
            measurements = store.measurements(profile)
        donor = donor_profile_from(measurements)
        present = {**existing_units_from(measurements), **present}
        if donor is None:
            err.print(f"hairtrack: note: {profile} has no donor scans; using published donor densities", markup=False)
    estimate = graft_estimate_to_dict(estimate_grafts(areas, existing_units_per_cm2=present or None, donor=donor, stage=stage))
    if json:
        emit_json(estimate)
        return
    out.print(f"about [bold]{estimate['grafts']:,}[/bold] grafts (range {estimate['grafts_low']:,}-{estimate['grafts_high']:,}); "
              f"donor capacity {estimate['donor_capacity_grafts']:,}; limited by {estimate['limited_by']}")
    for key in ("warnings", "assumptions"):
        for line in estimate.get(key, []):
            out.print(f"  {'!' if key == 'warnings' else '-'} {line}", markup=False)


def diagrams(
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the SVG files.", show_default=False)],
) -> None:
    """Write the self-assessment diagrams (Norwood I-VII with variants, Ludwig I-III) as SVG files to pick from."""
    from hairtrack.assessment import all_diagrams

    out_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    for scale, stages in all_diagrams().items():
        for stage, svg in stages.items():
            (out_dir / f"{scale}-{stage.replace(' ', '_')}.svg").write_text(svg, encoding="utf-8")
            count += 1
    out.print(f"wrote {count} diagrams to {out_dir}", markup=False)
