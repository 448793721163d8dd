"""Screenshots for the README: the demo profile's dashboard and an analyzed photo, in headless Chromium.

    .venv/bin/python scripts/make_screenshots.py [OUT_DIR]   (default docs/img)

Starts ``hairtrack serve`` on a free port with a throw-away data folder holding the image demo.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np
from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from hairtrack.synth import render_scalp  # noqa: E402


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    data = Path(tempfile.mkdtemp(prefix="hairtrack-shots-"))
    env = {**os.environ, "HAIRTRACK_DATA_DIR": str(data)}
    subprocess.run([sys.executable, "-m", "hairtrack", "demo", "--images"], env=env, check=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "hairtrack", "serve", "--port", str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    photo = data / "crown.jpg"
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(render_scalp(seed=21, shape=(768, 960), px_per_mm=150.0, difficulty="medium").image)).save(buffer, "JPEG", quality=92)
    photo.write_bytes(buffer.getvalue())
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(url + "/profiles/sample")
            time.sleep(2)  # let the charts load
            page.screenshot(path=str(out / "dashboard.png"), full_page=False)
            page.goto(url + "/")
            page.set_input_files("#image", str(photo))
            page.fill("#px_per_mm", "150")
            page.click("form[action='/analyze'] button[type=submit]")
            page.wait_for_selector("#overlay")
            page.locator("h2").first.scroll_into_view_if_needed()
            page.screenshot(path=str(out / "analyze.png"), full_page=False)
            browser.close()
    finally:
        server.terminate()
    for name in ("dashboard.png", "analyze.png"):  # keep the repository small
        image = Image.open(out / name).convert("RGB")
        image.quantize(colors=128).save(out / name, optimize=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "img")
