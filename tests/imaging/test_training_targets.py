"""The training script: its targets (no torch needed: strides, ignored border hairs, weighted side-by-side pairs,
fragments, rising hairs, plain scenes, larger crops, lifelike scenes), random convolutions, bad settings refused, and where torch is installed, the weight averaging of --swa-from
and --average."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pytest

from hairtrack.synth.scalp import SynthHair

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "train_hair_detector.py"


@pytest.fixture()
def train():
    return runpy.run_path(str(SCRIPT), run_name="train_hair_detector")


def _hair(row, col, angle_deg, unit, width=14.0, length=200.0):
    return SynthHair(row_px=row, col_px=col, width_px=width, width_um=width / 0.22, length_px=length,
                     angle_deg=angle_deg, unit=unit, exit_row_px=row, exit_col_px=col, at_border=False)


def test_a_hair_beside_another_of_its_unit_is_a_pair(train):
    beside = train["beside_another"]
    a = _hair(100.0, 100.0, 0.0, unit=1)
    touching = _hair(114.0, 104.0, 3.0, unit=1)  # parallel, one shaft width across
    other_unit = _hair(114.0, 104.0, 3.0, unit=2)
    fanned = _hair(114.0, 104.0, 30.0, unit=1)  # same unit, spreading away
    far = _hair(160.0, 100.0, 0.0, unit=1)  # parallel but four widths across
    assert beside(a, [a, touching])
    assert not beside(a, [a, other_unit])
    assert not beside(a, [a, fanned])
    assert not beside(a, [a, far])


@pytest.mark.parametrize("stride", [4, 2])
def test_targets_at_each_stride_and_pair_weights(train, stride):
    train["_set_targets"](stride, 0.8, False, 1.0)
    img, heat, reg, w = train["render_sample"](23)  # a crop with 7 target hairs, 4 of them side by side
    g = 256 // stride
    assert img.shape == (256, 256, 3)
    assert heat.shape == (g, g) and reg.shape == (3, g, g) and w.shape == (2, g, g)
    assert heat.max() == pytest.approx(1.0)  # at least one hair inside the crop is a target
    train["_set_targets"](stride, 0.8, False, 3.0)
    img2, heat2, _, w2 = train["render_sample"](23)
    assert np.array_equal(img, img2) and np.array_equal(heat, heat2)  # the weights change nothing else
    assert w2.shape == (3, g, g)
    weighted = w2[2] > 1.0
    assert 1 <= weighted.sum() < (heat2 >= 0.99).sum()  # some midpoints are pairs, not all
    assert set(np.unique(w2[2])) <= {1.0, 3.0}
    assert np.all(heat2[weighted] >= 0.99)  # only at midpoints


def test_fragment_scenes_add_targets_and_leave_the_rest(train):
    """--fragments draws loose pieces as extra midpoints; off, the samples are those of the main network."""
    train["_set_targets"](4, 0.8, False, 1.0)
    base = [train["render_sample"](s) for s in range(30)]
    train["_set_targets"](4, 0.8, False, 1.0, 0.5, False)
    try:
        frag = [train["render_sample"](s) for s in range(30)]
    finally:
        train["_set_targets"](4, 0.8, False, 1.0)  # the module's globals back to the defaults
    changed = [k for k in range(30) if not np.array_equal(base[k][0], frag[k][0])]
    assert 3 <= len(changed) < 30  # fragments in some scenes only (a Poisson number each)
    more = sum(int((frag[k][1] >= 0.99).sum()) - int((base[k][1] >= 0.99).sum()) for k in changed)
    assert more >= 1  # they are targets
    same = [k for k in range(30) if k not in changed]
    assert all(np.array_equal(base[k][1], frag[k][1]) for k in same)


def test_rising_hairs_change_pixels_not_targets(train):
    """--rising softens some shafts towards the tip; they stay hairs, so the targets are those without it."""
    train["_set_targets"](4, 0.8, False, 1.0)
    base = [train["render_sample"](s) for s in range(6)]
    train["_set_targets"](4, 0.8, False, 1.0, 0.0, False, 0.5)
    try:
        rising = [train["render_sample"](s) for s in range(6)]
    finally:
        train["_set_targets"](4, 0.8, False, 1.0)
    assert sum(not np.array_equal(b[0], r[0]) for b, r in zip(base, rising)) >= 3
    for b, r in zip(base, rising):
        assert all(np.array_equal(x, y) for x, y in zip(b[1:], r[1:]))


def test_lifelike_scenes_change_every_picture_and_keep_the_openings(train):
    """--lifelike draws creases, sheen, shaded shafts and halos in every scene, and more near-parallel units:
    the pixels change everywhere, the hairs stay where their openings are; off, the samples are as before."""
    train["_set_targets"](4, 0.8, False, 1.0)
    base = [train["render_sample"](s) for s in range(6)]
    train["_set_targets"](4, 0.8, False, 1.0, 0.0, False, 0.0, 512, 0.0, True)
    try:
        life = [train["render_sample"](s) for s in range(6)]
    finally:
        train["_set_targets"](4, 0.8, False, 1.0)
    assert all(not np.array_equal(b[0], lf[0]) for b, lf in zip(base, life))
    assert sum(int((b[1] >= 0.99).sum()) for b in base) > 0
    # as many whole hairs give targets in all (a shaft moved within its unit can only change its cell)
    assert abs(sum(int((b[1] >= 0.99).sum()) - int((lf[1] >= 0.99).sum()) for b, lf in zip(base, life))) <= 3
    again = [train["render_sample"](s) for s in range(2)]
    assert all(all(np.array_equal(x, y) for x, y in zip(a, b)) for a, b in zip(again, base))


def test_plain_scenes_and_larger_crops(train):
    """--plain draws that share of the scenes with the benchmark's plain presets, at seeds of their own;
    --crop renders larger scenes. Off, the samples are those of the main network."""
    import cv2

    from hairtrack.synth.scalp import DIFFICULTIES, render_scalp

    train["_set_targets"](4, 0.8, False, 1.0)
    base = [train["render_sample"](s) for s in range(12)]
    train["_set_targets"](4, 0.8, False, 1.0, 0.0, False, 0.0, 512, 0.5)
    try:
        mixed = [train["render_sample"](s) for s in range(12)]
        train["_set_targets"](4, 0.8, False, 1.0, 0.0, False, 0.0, 768, 0.0)
        big = train["render_sample"](3)
    finally:
        train["_set_targets"](4, 0.8, False, 1.0)
    plain = [s for s in range(12) if not np.array_equal(base[s][0], mixed[s][0])]
    assert 2 <= len(plain) <= 10
    for s in range(12):
        if s not in plain:
            assert all(np.array_equal(x, y) for x, y in zip(base[s], mixed[s]))
    s = plain[0]
    draw = np.random.default_rng([s, 11])
    banner, circle = bool(draw.random() < 0.15), bool(draw.random() < 0.25)
    scene = render_scalp(seed=train["PLAIN_SEED0"] + s, shape=(512, 512), px_per_mm=220.0,
                         difficulty=DIFFICULTIES[s % 3], banner=banner, red_circle=circle)
    assert np.array_equal(mixed[s][0], cv2.resize(scene.image, (256, 256), interpolation=cv2.INTER_AREA))
    assert (mixed[s][1] >= 0.99).sum() == sum(not h.at_border for h in scene.hairs)  # its whole hairs are targets
    img, heat, reg, w = big
    assert img.shape == (384, 384, 3) and heat.shape == (96, 96) and reg.shape == (3, 96, 96)


def test_scenes_at_the_true_scale_with_their_own_shafts(train):
    """--render-ppm draws the scenes at another scale (the real photos' 358 px/mm) and --varied-shaft-mm /
    --varied-zoom set the varied scenes' shaft lengths and magnification: the targets' length regression
    follows the drawn shafts, in input px, and the defaults leave every sample as it was."""
    import math

    from hairtrack.synth.scalp import DIFFICULTIES, render_scalp

    train["_set_targets"](4, 0.8, False, 1.0)
    base = train["render_sample"](5)
    settings = (4, 0.8, False, 1.0, 0.0, False, 0.0, 512, 0.0, False, 358.0, (0.15, 0.9), (0.8, 1.6))
    train["_set_targets"](*settings)
    try:
        true_scale = train["render_sample"](5)
        train["_set_targets"](4, 0.8, False, 1.0, 0.0, False, 0.0, 512, 0.0, False, 220.0, (0.3, 1.6), (0.7, 1.8))
        again = train["render_sample"](5)
    finally:
        train["_set_targets"](4, 0.8, False, 1.0)
    assert all(np.array_equal(x, y) for x, y in zip(base, again))  # the defaults spelt out: the same sample
    assert not np.array_equal(base[0], true_scale[0])
    draw = np.random.default_rng([5, 11])
    banner, circle = bool(draw.random() < 0.15), bool(draw.random() < 0.25)
    scene = render_scalp(seed=5, shape=(512, 512), px_per_mm=358.0, difficulty=DIFFICULTIES[5 % 3], banner=banner,
                         red_circle=circle, varied=True, varied_shaft_mm=(0.15, 0.9), varied_zoom=(0.8, 1.6))
    whole = [h for h in scene.hairs if not h.at_border]
    img, heat, reg, w = true_scale
    assert (heat >= 0.99).sum() == len(whole) > 0
    # each whole hair's length target is its drawn length at the input's half scale
    got = sorted(float(v) for v in reg[2][heat >= 0.99])
    want = sorted(math.log(max(h.length_px * 0.5, 4.0) / 32.0) for h in whole)
    assert np.allclose(got, want, atol=1e-5)
    # and the drawn shafts are within the asked range, times the scene's magnification (0.8-1.6)
    assert all(0.15 * 0.8 * 358 - 1 <= h.length_px <= 0.9 * 1.6 * 358 + 1 for h in whole)


def test_weight_averaging_averages_and_remeasures_batch_norm(train):
    """--swa-from: the exported weights are the mean of the averaged sets, with batch-norm statistics of that
    mean measured on training images (not the last weights' running statistics)."""
    torch = pytest.importorskip("torch")
    from torch.optim.swa_utils import AveragedModel

    torch.manual_seed(0)
    model = train["build_model"]()
    swa = AveragedModel(model)
    states = []
    for k in range(3):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(0.01 * (k + 1) * torch.randn_like(p))
        swa.update_parameters(model)
        states.append({n: p.detach().clone() for n, p in model.named_parameters()})
    imgs = np.random.default_rng(0).integers(0, 256, (6, 64, 64, 3), dtype=np.uint8)
    before = model.e1[1].running_mean.clone()
    out = train["_swa_weights"](model, swa, imgs, np.random.default_rng(1), batch=4, batches=3)
    for n, p in out.named_parameters():
        assert torch.allclose(p, sum(s[n] for s in states) / 3, atol=1e-6)
    assert not torch.allclose(out.e1[1].running_mean, before)  # measured again, on the images
    assert int(out.e1[1].num_batches_tracked) == 3
    with pytest.raises(SystemExit, match="no weights were averaged"):
        train["_swa_weights"](model, AveragedModel(model), imgs, np.random.default_rng(1), batch=4)


def test_average_exports_the_mean_of_state_dicts(train, tmp_path):
    """--average: the saved weights and batch-norm statistics are the mean of the given state dicts, and the
    exported model runs; state dicts of different layers are refused."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")

    sds = []
    for k in range(2):
        torch.manual_seed(k)
        sd = train["build_model"]().state_dict()
        sd["e1.1.running_mean"] += k + 1.0
        torch.save(sd, tmp_path / f"{k}.pt")
        sds.append(sd)
    ckpt, out = tmp_path / "avg.pt", tmp_path / "avg.onnx"
    argv = ["--average", str(tmp_path / "0.pt"), str(tmp_path / "1.pt"), "--checkpoint", str(ckpt), "--out", str(out)]
    assert train["main"](argv) == 0
    avg = torch.load(ckpt)
    for name, v in avg.items():
        if v.dtype.is_floating_point:
            assert torch.allclose(v, (sds[0][name] + sds[1][name]) / 2)
    from hairtrack.imaging.learned import _run_net

    assert _run_net(str(out), np.zeros((1, 3, 64, 64), np.float32)).shape == (4, 16, 16)
    torch.save(train["build_model"](2).state_dict(), tmp_path / "s2.pt")
    with pytest.raises(SystemExit, match="no such state dict: .*gone.pt"):
        train["main"](["--average", str(tmp_path / "0.pt"), str(tmp_path / "gone.pt"), "--checkpoint", str(ckpt),
                       "--out", str(out)])
    with pytest.raises(SystemExit, match="different layers"):
        train["main"](["--average", str(tmp_path / "0.pt"), str(tmp_path / "s2.pt"), "--checkpoint", str(ckpt),
                       "--out", str(out)])


@pytest.mark.parametrize(("args", "message"), [(["--swa-from", "1.0"], "--swa-from must be in"),
                                               (["--swa-from", "0.2", "--swa-every", "0"], "--swa-every must be"),
                                               (["--defocused", "-0.1"], "--defocused must be"),
                                               (["--rising", "1.5"], "--rising must be"),
                                               (["--plain", "1.5"], "--plain must be"),
                                               (["--plain", "nan"], "--plain must be"),
                                               (["--crop", "300"], "--crop must be"),
                                               (["--crop", "128"], "--crop must be"),
                                               (["--second-view", "--consistency", "-1"], "--consistency must be"),
                                               (["--consistency", "1"], "--consistency needs --second-view"),
                                               (["--random-conv", "1.5"], "--random-conv must be"),
                                               (["--random-conv", "nan"], "--random-conv must be"),
                                               (["--random-conv", "0.5", "--random-conv-sizes", "4"],
                                                "--random-conv-sizes must be"),
                                               (["--random-conv-sizes", "11"], "--random-conv-sizes must be"),
                                               (["--steps", "-1"], "--steps must be"),
                                               (["--render-ppm", "0"], "--render-ppm must be"),
                                               (["--render-ppm", "inf"], "--render-ppm must be"),
                                               (["--varied-shaft-mm", "0.9", "0.2"], "--varied-shaft-mm must be"),
                                               (["--varied-zoom", "0", "1"], "--varied-zoom must be"),
                                               (["--varied-width-gain", "2", "1"], "--varied-width-gain must be")])
def test_bad_training_settings_are_refused_before_any_work(train, tmp_path, args, message):
    with pytest.raises(SystemExit, match=message):
        train["main"](args + ["--cache", str(tmp_path / "none.npz")])
    assert not (tmp_path / "none.npz").exists()  # refused before rendering anything


def test_a_cache_made_before_a_setting_existed_counts_it_at_its_default(train, tmp_path):
    """Caches record the settings their samples were drawn with; one made before --rising existed is reused
    without it and refused with it."""
    pytest.importorskip("torch")
    import json

    old = dict(stride=4, sigma_cells=0.8, border_hairs=False, pair_weight=1.0, fragments=0.0, strip_edge=False)
    cache = tmp_path / "old.npz"
    np.savez(cache, imgs=np.zeros((2, 64, 64, 3), np.uint8), heats=np.zeros((2, 16, 16), np.float32),
             regs=np.zeros((2, 3, 16, 16), np.float32), ws=np.zeros((2, 2, 16, 16), np.float32),
             settings=np.array(json.dumps(old)))
    with pytest.raises(SystemExit, match="was made with .*'rising': 0.0"):
        train["main"](["--cache", str(cache), "--rising", "0.3", "--minutes", "0"])
    out = tmp_path / "m.onnx"
    pytest.importorskip("onnx")
    assert train["main"](["--cache", str(cache), "--minutes", "0", "--checkpoint", str(tmp_path / "m.pt"),
                          "--out", str(out)]) == 0
    assert out.is_file()


def test_a_step_budget_stops_after_its_steps_and_saves_a_checkpoint_that_loads_anywhere(train, tmp_path, capsys):
    """--steps N: exactly N steps whatever the machine's speed (the time budget is far away), the checkpoint's
    tensors on the CPU; a device torch cannot use is refused before any rendering."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    rng = np.random.default_rng(0)
    cache = tmp_path / "c.npz"
    heats = np.zeros((4, 16, 16), np.float32)
    heats[:, 8, 8] = 1.0
    np.savez(cache, imgs=rng.integers(0, 255, (4, 64, 64, 3), dtype=np.uint8), heats=heats,
             regs=np.zeros((4, 3, 16, 16), np.float32), ws=np.ones((4, 2, 16, 16), np.float32))
    ckpt, out = tmp_path / "s.pt", tmp_path / "s.onnx"
    assert train["main"](["--cache", str(cache), "--steps", "3", "--minutes", "30", "--batch", "2",
                          "--checkpoint", str(ckpt), "--out", str(out)]) == 0
    assert "after 3 steps" in capsys.readouterr().out
    sd = torch.load(ckpt)
    assert all(v.device.type == "cpu" for v in sd.values())
    assert out.is_file()
    with pytest.raises(SystemExit, match="--device nope"):
        train["main"](["--device", "nope", "--cache", str(tmp_path / "none.npz")])
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit, match="sees no CUDA device"):
            train["main"](["--device", "cuda", "--cache", str(tmp_path / "none.npz")])
    assert not (tmp_path / "none.npz").exists()


def test_the_second_view_is_the_same_scene_photographed_again(train):
    """Other gain, blur, noise and JPEG, drawn per image from the given generator; the hairs stay put."""
    from hairtrack.synth import render_scalp

    scene = render_scalp(seed=3, shape=(256, 256), px_per_mm=110.0, n_units=8, difficulty="easy").image
    batch = np.stack([scene, scene[::-1]]).astype(np.float32).transpose(0, 3, 1, 2)
    view = train["second_view"](batch, np.random.default_rng(5))
    again = train["second_view"](batch, np.random.default_rng(5))
    assert view.shape == batch.shape and view.dtype == np.float32 and np.array_equal(view, again)
    diff = np.abs(view - batch)
    assert 0.5 < diff.mean() < 40  # another photo of it, not another scene
    dark = batch.mean(axis=1) < np.percentile(batch.mean(axis=1), 5)  # the shafts stay the darkest pixels
    assert view.mean(axis=1)[dark].mean() < view.mean(axis=1)[~dark].mean() - 30


def test_random_convolutions_change_colour_and_texture_not_the_scene(train):
    """--random-conv: the chosen share of a batch is filtered and mixed, reproducibly from its generator; each
    channel keeps its mean; a 1 x 1 kernel maps equal colours to equal colours (a colour mixing); the shafts
    still stand out from the skin."""
    from hairtrack.synth import render_scalp

    scene = render_scalp(seed=3, shape=(128, 128), px_per_mm=110.0, n_units=6, difficulty="easy")
    img = scene.image.astype(np.float32).transpose(2, 0, 1)
    batch = np.stack([img] * 12)
    conv = train["random_conv"]
    assert np.array_equal(conv(batch, np.random.default_rng(0), 0.0), batch)
    out = conv(batch, np.random.default_rng(4), 1.0)
    assert out.shape == batch.shape and out.dtype == np.float32 and out.min() >= 0 and out.max() <= 255
    assert np.array_equal(out, conv(batch, np.random.default_rng(4), 1.0))
    assert all(np.abs(o - img).mean() > 0.5 for o in out)  # every image changed (mixing weight < 1)
    assert not np.array_equal(out[0], out[1])  # each with its own kernel
    assert np.abs(out.mean(axis=(2, 3)) - img.mean(axis=(1, 2))).max() < 8  # means kept, clipping aside
    half = conv(batch, np.random.default_rng(4), 0.5)
    kept = [np.array_equal(o, img) for o in half]
    assert 0 < sum(kept) < len(kept)
    # a 1 x 1 kernel: a colour mixing, so pixels of one colour stay of one colour
    flat = np.full((1, 3, 32, 32), 120.0, np.float32)
    flat[:, :, 10:20, 10:20] = [[[40.0]], [[30.0]], [[25.0]]]
    mixed = conv(flat, np.random.default_rng(2), 1.0, (1,))[0]
    assert np.ptp(mixed[:, 11:19, 11:19].reshape(3, -1), axis=1).max() < 1e-3
    assert np.ptp(mixed[:, 22:, 22:].reshape(3, -1), axis=1).max() < 1e-3
    # the shafts (the scene's darkest pixels) still differ from the skin in some channel
    dark = img.mean(axis=0) < np.percentile(img.mean(axis=0), 5)
    gaps = [np.abs(o[:, dark].mean(axis=1) - o[:, ~dark].mean(axis=1)).max() for o in out]
    assert np.median(gaps) > 20


def test_each_training_step_follows_its_own_batch_only(train):
    """The step clears the gradients first. Without that (the tenth session's runs C and K, and the first
    lifelike runs of the eleventh) every step follows the sum of all the gradients so far, and the networks
    end up flat (a heatmap that never reaches 0.3)."""
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = train["build_model"](4)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=0.0, weight_decay=0.0)  # the weights stay as they are
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.uniform(0, 255, (2, 3, 64, 64)).astype(np.float32))
    hm = torch.zeros(2, 1, 16, 16)
    hm[:, 0, 8, 8] = 1.0
    rg = torch.zeros(2, 3, 16, 16)
    w = torch.zeros(2, 2, 16, 16)
    w[:, 0, 8, 8] = 1.0
    for p in model.parameters():
        p.grad = torch.full_like(p, 1e6)  # what earlier steps would have left
    train["train_step"](model, opt, x, hm, rg, w)
    stale = {n: p.grad.clone() for n, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    l_heat, l_reg = train["train_step"](model, opt, x, hm, rg, w)
    assert all(torch.allclose(stale[n], p.grad, rtol=1e-4, atol=1e-6) for n, p in model.named_parameters())
    assert all(float(p.grad.abs().max()) < 1e5 for p in model.parameters())
    assert l_heat.item() > 0 and l_reg.item() >= 0
    # the same with a second view (--second-view, --consistency): a view identical to the first adds no
    # consistency term, so the gradient is the first view's alone
    for p in model.parameters():
        p.grad = torch.full_like(p, 1e6)
    train["train_step"](model, opt, x, hm, rg, w, x.clone(), 1.0)
    assert all(torch.allclose(stale[n], p.grad, rtol=1e-4, atol=1e-6) for n, p in model.named_parameters())


def test_an_exported_network_is_recovered_and_trains_with_its_batch_norms_frozen(train, tmp_path):
    """--init X.onnx: the state dict recovered from an exported network computes what the file does, before
    and after switching to training with frozen batch norms; an 8-bit copy and a file that is not a model
    are refused before any rendering."""
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from hairtrack.imaging.learned import DEFAULT_MODELS, FLOAT_MODELS, _run_net

    torch.manual_seed(0)
    src = train["build_model"](4)
    for m in src.modules():  # batch norms with statistics of their own, as after training
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
    exported = tmp_path / "src.onnx"
    train["export_onnx"](src, exported)
    x = np.random.default_rng(1).uniform(0, 255, (1, 3, 64, 96)).astype(np.float32)
    for path in (exported, FLOAT_MODELS[0]):
        model = train["build_model"](4)
        model.load_state_dict(train["state_dict_from_onnx"](path))
        model.train()
        train["freeze_batch_norm"](model)
        with torch.no_grad():
            out = model(torch.from_numpy(x)).numpy()[0]
        assert np.allclose(out, _run_net(str(path), x), atol=1e-4)
    model.train()  # unfrozen, the batch norms would normalise by the batch's statistics instead
    with torch.no_grad():
        assert not np.allclose(model(torch.from_numpy(x)).numpy()[0], out, atol=1e-2)
    import onnx

    renamed = onnx.load(str(exported))  # another layout: one convolution moved to another module
    next(n for n in renamed.graph.node if n.op_type == "Conv" and "e4.2" in n.name).name = "/e4/e4.1/e4.1.0/Conv"
    onnx.save(renamed, str(tmp_path / "renamed.onnx"))
    with pytest.raises(SystemExit, match="not a float network of this design"):
        train["state_dict_from_onnx"](tmp_path / "renamed.onnx")
    # a checkpoint of a run from an .onnx file keeps its batch norms frozen when training resumes from it
    sd = train["state_dict_from_onnx"](exported)
    assert train["has_folded_batch_norm"](sd) and not train["has_folded_batch_norm"](src.state_dict())
    torch.save(sd, tmp_path / "folded.pt")
    with pytest.raises(SystemExit, match="folded .*--swa-from, which measures them again, is refused"):
        train["main"](["--init", str(tmp_path / "folded.pt"), "--swa-from", "0.2", "--cache", str(tmp_path / "none.npz")])
    bad = tmp_path / "bad.onnx"
    bad.write_text("not a model")
    for path, message in ((DEFAULT_MODELS[0], "not a float network"), (bad, "not an ONNX model"),
                          (tmp_path / "gone.onnx", "no such file")):
        with pytest.raises(SystemExit, match=message):
            train["main"](["--init", str(path), "--cache", str(tmp_path / "none.npz")])
    with pytest.raises(SystemExit, match="needs --stride 4 and no --swa-from"):
        train["main"](["--init", str(exported), "--swa-from", "0.2", "--cache", str(tmp_path / "none.npz")])
    with pytest.raises(SystemExit, match="is the --init file"):
        train["main"](["--init", str(exported), "--out", str(exported), "--cache", str(tmp_path / "none.npz")])
    assert not (tmp_path / "none.npz").exists()
