"""Commands for providers and the treatment reference: ``provider-check`` and ``info``."""

from __future__ import annotations

import json as json_lib
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from hairtrack.cli._common import DataDirOpt, DbOpt, JsonOpt, emit_json, open_store, out

__all__ = ["provider_check", "info"]

_SEVERITY_STYLE = {"high": "bold red", "medium": "yellow", "low": "cyan", "info": "dim"}


def provider_check(
    path: Annotated[Path, typer.Argument(help="Provider file (JSON or TOML, DESIGN 3.4); see examples/providers/.", show_default=False)],
    rate: Annotated[list[str] | None, typer.Option("--rate", help="US dollars per unit of a currency, e.g. --rate EUR=1.08 (default: the dated table shipped with hairtrack).", show_default=False)] = None,
    save: Annotated[bool, typer.Option("--save", help="Save the provider, so that sessions naming it link to it.")] = False,
    db: DbOpt = None,
    data_dir: DataDirOpt = None,
    json: JsonOpt = False,
) -> None:
    """Red flags of an EV (exosome) or PRP provider: missing characterization, guarantees, pricing, claims."""
    from hairtrack.analysis.providers import (
        check_provider, load_provider, parse_rate, provider_check_to_dict, provider_record_fields,
    )

    rates = dict(parse_rate(r) for r in rate or [])
    profile = load_provider(path)
    check = check_provider(profile, rates=rates or None)
    result = provider_check_to_dict(check)
    if save:
        text = path.read_text(encoding="utf-8")
        document = json_lib.loads(text) if path.suffix.lower() == ".json" else __import__("tomllib").loads(text)
        with open_store(db, data_dir) as store:
            created = store.save_provider(provider_record_fields(profile), document)
        result["saved"] = "new" if created else "updated"
    if json:
        emit_json(result)
        return
    out.print(f"[bold]{escape(check.name)}[/bold]: {len(check.flags)} flag{'s' if len(check.flags) != 1 else ''}")
    for flag in check.flags:
        out.print(f"  [{_SEVERITY_STYLE.get(flag.severity, '')}]{flag.severity:6s}[/] {flag.code}: ", end="")
        out.print(flag.message, markup=False)
    if not check.flags:
        out.print("  no red flags in what this provider publishes", markup=False)
    if check.misev_missing:
        out.print("  missing (MISEV2023 minimal information): " + ", ".join(check.misev_missing), markup=False)
    if save:
        out.print(f"  saved ({result['saved']})", markup=False)


def info(
    name: Annotated[str | None, typer.Argument(help="A treatment (finasteride, minoxidil_topical, prp, ev, ...) or a topic: ev-types, mechanisms, evidence, prp-vs-ev. Empty: an overview.", show_default=False)] = None,
    json: JsonOpt = False,
) -> None:
    """The sourced treatment reference: what each treatment does, how well it is known, and at what cost."""
    from hairtrack.analysis.reference import reference_to_dict, render_info, treatment_info

    if json:
        topics = {"ev-types", "mechanisms", "evidence", "prp-vs-ev"}
        emit_json(reference_to_dict(treatment_info(name)) if name and name not in topics else reference_to_dict())
        return
    out.print(render_info(name), markup=False, highlight=False)
