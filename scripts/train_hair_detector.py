"""Train the learned hair detector on synthetic scalps only, and export it to ONNX.

The shipped weights (``hairtrack/imaging/models/hair_centernet.onnx``; since 2026-11-28 the average of the network
the three runs below made and of its fine-tune on scenes drawn at the real photos' scale, run ``m`` of the model
card's twenty-second session, averaged as ``--average`` does) are fitted to images drawn by
:func:`hairtrack.synth.render_scalp` with ``varied=True`` and nothing else: the real trichoscopy dev
images carry no licence and are used only by the benchmarks, to measure transfer and to choose the
decoding threshold on their ``tune`` fold.

The network is a small CenterNet-style encoder-decoder (Zhou, Wang & Kraehenbuehl 2019, "Objects as
Points"): from an RGB image at half the scale of a 1280 x 1024 dermoscope photo (about 110 px/mm) it
predicts, at a stride of 4 (8 px of the full photo), a heatmap of hair midpoints and, at each midpoint,
``cos 2θ``, ``sin 2θ`` of the shaft's direction and ``log(length / 32 px)``.

Training data: ``--images`` scenes of 512 x 512 px at 220 px/mm (a crop of a 70x photo), every difficulty,
``varied=True``, a banner on 15% and a red circle on 25%, reduced by 2 (INTER_AREA) to 256 x 256; random
flips and quarter turns at each step. Hairs whose unit leaves the frame (``at_border``) are left out of
the loss (the real labels often miss them); ``--border-hairs`` makes them targets instead (with its own
``--cache``). Seeds 0..images-1; torch seed ``--seed``.

Usage (CPU, 2 threads; needs the ``train`` extra: ``pip install torch==2.13.0 onnx``). The shipped model
came from these three runs (25 + 10 + 30 minutes on 2 shared cores), each resuming the one before::

    python scripts/train_hair_detector.py --images 3600 --minutes 25 --seed 0 --checkpoint /tmp/a.pt \\
        --out /tmp/a.onnx
    python scripts/train_hair_detector.py --images 3600 --minutes 10 --seed 1 --lr 1e-3 --init /tmp/a.pt \\
        --checkpoint /tmp/b.pt --out /tmp/b.onnx
    python scripts/train_hair_detector.py --images 3600 --minutes 30 --seed 2 --lr 1.5e-3 --init /tmp/b.pt \\
        --checkpoint /tmp/c.pt --out hairtrack/imaging/models/hair_centernet.onnx

(845 + 437 + 4,079 steps of 16, about 86,000 sample presentations; the third run's final weights were
kept: the tune fold preferred them to a copy saved about 23 minutes in, see docs/hair_detector_card.md.) The
decoding threshold (``learned.DEFAULT_THRESHOLD``) and the shaft-aware peak suppression were then chosen
on the dev set's ``tune`` fold; no real image enters this script.

The fragment network (``hair_centernet_fragments.onnx``, averaged with the main one at inference: see
``hairtrack.imaging.learned.predict_maps``) came from one more run from the main network's weights, on
scenes with loose fragments and black dots and the scale bar's strip as the frame's edge (run i of the
model card; 45 minutes on 1 thread, 6,162 steps)::

    python scripts/train_hair_detector.py --images 3600 --minutes 45 --seed 8 --threads 1 --lr 1e-3 \\
        --init /tmp/c.pt --fragments 0.08 --strip-edge --cache /tmp/cache_i.npz --checkpoint /tmp/i.pt \\
        --out hairtrack/imaging/models/hair_centernet_fragments.onnx

``--stride 2 --sigma-cells S --init /tmp/c.pt --cache NEW.npz`` trains the finer-grid variant from the
shipped weights (measured and not kept: docs/hair_detector_card.md, fourth session); the decoder reads the
stride from the model's output size.

``--rising 0.3`` draws that share of the hairs rising out of the focal plane, in focus at the skin and softer
towards the tip (``render_scalp(..., rising_p=0.3)``; still hairs of the truth; a new cache), and
``--defocused 0.2`` lays out-of-focus shafts over each training image as it is drawn into a batch
(:func:`hairtrack.synth.scalp.add_defocused_shafts`; not hairs of the truth, so the heatmap must stay low on
them), from a generator of its own, so the batches and their order stay those of the same ``--seed`` without
it (seventh session, docs/hair_detector_card.md).

``--crop 768`` renders larger scenes (768 x 768 px, 384 x 384 at the network's input): in a 512-px crop about
half of the hairs are cut by the crop's edge and left out of the loss, leaving 1.4 whole hairs a scene. ``--plain
0.25`` draws that share of the scenes with the plain presets of ``benchmarks/synthetic.py`` (``varied=False``, at
seeds from ``PLAIN_SEED0`` up, far from the benchmark's and the tests'); fragments, the strip edge and rising
hairs apply to the varied scenes only. Both need a new cache (eighth session, docs/hair_detector_card.md).

``--lifelike`` draws what the real photos show and the varied scenes leave out: a network of skin creases, a
granular specular sheen, shafts with a darker core, a lighter rim and square cut ends, a pale or blue-grey halo
round each opening, and more units of near-parallel shafts, half of their shafts lying partly over others
(``render_scalp(..., lifelike=True)``; a new cache; eleventh session, docs/hair_detector_card.md).

``--second-view`` also trains on a second photo of each batch (:func:`second_view`: other gains, a little blur,
sensor noise, JPEG at quality 75-95, from a generator of its own), supervised like the first, and
``--consistency W`` adds ``W`` times the squared difference of the two views' heatmaps (summed, per true
midpoint): re-takes of one spot differ by about one hair in ten, and this asks the network for the same hairs
in both photos (tenth session, docs/hair_detector_card.md).

``--random-conv 0.5`` filters that share of the training images with a random 3 -> 3 channel convolution mixed
into them (:func:`random_conv`, RandConv; kernel sizes ``--random-conv-sizes``, 1 alone being a random colour
mixing), from a generator of its own: colours and grain change at random and the shapes do not, so the network
is pushed to read the shafts' shapes rather than the renderer's colours (thirteenth session,
docs/hair_detector_card.md).

``--render-ppm 358`` draws the scenes at the real 70x photos' scale (their dermoscope's scale bar: 358 px/mm,
``benchmarks/scale_bar.py``), so that halved they are at the 179 px/mm the detector reads photos at; until
2026-11-28 they were drawn at 220 and read at 110, with shafts 0.3-1.6 mm x a magnification of 0.7-1.8 that
made them longer in the input than the real clipped ones. ``--varied-shaft-mm LO HI`` and ``--varied-zoom LO
HI`` set those two ranges of the varied scenes, and ``--varied-width-gain LO HI`` a further factor on their widths
alone (``render_scalp(..., varied_shaft_mm=, varied_zoom=, varied_width_gain=)``). Each needs a new cache. The
twenty-second session's runs with them were not kept (docs/hair_detector_card.md gives the commands and figures).

``--swa-from 0.2`` keeps the learning rate constant and exports the average of the weights taken every
``--swa-every`` steps over the last four fifths of the budget (stochastic weight averaging), and
``--average A.pt B.pt`` exports the plain average of state dicts fine-tuned from one start (a model soup),
without training. Both were measured in the sixth session and not kept (docs/hair_detector_card.md, which
gives the commands): longer training fitted the renderer better and the real photos worse.

The ``.pt`` state dicts these commands name lived in ``/tmp`` and are gone; ``--init`` also takes a float
``.onnx`` file exported here, such as the shipped ``hairtrack/imaging/models/hair_centernet.onnx``, and
recovers its weights (:func:`state_dict_from_onnx`; the export folded the batch norms into the convolutions,
so they stay frozen in training, and ``--swa-from`` is refused; a checkpoint of such a run, given to ``--init``,
keeps them frozen too)::

    python scripts/train_hair_detector.py --images 3600 --minutes 40 --seed 9 --threads 1 --lr 1e-3 \
        --init hairtrack/imaging/models/hair_centernet.onnx --checkpoint /tmp/t.pt --out /tmp/t.onnx

Training is bounded by wall time, so the number of steps (and the weights) depend on the machine's speed;
the data (seeds 0..images-1) and the order of batches (``--seed``) do not. ``--steps N`` bounds it by steps
instead (the learning rate's cosine then runs over the steps), which makes a run's length the same on any
machine; ``--device cuda`` trains on a GPU (the data and its augmentation stay on the CPU; checkpoints are
saved with CPU tensors).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CROP = 512          # rendered side, full-photo pixels
RENDER_PPM = 220.0  # rendered scale, px/mm (a 70x dermoscope photo)
SCALE = 0.5         # network input scale (full photo -> input)
STRIDE = 4          # output stride relative to the input (8 px of the full photo); --stride
SIGMA_CELLS = 0.8   # Gaussian of a midpoint on the heatmap, in output cells; --sigma-cells
LEN_REF_PX = 32.0   # length regression: log(length_input_px / LEN_REF_PX)


BORDER_HAIRS = False  # --border-hairs: hairs cut by the frame or entering it are targets, not ignored
PAIR_WEIGHT = 1.0  # --pair-weight: weight of the midpoint of a hair lying beside another of its unit
FRAGMENTS_PER_MM2 = 0.0  # --fragments: loose fragments and black dots in the scenes (render_scalp)
STRIP_EDGE = False  # --strip-edge: a scale bar's grey strip is the frame's edge for the truth
RISING_P = 0.0  # --rising: share of hairs rising out of the focal plane, soft towards the tip (render_scalp)
PLAIN_P = 0.0  # --plain: share of scenes drawn with the plain presets (varied=False) of benchmarks/synthetic.py
LIFELIKE = False  # --lifelike: creases, sheen, shaded square-ended shafts, halos, stacked shafts (render_scalp)
VARIED_SHAFT_MM = (0.3, 1.6)  # --varied-shaft-mm: the varied scenes' shaft lengths before magnification
VARIED_ZOOM = (0.7, 1.8)  # --varied-zoom: the varied scenes' magnification range
VARIED_WIDTH_GAIN = (1.0, 1.0)  # --varied-width-gain: a further factor on the varied scenes' shaft widths
# Plain scenes take their seeds from here up, far from those of the benchmarks (1000 on) and the tests.
PLAIN_SEED0 = 1_000_000


def _set_targets(stride: int, sigma_cells: float, border_hairs: bool, pair_weight: float = 1.0,
                 fragments_per_mm2: float = 0.0, strip_edge: bool = False, rising_p: float = 0.0,
                 crop: int = 512, plain_p: float = 0.0, lifelike: bool = False, render_ppm: float = 220.0,
                 varied_shaft_mm: tuple[float, float] = (0.3, 1.6),
                 varied_zoom: tuple[float, float] = (0.7, 1.8),
                 varied_width_gain: tuple[float, float] = (1.0, 1.0)) -> None:
    global STRIDE, SIGMA_CELLS, BORDER_HAIRS, PAIR_WEIGHT, FRAGMENTS_PER_MM2, STRIP_EDGE, RISING_P, CROP, PLAIN_P
    global LIFELIKE, RENDER_PPM, VARIED_SHAFT_MM, VARIED_ZOOM, VARIED_WIDTH_GAIN
    STRIDE, SIGMA_CELLS, BORDER_HAIRS, PAIR_WEIGHT = stride, sigma_cells, border_hairs, pair_weight
    FRAGMENTS_PER_MM2, STRIP_EDGE, RISING_P, CROP, PLAIN_P = fragments_per_mm2, strip_edge, rising_p, crop, plain_p
    LIFELIKE, RENDER_PPM = lifelike, float(render_ppm)
    VARIED_SHAFT_MM, VARIED_ZOOM, VARIED_WIDTH_GAIN = tuple(varied_shaft_mm), tuple(varied_zoom), tuple(varied_width_gain)


def beside_another(hr, hairs) -> bool:
    """True when another hair of the same unit lies beside ``hr``: within 12 degrees of its direction,
    1.5 mean shaft widths across and half its length along (touching side-by-side shafts)."""
    ax = (-math.sin(math.radians(hr.angle_deg)), math.cos(math.radians(hr.angle_deg)))
    for g in hairs:
        if g is hr or g.unit != hr.unit:
            continue
        if abs((hr.angle_deg - g.angle_deg + 90.0) % 180.0 - 90.0) >= 12.0:
            continue
        v = (g.row_px - hr.row_px, g.col_px - hr.col_px)
        if (abs(v[0] * ax[1] - v[1] * ax[0]) < 0.75 * (hr.width_px + g.width_px) + 2.0
                and abs(v[0] * ax[0] + v[1] * ax[1]) < 0.5 * hr.length_px):
            return True
    return False


def render_sample(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One training sample: input (CROP / 2, CROP / 2, 3) uint8, heatmap, regression (3, ...) and weight maps."""
    from hairtrack.synth.scalp import DIFFICULTIES, render_scalp

    rng = np.random.default_rng([seed, 11])
    banner, red_circle = bool(rng.random() < 0.15), bool(rng.random() < 0.25)
    if PLAIN_P > 0 and rng.random() < PLAIN_P:  # a third draw, so --plain 0 leaves every sample as it was
        sc = render_scalp(seed=PLAIN_SEED0 + seed, shape=(CROP, CROP), px_per_mm=RENDER_PPM,
                          difficulty=DIFFICULTIES[seed % 3], banner=banner, red_circle=red_circle)
    else:
        sc = render_scalp(seed=seed, shape=(CROP, CROP), px_per_mm=RENDER_PPM, difficulty=DIFFICULTIES[seed % 3],
                          banner=banner, red_circle=red_circle, varied=True, fragments_per_mm2=FRAGMENTS_PER_MM2,
                          strip_edge=STRIP_EDGE, rising_p=RISING_P, lifelike=LIFELIKE,
                          varied_shaft_mm=VARIED_SHAFT_MM, varied_zoom=VARIED_ZOOM,
                          varied_width_gain=VARIED_WIDTH_GAIN)
    side = int(CROP * SCALE)
    img = cv2.resize(sc.image, (side, side), interpolation=cv2.INTER_AREA)
    g = side // STRIDE
    heat = np.zeros((g, g), np.float32)
    reg = np.zeros((3, g, g), np.float32)
    regw = np.zeros((g, g), np.float32)
    ignore = np.zeros((g, g), np.float32)
    posw = np.ones((g, g), np.float32)
    yy, xx = np.mgrid[0:g, 0:g].astype(np.float32)
    f = SCALE / STRIDE  # full-photo px -> output cells; cell i covers [i, i + 1) / f, centre (i + 0.5) / f
    for hr in sc.hairs:
        cy, cx = hr.row_px * f - 0.5, hr.col_px * f - 0.5
        iy, ix = int(min(max(round(cy), 0), g - 1)), int(min(max(round(cx), 0), g - 1))
        gauss = np.exp(-((yy - iy) ** 2 + (xx - ix) ** 2) / (2 * SIGMA_CELLS ** 2))
        if hr.at_border and not BORDER_HAIRS:
            np.maximum(ignore, (gauss > 0.05).astype(np.float32), out=ignore)
            continue
        np.maximum(heat, gauss, out=heat)
        if PAIR_WEIGHT != 1.0 and beside_another(hr, sc.hairs):
            posw[iy, ix] = PAIR_WEIGHT
        th = math.radians(hr.angle_deg)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                y, x = iy + dy, ix + dx
                if 0 <= y < g and 0 <= x < g:
                    reg[:, y, x] = (math.cos(2 * th), math.sin(2 * th),
                                    math.log(max(hr.length_px * SCALE, 4.0) / LEN_REF_PX))
                    regw[y, x] = 1.0
    ignore[heat > 0.5] = 0.0
    if PAIR_WEIGHT != 1.0:
        return img, heat, reg, np.stack([regw, ignore, posw])
    return img, heat, reg, np.stack([regw, ignore])


