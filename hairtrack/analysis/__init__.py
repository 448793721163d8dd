"""Judge whether a treatment changes a person's hair density: statistics, verdicts, benchmarks and cost."""

from hairtrack.analysis.benchmarks import DensityBenchmark, Reference, density_benchmark, load_references
from hairtrack.analysis.cost import CostSummary, summarize_cost
from hairtrack.analysis.model import (
    ChangeEstimate, ContrastModel, NoisePrior, ReplicateFit, VisitMean, fit_replicates, seasonal_shape,
)
from hairtrack.analysis.verdict import (
    BenchmarkStanding, EvaluatedTreatment, Flag, OverallVerdict, Phase, RuleSettings, Verdict, VerdictKind,
    ZoneVerdict, judge, phase_at, verdict_to_dict,
)

__all__ = [
    "judge",
    "verdict_to_dict",
    "Verdict",
    "ZoneVerdict",
    "OverallVerdict",
    "EvaluatedTreatment",
    "BenchmarkStanding",
    "Flag",
    "Phase",
    "VerdictKind",
    "RuleSettings",
    "phase_at",
    "NoisePrior",
    "ReplicateFit",
    "VisitMean",
    "ChangeEstimate",
    "ContrastModel",
    "fit_replicates",
    "seasonal_shape",
    "CostSummary",
    "summarize_cost",
    "Reference",
    "DensityBenchmark",
    "load_references",
    "density_benchmark",
]
