"""Generate the small demo media in samples/ (deterministic; numpy + OpenCV + imageio-ffmpeg's ffmpeg binary).

    python samples/make_samples.py            # writes samples/street.png, samples/strokes.png, samples/pan.mp4

street.png  256x192 content picture: sky gradient, sun, hills, a row of houses with windows, trees, a road.
strokes.png 256x256 style picture: dense curved brush strokes and swirls in a blue/ochre/orange palette.
pan.mp4     2 s at 12 fps, 160x120, H.264 yuv420p: a camera panning across a wide street scene while a car
            drives along more slowly (it stays in view, moving against the background).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

OUT = Path(__file__).resolve().parent
AA = cv2.LINE_AA


def _rgb(color: tuple[int, int, int]) -> tuple[int, int, int]:
    """Colours in this file are RGB; OpenCV draws whatever tuple it gets, and the canvas is RGB too."""
    return tuple(int(c) for c in color)  # type: ignore[return-value]


def draw_street(width: int, height: int, seed: int) -> np.ndarray:
    """An RGB uint8 street scene of any size; the same seed gives the same picture."""
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width, 3), np.uint8)
    horizon = int(height * 0.62)
    # sky: vertical gradient from deep blue to a pale warm haze at the horizon
    t = np.linspace(0.0, 1.0, horizon)[:, None]
    top, low = np.array([40, 110, 200]), np.array([235, 215, 190])
    img[:horizon] = (top * (1 - t) + low * t).astype(np.uint8)[:, None, :]
    # sun with a soft halo and rays
    sun = (int(width * 0.8), int(height * 0.18))
    r = max(6, height // 11)
    for k in range(8):
        a = k * np.pi / 4 + 0.2
        p1 = (int(sun[0] + 1.4 * r * np.cos(a)), int(sun[1] + 1.4 * r * np.sin(a)))
        p2 = (int(sun[0] + 2.1 * r * np.cos(a)), int(sun[1] + 2.1 * r * np.sin(a)))
        cv2.line(img, p1, p2, _rgb((255, 200, 60)), 2, AA)
    cv2.circle(img, sun, r, _rgb((255, 220, 80)), -1, AA)
    cv2.circle(img, sun, int(r * 0.6), _rgb((255, 245, 170)), -1, AA)
    # two layers of hills behind the houses
    xs = np.arange(width)
    for base, amp, color, phase in ((horizon - height * 0.12, height * 0.07, (110, 150, 120), 0.0),
                                    (horizon - height * 0.05, height * 0.05, (70, 125, 80), 1.7)):
        ys = base + amp * np.sin(xs / (width / 3.1) + phase) + 0.4 * amp * np.sin(xs / (width / 11.0) + 2 * phase)
        pts = np.concatenate([np.stack([xs, ys], 1), [[width - 1, horizon], [0, horizon]]]).astype(np.int32)
        cv2.fillPoly(img, [pts], _rgb(color), AA)
    # ground: pavement strip, road with a dashed centre line, kerb
    road_top = horizon + int(height * 0.12)
    img[horizon:road_top] = (185, 180, 170)
    img[road_top:] = (70, 70, 78)
    cv2.line(img, (0, road_top), (width, road_top), _rgb((230, 230, 225)), 2, AA)
    mid = (road_top + height) // 2
    dash = max(8, width // 16)
    for x in range(dash // 2, width, 2 * dash):
        cv2.line(img, (x, mid), (x + dash, mid), _rgb((245, 215, 60)), max(1, height // 90), AA)
    # houses standing on the pavement line
    walls = [(200, 80, 60), (225, 190, 120), (120, 150, 190), (235, 230, 215), (170, 110, 150), (215, 140, 70)]
    roofs = [(120, 40, 35), (90, 60, 50), (60, 60, 80)]
    x = int(rng.integers(2, width // 20 + 3))
    while x < width - 20:
        w = int(rng.integers(width // 9, width // 5))
        h = int(rng.integers(int(height * 0.22), int(height * 0.38)))
        w = min(w, width - x - 2)
        if w < 20:
            break
        top = horizon + 2 - h
        wall = walls[int(rng.integers(len(walls)))]
        cv2.rectangle(img, (x, top), (x + w, horizon + 2), _rgb(wall), -1)
        cv2.rectangle(img, (x, top), (x + w, horizon + 2), _rgb((40, 35, 35)), 1)
        roof = np.array([[x - 3, top], [x + w + 3, top], [x + w // 2, top - int(h * 0.35)]], np.int32)
        cv2.fillPoly(img, [roof], _rgb(roofs[int(rng.integers(len(roofs)))]), AA)
        # grid of windows with frames, and a door
        cols, rows = max(1, w // 14), max(1, h // 18)
        ww, wh = max(3, w // (2 * cols + 1)), max(3, h // (2 * rows + 2))
        for i in range(cols):
            for j in range(rows):
                wx = x + (2 * i + 1) * w // (2 * cols + 1)
                wy = top + (2 * j + 1) * h // (2 * rows + 2)
                lit = rng.random() < 0.35
                cv2.rectangle(img, (wx, wy), (wx + ww, wy + wh), _rgb((250, 230, 140) if lit else (60, 90, 130)), -1)
                cv2.rectangle(img, (wx, wy), (wx + ww, wy + wh), _rgb((250, 250, 245)), 1)
        dw = max(4, w // 6)
        cv2.rectangle(img, (x + w // 2 - dw // 2, horizon + 2 - int(h * 0.28)), (x + w // 2 + dw // 2, horizon + 2),
                      _rgb((90, 55, 35)), -1)
        x += w + int(rng.integers(4, width // 14 + 6))
        # a tree in some gaps
        if rng.random() < 0.5 and x < width - 6:
            tx = x - int(rng.integers(2, 6))
            cv2.line(img, (tx, horizon + 4), (tx, horizon - int(height * 0.08)), _rgb((90, 60, 30)), 2, AA)
            cv2.circle(img, (tx, horizon - int(height * 0.11)), max(4, height // 20), _rgb((50, 120, 50)), -1, AA)
    return img


def draw_car(img: np.ndarray, x: int, y: int, scale: float) -> None:
    """A small red car whose bottom-left corner is at (x, y), drawn in place."""
    w, h = int(40 * scale), int(12 * scale)
    cv2.rectangle(img, (x, y - h), (x + w, y - 3), _rgb((210, 30, 30)), -1)
    cabin = np.array([[x + w // 5, y - h], [x + w // 3, y - h - int(8 * scale)],
                      [x + 3 * w // 4, y - h - int(8 * scale)], [x + 4 * w // 5, y - h]], np.int32)
    cv2.fillPoly(img, [cabin], _rgb((210, 30, 30)), AA)
    cv2.fillPoly(img, [cabin + np.array([[2, 0], [2, 2], [-2, 2], [-2, 0]], np.int32)], _rgb((170, 210, 235)), AA)
    for wx in (x + w // 5, x + 4 * w // 5):
        cv2.circle(img, (wx, y - 3), max(3, int(4 * scale)), _rgb((25, 25, 25)), -1, AA)
        cv2.circle(img, (wx, y - 3), max(1, int(1.5 * scale)), _rgb((190, 190, 190)), -1, AA)


def draw_strokes(size: int, seed: int) -> np.ndarray:
    """A 'painting': a toned ground covered in textured curved brush strokes and a few swirls."""
    rng = np.random.default_rng(seed)
    palette = np.array([(20, 40, 110), (35, 85, 160), (70, 140, 200), (240, 190, 60), (230, 120, 30),
                        (250, 235, 170), (25, 110, 110), (180, 50, 40)], np.float64)
    img = np.full((size, size, 3), (30, 55, 100), np.uint8)

    def stroke(points: np.ndarray, color: np.ndarray, width: int) -> None:
        # a bristle brush: several thin parallel polylines with jittered shades of one colour
        normal = np.gradient(points, axis=0)[:, ::-1] * np.array([1, -1])
        normal /= np.linalg.norm(normal, axis=1, keepdims=True) + 1e-9
        for off in np.linspace(-width / 2, width / 2, max(2, width)):
            shade = np.clip(color * rng.uniform(0.75, 1.2) + rng.normal(0, 12, 3), 0, 255)
            pts = (points + normal * off).round().astype(np.int32)
            cv2.polylines(img, [pts], False, _rgb(tuple(shade)), 1, AA)

    for _ in range(420):  # flowing strokes
        start = rng.uniform(-10, size + 10, 2)
        angle, curl = rng.uniform(0, 2 * np.pi), rng.normal(0, 0.08)
        length = int(rng.integers(12, 40))
        pts = [start]
        for _ in range(length):
            angle += curl
            pts.append(pts[-1] + 1.5 * np.array([np.cos(angle), np.sin(angle)]))
        stroke(np.array(pts), palette[int(rng.integers(len(palette)))], int(rng.integers(3, 8)))
    for _ in range(7):  # swirls (Archimedean spirals of thick strokes)
        cx, cy = rng.uniform(0.1, 0.9, 2) * size
        r_max, turns = rng.uniform(size * 0.06, size * 0.16), rng.uniform(1.5, 3.0)
        th = np.linspace(0, 2 * np.pi * turns, 160)
        pts = np.stack([cx + r_max * th / th[-1] * np.cos(th), cy + r_max * th / th[-1] * np.sin(th)], 1)
        stroke(pts, palette[int(rng.choice([3, 4, 5]))], int(rng.integers(4, 7)))
    return img


def write_png(path: Path, rgb: np.ndarray) -> None:
    """Write an RGB image as PNG via a temporary file and a rename."""
    tmp = path.with_name(path.name + ".tmp.png")
    if not cv2.imwrite(str(tmp), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise RuntimeError(f"cannot write {path}")
    os.replace(tmp, path)


def pan_frames(n: int, fw: int = 160, fh: int = 120) -> list[np.ndarray]:
    """``n`` frames of a camera panning right (and slightly down) over a 448x150 scene while a car drives
    right more slowly, so it stays in view but moves against the background (about 4 vs 12.5 px per frame)."""
    scene = draw_street(448, 150, seed=7)
    road_y = int(150 * 0.62) + int(150 * 0.12) + 14
    frames = []
    for i in range(n):
        t = i / max(1, n - 1)
        frame = scene.copy()
        draw_car(frame, int(round(100 + 198 * t)), road_y, 1.0)
        x0, y0 = int(round(t * (448 - fw))), int(round(20 + t * (150 - fh - 20)))
        frames.append(frame[y0:y0 + fh, x0:x0 + fw])
    return frames


def write_mp4(path: Path, frames: list[np.ndarray], fps: int) -> None:
    """Encode RGB frames with ffmpeg (libx264, yuv420p, single thread, bit-exact flags) via a temp file."""
    import imageio_ffmpeg

    h, w = frames[0].shape[:2]
    tmp = path.with_name(path.name + ".tmp.mp4")
    cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-y", "-loglevel", "error", "-f", "rawvideo", "-pix_fmt", "rgb24",
           "-s", f"{w}x{h}", "-r", str(fps), "-i", "-", "-c:v", "libx264", "-preset", "medium", "-crf", "20",
           "-pix_fmt", "yuv420p", "-threads", "1", "-map_metadata", "-1", "-fflags", "+bitexact",
           "-flags:v", "+bitexact", "-movflags", "+faststart", str(tmp)]
    data = b"".join(np.ascontiguousarray(f).tobytes() for f in frames)
    proc = subprocess.run(cmd, input=data, capture_output=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise RuntimeError(f"ffmpeg failed: {proc.stderr.decode(errors='replace').strip()}")
    os.replace(tmp, path)


def main() -> int:
    write_png(OUT / "street.png", draw_street(256, 192, seed=3))
    write_png(OUT / "strokes.png", draw_strokes(256, seed=5))
    write_mp4(OUT / "pan.mp4", pan_frames(24), fps=12)
    for name in ("street.png", "strokes.png", "pan.mp4"):
        print(f"{OUT / name}: {(OUT / name).stat().st_size / 1024:.1f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
