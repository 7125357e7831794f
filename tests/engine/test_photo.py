"""Photorealistic mode and semantic masks end to end: engine extension, Config, CLI, real shared weights."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
from tests.helpers import smooth_image

from vidstyle import Config, VidstyleError, build_stylizer
from vidstyle.cli.main import main
from vidstyle.io.images import read_image, resize_long_side, write_image
from vidstyle.io.mask_files import MaskSequence

RED, BLUE = (255, 0, 0), (0, 0, 255)


def cfg(weights_path, **kw) -> Config:
    base = {"preset": "fast", "weights": str(weights_path), "device": "cpu", "size": 48, "iterations": 12,
            "seed": 0, "quiet": True}
    return Config(**{**base, **kw})


def sobel_corr(a: np.ndarray, b: np.ndarray) -> float:
    def mag(img: np.ndarray) -> np.ndarray:
        g = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY).astype(np.float32)
        return np.hypot(cv2.Sobel(g, cv2.CV_32F, 1, 0), cv2.Sobel(g, cv2.CV_32F, 0, 1)).ravel()
    return float(np.corrcoef(mag(a), mag(b))[0, 1])


@pytest.fixture(scope="module")
def two_region_pair(tmp_path_factory):
    """Style: red texture left / blue texture right; content: grey, mask blue on top / red below (swapped)."""
    rng = np.random.default_rng(0)
    style = np.empty((48, 48, 3), np.float32)
    style[:, :24] = (200, 50, 40)
    style[:, 24:] = (40, 70, 210)
    style = np.clip(style + rng.normal(0, 25, style.shape), 0, 255).astype(np.uint8)
    grey = smooth_image(48, 48).mean(-1, keepdims=True).repeat(3, -1).astype(np.uint8)
    folder = tmp_path_factory.mktemp("masks")
    style_mask = np.zeros((48, 48, 3), np.uint8)
    style_mask[:, :24], style_mask[:, 24:] = RED, BLUE
    content_mask = np.zeros((48, 48, 3), np.uint8)
    content_mask[:24], content_mask[24:] = BLUE, RED
    write_image(folder / "style_mask.png", style_mask)
    write_image(folder / "content_mask.png", content_mask)
    return grey, style, folder


def redness(img: np.ndarray, rows: slice) -> float:
    region = img[rows].astype(np.float32)
    return float((region[..., 0] - region[..., 2]).mean())


@pytest.mark.slow
def test_style_regions_land_in_matching_content_regions(weights_path, two_region_pair):
    grey, style, folder = two_region_pair
    # Adam: cheap and steady for this tiny grey-vs-saturated pair
    config = cfg(weights_path, optimizer="adam", lr=0.04, iterations=20)
    masked = build_stylizer(config.replace(content_mask=str(folder / "content_mask.png"),
                                     style_mask=str(folder / "style_mask.png")), style).stylize(grey).image
    plain = build_stylizer(config, style).stylize(grey).image
    top, bottom = slice(2, 22), slice(26, 46)  # blue-labelled / red-labelled content regions, borders left out
    assert redness(masked, bottom) > 20 and redness(masked, top) < -60  # each region got its own colours
    assert redness(masked, bottom) - redness(masked, top) > 100
    assert abs(redness(plain, bottom) - redness(plain, top)) < 25  # without masks the colours mix everywhere


@pytest.mark.slow
def test_single_region_masks_equal_the_plain_loss_and_orphans(weights_path, two_region_pair, tmp_path):
    grey, style, folder = two_region_pair
    write_image(tmp_path / "red.png", np.full((48, 48, 3), RED, np.uint8))
    write_image(tmp_path / "green.png", np.full((48, 48, 3), (0, 255, 0), np.uint8))
    out = smooth_image(48, 48, seed=4)
    plain = build_stylizer(cfg(weights_path), style).evaluate(out, grey)
    one = build_stylizer(cfg(weights_path, content_mask=str(tmp_path / "red.png"), style_mask=str(tmp_path / "red.png")),
                   style).evaluate(out, grey)
    assert one["style"] == pytest.approx(plain["style"], rel=1e-5)
    orphan_cfg = cfg(weights_path, content_mask=str(tmp_path / "green.png"), style_mask=str(folder / "style_mask.png"))
    with pytest.raises(VidstyleError, match="#00ff00"):
        build_stylizer(orphan_cfg, style).evaluate(out, grey)
    whole = build_stylizer(orphan_cfg.replace(orphan_labels="whole"), style).evaluate(out, grey)
    assert whole["style"] == pytest.approx(plain["style"], rel=1e-5)  # orphan label -> whole-style Gram


@pytest.mark.slow
def test_photo_weight_keeps_the_content_edges(weights_path, tubingen, starry_night):
    content = resize_long_side(read_image(tubingen), 64)
    style = read_image(starry_night)
    corr = {}
    for lam in (0.0, 50.0):  # Adam: a steady, cheap comparison at 64 px (scaled units)
        config = cfg(weights_path, size=64, iterations=25, optimizer="adam", lr=0.03, photo_weight=lam)
        stylizer = build_stylizer(config, style)
        result = stylizer.stylize(content)
        corr[lam] = sobel_corr(result.image, content)
        assert ("photo" in result.losses) == (lam > 0)
    assert corr[50.0] > corr[0.0] + 0.05


def test_photo_preset_and_config():
    config = Config(preset="photo")
    assert config.resolved_photo_weight() > 0 and config.init == "content"
    assert Config(preset="photo", photo_weight=0).resolved_photo_weight() == 0
    assert Config().resolved_photo_weight() == 0
    with pytest.raises(VidstyleError, match="together"):
        Config(content_mask="a.png")
    with pytest.raises(VidstyleError, match="orphan"):
        Config(orphan_labels="drop")
    with pytest.raises(VidstyleError, match="photo-weight"):
        Config(photo_weight=-1)


def test_mask_sequence(tmp_path):
    for i, colour in enumerate((RED, BLUE)):
        write_image(tmp_path / f"m_{i:03d}.png", np.full((8, 8, 3), colour, np.uint8))
    seq = MaskSequence(tmp_path)
    assert len(seq) == 2 and seq.for_frame(1).colors == (BLUE,)
    with pytest.raises(VidstyleError, match="more frames"):
        seq.for_frame(2)
    assert MaskSequence(tmp_path / "m_000.png").for_frame(5).colors == (RED,)
    with pytest.raises(VidstyleError, match="not found"):
        MaskSequence(tmp_path / "missing.png")


@pytest.mark.slow
def test_cli_photo_and_mask_options(weights_path, tubingen, two_region_pair, tmp_path, capsys):
    grey, style, folder = two_region_pair
    write_image(tmp_path / "content.png", grey)
    write_image(tmp_path / "style.png", style)
    common = ["--weights", str(weights_path), "--device", "cpu", "--size", "32", "--iterations", "2", "--quiet"]
    out = tmp_path / "out.png"
    assert main([str(tubingen), str(tmp_path / "style.png"), str(out), "--preset", "photo", *common]) == 0
    assert read_image(out).shape == (24, 32, 3)
    masks = ["--content-mask", str(folder / "content_mask.png"), "--style-mask", str(folder / "style_mask.png")]
    assert main([str(tmp_path / "content.png"), str(tmp_path / "style.png"), str(tmp_path / "m.png"), *masks,
                 "--photo-weight", "1e6", "--preset", "fast", *common]) == 0
    capsys.readouterr()
    red_only = tmp_path / "red.png"
    write_image(red_only, np.full((48, 48, 3), RED, np.uint8))
    bad = ["--content-mask", str(folder / "content_mask.png"), "--style-mask", str(red_only)]
    assert main([str(tmp_path / "content.png"), str(tmp_path / "style.png"), str(tmp_path / "o.png"), *bad, "--preset", "fast", *common]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "#0000ff" in err and "--orphan-labels whole" in err
    assert not (tmp_path / "o.png").exists()
    assert main([str(tmp_path / "content.png"), str(tmp_path / "style.png"), str(tmp_path / "o.png"), *bad,
                 "--orphan-labels", "whole", "--preset", "fast", *common]) == 0
    assert main([str(tmp_path / "content.png"), str(tmp_path / "style.png"), str(tmp_path / "p.png"),
                 "--content-mask", str(folder / "content_mask.png"), "--preset", "fast", *common]) == 2
    assert "together" in capsys.readouterr().err


def test_video_frames_use_their_own_masks_and_laplacian(weights_path, two_region_pair, tmp_path, monkeypatch):
    import vidstyle.engine.stylizer as engine
    from vidstyle import stylize_video
    from vidstyle.io.frames import list_frames

    _, style, folder = two_region_pair
    (tmp_path / "in").mkdir()
    (tmp_path / "masks").mkdir()
    colours = [RED, BLUE, RED, BLUE]
    for i, colour in enumerate(colours):
        write_image(tmp_path / "in" / f"f{i + 1}.png", smooth_image(24, 32, seed=i))
        mask = np.full((24, 32, 3), colour, np.uint8)
        mask[:, 0] = BLUE if colour == RED else RED  # a thin line is not a label: one label per file
        write_image(tmp_path / "masks" / f"m{i + 1}.png", mask)
    seen, laplacians = [], []
    import vidstyle.engine.problems as problems

    original, original_term = engine.Stylizer.stylize, problems.photo_term

    def spy(self, frame, **kw):
        seen.append((kw["mask"].colors, frame.shape))
        return original(self, frame, **kw)

    def term_spy(frame, *args, **kw):
        laplacians.append(frame.copy())
        return original_term(frame, *args, **kw)

    monkeypatch.setattr(engine.Stylizer, "stylize", spy)
    monkeypatch.setattr(problems, "photo_term", term_spy)  # the frame's problem builds its term
    config = cfg(weights_path, size=32, iterations=1, first_iterations=1, photo_weight=1e7, start=0.03,
                 temporal="warm", content_mask=str(tmp_path / "masks"), style_mask=str(folder / "style_mask.png"))
    stylize_video(tmp_path / "in", style, tmp_path / "out", config)  # --start 0.03 s at 25 fps: frames 2..4
    assert [s[0] for s in seen] == [(BLUE,), (RED,), (BLUE,)]  # mask i belongs to input frame i
    assert all(shape == (24, 32, 3) for _, shape in seen)
    # one matting Laplacian per frame, built from that very frame (input frames 2..4 at 32 px)
    assert len(laplacians) == 3 and not np.array_equal(laplacians[0], laplacians[1])
    assert len(list_frames(tmp_path / "out")) == 3
    (tmp_path / "masks" / "m4.png").unlink()
    with pytest.raises(VidstyleError, match="3 masks for 4 frames"):
        stylize_video(tmp_path / "in", style, tmp_path / "out2", config.replace(start=None))
    assert not (tmp_path / "out2").exists()


def test_too_few_masks_for_a_video_cut_by_max_frames_is_refused_before_any_work(weights_path, two_region_pair,
                                                                                 tmp_path):
    """A video's frame count is the container's estimate, but --max-frames inside it is exact: two masks for
    three frames failed only after two frames, and left the work folder that no rerun could finish."""
    from tests.helpers.clips import make_clip
    from vidstyle import stylize_video

    _, style, folder = two_region_pair
    clip = make_clip(tmp_path / "in.mp4", size="32x24", frames=6)
    (tmp_path / "masks").mkdir()
    for i in range(2):
        write_image(tmp_path / "masks" / f"m{i + 1}.png", np.full((24, 32, 3), RED, np.uint8))
    config = cfg(weights_path, size=32, iterations=1, first_iterations=1, photo_weight=1e7, max_frames=3,
                 content_mask=str(tmp_path / "masks"), style_mask=str(folder / "style_mask.png"))
    with pytest.raises(VidstyleError, match="2 masks for 3 frames"):
        stylize_video(clip, style, tmp_path / "out.mp4", config)
    assert not (tmp_path / "out.mp4").exists() and not (tmp_path / "out.mp4.work").exists()


def test_masks_with_style_scale(weights_path, two_region_pair, tmp_path):
    """--style-scale changes the style's size: the region Grams must be looked up at that size too."""
    grey, style, folder = two_region_pair
    config = cfg(weights_path, iterations=1, style_scale=0.75, content_mask=str(folder / "content_mask.png"),
                 style_mask=str(folder / "style_mask.png"))
    result = build_stylizer(config, style).stylize(grey)
    assert result.image.shape == grey.shape and np.isfinite(result.losses["style"])
