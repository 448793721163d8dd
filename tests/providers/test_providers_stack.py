"""The person's treatment stack: roles, statuses, the record, and reminders."""

import datetime as dt
import json

import pytest

from hairtrack.analysis.stack import MEDICAL_DISCLAIMER, describe_stack, stack_to_dict
from hairtrack.domain import Treatment, TreatmentKind as K
from hairtrack.errors import InputError

D = dt.date


def _codes(s):
    return [r.code for r in s.reminders]


def test_full_stack_foundation_procedure_and_experimental_adjunct():
    rows = [Treatment("p", K.FINASTERIDE, D(2022, 1, 1), dose="1 mg daily"),
            Treatment("p", K.MINOXIDIL_TOPICAL, D(2022, 1, 1), dose="5% twice daily"),
            Treatment("p", K.PRP, D(2024, 9, 1)), Treatment("p", K.PRP, D(2024, 10, 1)),
            Treatment("p", K.PRP, D(2025, 2, 1)),
            Treatment("p", K.EV, D(2025, 3, 1))]
    s = describe_stack(rows, as_of=D(2025, 6, 1))
    assert [(i.kind, i.role, i.status) for i in s.items] == [
        (K.FINASTERIDE, "foundation", "current"), (K.MINOXIDIL_TOPICAL, "foundation", "current"),
        (K.PRP, "procedure", "current"), (K.EV, "experimental_adjunct", "current")]
    prp = s.items[2]
    assert prp.sessions == 3 and prp.last_session == D(2025, 2, 1)
    assert s.evaluated is K.EV and _codes(s) == ["ev_experimental"]
    assert s.items[0].usual_dose == "1 mg by mouth once a day." and s.disclaimer == MEDICAL_DISCLAIMER


def test_stopping_a_proven_treatment_to_test_a_new_one_is_warned():
    rows = [Treatment("p", K.FINASTERIDE, D(2022, 1, 1), end_date=D(2025, 2, 15)),
            Treatment("p", K.EV, D(2025, 3, 1))]
    s = describe_stack(rows, as_of=D(2025, 6, 1))
    assert s.items[0].status == "stopped" and s.items[0].end == D(2025, 2, 15)
    assert _codes(s) == ["proven_treatment_stopped", "no_foundation", "ev_experimental"]
    assert "should not be stopped to 'test' a new one" in s.reminders[0].message


def test_a_stack_change_during_an_evaluation_confounds_it():
    rows = [Treatment("p", K.FINASTERIDE, D(2022, 1, 1)), Treatment("p", K.MINOXIDIL_TOPICAL, D(2022, 1, 1)),
            Treatment("p", K.PRP, D(2025, 1, 1)), Treatment("p", K.LLLT, D(2025, 3, 1))]
    verdict = {"profile": "p", "as_of": "2025-06-01",
               "evaluated_treatment": {"treatment": "prp", "start": "2025-01-01"}, "months_on_treatment": 5.0,
               "overall": {"verdict": "responding", "change_pct": 12.3, "change_pct_ci95": [4.1, 20.5],
                           "benchmark": {"name": "prp_density_increase", "range_pct": [30.0, 40.0],
                                         "standing": "below"}},
               "flags": [{"code": "other_treatment_started_later", "message": "LLLT started after PRP."}]}
    s = describe_stack(rows, verdict=verdict)
    assert s.as_of == D(2025, 6, 1) and s.evaluated is K.PRP
    assert _codes(s) == ["stack_changed_during_evaluation", "verdict:other_treatment_started_later"]
    assert "LLLT" in s.reminders[0].message or "laser" in s.reminders[0].message
    prp = next(i for i in s.items if i.kind is K.PRP)
    assert prp.record.startswith("Being evaluated: responding after 5 months; density change +12.3%")
    assert "below the 30-40% benchmark" in prp.record
    assert "background" in s.items[0].record


def test_no_foundation_and_lapsed_prp():
    rows = [Treatment("p", K.PRP, D(2024, 1, 1)), Treatment("p", K.PRP, D(2024, 2, 1))]
    s = describe_stack(rows, as_of=D(2025, 1, 1))
    assert s.items[0].status == "stopped"
    assert _codes(s) == ["no_foundation", "prp_maintenance_lapsed"]
    assert "11 months ago" in s.reminders[1].message


def test_planned_treatment_and_empty_stack():
    s = describe_stack([Treatment("p", K.FINASTERIDE, D(2026, 1, 1))], as_of=D(2025, 6, 1))
    assert s.items[0].status == "planned" and s.evaluated is None
    empty = describe_stack([], as_of=D(2025, 6, 1))
    assert empty.items == () and empty.profile is None and _codes(empty) == ["no_foundation"]


def test_bad_input_is_refused():
    with pytest.raises(InputError, match="one profile"):
        describe_stack([Treatment("a", K.EV, D(2025, 1, 1)), Treatment("b", K.EV, D(2025, 1, 1))])
    with pytest.raises(InputError, match="verdict is for profile 'q'"):
        describe_stack([Treatment("a", K.EV, D(2025, 1, 1))], verdict={"profile": "q"})
    with pytest.raises(InputError, match="Treatment rows"):
        describe_stack([("a", "ev")])


def test_stack_to_dict_is_json():
    rows = [Treatment("p", K.MINOXIDIL_TOPICAL, D(2024, 1, 1), dose="5%")]
    d = json.loads(json.dumps(stack_to_dict(describe_stack(rows, as_of=D(2025, 1, 1)))))
    assert d["items"][0]["treatment"] == "minoxidil_topical" and d["items"][0]["start"] == "2024-01-01"
    assert d["disclaimer"] == MEDICAL_DISCLAIMER and d["evaluated_treatment"] == "minoxidil_topical"
