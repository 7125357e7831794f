"""VGG-19 definition: torchvision numbering, named layers, cut, pooling, frozen."""
import pytest
import torch

from vidstyle.errors import VidstyleError
from vidstyle.model.vgg import LAYER_INDEX, VGGFeatures, required_convs

TORCHVISION_CONV_INDICES = [0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34]


def test_layer_numbering_matches_torchvision():
    assert LAYER_INDEX["conv1_1"] == 0 and LAYER_INDEX["relu1_1"] == 1 and LAYER_INDEX["pool1"] == 4
    assert LAYER_INDEX["relu4_2"] == 22 and LAYER_INDEX["relu5_1"] == 29 and LAYER_INDEX["pool5"] == 36
    net = VGGFeatures(["pool5"])
    keys = {k for k in net.state_dict() if k.endswith(".weight")}
    assert keys == {f"features.{i}.weight" for i in TORCHVISION_CONV_INDICES}


def test_network_is_cut_after_deepest_layer():
    assert len(VGGFeatures(["relu1_1", "relu3_2"]).features) == LAYER_INDEX["relu3_2"] + 1
    assert required_convs(["relu2_1"]) == ["conv1_1", "conv1_2", "conv2_1"]


def test_pooling_choice():
    assert isinstance(VGGFeatures(["relu2_1"]).features[4], torch.nn.AvgPool2d)
    assert isinstance(VGGFeatures(["relu2_1"], pooling="max").features[4], torch.nn.MaxPool2d)


def test_frozen_eval_and_named_outputs():
    net = VGGFeatures(["relu1_1", "relu2_1"])
    net.train()
    assert not net.training and not any(p.requires_grad for p in net.parameters())
    out = net(torch.rand(1, 3, 16, 16))
    assert set(out) == {"relu1_1", "relu2_1"}
    assert out["relu2_1"].shape == (1, 128, 8, 8) and (out["relu1_1"] >= 0).all()


def test_unknown_layer_is_user_error():
    with pytest.raises(VidstyleError, match="relu9_9"):
        VGGFeatures(["relu9_9"])
