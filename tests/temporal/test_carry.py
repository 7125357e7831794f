"""Live mode's carry: a painting moved onto a newer camera frame, new content recoloured with the painting's
strokes, textureless regions moved with the camera's own motion."""
from __future__ import annotations

import cv2
import numpy as np

from vidstyle.temporal import warp
from vidstyle.temporal.carry import camera_motion, carried, colour_map, steadied, stroke_texture

W, H = 96, 64


def texture(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return cv2.GaussianBlur(rng.integers(0, 256, (H, W, 3), dtype=np.uint8), (0, 0), 2)


def fine(image: np.ndarray) -> np.ndarray:
    """The image's detail finer than a 2 px Gaussian (float, per pixel and channel)."""
    levels = image.astype(float)
    return levels - cv2.GaussianBlur(levels, (0, 0), 2)


def test_the_carry_moves_the_painting_and_adds_the_cameras_change() -> None:
    # a painting made for frame t-1, shown on frame t = frame t-1 shifted 3 px right and a little brighter in
    # one patch (light changing); the strokes move with the scene, the change shows on them
    drawn, painted = texture(0), texture(1)
    current = np.roll(drawn, 3, axis=1)
    patch = (slice(20, 30), slice(40, 50))
    current[patch] = np.clip(current[patch].astype(int) + 6, 0, 255)
    flow = np.zeros((H, W, 2), np.float32)
    flow[..., 0] = -3  # backward: frame t's pixel x came from x - 3 in frame t-1
    out = carried(painted, drawn, current, flow)
    assert out.dtype == np.uint8 and out.shape == painted.shape
    moved = np.roll(painted, 3, axis=1).astype(int)
    elsewhere = np.ones((H, W), bool)
    elsewhere[18:32, 38:52], elsewhere[:, :4] = False, False  # the first columns replicate the border
    assert np.array_equal(out[elsewhere], moved[elsewhere])  # no change there: the painting moved, untouched
    change = current[patch].astype(int) - np.roll(drawn, 3, axis=1)[patch]
    assert np.abs(out[patch].astype(int) - np.clip(moved[patch] + change, 0, 255)).max() <= 1


def test_new_content_shows_the_camera_in_the_paintings_colours_and_strokes_not_the_old_ones() -> None:
    # something new held up to the camera: a flat bright square where the painting had strokes; moved strokes
    # plus the camera's change left the old strokes in it (a ghost of what was there)
    drawn = texture(0)
    painted = np.clip(texture(1).astype(int) + np.random.default_rng(2).integers(-40, 41, (H, W, 3)), 0, 255)
    painted = painted.astype(np.uint8)  # a painting: fine strokes over the photo's layout
    current = drawn.copy()
    current[16:40, 30:60] = 230
    out = carried(painted, drawn, current, np.zeros((H, W, 2), np.float32))
    inside = np.s_[20:36, 34:56]
    old = fine(painted)[inside].ravel()
    shown = fine(out)[inside].ravel()
    # the painting's strokes, as strong as they are in the painting, but not the ones that were there
    assert shown.std() > 0.6 * fine(painted).std()
    assert abs(np.corrcoef(shown, old)[0, 1]) < 0.2
    ghost = fine(np.clip(painted.astype(int) + current - drawn, 0, 255))[inside].ravel()
    assert np.corrcoef(ghost, old)[0, 1] > 0.9  # what moved strokes plus the change would have shown
    # the square is all new: the colour map that takes the photo to its painting (tested below), applied to
    # the square, plus the painting's strokes from elsewhere
    fill = colour_map(drawn, painted) @ np.array([230, 230, 230, 1.0]) + stroke_texture(painted)[inside]
    assert np.abs(out[inside].astype(float) - np.clip(fill, 0, 255)).max() <= 1.5


def test_the_carry_moves_strokes_bicubically_keeping_their_contrast() -> None:
    # a half-pixel move: bilinear averages neighbours and kept 62 % of fine strokes' contrast, bicubic 85 %
    strokes = cv2.GaussianBlur(np.random.default_rng(3).integers(0, 256, (H, W, 3), dtype=np.uint8), (0, 0), 0.6)
    flow = np.full((H, W, 2), 0.5, np.float32)

    def contrast(image: np.ndarray) -> float:
        inner = image[4:-4, 4:-4].astype(float)
        return float(np.abs(inner - cv2.GaussianBlur(inner, (0, 0), 2)).mean())

    photo = texture(0)
    out = carried(strokes, photo, warp(photo, flow, cubic=True), flow)  # the camera moved half a pixel
    assert contrast(out) >= 0.8 * contrast(strokes)
    assert contrast(warp(strokes, flow)) < 0.7 * contrast(strokes)


def test_the_cameras_motion_is_the_affine_map_most_of_the_flow_follows() -> None:
    # a zoom, turn and pan of the whole picture, with a third of the field moving otherwise (an object)
    zoom = np.array([[1.04, 0.01, -2.0], [-0.01, 1.04, 1.5]], np.float32)
    grid = np.dstack(np.meshgrid(np.arange(W, dtype=np.float32), np.arange(H, dtype=np.float32)))
    truth = cv2.transform(grid, zoom) - grid
    flow = truth.copy()
    flow[:, : W // 3] = (5.0, -3.0)
    motion = camera_motion(flow)
    assert motion is not None and motion.shape == flow.shape and motion.dtype == np.float32
    assert np.abs(motion - truth).max() < 0.05


def test_a_textureless_wall_keeps_its_strokes_in_place_when_the_flow_drags_it_along() -> None:
    # a still camera: a textured object moves 4 px right over a plain wall; the flow (DIS smooths it) drags the
    # wall beside the object along too, where any motion explains the plain picture
    thing = cv2.GaussianBlur(np.random.default_rng(5).integers(0, 256, (24, 24, 3), dtype=np.uint8), (0, 0), 0.7)
    drawn = np.full((H, W, 3), 200, np.uint8)
    drawn[20:44, 20:44] = thing
    current = np.full((H, W, 3), 200, np.uint8)
    current[20:44, 24:48] = thing
    flow = np.zeros((H, W, 2), np.float32)
    flow[12:52, 12:60, 0] = -4  # the object's motion, and the wall around it dragged along
    painted = np.clip(drawn.astype(int) + np.random.default_rng(6).integers(-30, 31, (H, W, 3)), 0, 255)
    painted = painted.astype(np.uint8)
    steady = steadied(drawn, current, flow)
    band = np.s_[13:16, 14:58]  # the wall above the object, inside the dragged region
    assert np.abs(steady[band]).max() < 0.1  # the camera's motion: none
    assert np.abs(steady[26:38, 30:42, 0] + 4).max() < 0.1  # the object still follows its flow
    out = carried(painted, drawn, current, flow)
    assert np.array_equal(out[band], painted[band])  # the wall's strokes stay where they were painted
    assert not np.array_equal(warp(painted, flow, cubic=True)[band], painted[band])  # the flow would move them


def test_the_stroke_texture_is_the_paintings_detail_shifted_by_half_the_picture() -> None:
    painted = texture(7)
    strokes = stroke_texture(painted)
    assert strokes.dtype == np.float32 and strokes.shape == painted.shape
    assert abs(float(strokes.mean())) < 0.5
    levels = painted.astype(np.float32)
    detail = levels - cv2.GaussianBlur(levels, (0, 0), 1.0)
    assert np.allclose(strokes[H // 2:, W // 2:], detail[: H - H // 2, : W - W // 2], atol=1e-4)


def test_the_colour_map_takes_a_photo_to_a_recoloured_copy_of_itself() -> None:
    photo = texture(8)
    matrix = np.array([[0.5, 0.2, 0.0], [0.1, 0.7, 0.1], [0.0, 0.3, 0.6]])
    painting = np.clip(photo.astype(float) @ matrix.T + (10, 20, 30), 0, 255).round().astype(np.uint8)
    mapping = colour_map(photo, painting)
    assert mapping.shape == (3, 4)
    assert np.abs(mapping[:, :3] - matrix).max() < 0.02 and np.abs(mapping[:, 3] - (10, 20, 30)).max() < 1.5
