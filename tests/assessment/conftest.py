"""Synthetic head photos rendered in the tests: a skin-toned ellipse on a plain background with a hair
region whose extent is controlled, so that coverage has an independent truth."""

from __future__ import annotations

import numpy as np
import pytest

SKIN_RGB = (224, 172, 140)  # inside Chai & Ngan's YCrCb skin box (Cr ~157, Cb ~103)
HAIR_RGB = (55, 40, 30)
BACKGROUND_RGB = (150, 185, 215)


def render_head(*, hair_from: float, side: int = 240, seed: int = 0) -> tuple[np.ndarray, float]:
    """A head seen from the top: hair covers the ellipse below the row ``hair_from`` (0 = top, 1 = bottom).

    Returns the RGB image and the true hair share of the head's pixels.
    """
    rng = np.random.default_rng(seed)
    img = np.empty((side, side, 3), np.float64)
    img[:] = BACKGROUND_RGB
    img += rng.normal(0, 2.0, img.shape)
    rows, cols = np.mgrid[0:side, 0:side]
    cy, cx, ry, rx = side / 2, side / 2, side * 0.36, side * 0.30
    head = ((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2 <= 1.0
    top = cy - ry
    hair = head & (rows >= top + hair_from * 2 * ry)
    skin = head & ~hair
    img[skin] = np.array(SKIN_RGB) + rng.normal(0, 1.5, (skin.sum(), 3))
    # hair: dark with strong pixel-scale texture (strands)
    strands = rng.normal(0, 28, (hair.sum(), 1))
    img[hair] = np.array(HAIR_RGB) + strands + rng.normal(0, 4, (hair.sum(), 3)) + 25
    out = np.clip(img, 0, 255).astype(np.uint8)
    return out, float(hair.sum()) / float(head.sum())


@pytest.fixture
def head():
    return render_head
