"""Flow mode on camera-like motion: still regions stay exactly still, moving ones follow the flow."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from samples.realistic_clips import realistic_frames

from vidstyle.engine.tensors import to_image, to_tensor
from vidstyle.io.images import read_image
from vidstyle.temporal import warp
from vidstyle.temporal.propagate import TemporalPlanner
from vidstyle.temporal import stabilize
from vidstyle.temporal.flow import to_gray
from vidstyle.temporal.shots import Motion, analyze_motion, still_pixels
from vidstyle.temporal.stabilize import ShotFollower

W, H = 96, 64


def motion(prev: np.ndarray, cur: np.ndarray, flow: np.ndarray, mask: np.ndarray) -> Motion:
    """The motion analysis of a pair with a given flow and mask (the still pixels as analyze_motion finds them)."""
    return Motion(flow=flow, mask=mask, matched=1.0, shot_change=False, still=still_pixels(prev, cur, flow))


def test_noise_sized_flow_on_an_unchanged_image_copies_the_output_exactly() -> None:
    rng = np.random.default_rng(0)
    frame = cv2.GaussianBlur(rng.integers(0, 256, (H, W, 3), dtype=np.uint8), (0, 0), 2)
    output = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)  # a stylized-looking texture
    flow = rng.uniform(-0.2, 0.2, (H, W, 2)).astype(np.float32)  # what DIS finds in sensor noise
    mask = np.ones((H, W), np.float32)
    mask[:, : W // 2] = 0  # Ruder's mask rejects half of it (its boundary test fires on noisy flow)
    f = ShotFollower().follow(output, frame, motion(frame, frame, flow, mask))
    assert f.still.all()
    assert np.array_equal(to_image(f.warped), output)  # the bilinear warp would have blurred it
    assert not np.array_equal(warp(output, flow), output)
    assert np.all(f.weight.numpy() == stabilize.STILL_BOOST)  # held harder, even where Ruder's mask said no


def test_moving_pixels_follow_the_flow_and_keep_ruders_mask() -> None:
    rng = np.random.default_rng(0)
    prev = cv2.GaussianBlur(rng.integers(0, 256, (H, W, 3), dtype=np.uint8), (0, 0), 2)
    cur = np.roll(prev, 2, axis=1)  # the scene moves right by 2 px
    output = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    flow = np.zeros((H, W, 2), np.float32)
    flow[..., 0] = -2.0
    mask = np.ones((H, W), np.float32)
    mask[:, :2] = 0  # uncovered on the left
    f = ShotFollower().follow(output, cur, motion(prev, cur, flow, mask))
    inner = np.s_[:, 4:-4]
    assert not f.still.numpy()[inner].any()
    assert np.array_equal(to_image(f.warped)[inner], output[:, 2:-6])
    assert np.array_equal(f.weight.numpy(), mask)
    assert np.array_equal(f.content, cur)  # nothing still: the frame itself is the content


def test_still_camera_keeps_the_background_exactly_and_averages_its_noise(tubingen: Path) -> None:
    frames = [cv2.resize(f, (W, H), interpolation=cv2.INTER_AREA)
              for f in realistic_frames("still", read_image(tubingen), frames=8, width=4 * W, height=4 * H)]
    rng = np.random.default_rng(1)
    output = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)  # a stylized-looking texture
    planner = TemporalPlanner("flow", iterations=4, first_iterations=8, weight=100.0)
    contents, stills = [], []
    for t in range(1, len(frames)):
        start = planner.start(frames[t], frames[t - 1], output)
        assert start.terms and start.content is not None and start.still is not None
        stills.append(start.still)
        contents.append(start.content.astype(np.float32))
        # the background right of the subject never moves: kept as it was, no resampling at all
        assert np.array_equal(to_image(start.init)[:, -W // 4:], output[:, -W // 4:])
    planner.close()
    assert min(stills) > 0.5
    background = np.s_[:, -W // 4:]
    noise_in = np.std(np.stack([f[background].astype(np.float32) for f in frames[1:]]), axis=0).mean()
    noise_used = np.std(np.stack([c[background] for c in contents]), axis=0).mean()
    assert noise_used < 0.6 * noise_in


def test_slow_change_ends_stillness_and_is_added_to_the_start() -> None:
    """A still camera on a scene that brightens by 1 gray level a frame: frame to frame nothing is "changed",
    but once the input has moved more than the tolerance from what the output was drawn for, the pixels are no
    longer held still and the start image carries the accumulated change."""
    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.integers(40, 200, (H, W, 3), dtype=np.uint8), (0, 0), 2).astype(np.int16)
    frames = [np.clip(base + t, 0, 255).astype(np.uint8) for t in range(8)]
    output = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    flow, mask = np.zeros((H, W, 2), np.float32), np.ones((H, W), np.float32)
    follower = ShotFollower()
    stills, starts = [], []
    for t in range(1, len(frames)):
        f = follower.follow(output, frames[t], motion(frames[t - 1], frames[t], flow, mask), frames[t - 1])
        assert motion(frames[t - 1], frames[t], flow, mask).still.all()  # frame to frame: still everywhere
        stills.append(float(f.still.float().mean()))
        starts.append(to_image(f.init))
    # 4 gray levels from what the output was drawn for (frame 0) are tolerated; the 5th redraws the pixels,
    # which are then drawn for frame 5 and still again
    assert stills == [1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0]
    assert all(np.array_equal(starts[i], output) for i in (0, 1, 2, 3, 5, 6))
    assert np.abs(starts[4].astype(float) - output).mean() > 4  # the drift since frame 0, added


def _numpy_follow(state: dict, prev_output: np.ndarray, frame: np.ndarray, motion: Motion,
                  prev_frame: np.ndarray) -> tuple[np.ndarray, ...]:
    """The follow step as the host computed it before it moved to the device (cv2.remap, NumPy), kept here as
    the reference: (warped, init, content, weight, still)."""
    def blurred(image: np.ndarray) -> np.ndarray:
        return cv2.GaussianBlur(to_gray(image).astype(np.float32), (5, 5), 0)
    current = frame.astype(np.float32)
    drawn = state.get("drawn", prev_frame.astype(np.float32))
    still = motion.still & (np.abs(blurred(frame) - blurred(drawn)) <= stabilize.STILL_TOLERANCE)
    s3 = still[..., None]
    warped = np.where(s3, prev_output, warp(prev_output, motion.flow))
    drawn_here = np.where(s3, drawn, warp(drawn, motion.flow))
    change = np.where(s3, 0.0, current - drawn_here)
    init = np.clip(np.rint(warped.astype(np.float32) + change), 0, 255).astype(np.uint8)
    state["drawn"] = np.where(s3, drawn_here, current)
    if "content" in state:
        current = np.where(s3, stabilize.CONTENT_MEMORY * state["content"] + (1 - stabilize.CONTENT_MEMORY) * current,
                           current)
    state["content"] = current
    content = np.clip(np.rint(current), 0, 255).astype(np.uint8)
    weight = np.where(still, stabilize.STILL_BOOST, motion.mask > 0).astype(np.float32)
    return warped, init, content, weight, still


def test_device_follow_matches_the_host_follow_on_a_moving_clip(tubingen: Path) -> None:
    """Stylized frames carried along a small clip (a subject moving over a still, noisy background) on the
    device equal the host's cv2/NumPy computation within one 8-bit level."""
    from vidstyle.temporal.shots import analyze_motion
    frames = [cv2.resize(f, (W, H), interpolation=cv2.INTER_AREA)
              for f in realistic_frames("still", read_image(tubingen), frames=6, width=4 * W, height=4 * H)]
    rng = np.random.default_rng(2)
    follower, state = ShotFollower(), {}
    moving = 0.0
    for t in range(1, len(frames)):
        output = np.clip(frames[t - 1].astype(int) + rng.integers(-40, 41, frames[t - 1].shape), 0, 255
                         ).astype(np.uint8)  # a stylized-looking frame t-1
        m = analyze_motion(frames[t - 1], frames[t], "medium")
        f = follower.follow(to_tensor(output, "cpu"), frames[t], m, frames[t - 1])
        warped, init, content, weight, still = _numpy_follow(state, output, frames[t], m, frames[t - 1])
        assert np.array_equal(f.still.numpy(), still) and np.array_equal(f.weight.numpy(), weight)
        for got, expected in ((to_image(f.warped), warped), (to_image(f.init), init), (f.content, content)):
            assert np.abs(got.astype(int) - expected).max() <= 1
            assert np.mean(got != expected) < 0.02
        moving = max(moving, 1 - float(still.mean()))
    assert moving > 0.05  # part of the clip moved: the warp was exercised, not only the still copy
