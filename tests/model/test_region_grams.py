"""Colour-coded label masks (io.mask_files), label matching (engine.regions), per-layer masks and masked Grams (model.region_grams)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vidstyle.config import Config
from vidstyle.errors import VidstyleError
from vidstyle.io.images import write_image
from vidstyle.engine.regions import match_labels
from vidstyle.engine.tensors import one_hot
from vidstyle.io.mask_files import LabelMap, parse_labels, read_label_mask
from vidstyle.model.region_grams import downsample_mask, masked_gram

RED, BLUE, GREEN = (255, 0, 0), (0, 0, 255), (0, 255, 0)


def two_region_mask(h: int = 40, w: int = 60, split: int = 25, left=RED, right=BLUE) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[:, :split] = left
    img[:, split:] = right
    return img


def test_parse_exact_colours() -> None:
    img = two_region_mask()
    img[30:, 50:] = GREEN
    lm = parse_labels(img)
    assert sorted(lm.colors) == sorted([RED, BLUE, GREEN])
    assert lm.names() == [f"#{r:02x}{g:02x}{b:02x}" for r, g, b in lm.colors]
    colours = np.array(lm.colors, np.uint8)[lm.labels]
    assert np.array_equal(colours, img)  # every pixel keeps its own label


def test_jpeg_noise_is_snapped_to_the_region_colours(tmp_path) -> None:
    truth = two_region_mask(64, 64, 30)
    truth[40:, :] = GREEN
    path = tmp_path / "mask.jpg"
    _, buf = cv2.imencode(".jpg", cv2.cvtColor(truth, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 70])
    path.write_bytes(buf.tobytes())
    noisy = cv2.cvtColor(cv2.imdecode(np.frombuffer(buf, np.uint8), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert len(np.unique(noisy.reshape(-1, 3), axis=0)) > 3  # the file really is noisy
    lm = read_label_mask(path)
    assert len(lm.colors) == 3
    recovered = np.array(lm.colors, np.int64)[lm.labels]
    close = np.abs(recovered - truth.astype(np.int64)).max(-1) <= 24
    assert close.mean() > 0.97


def test_tiny_specks_merge_into_nearest_label() -> None:
    img = two_region_mask(100, 100, 50)
    img[5, 5] = (250, 10, 10)  # one off-colour pixel: a speck, not a label
    lm = parse_labels(img)
    assert len(lm.colors) == 2
    assert lm.colors[lm.labels[5, 5]] == RED


def test_read_and_resize_keeps_labels(tmp_path) -> None:
    path = tmp_path / "m.png"
    write_image(path, two_region_mask(40, 60, 30))
    lm = read_label_mask(path, size=(20, 30))
    assert lm.shape == (20, 30)
    assert set(np.unique(lm.labels)) == {0, 1}
    onehot = one_hot(lm, 'cpu')
    assert onehot.shape == (2, 20, 30) and torch.all(onehot.sum(0) == 1)
    assert onehot[lm.colors.index(RED), :, :15].all() and not onehot[lm.colors.index(RED), :, 15:].any()


def test_missing_style_label_is_an_error_naming_it() -> None:
    content = parse_labels(two_region_mask(left=RED, right=GREEN))
    style = parse_labels(two_region_mask(left=(250, 3, 2), right=BLUE))  # red within tolerance
    with pytest.raises(VidstyleError, match="#00ff00") as info:
        match_labels(content, style)
    assert "#ff0000" not in str(info.value).split("not found")[0]
    matches = match_labels(content, style, orphan="whole")
    assert matches[content.colors.index(RED)] == style.colors.index((250, 3, 2))
    assert matches[content.colors.index(GREEN)] is None
    with pytest.raises(VidstyleError, match="orphan"):
        Config(orphan_labels="drop")


def test_downsample_matches_vgg_pooling() -> None:
    lm = parse_labels(two_region_mask(37, 50, 21))
    masks = one_hot(lm, 'cpu')
    small = downsample_mask(masks, (9, 12))  # two 2x2 poolings with floor sizes: 37->18->9, 50->25->12
    expected = F.avg_pool2d(F.avg_pool2d(masks[None], 2), 2)[0]
    assert torch.allclose(small, expected)
    assert torch.allclose(small.sum(0), torch.ones(9, 12))
    assert ((small > 0) & (small < 1)).any()  # soft at the region border
    other = downsample_mask(masks[0], (7, 7))  # not a pooling size: area interpolation
    assert other.shape == (7, 7) and 0 <= other.min() and other.max() <= 1


def test_masked_gram() -> None:
    torch.manual_seed(0)
    feats = torch.rand(1, 5, 6, 8)
    flat = feats[0].reshape(5, -1)
    full = masked_gram(feats, torch.ones(6, 8))
    assert torch.allclose(full, flat @ flat.t() / 48)
    half = torch.zeros(6, 8)
    half[:, :3] = 1
    region = feats[0, :, :, :3].reshape(5, -1)
    assert torch.allclose(masked_gram(feats, half), region @ region.t() / 18, atol=1e-6)
    assert not torch.allclose(masked_gram(feats, half), full)
    assert torch.all(masked_gram(feats, torch.zeros(6, 8)) == 0)
    with pytest.raises(ValueError):
        masked_gram(feats, torch.ones(3, 8))


def test_labelmap_is_a_value() -> None:
    lm = LabelMap(np.zeros((2, 2), np.int64), (RED,))
    assert lm.resized(2, 2) is lm
