"""Load on the analyze API: N concurrent clients POST a 1280x1024 JPEG to /api/analyze for T seconds.

Prints p50/p95/max latency, throughput and errors, next to the bare ``analyze`` time of the same image
measured in the same run (the floor the server adds its overhead and queueing to).

    python benchmarks/web.py [--clients 8] [--seconds 30] [--workers 1]

The server is ``hairtrack serve`` started here on a free loopback port with a throw-away data folder;
all traffic stays on 127.0.0.1. Target (issue 5): p95 <= 1 s with 8 clients, zero errors.
"""

from __future__ import annotations

import argparse
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hairtrack.imaging import analyze, load_image  # noqa: E402
from hairtrack.synth import render_scalp  # noqa: E402


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _multipart(image: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"scalp.jpg\"\r\n"
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + image + (
        f"\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"px_per_mm\"\r\n\r\n220\r\n--{boundary}--\r\n"
    ).encode()
    return body, f"multipart/form-data; boundary={boundary}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (hairtrack serve uses 1)")
    args = parser.parse_args()

    scene = render_scalp(seed=7, shape=(1024, 1280), px_per_mm=220.0, difficulty="medium")
    buffer = io.BytesIO()
    Image.fromarray(np.asarray(scene.image)).save(buffer, "JPEG", quality=90)
    jpeg = buffer.getvalue()
    rgb = load_image(jpeg).rgb
    bare = []
    for _ in range(10):
        t0 = time.perf_counter()
        analyze(rgb, 220.0)
        bare.append(1000 * (time.perf_counter() - t0))
    decode = []
    for _ in range(10):
        t0 = time.perf_counter()
        load_image(jpeg)
        decode.append(1000 * (time.perf_counter() - t0))

    data = Path(tempfile.mkdtemp(prefix="hairtrack-bench-"))
    port = _port()
    env = {**os.environ, "HAIRTRACK_DATA_DIR": str(data), "HAIRTRACK_DB": str(data / "h.sqlite3")}
    if args.workers == 1:
        command = [sys.executable, "-m", "hairtrack", "serve", "--port", str(port)]
    else:  # several processes: uvicorn's factory mode with the same settings
        command = [sys.executable, "-m", "uvicorn", "--factory", "hairtrack.web.app:create_app", "--port", str(port),
                   "--workers", str(args.workers), "--log-level", "warning"]
    log = (data / "server.log").open("w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        if server.poll() is not None:
            sys.exit(f"the server did not start: {(data / 'server.log').read_text()}")
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).close()
            break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        sys.exit("the server did not answer /healthz within 60 s")
    body, content_type = _multipart(jpeg)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds

    def client() -> None:
        while time.monotonic() < stop:
            request = urllib.request.Request(url + "/api/analyze", data=body, headers={"Content-Type": content_type})
            t0 = time.perf_counter()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    response.read()
                    ok = response.status == 200
            except Exception as exc:  # noqa: BLE001 - every failure is counted and shown
                ok = False
                with lock:
                    errors.append(type(exc).__name__)
            elapsed = 1000 * (time.perf_counter() - t0)
            with lock:
                if ok:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - started
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()

    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [float("nan")] * 99
    print(f"hairtrack web benchmark: POST /api/analyze, 1280x1024 JPEG ({len(jpeg) / 1024:.0f} KB), "
          f"{args.clients} clients for {args.seconds:.0f} s, {args.workers} server process(es), {os.cpu_count()} cores")
    print(f"bare analyze (same image, this process): median {statistics.median(bare):.1f} ms; JPEG decode {statistics.median(decode):.1f} ms")
    print(f"requests ok {len(latencies)}, errors {len(errors)} {sorted(set(errors))}, throughput {len(latencies) / wall:.1f}/s")
    print(f"latency p50 {q[49]:.0f} ms, p95 {q[94]:.0f} ms, max {max(latencies, default=float('nan')):.0f} ms "
          f"(target p95 <= 1000 ms, zero errors: {'met' if q[94] <= 1000 and not errors else 'NOT met'})")


if __name__ == "__main__":
    main()
