"""The Python API on bad arguments: every entry that takes an image (a path or an array) checks it with the one
frame rule of vidstyle/io/images.py, and every entry that takes a Config refuses the options that do not apply
to it (vidstyle/scopes.py), each as a VidstyleError naming the argument or the option."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import vidstyle
from vidstyle import Config, VidstyleError, build_stylizer, stylize_frame, stylize_image
from vidstyle.io.images import read_image
from tests.helpers import MEDIA, REPO, WEIGHTS, smooth_image

STYLE = MEDIA / "starry_night.jpg"
CONTENT = MEDIA / "tubingen.jpg"


def cfg(**changes: object) -> Config:
    base: dict[str, object] = dict(preset="fast", weights=str(WEIGHTS), device="cpu", size=32, iterations=1,
                                   seed=0, quiet=True)
    return Config(**{**base, **changes})  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def stylizers() -> dict[str, vidstyle.Stylizer]:
    style = smooth_image(24, 24, seed=2)
    return {"lbfgs": build_stylizer(cfg(), style), "adam": build_stylizer(cfg(optimizer="adam"), style)}


GOOD = smooth_image(24, 32, seed=1)
# arrays that are not the H x W x 3 RGB uint8 contract, and what the message says about each
BAD_FRAMES = {
    "empty": (np.zeros((0, 0, 3), np.uint8), "empty"),
    "rgba": (np.zeros((24, 32, 4), np.uint8), "4 channels"),
    "grey 2-D": (np.zeros((24, 32), np.uint8), "shape (24, 32)"),
    "float 0..1": (np.full((24, 32, 3), 0.5, np.float32), "float32"),
    "uint16": (np.full((24, 32, 3), 65535, np.uint16), "uint16"),
    "negative int16": (np.full((24, 32, 3), -5, np.int16), "int16"),
    "all NaN": (np.full((24, 32, 3), np.nan, np.float32), "float32"),
    "None": (None, "None"),
}


def refused(call, needle: str, name: str) -> str:
    with pytest.raises(VidstyleError) as info:
        call()
    message = str(info.value)
    assert message.startswith(f"{name} ") and needle in message and "\n" not in message, message
    return message


@pytest.mark.parametrize("case", BAD_FRAMES)
def test_stylize_refuses_a_frame_that_is_not_rgb_uint8_by_name(stylizers, case):
    frame, needle = BAD_FRAMES[case]
    for stylizer in stylizers.values():
        refused(lambda: stylizer.stylize(frame), needle, "content")
        if frame is not None:  # init=None is the configured start
            refused(lambda: stylizer.stylize(GOOD, init=frame), needle, "init")
        refused(lambda: stylizer.stylize_batch([GOOD, frame]), needle, "contents[1]")
        refused(lambda: stylizer.evaluate(GOOD, frame), needle, "content")
        refused(lambda: stylizer.evaluate(frame, GOOD), needle, "image")


@pytest.mark.parametrize("case", BAD_FRAMES)
def test_the_image_entries_refuse_the_same_frames_by_name(case):
    frame, needle = BAD_FRAMES[case]
    refused(lambda: stylize_image(frame, STYLE, cfg()), needle, "content")
    refused(lambda: stylize_frame(CONTENT, frame, cfg()), needle, "style")
    refused(lambda: stylize_image(CONTENT, [STYLE, frame], cfg(style_weights=(1, 1))), needle, "style[1]")
    refused(lambda: build_stylizer(cfg(), frame), needle, "style")


def test_an_init_tensor_must_be_the_engines_layout(stylizers):
    for stylizer in stylizers.values():
        refused(lambda: stylizer.stylize(GOOD, init=torch.zeros(1, 3, 24, 32, dtype=torch.uint8)), "float", "init")
        refused(lambda: stylizer.stylize(GOOD, init=torch.zeros(3, 24, 32)), "1 x 3 x H x W", "init")
        refused(lambda: stylizer.stylize(GOOD, init="noise"), "str", "init")
        refused(lambda: stylizer.stylize(GOOD, init=smooth_image(24, 30)), "30x24", "init")
        refused(lambda: stylizer.stylize_batch(GOOD), "a list", "contents")


@pytest.mark.parametrize("value, needle", [(None, "None"), ([1], "a list"), (3, "an int"),
                                           (b"photo.png", "bytes"), ("", "empty path")])
def test_a_path_argument_of_the_wrong_type_is_refused_by_name(value, needle):
    refused(lambda: stylize_image(value, STYLE, cfg()), needle, "content")
    if not isinstance(value, list):  # a list of styles is a blend: its item is named
        refused(lambda: stylize_image(CONTENT, value, cfg()), needle, "style")
        refused(lambda: build_stylizer(cfg(), value), needle, "style")
    refused(lambda: stylize_image(CONTENT, [STYLE, value], cfg(style_weights=(1, 1))), needle, "style[1]")


@pytest.mark.parametrize("value, needle", [(None, "None"), ([1], "a list"), (3, "an int"),
                                           (b"clip.mp4", "bytes"), ("", "empty path")])
def test_stylize_video_refuses_paths_of_the_wrong_type_by_name(value, needle, tmp_path):
    """stylize_video's INPUT and OUTPUT raised pathlib TypeErrors (None, an int, bytes) naming no argument."""
    clip = REPO / "samples" / "pan.mp4"
    refused(lambda: vidstyle.stylize_video(value, STYLE, tmp_path / "o.mp4", cfg()), needle, "input")
    refused(lambda: vidstyle.stylize_video(clip, STYLE, value, cfg()), needle, "output")
    if not isinstance(value, list):
        refused(lambda: vidstyle.stylize_video(clip, value, tmp_path / "o.mp4", cfg()), needle, "style")
    refused(lambda: vidstyle.stylize_video(clip, [], tmp_path / "o.mp4", cfg()), "no image", "style")
    refused(lambda: vidstyle.stylize_video(clip, STYLE, tmp_path / "o.mp4", {}), "a dict", "config")
    assert list(tmp_path.iterdir()) == []


