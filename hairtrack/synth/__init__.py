"""Synthetic data with known ground truth: simulated patient histories (and, later, scalp images)."""

from hairtrack.synth.patients import ClinicNoise, PatientTruth, SimulatedPatient, simulate_cohort, simulate_patient
from hairtrack.synth.scalp import DIFFICULTIES, SynthHair, SynthScalp, SynthUnit, render_scalp

__all__ = ["ClinicNoise", "PatientTruth", "SimulatedPatient", "simulate_cohort", "simulate_patient",
           "DIFFICULTIES", "SynthHair", "SynthScalp", "SynthUnit", "render_scalp"]