def build_model(stride: int = 4):
    """The network (about 0.2 M parameters): encoder to 1/16, decoder back to 1/``stride`` with skips, one head.

    ``stride=2`` adds a light stage at 1/2 (a depthwise 3 x 3 and a 1 x 1 over the upsampled 1/4 features
    and the first encoder stage's), added to the upsampled features as a residual whose last layer starts
    at zero: from 1/4-stride weights (``--init``) it starts as their heatmap, upsampled.
    """
    import torch
    from torch import nn

    def cbr(i, o, s=1, d=1, k=3):
        return nn.Sequential(nn.Conv2d(i, o, k, s, padding=d * (k // 2), dilation=d, bias=False),
                             nn.BatchNorm2d(o), nn.ReLU(inplace=True))

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.e1 = cbr(3, 16, 2)                                         # 1/2
            self.e2 = nn.Sequential(cbr(16, 24, 2), cbr(24, 24))            # 1/4
            self.e3 = nn.Sequential(cbr(24, 48, 2), cbr(48, 48, d=2))       # 1/8
            self.e4 = nn.Sequential(cbr(48, 64, 2), cbr(64, 64, d=2), cbr(64, 64, d=4))  # 1/16
            self.d3 = cbr(64 + 48, 48)
            self.d2 = nn.Sequential(cbr(48 + 24, 24, k=1), cbr(24, 24))
            if stride == 2:
                self.d1 = nn.Sequential(cbr(24 + 16, 24, k=1),
                                        nn.Conv2d(24, 24, 3, padding=1, groups=24, bias=False),
                                        nn.BatchNorm2d(24), nn.ReLU(inplace=True), nn.Conv2d(24, 24, 1))
                nn.init.zeros_(self.d1[-1].weight)
                nn.init.zeros_(self.d1[-1].bias)
            self.head = nn.Conv2d(24, 4, 1)
            self.head.bias.data[0] = -4.0
            self.up = nn.Upsample(scale_factor=2, mode="nearest")

        def forward(self, x):
            x = x / 127.5 - 1.0
            e1 = self.e1(x)
            e2 = self.e2(e1)
            e3 = self.e3(e2)
            e4 = self.e4(e3)
            d3 = self.d3(torch.cat([self.up(e4), e3], 1))
            d2 = self.d2(torch.cat([self.up(d3), e2], 1))
            if stride == 2:
                u = self.up(d2)
                d2 = u + self.d1(torch.cat([u, e1], 1))
            o = self.head(d2)
            return torch.cat([torch.sigmoid(o[:, :1]), o[:, 1:]], 1)

    return Net()


def focal_loss(pred, gt, ignore, pos_weight=None):
    """CenterNet's penalty-reduced focal loss (Zhou et al. 2019, eq. 1; alpha 2, beta 4).

    ``pos_weight`` (optional, like ``gt``) weights each midpoint's positive term (``--pair-weight``).
    """
    import torch

    p = pred.clamp(1e-4, 1 - 1e-4)
    pos = (gt >= 0.99).float()
    keep = 1.0 - ignore * (1 - pos)
    pos_loss = torch.log(p) * (1 - p) ** 2 * pos
    if pos_weight is not None:
        pos_loss = pos_loss * pos_weight
    neg_loss = torch.log(1 - p) * p ** 2 * (1 - gt) ** 4 * (1 - pos) * keep
    n = pos.sum().clamp(min=1.0)
    return -(pos_loss.sum() + neg_loss.sum()) / n


def train_step(model, opt, x, hm, rg, w, x2=None, consistency: float = 0.0):
    """One optimiser step on one batch; returns the heatmap and regression losses of its first view.

    ``x`` (B, 3, H, W) float 0-255, ``hm`` (B, 1, h, w) heat targets, ``rg`` (B, 3, h, w) regression targets,
    ``w`` (B, 2 or 3, h, w) regression mask, ignore mask and (optional) positive weights; ``x2`` a second view
    of the same batch (``--second-view``) and ``consistency`` the weight of the two heatmaps' squared
    difference. The gradients are cleared first: each step follows its own batch's loss only.
    """
    import torch

    opt.zero_grad(set_to_none=True)
    out = model(x)
    l_heat = focal_loss(out[:, :1], hm, w[:, 1:2], w[:, 2:3] if w.shape[1] == 3 else None)
    m = w[:, :1]
    l_reg = (torch.abs(out[:, 1:] - rg) * m).sum() / m.sum().clamp(min=1.0) / 3.0
    loss = l_heat + l_reg
    if x2 is not None:
        out2 = model(x2)
        l_heat2 = focal_loss(out2[:, :1], hm, w[:, 1:2], w[:, 2:3] if w.shape[1] == 3 else None)
        l_reg2 = (torch.abs(out2[:, 1:] - rg) * m).sum() / m.sum().clamp(min=1.0) / 3.0
        n_pos = (hm >= 0.99).float().sum().clamp(min=1.0)
        l_cons = ((out[:, :1] - out2[:, :1]) ** 2).sum() / n_pos
        loss = 0.5 * (loss + l_heat2 + l_reg2) + consistency * l_cons
    loss.backward()
    opt.step()
    return l_heat, l_reg


def second_view(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Another photo of the same batch (B, 3, H, W float, 0-255): channel gains, a little blur, sensor noise
    and JPEG at quality 75-95, each drawn per image. The hairs are where they were."""
    out = np.empty_like(x, dtype=np.float32)
    for i, im in enumerate(x):
        img = im.transpose(1, 2, 0).astype(np.float32) * rng.uniform(0.85, 1.15) * rng.uniform(0.95, 1.05, 3)
        sigma = rng.uniform(0.0, 0.8)
        if sigma > 0.2:
            img = cv2.GaussianBlur(img, (0, 0), sigma)
        img = np.clip(img + rng.normal(0.0, 2.0, img.shape), 0, 255).astype(np.uint8)
        quality = int(rng.integers(75, 96))
        ok, jpeg = cv2.imencode(".jpg", np.ascontiguousarray(img), [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        out[i] = cv2.imdecode(jpeg, cv2.IMREAD_UNCHANGED).astype(np.float32).transpose(2, 0, 1)
    return out


def random_conv(x: np.ndarray, rng: np.random.Generator, share: float,
                sizes: tuple[int, ...] = (1, 3, 5, 7)) -> np.ndarray:
    """Random convolutions of a batch (B, 3, H, W float, 0-255), for that share of its images (RandConv;
    Xu, Liu, Zhang & Niethammer 2021, "Robust and Generalizable Visual Representation Learning via Random
    Convolutions").

    Each chosen image is filtered by a 3 -> 3 channel kernel of a size drawn from ``sizes``, its weights
    Gaussian with He's spread (1 / sqrt(3 k^2)); the result is brought to the image's own channel means and
    spreads and mixed with it, ``a x + (1 - a) conv(x)`` with ``a`` drawn from U(0, 1). Colour and local
    texture change at random; the shapes (where the shafts lie) do not, so the network is pushed to read
    shapes, not the renderer's colours and grain. Size 1 alone is a random colour mixing.
    """
    out = np.array(x, dtype=np.float32, copy=True)
    for i in range(len(out)):
        if rng.random() >= share:
            continue
        k = int(rng.choice(sizes))
        w = rng.normal(0.0, 1.0 / math.sqrt(3 * k * k), (3, 3, k, k))
        a = float(rng.uniform(0.0, 1.0))
        img = out[i].transpose(1, 2, 0)
        conv = np.zeros_like(img)
        for o in range(3):  # output channel o = sum over input channels of their filtered planes
            for c in range(3):
                # filter2D correlates; a random kernel makes that the same thing; reflected borders
                conv[..., o] += cv2.filter2D(img[..., c], cv2.CV_32F, w[o, c].astype(np.float32),
                                             borderType=cv2.BORDER_REFLECT_101)
        mean, spread = img.mean(axis=(0, 1)), img.std(axis=(0, 1))
        conv = (conv - conv.mean(axis=(0, 1))) / (conv.std(axis=(0, 1)) + 1e-6) * spread + mean
        out[i] = np.clip(a * img + (1.0 - a) * conv, 0, 255).transpose(2, 0, 1)
    return out


def _cpu_state(model) -> dict:
    """The state dict with every tensor on the CPU, so a checkpoint saved from a GPU loads anywhere."""
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def _swa_weights(model, swa, imgs: np.ndarray, rng: np.random.Generator, batch: int, batches: int = 200):
    """The averaged weights in ``model``, with batch-norm statistics recomputed on training images.

    The running statistics of the last weights do not fit their average (Izmailov et al. 2018, "Averaging
    Weights Leads to Wider Optima and Better Generalization"), so they are measured again, over ``batches``
    random batches, as :func:`torch.optim.swa_utils.update_bn` does.
    """
    import torch
    from torch.optim.swa_utils import update_bn

    if swa.n_averaged.item() == 0:
        raise SystemExit("no weights were averaged: lower --swa-from or --swa-every, or give more --minutes")
    # a generator: update_bn reads each batch once, so the batches need not all be held at once
    loader = (torch.from_numpy(imgs[rng.integers(0, len(imgs), batch)].astype(np.float32).transpose(0, 3, 1, 2))
              for _ in range(batches))
    update_bn(loader, swa.module)
    print(f"averaged {swa.n_averaged.item()} sets of weights; batch-norm statistics over {batches} batches",
          flush=True)
    return swa.module


def _export_average(paths: list[Path], checkpoint: Path, out: Path) -> int:
    """Average state dicts of one architecture, weights and batch-norm statistics alike (a uniform "model
    soup", Wortsman et al. 2022), save the average and export it to ONNX.

    Averaging makes sense only for networks fine-tuned from one starting point, so that they lie in one
    basin; counters (``num_batches_tracked``) are taken from the first.
    """
    import torch

    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise SystemExit(f"no such state dict: {', '.join(missing)}")
    sds = [torch.load(p) for p in paths]
    if any(set(sd) != set(sds[0]) for sd in sds):
        raise SystemExit("the state dicts to average have different layers")
    avg = {k: (sum(sd[k] for sd in sds) / len(sds) if v.dtype.is_floating_point else v)
           for k, v in sds[0].items()}
    model = build_model(2 if any(k.startswith("d1.") for k in avg) else 4)
    model.load_state_dict(avg)
    torch.save(model.state_dict(), checkpoint)
    out.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(model, out)
    print(f"averaged {len(sds)} state dicts; exported {out} ({out.stat().st_size / 1e6:.2f} MB)", flush=True)
    return 0


def export_onnx(model, out: Path) -> None:
    import torch

    model.eval()
    dummy = torch.zeros(1, 3, 512, 640)
    torch.onnx.export(model, dummy, str(out), input_names=["image"], output_names=["maps"], opset_version=13,
                      dynamic_axes={"image": {2: "h", 3: "w"}, "maps": {2: "gh", 3: "gw"}}, dynamo=False)


def state_dict_from_onnx(path: Path) -> dict:
    """The weights of an exported float network (``build_model(4)``), as a state dict to train on.

    Export folds each batch norm into the convolution before it, so the convolutions get the folded
    weights and biases and each batch norm becomes the identity: scale 1, shift the folded bias, running
    mean 0 and variance ``1 - eps``. The network then computes what the ONNX file does, but only while its
    batch norms keep those statistics: train it with them frozen (``--init X.onnx`` does). This is how a
    shipped network is fine-tuned once its ``.pt`` state dict is gone.
    """
    import onnx
    import torch
    from onnx import numpy_helper

    try:
        graph = onnx.load(str(path)).graph
    except Exception as exc:  # onnx raises several types for a file that is not a model
        raise SystemExit(f"--init {path}: not an ONNX model ({exc})") from exc
    arrays = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    what = ("not a float network of this design at stride 4 (an 8-bit copy, a finer-grid variant or another "
            "layout); give a float file exported by this script")
    layout = f"--init {path}: {what}"
    sd = build_model(4).state_dict()
    convs = {k for k, v in sd.items() if k.endswith(".weight") and v.ndim == 4}
    seen: set[str] = set()
    for node in graph.node:
        if node.op_type != "Conv":
            continue
        # the exporter names a node by its module's path, "/e4/e4.1/e4.1.0/Conv" for e4[1][0]
        module = node.name.strip("/").split("/")[-2] if node.name.count("/") >= 2 else ""
        weight, bias = (arrays.get(name) for name in (list(node.input) + ["", ""])[1:3])
        key = module + ".weight"
        if key not in convs or key in seen or weight is None or bias is None or weight.shape != tuple(sd[key].shape):
            raise SystemExit(layout)
        seen.add(key)
        sd[key] = torch.from_numpy(weight.copy())
        if module == "head":
            if bias.shape != tuple(sd["head.bias"].shape):
                raise SystemExit(layout)
            sd["head.bias"] = torch.from_numpy(bias.copy())
            continue
        bn = module[:-1] + "1."  # the batch norm after e4[1][0] is e4[1][1]
        if bn + "running_var" not in sd or bias.shape != tuple(sd[bn + "bias"].shape):
            raise SystemExit(layout)
        sd[bn + "weight"] = torch.ones_like(sd[bn + "weight"])
        sd[bn + "bias"] = torch.from_numpy(bias.copy())
        sd[bn + "running_mean"] = torch.zeros_like(sd[bn + "running_mean"])
        sd[bn + "running_var"] = torch.full_like(sd[bn + "running_var"], 1.0 - 1e-5)  # BatchNorm2d's eps
    if seen != convs:
        raise SystemExit(layout)
    # the proof: the recovered network computes what the file does
    import onnxruntime as ort

    model = build_model(4)
    model.load_state_dict(sd)
    model.eval()
    x = np.random.default_rng(0).uniform(0, 255, (1, 3, 64, 96)).astype(np.float32)
    with torch.no_grad():
        ours = model(torch.from_numpy(x)).numpy()
    try:
        theirs = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    except Exception as exc:  # onnxruntime raises its own types for a model it cannot run
        raise SystemExit(f"{layout} ({exc})") from exc
    if ours.shape != theirs.shape or not np.allclose(ours, theirs, atol=1e-3):
        raise SystemExit(f"--init {path}: the weights read from it do not reproduce its outputs: {what}")
    return sd


def has_folded_batch_norm(state_dict: dict) -> bool:
    """Whether every batch norm of ``state_dict`` has the statistics :func:`state_dict_from_onnx` gives
    (mean 0, variance ``1 - eps``): a network recovered from ONNX, or a checkpoint of one being trained,
    which must keep them frozen."""
    import torch

    bns = [k[: -len("running_mean")] for k in state_dict if k.endswith("running_mean")]
    return bool(bns) and all(
        torch.equal(state_dict[b + "running_mean"], torch.zeros_like(state_dict[b + "running_mean"]))
        and torch.equal(state_dict[b + "running_var"], torch.full_like(state_dict[b + "running_var"], 1.0 - 1e-5))
        for b in bns)


def freeze_batch_norm(model) -> None:
    """Keep every batch norm on its running statistics while the rest trains (call after ``model.train()``)."""
    from torch import nn

    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eval()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--images", type=int, default=5000)
    ap.add_argument("--minutes", type=float, default=28.0, help="training time budget")
    ap.add_argument("--steps", type=int, default=0,
                    help="a step budget instead: the learning rate's schedule runs over these steps, and training "
                         "stops after them (or at --minutes, whichever comes first); 0: the time budget alone")
    ap.add_argument("--device", default="cpu",
                    help="torch device to train on: cpu (the default) or cuda; the data and augmentation stay on "
                         "the CPU, the exported network is the same float ONNX file")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/hair_synth_cache.npz"))
    ap.add_argument("--init", type=Path, default=None,
                    help="start from these weights: a .pt state dict, or a float .onnx file as exported here (its "
                         "batch norms, folded into the convolutions, then stay frozen)")
    ap.add_argument("--checkpoint", type=Path, default=Path("/tmp/hair_centernet.pt"),
                    help="the state dict, saved every 100 steps and at the end")
    ap.add_argument("--out", type=Path, default=Path("hairtrack/imaging/models/hair_centernet.onnx"))
    ap.add_argument("--border-hairs", action="store_true",
                    help="train on the hairs the frame cuts too (use a cache made with the same setting)")
    ap.add_argument("--stride", type=int, choices=(2, 4), default=4,
                    help="output stride in input px (use a cache made with the same stride)")
    ap.add_argument("--sigma-cells", type=float, default=0.8, help="midpoint Gaussian, in output cells")
    ap.add_argument("--pair-weight", type=float, default=1.0,
                    help="weight of the midpoints of hairs lying beside another of their unit (a new cache)")
    ap.add_argument("--fragments", type=float, default=0.0, metavar="PER_MM2",
                    help="loose fragments and black dots as truth hairs, up to this rate (a new cache)")
    ap.add_argument("--strip-edge", action="store_true",
                    help="a scale bar's grey strip is the frame's edge for the truth (a new cache)")
    ap.add_argument("--rising", type=float, default=0.0, metavar="SHARE",
                    help="this share of the hairs rise out of the focal plane, soft towards the tip (a new cache)")
    ap.add_argument("--crop", type=int, default=CROP, metavar="PX",
                    help="side of each rendered scene in photo px (a multiple of 32 from 256; a new cache)")
    ap.add_argument("--plain", type=float, default=0.0, metavar="SHARE",
                    help="this share of the scenes drawn with the plain presets, not varied (a new cache)")
    ap.add_argument("--lifelike", action="store_true",
                    help="skin creases, sheen, shaded square-ended shafts, halos and stacked shafts (a new cache)")
    ap.add_argument("--render-ppm", type=float, default=RENDER_PPM, metavar="PX_PER_MM",
                    help="scale the scenes are rendered at, before halving to the network's input (a new cache); "
                         "220 until 2026-11-28, the real 70x photos' 358 since")
    ap.add_argument("--varied-shaft-mm", type=float, nargs=2, default=list(VARIED_SHAFT_MM), metavar=("LO", "HI"),
                    help="shaft lengths (mm, before magnification) of the varied scenes (a new cache)")
    ap.add_argument("--varied-zoom", type=float, nargs=2, default=list(VARIED_ZOOM), metavar=("LO", "HI"),
                    help="magnification range of the varied scenes (a new cache)")
    ap.add_argument("--varied-width-gain", type=float, nargs=2, default=list(VARIED_WIDTH_GAIN), metavar=("LO", "HI"),
                    help="a further factor on the varied scenes' shaft widths alone (a new cache)")
    ap.add_argument("--defocused", type=float, default=0.0, metavar="PER_MM2",
                    help="lay out-of-focus shafts (not hairs of the truth) over each training image, at a rate "
                         "drawn per image up to this (synth.add_defocused_shafts); 0: none")
    ap.add_argument("--swa-from", type=float, default=None, metavar="FRACTION",
                    help="stochastic weight averaging: keep --lr constant and, from this fraction of the budget "
                         "on, average the weights every --swa-every steps; the average (its batch-norm "
                         "statistics recomputed) is what is saved and exported")
    ap.add_argument("--swa-every", type=int, default=25)
    ap.add_argument("--second-view", action="store_true",
                    help="also train on a second view of each batch: other gain, blur, sensor noise and JPEG")
    ap.add_argument("--consistency", type=float, default=0.0, metavar="WEIGHT",
                    help="with --second-view: weight of the squared difference of the two views' heatmaps "
                         "(summed, per true midpoint), so that a hair does not come and go with the photo's noise")
    ap.add_argument("--random-conv", type=float, default=0.0, metavar="SHARE",
                    help="filter this share of the training images with a random convolution mixed into them "
                         "(RandConv: random_conv), from a generator of its own; 0: none")
    ap.add_argument("--random-conv-sizes", type=int, nargs="+", default=[1, 3, 5, 7], metavar="K",
                    help="kernel sizes for --random-conv (odd, 1-9)")
    ap.add_argument("--average", type=Path, nargs="+", metavar="PT",
                    help="no training: average these state dicts (a model soup) into --checkpoint and --out")
    args = ap.parse_args(argv)
    if args.average:
        return _export_average(args.average, args.checkpoint, args.out)
    if args.swa_from is not None and not 0.0 <= args.swa_from < 1.0:
        raise SystemExit("--swa-from must be in [0, 1)")
    if args.steps < 0:
        raise SystemExit("--steps must be 0 (no step budget) or more")
    if args.swa_every < 1:
        raise SystemExit("--swa-every must be at least 1")
    if not (math.isfinite(args.rising) and 0.0 <= args.rising <= 1.0):
        raise SystemExit("--rising must be a share in [0, 1]")
    if not (math.isfinite(args.defocused) and args.defocused >= 0):
        raise SystemExit("--defocused must be a finite number >= 0")
    if not (math.isfinite(args.plain) and 0.0 <= args.plain <= 1.0):
        raise SystemExit("--plain must be a share in [0, 1]")
    if not (math.isfinite(args.consistency) and args.consistency >= 0):
        raise SystemExit("--consistency must be a finite number >= 0")
    if not (math.isfinite(args.random_conv) and 0.0 <= args.random_conv <= 1.0):
        raise SystemExit("--random-conv must be a share in [0, 1]")
    if any(k < 1 or k > 9 or k % 2 == 0 for k in args.random_conv_sizes):
        raise SystemExit("--random-conv-sizes must be odd sizes from 1 to 9")
    if args.consistency > 0 and not args.second_view:
        raise SystemExit("--consistency needs --second-view")
    from_onnx = args.init is not None and args.init.suffix.lower() == ".onnx"
    if args.init is not None and not args.init.is_file():
        raise SystemExit(f"--init {args.init}: no such file")
    if args.init is not None and args.init.resolve() == args.out.resolve():
        raise SystemExit(f"--out {args.out} is the --init file: give --out another path (it would overwrite the start)")
    if from_onnx and (args.stride != 4 or args.swa_from is not None):
        raise SystemExit("--init from an .onnx file needs --stride 4 and no --swa-from (its batch norms are folded "
                         "and stay frozen; weight averaging would measure them again)")
    if args.crop < 256 or args.crop % 32:
        raise SystemExit("--crop must be a multiple of 32 from 256 (the network halves its input four times)")
    onnx_weights = state_dict_from_onnx(args.init) if from_onnx else None  # checked before any rendering
    if not (math.isfinite(args.render_ppm) and args.render_ppm > 0):
        raise SystemExit("--render-ppm must be a finite number > 0")
    for flag, (lo, hi) in (("--varied-shaft-mm", args.varied_shaft_mm), ("--varied-zoom", args.varied_zoom),
                           ("--varied-width-gain", args.varied_width_gain)):
        if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo <= hi):
            raise SystemExit(f"{flag} must be a range LO HI with 0 < LO <= HI")
    names = ("stride", "sigma_cells", "border_hairs", "pair_weight", "fragments", "strip_edge", "rising", "crop",
             "plain", "lifelike", "render_ppm", "varied_shaft_mm", "varied_zoom", "varied_width_gain")
    settings = {k: getattr(args, k) for k in names}  # what the samples depend on, recorded in the cache
    targets = tuple(settings.values())
    _set_targets(*targets)
    import torch

    from hairtrack.synth.scalp import add_defocused_shafts

    init_sd = torch.load(args.init) if args.init is not None and not from_onnx else None
    folded = init_sd is not None and has_folded_batch_norm(init_sd)  # a checkpoint of a run from an .onnx file
    if folded and args.swa_from is not None:  # checked before any rendering
        raise SystemExit(f"--init {args.init}: its batch norms were folded (a run from an .onnx file), so "
                         "--swa-from, which measures them again, is refused")
    try:
        device = torch.device(args.device)
    except (RuntimeError, ValueError) as exc:
        raise SystemExit(f"--device {args.device}: {exc}") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit(f"--device {args.device}: this torch sees no CUDA device")
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(1)
    t0 = time.time()
    if args.cache.exists():
        z = np.load(args.cache)
        imgs, heats, regs, ws = z["imgs"], z["heats"], z["regs"], z["ws"]
        # a cache written before the settings were stored is reused only with the default settings
        made = json.loads(str(z["settings"])) if "settings" in z.files else None
        if made is not None:  # a setting added since the cache was made had its default then
            made = {k: made.get(k, ap.get_default(k)) for k in names}
        if made is not None and made != settings:
            raise SystemExit(f"{args.cache} was made with {made}; give --cache a new file for these settings")
        if made is None and settings != {k: ap.get_default(k) for k in names}:
            raise SystemExit(f"{args.cache} records no settings, so only the defaults may reuse it; give --cache "
                             "a new file")
    else:
        # the workers get the target settings explicitly (forkserver/spawn children do not share globals)
        with Pool(args.threads, initializer=_set_targets, initargs=targets) as pool:
            samples = pool.map(render_sample, range(args.images), chunksize=32)
        imgs = np.stack([s[0] for s in samples])
        heats = np.stack([s[1] for s in samples])
        regs = np.stack([s[2] for s in samples])
        ws = np.stack([s[3] for s in samples])
        np.savez(args.cache, imgs=imgs, heats=heats, regs=regs, ws=ws, settings=np.array(json.dumps(settings)))
    print(f"data: {len(imgs)} samples in {time.time() - t0:.0f} s", flush=True)
    if heats.shape[-1] != imgs.shape[1] // STRIDE:
        raise SystemExit(f"{args.cache} holds targets at another stride; give --cache a new file")
    if (PAIR_WEIGHT != 1.0) != (ws.shape[1] == 3):
        raise SystemExit(f"{args.cache} was made with another --pair-weight; give --cache a new file")
    model = build_model(STRIDE)
    frozen_bn = onnx_weights is not None
    if onnx_weights is not None:
        model.load_state_dict(onnx_weights)
    elif init_sd is not None:
        missing, unexpected = model.load_state_dict(init_sd, strict=False)
        if unexpected or any(not k.startswith("d1.") for k in missing):
            raise SystemExit(f"--init {args.init} does not fit: missing {missing}, unexpected {unexpected}")
        if folded:
            frozen_bn = True
            print(f"--init {args.init}: its batch norms were folded (a run from an .onnx file); they stay frozen",
                  flush=True)
    model.to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-4)
    rng = np.random.default_rng(args.seed)
    # its own generator, so that --defocused leaves the batches and their order as they were without it
    defocus_rng = np.random.default_rng([args.seed, 31])
    view_rng = np.random.default_rng([args.seed, 47])  # likewise for --second-view
    conv_rng = np.random.default_rng([args.seed, 53])  # and for --random-conv
    budget = args.minutes * 60.0
    t_start = time.time()
    step = 0
    swa = None
    if args.swa_from is not None:
        from torch.optim.swa_utils import AveragedModel

        swa = AveragedModel(model)
    model.train()
    if frozen_bn:
        freeze_batch_norm(model)
    while True:
        el = time.time() - t_start
        if el > budget or (args.steps and step >= args.steps):
            break
        # cosine decay over the budget (steps if given, else time); with --swa-from a constant rate, the
        # average doing the annealing's work
        done = step / args.steps if args.steps else el / budget
        lr = args.lr if swa is not None else args.lr * 0.5 * (1 + math.cos(math.pi * min(done, 1.0)))
        for gp in opt.param_groups:
            gp["lr"] = lr
        idx = rng.integers(0, len(imgs), args.batch)
        x = imgs[idx]
        if args.defocused > 0:
            x = np.stack([add_defocused_shafts(im, RENDER_PPM * SCALE, defocus_rng, args.defocused) for im in x])
        x = x.astype(np.float32).transpose(0, 3, 1, 2)
        hm, rg, w = heats[idx][:, None], regs[idx].copy(), ws[idx]
        k = int(rng.integers(4))
        flip_h, flip_v = bool(rng.random() < 0.5), bool(rng.random() < 0.5)
        # geometric augmentation; the angle targets (cos 2θ, sin 2θ) change with it
        if flip_h:  # columns mirrored: θ -> 180 - θ
            x, hm, rg, w = x[..., ::-1], hm[..., ::-1], rg[..., ::-1], w[..., ::-1]
            rg[:, 1] *= -1
        if flip_v:  # rows mirrored: θ -> -θ
            x, hm, rg, w = x[..., ::-1, :], hm[..., ::-1, :], rg[..., ::-1, :], w[..., ::-1, :]
            rg[:, 1] *= -1
        if k % 2 == 1:  # transpose: θ -> 90 - θ
            x, hm, rg, w = (a.swapaxes(-1, -2) for a in (x, hm, rg, w))
            rg[:, 0] *= -1
        if args.random_conv > 0:
            x = random_conv(x, conv_rng, args.random_conv, tuple(args.random_conv_sizes))
        x2 = second_view(np.ascontiguousarray(x), view_rng) if args.second_view else None
        x = torch.from_numpy(np.ascontiguousarray(x))
        # photometric: brightness/contrast/channel gain
        gain = torch.from_numpy(rng.uniform(0.85, 1.15, (args.batch, 3, 1, 1)).astype(np.float32))
        x = (x * gain * float(rng.uniform(0.85, 1.15))).clamp(0, 255)
        hm = torch.from_numpy(np.ascontiguousarray(hm)).to(device)
        rg = torch.from_numpy(np.ascontiguousarray(rg)).to(device)
        w = torch.from_numpy(np.ascontiguousarray(w)).to(device)
        l_heat, l_reg = train_step(model, opt, x.to(device), hm, rg, w,
                                   None if x2 is None else torch.from_numpy(x2).to(device), args.consistency)
        step += 1
        if swa is not None and done >= args.swa_from and step % args.swa_every == 0:
            swa.update_parameters(model)
        if step % 100 == 0:
            print(f"step {step} {time.time() - t_start:.0f}s lr {lr:.5f} heat {l_heat.item():.3f} "
                  f"reg {l_reg.item():.3f}", flush=True)
            torch.save(_cpu_state(model), args.checkpoint)
    model.cpu()
    if swa is not None:
        model = _swa_weights(model, swa.cpu(), imgs, rng, args.batch)
    torch.save(model.state_dict(), args.checkpoint)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    export_onnx(model, args.out)
    print(f"exported {args.out} ({args.out.stat().st_size / 1e6:.2f} MB) after {step} steps", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
