"""Checkpoints that would give silent garbage are refused at load time, naming the layer."""
import math

import pytest
import torch

from vidstyle.errors import VidstyleError
from vidstyle.model.vgg import VGGFeatures
from vidstyle.engine.build import load_encoder

CPU = torch.device("cpu")
LAYERS = ("relu2_1", "relu1_1")


def save_state(path, change):
    state = {k: torch.randn_like(v) * 0.01 for k, v in VGGFeatures(["relu2_1"]).state_dict().items()}
    change(state)
    torch.save(state, path)
    return path


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_checkpoint_is_refused_naming_the_layer(tmp_path, bad):
    def poison(state):
        state["features.5.weight"][0, 0, 0, 0] = bad  # conv2_1
    path = save_state(tmp_path / "w.pth", poison)
    with pytest.raises(VidstyleError, match=r"features\.5\.weight \(conv2_1\) holds NaN or infinite values"):
        load_encoder(str(path), "auto", LAYERS, "avg", CPU)


def test_string_entry_is_named_as_such_not_as_a_shape(tmp_path):
    path = save_state(tmp_path / "w.pth", lambda state: state.__setitem__("features.0.bias", "str"))
    with pytest.raises(VidstyleError, match=r"features\.0\.bias \(conv1_1\) is a str, not a tensor") as exc:
        load_encoder(str(path), "auto", LAYERS, "avg", CPU)
    assert "shape" not in str(exc.value)


@pytest.mark.parametrize("change, kind", [
    (lambda t: t.to_sparse(), "sparse_coo tensor"),
    (lambda t: t.to(torch.float8_e4m3fn), "float8_e4m3fn tensor"),
    (lambda t: torch.empty(t.shape, device="meta"), "without data"),
    (lambda t: t.to(torch.complex64), "complex64 tensor"),
    (lambda t: t.round().to(torch.int32), "int32 tensor"),
])
def test_tensors_that_are_no_dense_floats_are_refused_naming_the_layer(tmp_path, change, kind):
    """A sparse, 8-bit float or meta tensor crashed the finite check with a traceback; a complex one was cast
    to real with only torch's warning."""
    def spoil(state):
        state["features.2.weight"] = change(state["features.2.weight"])  # conv1_2
    path = save_state(tmp_path / "w.pth", spoil)
    with pytest.raises(VidstyleError, match=rf"features\.2\.weight \(conv1_2\) is (a|an) .*{kind}.*expected a dense"):
        load_encoder(str(path), "auto", LAYERS, "avg", CPU)
