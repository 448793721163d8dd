"""Self-assessment diagrams: every Norwood-Hamilton and Ludwig stage drawn as SVG by the project.

For people without usable photos, the CLI and the web page show these to pick from. Each diagram is a
top-down view of a head (the face up, marked by a nose), hair in brown and bare scalp in skin tone; the
shapes follow the stage descriptions of Hamilton [1]_ and Norwood [2]_ for men and of Ludwig [3]_ for
women. They are schematic: a stage is a pattern, not a measurement.

References
----------
.. [1] Hamilton JB. Patterned loss of hair in man: types and incidence. Ann N Y Acad Sci 1951;53:708-728.
.. [2] Norwood OT. Male pattern baldness: classification and incidence. South Med J 1975;68:1359-1365.
.. [3] Ludwig E. Classification of the types of androgenetic alopecia (common baldness) occurring in the
   female sex. Br J Dermatol 1977;97:247-254.
"""

from __future__ import annotations

from dataclasses import dataclass

from hairtrack.errors import InputError

__all__ = ["NORWOOD_DIAGRAM_STAGES", "LUDWIG_DIAGRAM_STAGES", "norwood_svg", "ludwig_svg", "all_diagrams"]

HAIR = "#4a3426"
SKIN = "#e9c6a5"
LINE = "#5b4636"

# Head (top view) geometry in the 200 x 240 viewBox.
_CX, _CY, _RX, _RY = 100.0, 128.0, 78.0, 100.0
_TOP = _CY - _RY
_LEN = 2 * _RY


@dataclass(frozen=True, slots=True)
class _Norwood:
    temporal: float  # depth of the temple recession, share of head length
    midline: float  # depth of the hairline at the midline
    vertex: float  # radius of the bald crown, share of head length (0 = none)
    bridge: float  # 1 = full band of hair between front and crown, 0 = none
    fringe: float = 0.0  # >0: stages VI-VII, only a fringe of this width remains at sides and back
    description: str = ""


_NORWOOD: dict[str, _Norwood] = {
    "I": _Norwood(0.03, 0.02, 0.0, 1.0, description="No or minimal recession of the hairline."),
    "II": _Norwood(0.11, 0.04, 0.0, 1.0, description="Triangular recession at the temples, within 2 cm."),
    "IIa": _Norwood(0.10, 0.10, 0.0, 1.0, description="The whole hairline moves back evenly, no temple notches."),
    "III": _Norwood(0.21, 0.06, 0.0, 1.0, description="Deep temple recessions: the first stage counted as balding."),
    "IIIa": _Norwood(0.20, 0.19, 0.0, 1.0, description="The whole front recedes to the mid-scalp line evenly."),
    "III vertex": _Norwood(0.19, 0.06, 0.10, 1.0, description="Stage III at the front with thinning at the crown."),
    "IV": _Norwood(0.28, 0.13, 0.15, 1.0, description="Further front loss and a bald crown, a dense band between."),
    "IVa": _Norwood(0.30, 0.30, 0.0, 1.0, description="The front recedes past the mid-scalp; no crown loss."),
    "V": _Norwood(0.33, 0.20, 0.20, 0.45, description="Front and crown larger, the band between them thin."),
    "Va": _Norwood(0.42, 0.42, 0.0, 1.0, description="Front loss reaching the crown without a separate vertex."),
    "VI": _Norwood(0.0, 0.0, 0.0, 0.0, fringe=0.26, description="The bridge is gone: front and crown are one bald area."),
    "VII": _Norwood(0.0, 0.0, 0.0, 0.0, fringe=0.14, description="Only a narrow horseshoe of hair at the sides and back."),
}
NORWOOD_DIAGRAM_STAGES = tuple(_NORWOOD)
LUDWIG_DIAGRAM_STAGES = ("I", "II", "III")
_LUDWIG = {
    "I": (0.35, "Thinning on the crown, the frontal hairline kept (a widening part)."),
    "II": (0.65, "Pronounced thinning over the crown, the frontal hairline kept."),
    "III": (0.92, "Near-complete baldness of the crown inside a kept frontal band."),
}


def _frame(title: str, body: str, caption: str) -> str:
    clip = "head-" + title.lower().replace(" ", "-")  # unique per diagram: several share one web page
    esc = caption.replace("&", "&amp;").replace("<", "&lt;")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 260" width="200" height="260" '
        f'role="img" aria-label="{title}">'
        f"<title>{title}</title><desc>{esc}</desc>"
        f'<defs><clipPath id="{clip}"><ellipse cx="100" cy="128" rx="78" ry="100"/></clipPath></defs>'
        # ears and nose show where the face is (up)
        f'<ellipse cx="{_CX - _RX - 3}" cy="{_CY - 5}" rx="7" ry="16" fill="{SKIN}" stroke="{LINE}"/>'
        f'<ellipse cx="{_CX + _RX + 3}" cy="{_CY - 5}" rx="7" ry="16" fill="{SKIN}" stroke="{LINE}"/>'
        f'<path d="M92 {_TOP + 4} L100 {_TOP - 10} L108 {_TOP + 4} Z" fill="{SKIN}" stroke="{LINE}"/>'
        f'<ellipse cx="{_CX}" cy="{_CY}" rx="{_RX}" ry="{_RY}" fill="{HAIR}"/>'
        f'<g clip-path="url(#{clip})">{body}</g>'
        f'<ellipse cx="{_CX}" cy="{_CY}" rx="{_RX}" ry="{_RY}" fill="none" stroke="{LINE}" stroke-width="1.5"/>'
        f'<text x="100" y="250" text-anchor="middle" font-family="sans-serif" font-size="16" fill="#222">{title}</text>'
        "</svg>"
    )


