"""Draw an analysis on its photo: a circle per detected hair, a square per follicular unit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np

__all__ = ["draw_analysis", "encode_png"]

_HAIR = (255, 214, 0)  # RGB: yellow reads on dark hair and on pale skin
_UNIT = (0, 200, 255)


def draw_analysis(rgb: np.ndarray, analysis: Mapping[str, Any], *, max_side_px: int = 1280) -> np.ndarray:
    """A copy of ``rgb`` (downscaled so its longer side is at most ``max_side_px``) with the hairs and
    follicular units of ``analysis`` (the ``analyze`` JSON object, DESIGN 3.1) drawn on it."""
    scale = min(1.0, max_side_px / max(rgb.shape[:2]))
    canvas = rgb if scale == 1.0 else cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    canvas = np.ascontiguousarray(canvas.copy())
    thickness = max(1, round(2 * max(canvas.shape[:2]) / 1280))
    for hair in analysis.get("hairs", []):
        centre = (round(hair["x_px"] * scale), round(hair["y_px"] * scale))
        radius = max(4, round(1.5 * (hair.get("width_px") or 4) * scale))
        cv2.circle(canvas, centre, radius, _HAIR, thickness, cv2.LINE_AA)
    for unit in analysis.get("follicular_units", []):
        x, y = round(unit["x_px"] * scale), round(unit["y_px"] * scale)
        half = max(6, round(10 * scale * max(canvas.shape[:2]) / 1280))
        cv2.rectangle(canvas, (x - half, y - half), (x + half, y + half), _UNIT, thickness, cv2.LINE_AA)
        cv2.putText(canvas, str(unit["hairs"]), (x + half + 2, y - half), cv2.FONT_HERSHEY_SIMPLEX,
                    0.4 * max(1.0, max(canvas.shape[:2]) / 1280), _UNIT, thickness, cv2.LINE_AA)
    return canvas


def encode_png(rgb: np.ndarray) -> bytes:
    ok, buffer = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:  # pragma: no cover - OpenCV only fails on invalid arrays
        raise ValueError("could not encode the overlay as PNG")
    return buffer.tobytes()