def test_no_style_and_a_config_that_is_not_one_are_refused_by_name():
    refused(lambda: stylize_image(CONTENT, [], cfg()), "no image", "style")
    refused(lambda: build_stylizer(cfg(), []), "no image", "style")
    refused(lambda: build_stylizer(None, STYLE), "None", "config")  # type: ignore[arg-type]
    refused(lambda: stylize_image(CONTENT, STYLE, {"size": 32}), "a dict", "config")  # type: ignore[arg-type]


@pytest.mark.parametrize("changes, option", [
    ({"crf": 10}, "--crf"), ({"fps": "30"}, "--fps"), ({"temporal": "none"}, "--temporal"),
    ({"max_frames": 3}, "--max-frames"), ({"audio": False}, "--no-audio"), ({"report": "run.json"}, "--report"),
    ({"overwrite": True}, "--overwrite"), ({"lr": 0.5}, "--lr")])
def test_options_that_do_not_apply_to_an_image_call_are_refused(changes, option):
    """The rule of the command line (scopes.OPTION_SCOPES): stylize_image writes no file and reads one image."""
    for call in (lambda: stylize_image(CONTENT, STYLE, cfg(**changes)),
                 lambda: stylize_frame(CONTENT, STYLE, cfg(**changes)),
                 lambda: build_stylizer(cfg(**changes), STYLE)):
        refused(call, "applies only to", option)


def test_a_video_stylizer_takes_the_temporal_options_and_no_file_options():
    style = smooth_image(24, 24, seed=2)
    refused(lambda: build_stylizer(cfg(crf=10), style, video=True), "applies only to", "--crf")
    refused(lambda: build_stylizer(cfg(work_dir="w"), style, video=True), "applies only to", "--work-dir")
    stylizer = build_stylizer(cfg(temporal_weight=50.0, first_iterations=3, flow_quality="fast"), style, video=True)
    assert stylizer.stylize(GOOD, iterations=0).image.shape == GOOD.shape


def test_style_weights_need_several_styles():
    refused(lambda: stylize_image(CONTENT, STYLE, cfg(style_weights=(1,))), "several", "--style-weights")
    refused(lambda: build_stylizer(cfg(), STYLE, style_weights=[2]), "several", "--style-weights")


def test_a_style_path_is_read_as_stylize_image_reads_it():
    """build_stylizer takes what stylize_image takes: a path (it was split into its characters) or an array."""
    image = stylize_image(CONTENT, STYLE, cfg(iterations=0))
    by_path = build_stylizer(cfg(iterations=0), STYLE, reference=image).stylize(image).image
    by_array = build_stylizer(cfg(iterations=0), read_image(STYLE), reference=image).stylize(image).image
    assert np.array_equal(by_path, by_array)
