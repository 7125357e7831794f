"""The one Config: presets resolved once, every closed vocabulary checked against vidstyle.vocab."""
from __future__ import annotations

import dataclasses
from fractions import Fraction

import pytest

from vidstyle import vocab
from vidstyle.config import PRESETS, Config
from vidstyle.errors import VidstyleError


def test_defaults_are_valid_and_resolve_to_the_preset():
    plan = Config().layer_plan()
    preset = PRESETS[Config().preset]
    assert plan.content == preset.content_layers and [n for n, _ in plan.style] == list(preset.style_layers)
    assert sum(w for _, w in plan.style) == pytest.approx(1.0)
    assert plan.content_weight == 1.0 and plan.style_weight == preset.weights["scaled"].style
    assert Config(loss_units="paper").layer_plan().style_weight == preset.weights["paper"].style == 1e3
    assert Config().resolved_temporal_weight() != Config(loss_units="paper").resolved_temporal_weight()


def test_overrides_replace_the_preset_values():
    plan = Config(preset="fast", style_layers=("relu1_1", "relu2_1"), style_layer_weights=(3, 1),
                  content_weight=2.0, style_weight=5.0, tv_weight=0.1).layer_plan()
    assert plan.style == (("relu1_1", 3.0), ("relu2_1", 1.0))
    assert (plan.content_weight, plan.style_weight, plan.tv_weight) == (2.0, 5.0, 0.1)
    assert plan.layers == ("relu3_2", "relu1_1", "relu2_1")


@pytest.mark.parametrize("field,vocabulary", [
    ("pooling", vocab.POOLINGS), ("weights_format", vocab.WEIGHT_FORMATS), ("optimizer", vocab.OPTIMIZERS),
    ("device", vocab.DEVICES), ("precision", vocab.PRECISIONS), ("preserve_colors", vocab.COLOR_MODES),
    ("temporal", vocab.TEMPORAL_MODES), ("flow_quality", vocab.FLOW_QUALITIES),
    ("orphan_labels", vocab.ORPHAN_POLICIES), ("loss_units", vocab.LOSS_UNITS)])
def test_each_vocabulary_is_accepted_whole_and_nothing_else(field, vocabulary):
    for value in vocabulary:
        assert getattr(Config(**{field: value}), field) == value
    with pytest.raises(VidstyleError, match=field.replace("_", "-")):
        Config(**{field: "nonsense"})


def test_replace_validates_again():
    config = Config()
    assert config.replace(iterations=7).iterations == 7
    with pytest.raises(VidstyleError):
        config.replace(iterations=-1)


def test_video_helpers():
    assert Config(iterations=10).first_frame_iterations == 20
    assert Config(iterations=10, first_iterations=3).first_frame_iterations == 3
    assert Config(fps="30000/1001").frame_rate() == Fraction(30000, 1001)
    assert Config().frame_rate() == 25
    with pytest.raises(VidstyleError, match="fps"):
        Config(fps="0")
    assert Config(fps="1/3600").frame_rate() == Fraction(1, 3600)  # one frame an hour still encodes
    for tiny in ("1e-5", "1/100000", "1/3601"):  # ffmpeg's mp4 muxer fails on 1e5-second frames, after the work
        with pytest.raises(VidstyleError, match="one frame an hour"):
            Config(fps=tiny)


def test_init_and_mask_kinds(tmp_path):
    assert not Config(init="content").init_is_file() and not Config(init="noise").init_is_file()
    assert Config(init=str(tmp_path / "x.png")).init_is_file()
    (tmp_path / "masks").mkdir()
    masks = Config(content_mask=str(tmp_path / "masks"), style_mask=str(tmp_path / "s.png"))
    assert masks.content_mask_is_folder()
    assert not Config(content_mask=str(tmp_path / "m.png"), style_mask=str(tmp_path / "s.png")).content_mask_is_folder()


def test_every_field_has_a_default():
    assert all(f.default is not dataclasses.MISSING for f in dataclasses.fields(Config))


def test_an_empty_layer_override_is_refused_not_a_silently_dropped_term():
    for field, option in (("style_layers", "--style-layers"), ("content_layers", "--content-layers")):
        with pytest.raises(VidstyleError, match=f"{option} names no layer"):
            Config(**{field: ()})
    assert Config(style_layers=("relu1_1",), content_layers=("relu2_2",)).layer_plan().style == (("relu1_1", 1.0),)
    Config(style_weight=0.0)  # what the message offers instead
    Config(content_weight=0.0)


@pytest.mark.parametrize("field", ["weights", "init", "work_dir", "report", "content_mask", "style_mask"])
def test_a_path_field_of_another_type_is_refused_by_name(field):
    """Config(weights=123) failed deep inside with a TypeError from the weights lookup."""
    for value in (123, ["a.png"], b"a.png"):
        with pytest.raises(VidstyleError, match=f"{field.replace('_', '-')} must be a path"):
            Config(**{field: value})
