"""The web app in a real browser (Debian's Chromium, driven by Playwright) against a real server.

Screenshots of every page land in ``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.web.conftest import scalp_jpeg

CHROMIUM = os.environ.get("HAIRTRACK_TEST_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (.ci/run installs Debian's chromium)")
playwright = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``hairtrack serve --multi-user`` on a free loopback port, with its own data folder."""
    data = tmp_path_factory.mktemp("server")
    port = _free_port()
    env = {**os.environ, "HAIRTRACK_DATA_DIR": str(data), "HAIRTRACK_DB": str(data / "h.sqlite3")}
    proc = subprocess.Popen([sys.executable, "-m", "hairtrack", "serve", "--multi-user", "--port", str(port)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail(f"the server did not start: {proc.communicate()[0]}")
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    # Playwright gives the browser a fresh, empty profile folder of its own.
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


def shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def sign_up(page: object, url: str, email: str) -> None:
    page.goto(url + "/signup")  # type: ignore[attr-defined]
    page.fill("#email", email)  # type: ignore[attr-defined]
    page.fill("#password", "correct horse battery")  # type: ignore[attr-defined]
    page.click("button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url(url + "/profiles")  # type: ignore[attr-defined]


def test_analyze_an_image_and_see_the_drawn_result(server: str, browser: object, tmp_path: Path) -> None:
    photo = tmp_path / "scalp.jpg"
    photo.write_bytes(scalp_jpeg(3))
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(server + "/")
    shot(page, "01-analyze-page")
    page.set_input_files("#image", str(photo))
    page.fill("#px_per_mm", "220")
    page.click("form[action='/analyze'] button[type=submit]")
    page.wait_for_selector("#overlay")
    overlay = page.locator("#overlay")
    assert overlay.is_visible()
    assert page.evaluate("document.querySelector('#overlay').naturalWidth") > 0  # the drawn image decoded
    assert int(page.inner_text("#hair-count")) > 0
    shot(page, "02-analyze-result")
    page.close()


def test_accounts_scans_charts_privacy_and_the_pdf(server: str, browser: object, tmp_path: Path) -> None:
    alice = browser.new_context(accept_downloads=True)  # type: ignore[attr-defined]
    page = alice.new_page()
    sign_up(page, server, "alice@example.org")
    page.fill("#name", "me")
    page.click("form[action='/profiles'] button[type=submit]")
    page.wait_for_url(server + "/profiles/me")
    for i, day in enumerate(("2025-01-06", "2025-01-20", "2025-02-10")):
        photos = []
        for r in range(2):
            path = tmp_path / f"scan-{i}-{r}.jpg"
            path.write_bytes(scalp_jpeg(10 * i + r))
            photos.append(str(path))
        page.set_input_files("#scan-images", photos)
        page.select_option("#scan-zone", "crown")
        page.fill("#scan-date", day)
        page.fill("#scan-time", "08:30")
        page.fill("#scan-scale", "220")
        page.click("form[action='/profiles/me/scans'] button[type=submit]")
        page.wait_for_selector(".flash.ok")
        assert f"Saved 2 scans of the crown on {day}" in page.inner_text(".flash.ok")
    chart = page.locator("img.chart").first
    for _ in range(100):  # wait_for_function would need 'unsafe-eval', which the CSP rightly refuses
        if page.evaluate("[...document.querySelectorAll('img.chart')].every(i => i.complete)"):
            break
        page.wait_for_timeout(100)
    assert chart.is_visible() and page.evaluate("document.querySelector('img.chart').naturalWidth") > 0
    assert page.locator("#scans tr").count() == 1 + 6
    shot(page, "03-dashboard")

    with page.expect_download() as info:
        page.click("text=Download the PDF report")
    pdf_path = tmp_path / "report.pdf"
    info.value.save_as(pdf_path)
    reader = PdfReader(io.BytesIO(pdf_path.read_bytes()))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert len(reader.pages) >= 3 and "Hair density report: me" in text and "not medical advice" in text

    bob = browser.new_context()  # type: ignore[attr-defined]
    other = bob.new_page()
    sign_up(other, server, "bob@example.org")
    response = other.goto(server + "/profiles/me")
    assert response.status == 404
    assert "no profile named" in other.inner_text("#error-message")
    shot(other, "04-other-user-404")
    image_links = page.locator("#scans a")
    first_image = image_links.first.get_attribute("href")
    assert other.goto(server + first_image).status == 404
    for path in ("/profiles/me/report.pdf", "/profiles/me/export.csv", "/api/profiles/me"):
        assert bob.request.get(server + path).status == 404, path
    alice.close()
    bob.close()
