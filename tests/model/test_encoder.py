"""The encoder: full and partial checkpoints, missing layers, the format rule, input conventions."""
from pathlib import Path

import pytest
import torch

from vidstyle.errors import VidstyleError
from vidstyle.model.vgg import VGGFeatures
from vidstyle.engine.build import load_encoder
from vidstyle.model.encoder import CONVENTIONS, Normalize, detect_format

CPU = torch.device("cpu")


@pytest.fixture(scope="module")
def full_checkpoint(tmp_path_factory) -> Path:
    """A full torchvision-layout VGG-19 state dict (random values) with classifier keys, as torchvision ships."""
    state = {k: torch.randn_like(v) * 0.01 for k, v in VGGFeatures(["pool5"]).state_dict().items()}
    state["classifier.0.weight"] = torch.zeros(2, 2)
    path = tmp_path_factory.mktemp("w") / "vgg19-full.pth"
    torch.save(state, path)
    return path


def test_full_checkpoint_loads_paper_layers(full_checkpoint):
    enc = load_encoder(str(full_checkpoint), "auto", ("relu4_2", "relu5_1"), "avg", CPU)
    assert enc.convention.name == "torchvision"
    ref = torch.load(full_checkpoint)
    assert torch.equal(enc.vgg.features[28].weight, ref["features.28.weight"])
    assert enc(torch.rand(1, 3, 32, 32))["relu5_1"].shape == (1, 512, 2, 2)


def test_partial_shared_checkpoint_covers_fast_preset(weights_path):
    enc = load_encoder(str(weights_path), "auto", ("relu3_2", "relu1_1"), "avg", CPU)
    assert enc.convention.name == "caffe"
    shared = torch.load(weights_path)
    assert torch.equal(enc.vgg.features[12].weight, shared["features.12.weight"])


def test_partial_checkpoint_missing_layers_named(weights_path):
    with pytest.raises(VidstyleError) as err:
        load_encoder(str(weights_path), "auto", ("relu4_2", "relu5_1"), "avg", CPU)
    msg = str(err.value).split("lacks")[1]
    assert "conv4_1" in msg and "conv5_1" in msg and "conv3_4" not in msg


def test_shape_mismatch_is_user_error(tmp_path):
    state = VGGFeatures(["relu1_1"]).state_dict()
    state["features.0.weight"] = torch.zeros(3, 3)
    torch.save(state, tmp_path / "bad.pth")
    with pytest.raises(VidstyleError, match="shape"):
        load_encoder(str(tmp_path / "bad.pth"), "auto", ("relu1_1",), "avg", CPU)



def test_format_rule():
    assert detect_format(Path("x/vgg19-caffe.pth"), {}, "auto").name == "caffe"
    assert detect_format(Path("x/vgg19.pth"), {}, "auto").name == "torchvision"
    assert detect_format(Path("x/vgg19.pth"), {"input_convention": "caffe"}, "auto").name == "caffe"
    assert detect_format(Path("x/vgg19-caffe.pth"), {}, "torchvision").name == "torchvision"


def test_input_conventions():
    red = torch.zeros(1, 3, 1, 1)
    red[0, 0] = 1.0  # pure red, RGB 0..1
    caffe = Normalize(CONVENTIONS["caffe"])(red).flatten().tolist()
    assert caffe == pytest.approx([-103.939, -116.779, 255 - 123.68])  # BGR, 0..255, mean subtracted
    tv = Normalize(CONVENTIONS["torchvision"])(red).flatten().tolist()
    assert tv == pytest.approx([(1 - 0.485) / 0.229, -0.456 / 0.224, -0.406 / 0.225], rel=1e-5)



@pytest.mark.parametrize("name", ["caffe", "torchvision"])
def test_normalize_is_the_convention_and_uploads_nothing_per_forward(name):
    from tests.helpers.ops import UPLOAD, OpCounter
    from vidstyle.model.encoder import CONVENTIONS, Normalize

    convention = CONVENTIONS[name]
    x = torch.rand(2, 3, 5, 4)
    by_hand = (x[:, list(convention.channels)] * torch.tensor(convention.scale).view(1, 3, 1, 1)
               - torch.tensor(convention.offset).view(1, 3, 1, 1))
    normalize = Normalize(convention)
    counter = OpCounter()
    with counter:
        out = normalize(x)
    assert torch.allclose(out, by_hand, atol=1e-4, rtol=1e-6)
    assert counter.count(UPLOAD) == 0 and counter.totals()["kernels"] == 1
