"""Colour-coded label mask files (io.mask_files): labels found under JPEG noise and specks, resizing."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from tests.helpers.label_masks import BLUE, GREEN, RED, two_region_mask
from vidstyle.engine.tensors import one_hot
from vidstyle.errors import VidstyleError
from vidstyle.io.images import fitted_size, write_image
from vidstyle.io.mask_files import LabelMap, parse_labels, read_label_mask


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


def test_labelmap_is_a_value() -> None:
    lm = LabelMap(np.zeros((2, 2), np.int64), (RED,))
    assert lm.resized(2, 2) is lm


def test_a_mask_of_the_image_s_own_size_fits_it_at_any_processing_size() -> None:
    """The aspect check allows for the image's rounding to whole pixels at small --size (1000x427 -> 32x14)."""
    mask = LabelMap(np.zeros((427, 1000), np.int64), ((0, 0, 0),))
    for size in (16, 32, 64, 512):
        h, w = fitted_size(427, 1000, size)
        mask.check_fits((h, w, 3), "content")
        video_h, video_w = fitted_size(427, 1000, size, even=True)
        mask.check_fits((video_h, video_w, 3), "content")
    with pytest.raises(VidstyleError, match="mask is 1000x427 but its image is processed at 32x24"):
        mask.check_fits((24, 32, 3), "content")  # 4:3 is another picture
