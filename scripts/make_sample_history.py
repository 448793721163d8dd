"""Write the sample history bundled in the package (hairtrack/tracking/sample/*.csv).

A made-up person: finasteride since March 2024 (the existing stack), a baseline of three visits in
January-February 2025, four EV sessions from February, then monthly scans (July missed) of four
zones with three replicates each. The EV adds about 12% on the crown and mid-scalp and 8% on the
hairline, ramping up over months 2-6; the donor zone is untouched. Noise: 5% between replicates, 4%
from re-finding the zone, 3% shared by a visit (light, hair length), and a late-summer shed.

    python scripts/make_sample_history.py [OUT_DIR]

Deterministic (seeded): a test checks that the bundled files equal this script's output.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import numpy as np

SEED = 20250106
ZONES = {"hairline": (118.0, 0.08), "mid_scalp": (136.0, 0.12), "crown": (104.0, 0.12), "donor": (192.0, 0.0)}
VISITS = [dt.date(2025, 1, 6), dt.date(2025, 1, 20), dt.date(2025, 2, 3)] + [
    dt.date(2025, m, d) for m, d in [(3, 3), (4, 7), (5, 5), (6, 2), (8, 4), (9, 1), (10, 6), (11, 3), (12, 1)]
]
EV_SESSIONS = [dt.date(2025, 2, 10), dt.date(2025, 3, 10), dt.date(2025, 4, 14), dt.date(2025, 6, 9)]


def _ramp(months: float) -> float:
    """Share of the full effect reached after ``months`` on treatment: none before 2, all by 6."""
    return float(np.clip((months - 2.0) / 4.0, 0.0, 1.0))


def measurements_csv(rng: np.random.Generator) -> str:
    lines = ["date,zone,replicate,hairs_per_cm2,fu_per_cm2,hairs_per_fu,mean_width_um,terminal_fraction,capture_time,hair_length_mm,device,lighting"]
    for visit in VISITS:
        months = max(0.0, (visit - EV_SESSIONS[0]).days / 30.44)
        shared = rng.normal(0, 0.03)
        season = -0.03 if visit.month in (8, 9) else 0.0  # late-summer telogen shed
        minute = int(rng.integers(0, 40))
        for zone, (base, effect) in ZONES.items():
            refind = rng.normal(0, 0.04)
            for replicate in (1, 2, 3):
                hairs = base * np.exp(effect * _ramp(months) + shared + season + refind + rng.normal(0, 0.05))
                per_fu = float(np.clip(rng.normal(2.05 if zone != "donor" else 2.4, 0.12), 1.2, 4.0))
                width = rng.normal(58.0 if zone != "donor" else 71.0, 3.0)
                terminal = float(np.clip(rng.normal(0.72 if zone != "donor" else 0.9, 0.04), 0, 1))
                lines.append(
                    f"{visit},{zone},{replicate},{hairs:.1f},{hairs / per_fu:.1f},{per_fu:.2f},{width:.1f},"
                    f"{terminal:.2f},08:{minute:02d},1,dermlite-dl200,bathroom-led"
                )
    return "\n".join(lines) + "\n"


def treatments_csv() -> str:
    lines = ["treatment,date,end_date,dose,cost,currency,provider,note",
             "finasteride,2024-03-01,,1 mg daily,,,,existing stack"]
    for i, date in enumerate(EV_SESSIONS, start=1):
        lines.append(f"ev,{date},,2 ml after microneedling,2500,USD,Example Regenerative Clinic,session {i}")
    return "\n".join(lines) + "\n"


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    (out_dir / "measurements.csv").write_text(measurements_csv(rng), encoding="utf-8")
    (out_dir / "treatments.csv").write_text(treatments_csv(), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "hairtrack/tracking/sample")
