"""Two scans of one zone side by side, the later one warped into the earlier one's frame, with kept,
lost and new hairs marked; optionally blind (random order, no dates) for an unbiased look."""

from __future__ import annotations

import random
from typing import Any

import cv2
import numpy as np

__all__ = ["side_by_side"]

KEPT, LOST, NEW = (40, 200, 90), (230, 60, 60), (60, 140, 255)


def _label(panel: np.ndarray, text: str) -> None:
    scale = max(0.6, panel.shape[1] / 900)
    cv2.rectangle(panel, (0, 0), (panel.shape[1], int(40 * scale)), (255, 255, 255), -1)
    cv2.putText(panel, text, (10, int(28 * scale)), cv2.FONT_HERSHEY_SIMPLEX, 0.8 * scale, (20, 20, 20), 2, cv2.LINE_AA)


def side_by_side(
    rgb_a: np.ndarray,
    rgb_b: np.ndarray,
    comparison: dict[str, Any],
    *,
    labels: tuple[str, str] = ("before", "after"),
    blind: bool = False,
    seed: int | None = None,
) -> tuple[np.ndarray, tuple[int, int]]:
    """Compose the pair: A and B (warped into A's frame), hairs marked.

    Parameters
    ----------
    rgb_a, rgb_b : ndarray
        The earlier and the later photo.
    comparison : dict
        The ``compare`` JSON object (``transform``, ``kept``, ``lost``, ``new`` with ``x_px``/``y_px``).
    labels : (str, str)
        Captions, e.g. the two dates; in blind mode they become "photo 1" and "photo 2".
    blind : bool
        Random left/right order and no marks that tell which is later (lost and new look alike).
    seed : int, optional
        For the blind order (tests); default: random.

    Returns
    -------
    (image, order)
        The composed RGB image and which input is shown left and right: ``(0, 1)`` means A left.
    """
    height, width = rgb_a.shape[:2]
    transform = comparison.get("transform")
    if transform is not None:
        warped = cv2.warpPerspective(rgb_b, np.asarray(transform, dtype=np.float64), (width, height),
                                     flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderValue=(245, 245, 245))
        to_a = np.linalg.inv(np.asarray(transform, dtype=np.float64))
    else:
        warped = cv2.resize(rgb_b, (width, height), interpolation=cv2.INTER_AREA)
        to_a = None
    panels = [np.ascontiguousarray(rgb_a.copy()), np.ascontiguousarray(warped)]
    radius = max(6, width // 120)
    changed_a, changed_b = (KEPT, KEPT) if blind else (LOST, NEW)
    for pair in comparison.get("kept", []):
        cv2.circle(panels[0], (round(pair["a"]["x_px"]), round(pair["a"]["y_px"])), radius, KEPT, 2, cv2.LINE_AA)
        if to_a is not None:
            x, y, w = to_a @ (pair["b"]["x_px"], pair["b"]["y_px"], 1.0)
            cv2.circle(panels[1], (round(x / w), round(y / w)), radius, KEPT, 2, cv2.LINE_AA)
    for p in comparison.get("lost", []):
        cv2.circle(panels[0], (round(p["x_px"]), round(p["y_px"])), radius, changed_a, 2, cv2.LINE_AA)
    if to_a is not None:
        for p in comparison.get("new", []):
            x, y, w = to_a @ (p["x_px"], p["y_px"], 1.0)
            cv2.circle(panels[1], (round(x / w), round(y / w)), radius, changed_b, 2, cv2.LINE_AA)
    order = (0, 1)
    if blind:
        order = (1, 0) if random.Random(seed).random() < 0.5 else (0, 1)
        labels = ("photo 1", "photo 2")
        panels = [panels[order[0]], panels[order[1]]]
    for panel, text in zip(panels, labels, strict=True):
        _label(panel, text)
    gap = np.full((height, max(8, width // 100), 3), 255, np.uint8)
    return np.hstack([panels[0], gap, panels[1]]), order