def norwood_svg(stage: str) -> str:
    """SVG (a string) of one Norwood-Hamilton stage, top-down view with the face up.

    Parameters
    ----------
    stage : str
        One of :data:`NORWOOD_DIAGRAM_STAGES` (``"I"`` ... ``"VII"``, ``"IIIa"``, ``"III vertex"``).

    Examples
    --------
    >>> import xml.etree.ElementTree as ET
    >>> ET.fromstring(norwood_svg("III vertex")).tag
    '{http://www.w3.org/2000/svg}svg'
    """
    if stage not in _NORWOOD:
        raise InputError(f"stage must be one of {', '.join(NORWOOD_DIAGRAM_STAGES)}, got {stage!r}")
    p = _NORWOOD[stage]
    parts: list[str] = []
    if p.fringe > 0:
        # VI / VII: one bald area over the top; a fringe of hair stays at the sides and the back
        f = p.fringe * _RX
        parts.append(
            f'<ellipse cx="{_CX}" cy="{_CY - 0.5 * f - 6}" rx="{_RX - f}" ry="{_RY - 0.5 * f + 4}" fill="{SKIN}"/>'
        )
    else:
        t = _TOP + p.temporal * _LEN
        m = _TOP + p.midline * _LEN
        # hairline from the left edge through the temple notch and the midline to the right edge
        parts.append(
            f'<path d="M0 0 L0 {t + 10:.1f} L{_CX - 52:.1f} {t:.1f} '
            f"Q{_CX - 30:.1f} {t:.1f} {_CX - 22:.1f} {min(t, m + 10):.1f} "
            f"Q{_CX:.1f} {m - 6:.1f} {_CX + 22:.1f} {min(t, m + 10):.1f} "
            f'Q{_CX + 30:.1f} {t:.1f} {_CX + 52:.1f} {t:.1f} L200 {t + 10:.1f} L200 0 Z" fill="{SKIN}"/>'
        )
        if p.vertex > 0:
            r = p.vertex * _LEN
            parts.append(f'<ellipse cx="{_CX}" cy="{_CY + 0.35 * _RY}" rx="{r * 1.05:.1f}" ry="{r:.1f}" fill="{SKIN}"/>')
        if p.bridge < 1.0:
            # a thinning band between front and crown: skin showing through the hair
            y0 = _TOP + p.midline * _LEN
            y1 = _CY + 0.35 * _RY
            parts.append(
                f'<rect x="{_CX - 38}" y="{y0:.1f}" width="76" height="{y1 - y0:.1f}" fill="{SKIN}" '
                f'opacity="{1.0 - p.bridge:.2f}"/>'
            )
    return _frame(f"Norwood {stage}", "".join(parts), p.description)


def ludwig_svg(stage: str) -> str:
    """SVG (a string) of one Ludwig stage (female pattern), top-down view with the face up.

    Examples
    --------
    >>> ludwig_svg("II").startswith("<svg")
    True
    """
    if stage not in _LUDWIG:
        raise InputError(f"stage must be one of {', '.join(LUDWIG_DIAGRAM_STAGES)}, got {stage!r}")
    opacity, desc = _LUDWIG[stage]
    body = (
        f'<ellipse cx="{_CX}" cy="{_CY + 5}" rx="{_RX * 0.62:.1f}" ry="{_RY * 0.72:.1f}" fill="{SKIN}" '
        f'opacity="{opacity}"/>'
        # the part line, widest in stage III
        f'<rect x="{_CX - 1 - 3 * LUDWIG_DIAGRAM_STAGES.index(stage)}" y="{_TOP + 18}" '
        f'width="{2 + 6 * LUDWIG_DIAGRAM_STAGES.index(stage)}" height="{_RY * 1.5:.1f}" fill="{SKIN}"/>'
    )
    return _frame(f"Ludwig {stage}", body, desc)


def all_diagrams() -> dict[str, dict[str, str]]:
    """Every diagram by scale and stage: ``{"norwood": {stage: svg}, "ludwig": {stage: svg}}``."""
    return {
        "norwood": {s: norwood_svg(s) for s in NORWOOD_DIAGRAM_STAGES},
        "ludwig": {s: ludwig_svg(s) for s in LUDWIG_DIAGRAM_STAGES},
    }
