"""Checkpoints that would give silent garbage are refused at load time, naming the layer; the weights'
content digest (what the video work directory is fingerprinted with) follows the bytes, not the path."""
import math
import os
import shutil

import pytest
import torch

from vidstyle.errors import VidstyleError
from vidstyle.model.vgg import VGGFeatures
from vidstyle.engine.build import load_encoder
from vidstyle.io.checkpoint_files import weights_digest

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


def test_digest_follows_content_and_is_cached_by_size_and_mtime(tmp_path, weights_path):
    a = tmp_path / "a.pth"
    shutil.copy(weights_path, a)
    first = weights_digest(a)
    b = tmp_path / "elsewhere.pth"
    shutil.copy(weights_path, b)
    assert weights_digest(b) == first  # same bytes, another path: same digest
    save_state(a, lambda state: None)  # the file is replaced by other weights
    assert weights_digest(a) != first
    cache = os.path.join(torch.hub.get_dir(), "vidstyle-weights-digests.json")
    assert os.path.isfile(cache) and str(b.resolve()) in open(cache).read()
