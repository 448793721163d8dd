"""Every route through TestClient: the analyze API, pages, accounts, ownership, and each refusal."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from itsdangerous import TimestampSigner
from PIL import Image
from pypdf import PdfReader

from hairtrack.tracking import Store
from tests.conftest import snapshot
from tests.helpers import png_header_only
from tests.web.conftest import make_client, scalp_jpeg, sign_up, tokens

CONTRACT = ["image", "mode", "method", "hair_count", "hairs_whole", "hairs", "follicular_units", "px_per_mm", "area_cm2", "hairs_per_cm2", "fu_per_cm2",
            "hairs_per_fu", "mean_width_um", "terminal_fraction", "vellus_fraction", "coverage_pct", "quality", "warnings", "elapsed_ms"]


# -- public: analyze, health, docs, headers -------------------------------------------------------------------


def test_api_analyze_returns_the_contract_object(local_client: TestClient) -> None:
    response = local_client.post("/api/analyze", files={"image": ("../../etc/scalp.jpg", scalp_jpeg(), "image/jpeg")},
                                 data={"zone": "crown", "px_per_mm": "220"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == CONTRACT
    assert body["image"] == "scalp.jpg"  # the path never reaches the result, nor the disk
    assert body["hair_count"] > 0 and body["hairs_per_cm2"] > 0 and body["px_per_mm"] == 220.0


def test_api_analyze_without_scale_gives_nulls(local_client: TestClient) -> None:
    body = local_client.post("/api/analyze", files={"image": ("a.jpg", scalp_jpeg(), "image/jpeg")}).json()
    assert body["hairs_per_cm2"] is None and body["hair_count"] > 0


@pytest.mark.parametrize(
    ("payload", "form", "status", "message"),
    [
        (b"not an image at all", {}, 400, "not an image hairtrack can read"),
        (png_header_only(30_000, 30_000), {}, 400, "900 MP is above the 64 MP limit"),
        (b"", {}, 400, "the file is empty"),
        (None, {"px_per_mm": "-3"}, 400, "px_per_mm must be a finite number > 0, got -3"),
        (None, {"zone": "nape"}, 400, "unknown zone 'nape'"),
    ],
)
def test_api_analyze_refusals_are_clear_json(local_client: TestClient, payload: bytes | None, form: dict[str, str], status: int, message: str) -> None:
    data = scalp_jpeg() if payload is None else payload
    response = local_client.post("/api/analyze", files={"image": ("x.jpg", data, "image/jpeg")}, data=form)
    assert response.status_code == status
    assert message in response.json()["detail"]


def test_an_upload_over_the_limit_is_refused_before_reading(tmp_path: Path, sqlite_store: Store) -> None:
    with make_client(tmp_path, sqlite_store, multi_user=False, max_upload_mb=1.0) as client:
        response = client.post("/api/analyze", files={"image": ("big.jpg", b"\xff" * (2 * 2**20), "image/jpeg")})
        assert response.status_code == 413 and "larger than the 1 MB limit" in response.json()["detail"]
        page = client.post("/analyze", files={"image": ("big.jpg", b"\xff" * (2 * 2**20), "image/jpeg")})
        assert page.status_code == 413 and "Nothing was saved" in page.text


def test_security_headers_on_every_page(local_client: TestClient) -> None:
    for path in ("/", "/profiles", "/docs", "/healthz", "/static/style.css", "/no/such/page"):
        headers = local_client.get(path).headers
        csp = headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff" and headers["x-frame-options"] == "DENY"


def test_health_and_openapi(local_client: TestClient) -> None:
    assert local_client.get("/healthz").json()["status"] == "ok"
    spec = local_client.get("/openapi.json").json()
    assert {"/api/analyze", "/api/profiles", "/api/profiles/{name}", "/api/profiles/{name}/verdict", "/healthz"} <= set(spec["paths"])
    docs = local_client.get("/docs").text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert local_client.get("/static/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200


def test_the_analyze_page_draws_the_result_and_stores_nothing(local_client: TestClient, sqlite_store: Store) -> None:
    page = local_client.get("/")
    assert 'accept="image/*"' in page.text and 'capture="environment"' in page.text
    before = snapshot(sqlite_store.url)
    result = local_client.post("/analyze", files={"image": ("scalp.jpg", scalp_jpeg(), "image/jpeg")},
                               data={"px_per_mm": "220", **tokens(page.text)})
    assert result.status_code == 200, result.text
    assert 'id="overlay" src="data:image/png;base64,' in result.text and "hairs/cm²" in result.text
    assert snapshot(sqlite_store.url) == before
    assert not sqlite_store.images.root.exists() or not any(p.is_file() for p in sqlite_store.images.root.rglob("*"))


def test_local_mode_refuses_other_host_names(local_client: TestClient) -> None:
    # DNS rebinding: a page elsewhere that resolves its own name to 127.0.0.1 must not reach the app.
    assert local_client.get("/profiles", headers={"host": "attacker.example"}).status_code == 400
    assert local_client.get("/profiles", headers={"host": "127.0.0.1:8000"}).status_code == 200


def test_local_mode_has_no_accounts(local_client: TestClient) -> None:
    response = local_client.get("/signin")
    assert response.status_code == 404 and "single-user mode" in response.text


# -- forms: CSRF, double submit, scans, treatments, delete -------------------------------------------------------


def test_forms_without_the_csrf_token_change_nothing(local_client: TestClient, sqlite_store: Store) -> None:
    before = snapshot(sqlite_store.url)
    for path, data in (("/profiles", {"name": "x"}), ("/profiles/x/delete", {"confirm": "x"}), ("/analyze", {})):
        response = local_client.post(path, data=data)
        assert response.status_code == 403 and "CSRF" in response.text
    forged = local_client.post("/profiles", data={"name": "x", "csrf_token": "forged"})
    assert forged.status_code == 403
    assert snapshot(sqlite_store.url) == before


def test_a_double_submit_saves_once(local_client: TestClient, sqlite_store: Store) -> None:
    form = {"name": "anna", **tokens(local_client.get("/profiles").text)}
    assert local_client.post("/profiles", data=form, follow_redirects=False).status_code == 303
    again = local_client.post("/profiles", data=form, follow_redirects=False)
    assert again.status_code == 409 and "already submitted" in again.text
    assert [p.name for p in sqlite_store.list_profiles()] == ["anna"]


def test_scans_treatments_export_and_delete_through_the_pages(local_client: TestClient, sqlite_store: Store) -> None:
    local_client.post("/profiles", data={"name": "anna", **tokens(local_client.get("/profiles").text)})
    page = local_client.get("/profiles/anna").text
    assert "take 3, lifting the scope between them" in page and "cannot show a change under about 33%" in page
    saved = local_client.post(
        "/profiles/anna/scans",
        files=[("images", ("one.jpg", scalp_jpeg(1), "image/jpeg")), ("images", ("two.jpg", scalp_jpeg(2), "image/jpeg"))],
        data={"zone": "crown", "date": "2025-03-01", "capture_time": "08:30", "px_per_mm": "220", **tokens(page)},
    )
    assert saved.status_code == 200 and "Saved 2 scans of the crown on 2025-03-01" in saved.text
    assert "2 photos of the crown on 2025-03-01: between two visits like this only a change of about 24%" in saved.text
    (m1, sha), _ = sqlite_store.scan_images("anna")
    assert m1.image == "one.jpg" and m1.capture_time.isoformat() == "08:30:00"
    picture = local_client.get(f"/profiles/anna/images/{sha}")
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    bad = local_client.post(
        "/profiles/anna/scans",
        files=[("images", ("ok.jpg", scalp_jpeg(3), "image/jpeg")), ("images", ("bad.jpg", b"garbage", "image/jpeg"))],
        data={"zone": "crown", "date": "2025-04-01", "px_per_mm": "220", **tokens(local_client.get("/profiles/anna").text)},
    )
    assert bad.status_code == 400 and "bad.jpg" in bad.text and len(sqlite_store.measurements("anna")) == 2
    unscaled = local_client.post(
        "/profiles/anna/scans", files=[("images", ("ok.jpg", scalp_jpeg(3), "image/jpeg"))],
        data={"zone": "crown", "date": "2025-04-01", **tokens(local_client.get("/profiles/anna").text)},
    )  # no scale and no calibration card in the photo
    assert unscaled.status_code == 400 and "a saved scan needs a scale" in unscaled.text and "calibration card" in unscaled.text
    assert len(sqlite_store.measurements("anna")) == 2
    treated = local_client.post("/profiles/anna/treatments", data={
        "treatment": "ev", "date": "2025-03-10", "cost": "2500", "currency": "usd", "provider": "Clinic A",
        **tokens(local_client.get("/profiles/anna").text)})
    assert treated.status_code == 200 and "Recorded the ev session of 2025-03-10" in treated.text
    exported = local_client.get("/profiles/anna/export.csv?table=treatments")
    assert exported.text.splitlines()[1] == "anna,ev,2025-03-10,,,2500,USD,Clinic A,"
    document = json.loads(local_client.get("/profiles/anna/export.json").text)
    assert len(document["profiles"][0]["measurements"]) == 2
    chart = local_client.get("/profiles/anna/charts/crown.svg")
    assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
    wrong = local_client.post("/profiles/anna/delete", data={"confirm": "ann", **tokens(local_client.get("/profiles/anna").text)})
    assert wrong.status_code == 400 and sqlite_store.list_profiles()
    gone = local_client.post("/profiles/anna/delete", data={"confirm": "anna", **tokens(local_client.get("/profiles/anna").text)})
    assert gone.status_code == 200 and "Deleted anna: 2 scans" in gone.text
    assert sqlite_store.list_profiles() == [] and not [p for p in sqlite_store.images.root.rglob("*") if p.is_file()]


def test_report_downloads_as_pdf_and_html(local_client: TestClient, sqlite_store: Store) -> None:
    from hairtrack.synth import simulate_patient

    person = simulate_patient(7, effect_pct=20.0, profile="bo", months=9)
    sqlite_store.import_measurements(person.measurements)
    sqlite_store.import_treatments(person.treatments)
    pdf = local_client.get("/profiles/bo/report.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert len(reader.pages) >= 3 and "Hair density report: bo" in text and "not medical advice" in text
    html = local_client.get("/profiles/bo/report.html")
    assert html.status_code == 200 and "Hair density report: bo" in html.text
    dashboard = local_client.get("/profiles/bo").text
    assert 'id="verdict"' in dashboard and "/profiles/bo/charts/" in dashboard
    staging = dashboard[dashboard.index('id="staging"'):]
    assert "BASP <strong>" in staging and "Norwood <strong>" in staging and "measurement noise" in staging
    assert local_client.get("/profiles/bo/report.docx").status_code == 404


# -- multi-user: accounts and ownership ---------------------------------------------------------------------------


def test_sign_up_sign_in_and_wrong_passwords(clinic: Callable[..., TestClient]) -> None:
    client = clinic()
    short = client.post("/signup", data={"email": "a@example.org", "password": "short", **tokens(client.get("/signup").text)})
    assert short.status_code == 400 and "at least 10 characters" in short.text
    sign_up(client, "a@example.org")
    assert client.get("/profiles").status_code == 200
    client.post("/signout", data=tokens(client.get("/profiles").text))
    assert client.get("/profiles", follow_redirects=False).status_code == 303
    page = client.get("/signin").text
    wrong = client.post("/signin", data={"email": "a@example.org", "password": "wrong password!", **tokens(page)})
    unknown = client.post("/signin", data={"email": "nobody@example.org", "password": "wrong password!", **tokens(page)})
    assert wrong.status_code == unknown.status_code == 400
    assert "E-mail or password is wrong." in wrong.text and "E-mail or password is wrong." in unknown.text
    again = client.post("/signup", data={"email": "A@example.org", "password": "another long one", **tokens(client.get("/signup").text)})
    assert again.status_code == 400 and "exists already" in again.text
    ok = client.post("/signin", data={"email": "a@example.org", "password": "correct horse battery", "next": "//evil.example/x", **tokens(page)}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/profiles"  # no open redirect


def test_a_second_user_cannot_reach_the_first_ones_profile(clinic: Callable[..., TestClient], store: Store) -> None:
    alice, bob = clinic(), clinic()
    sign_up(alice, "alice@example.org")
    sign_up(bob, "bob@example.org")
    alice.post("/profiles", data={"name": "me", **tokens(alice.get("/profiles").text)})
    alice.post("/profiles/me/scans", files=[("images", ("one.jpg", scalp_jpeg(), "image/jpeg"))],
               data={"zone": "crown", "date": "2025-03-01", "px_per_mm": "220", **tokens(alice.get("/profiles/me").text)})
    owner = store.user_by_email("alice@example.org")
    ((_, sha),) = store.as_owner(owner.id).scan_images("me")
    for path in ("/profiles/me", "/profiles/me/charts/crown.svg", f"/profiles/me/images/{sha}", "/profiles/me/export.csv",
                 "/profiles/me/export.json", "/profiles/me/report.pdf", "/api/profiles/me", "/api/profiles/me/verdict"):
        assert alice.get(path).status_code == 200, path
        assert bob.get(path).status_code == 404, path
    assert bob.get("/api/profiles").json() == []
    before = snapshot(store.url)
    attempt = bob.post("/profiles/me/delete", data={"confirm": "me", **tokens(bob.get("/profiles").text)})
    assert attempt.status_code == 404 and snapshot(store.url) == before
    attempt = bob.post("/profiles/me/remeasure", data=tokens(bob.get("/profiles").text))
    assert attempt.status_code == 404 and snapshot(store.url) == before
    # The same name in Bob's account is his own, separate profile.
    bob.post("/profiles", data={"name": "me", **tokens(bob.get("/profiles").text)})
    assert [p["scans"] for p in bob.get("/api/profiles").json()] == [0]
    assert clinic().get("/api/profiles").status_code == 401  # signed out


def test_a_stale_session_must_sign_in_again(tmp_path: Path, store: Store) -> None:
    with make_client(tmp_path, store, multi_user=True, session_max_age_s=60) as client:
        sign_up(client, "c@example.org")
        cookie = client.cookies.get("hairtrack_session")
        payload = cookie.rsplit(".", 2)[0]
        import base64

        session = json.loads(base64.b64decode(payload + "=="))
        session["iat"] = time.time() - 3600  # signed an hour ago, past the 60 s limit
        secret = (tmp_path / "data" / "web-secret-key").read_text().strip()
        forged = TimestampSigner(secret).sign(base64.b64encode(json.dumps(session).encode())).decode()
        client.cookies.set("hairtrack_session", forged)
        response = client.get("/profiles/me", follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith("/signin?next=/profiles/me")


def test_an_analysed_photo_can_be_saved_to_a_profile(local_client: TestClient, sqlite_store: Store) -> None:
    import re

    sqlite_store.add_profile("anna")
    page = local_client.get("/")
    result = local_client.post("/analyze", files={"image": ("scalp.jpg", scalp_jpeg(), "image/jpeg")},
                               data={"px_per_mm": "220", "zone": "crown", **tokens(page.text)})
    assert 'id="save-scan"' in result.text
    form = dict(re.findall(r'name="(image_b64|filename|px_per_mm)" value="([^"]*)"', result.text))
    saved = local_client.post("/analyze/save", data={**form, "profile": "anna", "zone": "crown", "date": "2025-03-01", **tokens(result.text)})
    assert saved.status_code == 200 and "Saved 1 scan of the crown on 2025-03-01" in saved.text
    ((m, sha),) = sqlite_store.scan_images("anna")
    assert m.image == "scalp.jpg" and m.hairs_per_cm2 and sqlite_store.images.exists(sha)
    tampered = local_client.post("/analyze/save", data={**form, "image_b64": "not base64!", "profile": "anna", "zone": "crown",
                                                        "date": "2025-03-02", **tokens(local_client.get("/").text)})
    assert tampered.status_code == 400 and len(sqlite_store.measurements("anna")) == 1


def test_two_visits_side_by_side_and_blind(local_client: TestClient, sqlite_store: Store) -> None:
    local_client.post("/profiles", data={"name": "anna", **tokens(local_client.get("/profiles").text)})
    photo = scalp_jpeg(4)
    retake = io.BytesIO()  # the same spot a month later: the photo again, a few pixels over (one photo is saved once)
    Image.fromarray(np.asarray(Image.open(io.BytesIO(photo)))[6:, 4:]).save(retake, "JPEG", quality=92)
    for day, data in (("2025-01-06", photo), ("2025-02-03", retake.getvalue())):
        local_client.post("/profiles/anna/scans", files=[("images", ("x.jpg", data, "image/jpeg"))],
                          data={"zone": "crown", "date": day, "px_per_mm": "220", **tokens(local_client.get("/profiles/anna").text)})
    assert 'id="compare-form"' in local_client.get("/profiles/anna").text
    page = local_client.get("/profiles/anna/compare", params={"zone": "crown", "a": "2025-01-06", "b": "2025-02-03"})
    assert page.status_code == 200 and 'id="side-by-side"' in page.text and "hairs kept" in page.text
    blind = local_client.get("/profiles/anna/compare", params={"zone": "crown", "a": "2025-01-06", "b": "2025-02-03", "blind": "1"})
    assert blind.status_code == 200 and "2025-01-06" not in blind.text.split("<h1>")[1].split("</h1>")[0]
    missing = local_client.get("/profiles/anna/compare", params={"zone": "donor", "a": "2025-01-06", "b": "2025-02-03"})
    assert missing.status_code == 400 and "no photo of the donor" in missing.text
    (m, _), _ = sqlite_store.scan_images("anna")
    assert sqlite_store.scan_analyses("anna")[(m.date, m.zone, 1)]["hair_count"] > 0


def test_providers_are_private_and_sign_out_ends_copied_sessions(clinic: Callable[..., TestClient]) -> None:
    alice, bob = clinic(), clinic()
    sign_up(alice, "alice@example.org")
    sign_up(bob, "bob@example.org")
    saved = alice.post("/providers", data={"name": "Secret Clinic of A", "price_amount": "900", "price_currency": "USD",
                                           "save": "1", **tokens(alice.get("/providers").text)})
    assert "Saved Secret Clinic of A" in saved.text
    assert "Secret Clinic of A" not in bob.get("/providers").text
    bob.post("/providers", data={"name": "Secret Clinic of A", "note": "B's own", "save": "1", **tokens(bob.get("/providers").text)})
    assert "900" in alice.get("/providers").text  # Alice's record untouched by Bob's save of the same name
    copied = dict(alice.cookies)
    alice.post("/signout", data=tokens(alice.get("/profiles").text))
    thief = clinic()
    for key, value in copied.items():
        thief.cookies.set(key, value)
    assert thief.get("/api/profiles").status_code == 401


def test_a_corrected_form_can_be_sent_again_after_an_error(local_client: TestClient, sqlite_store: Store) -> None:
    sqlite_store.add_profile("Łukasz")
    form = tokens(local_client.get("/profiles/Łukasz").text)
    typo = local_client.post("/profiles/Łukasz/treatments", data={"treatment": "minoxidil", "date": "2025-01-01", **form})
    assert typo.status_code == 400
    fixed = local_client.post("/profiles/Łukasz/treatments", data={"treatment": "minoxidil_topical", "date": "2025-01-01", **form})
    assert fixed.status_code == 200 and len(sqlite_store.treatments("Łukasz")) == 1
    # A name outside Latin-1 still downloads.
    for path in ("/profiles/Łukasz/export.csv", "/profiles/Łukasz/export.json"):
        response = local_client.get(path)
        assert response.status_code == 200 and "filename*=UTF-8''hairtrack-%C5%81ukasz" in response.headers["content-disposition"]
    odd = local_client.post("/profiles", data={"name": "x", "sex": "robot", **tokens(local_client.get("/profiles").text)})
    assert odd.status_code == 400 and "sex must be male or female" in odd.text


def test_scans_of_an_older_method_are_offered_and_measured_again(local_client: TestClient, sqlite_store: Store) -> None:
    from hairtrack.imaging.analyze import measurement_method
    from hairtrack.imaging.measure import measure_stored
    from hairtrack.tracking.ingest import remeasure_scans

    local_client.post("/profiles", data={"name": "anna", **tokens(local_client.get("/profiles").text)})
    for day, seed in (("2025-03-01", 1), ("2025-04-01", 2)):
        local_client.post("/profiles/anna/scans", files=[("images", (f"{seed}.jpg", scalp_jpeg(seed), "image/jpeg"))],
                          data={"zone": "crown", "date": day, "px_per_mm": "220", **tokens(local_client.get("/profiles/anna").text)})
    page = local_client.get("/profiles/anna").text
    assert 'id="remeasure"' not in page and page.count(measurement_method()) >= 2  # the scans table names it

    def classical(data: bytes, name: str, zone, px_per_mm: float) -> dict:
        return measure_stored(data, name, zone, px_per_mm, detector="classical")

    remeasure_scans(sqlite_store, "anna", classical, method="classical/r2")  # another method than the default, as an older version might have
    page = local_client.get("/profiles/anna").text
    assert 'id="remeasure"' in page and "2 scans with a photo were measured by" in page and f"<code>{measurement_method('classical')}</code>" in page
    done = local_client.post("/profiles/anna/remeasure", data=tokens(page))
    assert done.status_code == 200 and "Measured 2 scans again with " + measurement_method() in done.text
    assert 'id="remeasure"' not in done.text
    assert {m.method for m in sqlite_store.measurements("anna")} == {measurement_method()}
    again = local_client.post("/profiles/anna/remeasure", data=tokens(local_client.get("/profiles/anna").text))
    assert "Every photo is already measured by" in again.text
    # the JSON API: without the CSRF header nothing happens; a dry run says what would change and saves nothing
    header = {"X-CSRF-Token": tokens(local_client.get("/profiles/anna").text)["csrf_token"]}
    assert local_client.post("/api/profiles/anna/remeasure").status_code == 403
    before = snapshot(sqlite_store.url)
    preview = local_client.post("/api/profiles/anna/remeasure?every=true&dry_run=true", headers=header).json()
    assert preview["method"] == measurement_method() and not preview["saved"] and len(preview["scans"]) == 2
    assert [x["method_before"] for x in preview["scans"]] == [measurement_method()] * 2
    assert snapshot(sqlite_store.url) == before
    assert local_client.post("/api/profiles/anna/remeasure", headers=header).json()["scans"] == []
    assert local_client.post("/api/profiles/nobody/remeasure", headers=header).status_code == 404


def test_a_photo_that_is_not_a_scan_is_not_saved(local_client: TestClient, sqlite_store: Store) -> None:
    import numpy as np
    from PIL import Image

    local_client.post("/profiles", data={"name": "anna", **tokens(local_client.get("/profiles").text)})
    rng = np.random.default_rng(0)
    lawn = np.clip(np.array([50, 150, 40]) + rng.normal(0, 25, (300, 400, 3)), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(lawn).save(buffer, "PNG")
    before = snapshot(sqlite_store.url)
    response = local_client.post(
        "/profiles/anna/scans",
        files=[("images", ("ok.jpg", scalp_jpeg(1), "image/jpeg")), ("images", ("lawn.png", buffer.getvalue(), "image/png"))],
        data={"zone": "crown", "date": "2025-03-01", "px_per_mm": "220", **tokens(local_client.get("/profiles/anna").text)},
    )
    assert response.status_code == 400
    assert "lawn.png: this does not look like a close-up of scalp skin (its colours are those of grass" in response.text
    assert "; nothing was saved" in response.text
    assert snapshot(sqlite_store.url) == before


def test_the_dashboard_shows_without_readable_model_files(local_client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from hairtrack.errors import InputError

    analyze = importlib.import_module("hairtrack.imaging.analyze")  # the module (the package exports a function of that name)

    def unreadable(detector: str = "learned") -> str:
        raise InputError("cannot read the detector's model files")

    local_client.post("/profiles", data={"name": "anna", **tokens(local_client.get("/profiles").text)})
    monkeypatch.setattr(analyze, "measurement_method", unreadable)
    page = local_client.get("/profiles/anna")
    assert page.status_code == 200 and 'id="remeasure"' not in page.text
