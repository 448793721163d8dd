"""Scalp images for a history of measurements: each row's density becomes a synthetic close-up with
about that many hairs, so a demo record holds real photos that hairtrack measures like any other."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence

import numpy as np
from PIL import Image

from hairtrack.domain import Measurement
from hairtrack.synth.scalp import render_scalp

__all__ = ["images_for_history", "MEAN_HAIRS_PER_UNIT"]

# The renderer draws units of 1-4 hairs; about 1.8 per unit on average (seeds 0-59, 20 units each).
MEAN_HAIRS_PER_UNIT = 1.8


def images_for_history(
    rows: Sequence[Measurement],
    *,
    seed: int = 0,
    shape: tuple[int, int] = (512, 640),
    px_per_mm: float = 100.0,
    difficulty: str = "easy",
) -> Iterator[tuple[Measurement, bytes]]:
    """Yield ``(row, jpeg_bytes)``: a rendered close-up whose true density is about ``row.hairs_per_cm2``.

    Rows without a density are skipped. Deterministic for a given ``seed``.
    """
    area_cm2 = (shape[0] / px_per_mm) * (shape[1] / px_per_mm) / 100.0
    for i, row in enumerate(rows):
        if row.hairs_per_cm2 is None:
            continue
        units = max(1, int(round(row.hairs_per_cm2 * area_cm2 / MEAN_HAIRS_PER_UNIT)))
        scene = render_scalp(seed=seed * 100_003 + i, shape=shape, px_per_mm=px_per_mm, n_units=units, difficulty=difficulty, jpeg=False)
        buffer = io.BytesIO()
        Image.fromarray(np.asarray(scene.image, dtype=np.uint8)).save(buffer, "JPEG", quality=90)
        yield row, buffer.getvalue()
