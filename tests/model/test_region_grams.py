"""Region-wise style maths (model.region_grams): masks shrunk as VGG shrinks the image, masked Grams."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from tests.helpers.label_masks import two_region_mask
from vidstyle.engine.tensors import one_hot
from vidstyle.io.mask_files import parse_labels
from vidstyle.model.region_grams import downsample_mask, masked_gram


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
