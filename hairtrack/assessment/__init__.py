"""Staging scales and graft estimates from photos and measured densities: Norwood, Ludwig, Sinclair, BASP."""

from hairtrack.assessment.basp import BaspResult, basp_from_density, basp_from_norwood, basp_to_dict
from hairtrack.assessment.diagrams import all_diagrams, ludwig_svg, norwood_svg
from hairtrack.assessment.female import (
    FemaleStage,
    female_stage_from_coverage,
    female_stage_from_density,
    female_stage_to_dict,
)
from hairtrack.assessment.grafts import DonorProfile, GraftEstimate, estimate_grafts, graft_estimate_to_dict
from hairtrack.assessment.norwood import (
    STAGES,
    NorwoodResult,
    assess_photo,
    assess_photos,
    combine_results,
    load_model,
    norwood_to_dict,
)
from hairtrack.assessment.norwood_scans import ScanStaging, combine_photo_and_scans, norwood_from_density

__all__ = [
    "BaspResult",
    "basp_from_density",
    "basp_from_norwood",
    "basp_to_dict",
    "all_diagrams",
    "ludwig_svg",
    "norwood_svg",
    "FemaleStage",
    "female_stage_from_coverage",
    "female_stage_from_density",
    "female_stage_to_dict",
    "DonorProfile",
    "GraftEstimate",
    "estimate_grafts",
    "graft_estimate_to_dict",
    "STAGES",
    "NorwoodResult",
    "assess_photo",
    "assess_photos",
    "combine_results",
    "load_model",
    "norwood_to_dict",
    "ScanStaging",
    "combine_photo_and_scans",
    "norwood_from_density",
]
