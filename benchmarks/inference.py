"""Time of one network pass of the hair detector: OpenCV's DNN module against onnxruntime, float against 8-bit.

The detector runs each of its two networks once per photo (``hairtrack.imaging.learned.predict_maps``). This
prints the median time of one pass on the input of a 1280 x 1024 photo at 220 px/mm (640 x 512 at the
network's scale), for:

- the float main network in OpenCV's DNN module (what hairtrack used before the ninth session);
- the same network in onnxruntime, as hairtrack runs it (``learned._load_net``: threads from ``--threads``, no
  spinning after a run);
- the 8-bit copy (``learned.DEFAULT_MODELS[0]``), the default since then;
- with ``--threads 2`` also the 8-bit copy with onnxruntime's spinning left on. Beside each, the time of the
  image step that follows a pass (``learned.network_input`` on another photo), which spinning threads can
  slow down. ``--busy N`` keeps N other processes busy meanwhile, as another job on the machine would.

Largest difference of each map from the float network in OpenCV, so the speed-ups are of the same outputs.
Run from the repository root::

    PYTHONPATH=. .venv/bin/python benchmarks/inference.py [--threads 1] [--repeats 30] [--busy 0]
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _burn(stop) -> None:
    while not stop.is_set():
        sum(range(10_000))


def _median_ms(run, repeats: int, after=None) -> tuple[float, float | None]:
    """Median ms of ``run()`` and, if given, of ``after()`` called right after each run."""
    run()
    t_run, t_after = [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        t_run.append(time.perf_counter() - t0)
        if after is not None:
            t0 = time.perf_counter()
            after()
            t_after.append(time.perf_counter() - t0)
    return 1000 * float(np.median(t_run)), (1000 * float(np.median(t_after)) if after else None)


def main(argv: list[str] | None = None) -> int:
    import cv2
    import onnxruntime as ort

    from hairtrack.imaging.learned import DEFAULT_MODELS, MODEL_PATH, _load_net, network_input, set_threads
    from hairtrack.synth import render_scalp

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--busy", type=int, default=0, help="other processes kept busy during the timing")
    args = ap.parse_args(argv)
    if args.threads < 1 or args.repeats < 1 or args.busy < 0:
        ap.error("--threads and --repeats must be at least 1, --busy at least 0")
    set_threads(args.threads)
    photo = render_scalp(seed=7, shape=(1024, 1280), px_per_mm=220.0, difficulty="medium").image
    other = render_scalp(seed=8, shape=(1024, 1280), px_per_mm=220.0, difficulty="medium").image
    _, blob = network_input(photo, 0.5)
    net = cv2.dnn.readNetFromONNX(str(MODEL_PATH))

    def dnn():
        net.setInput(blob)
        return np.asarray(net.forward())[0]

    def session_run(session):
        return lambda: session.run(None, {session.get_inputs()[0].name: blob})[0][0]

    def after():
        network_input(other, 0.5)

    reference = dnn()
    rows = [("float, OpenCV DNN", dnn), ("float, onnxruntime", session_run(_load_net(str(MODEL_PATH)))),
            ("8-bit, onnxruntime (default)", session_run(_load_net(str(DEFAULT_MODELS[0]))))]
    if args.threads > 1:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads, opts.inter_op_num_threads = args.threads, 1
        opts.log_severity_level = 3
        spinning = ort.InferenceSession(str(DEFAULT_MODELS[0]), opts, providers=["CPUExecutionProvider"])
        rows.append(("8-bit, onnxruntime, spinning on", session_run(spinning)))
    print(f"one pass of the main network on a {blob.shape[3]} x {blob.shape[2]} input, {args.threads} thread(s), "
          f"median of {args.repeats}, {args.busy} other busy process(es)")
    print(f"{'runtime':<34}{'ms/pass':>9}{'next step ms':>14}{'max |heat diff|':>17}{'max |maps diff|':>17}")
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    burners = [ctx.Process(target=_burn, args=(stop,), daemon=True) for _ in range(args.busy)]
    for b in burners:
        b.start()
    try:
        time.sleep(0.5 if burners else 0.0)
        for label, run in rows:
            ms, next_ms = _median_ms(run, args.repeats, after)
            out = run()
            print(f"{label:<34}{ms:>9.1f}{next_ms:>14.1f}{np.abs(out[0] - reference[0]).max():>17.4f}"
                  f"{np.abs(out - reference).max():>17.4f}")
    finally:
        stop.set()
        for b in burners:
            b.join()
    print("next step: the detector's image preparation of another photo, timed right after each pass")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
