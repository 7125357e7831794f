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
