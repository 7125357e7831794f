"""Video probing, streaming decode and encode (fps, frame count, audio, even sizes, bad files)."""
from __future__ import annotations

import subprocess
import tracemalloc
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from tests.helpers.clips import audio_codec, count_frames_ffmpeg, frame_times, make_clip

from vidstyle.errors import VidstyleError
from vidstyle.io.encode import VideoWriter, even_frame
from vidstyle.io.video_files import (
    exact_fps,
    ffmpeg_exe,
    frame_range,
    iter_video_frames,
    probe_video,
)

NTSC = Fraction(30000, 1001)


@pytest.fixture(scope="module")
def clip_audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "ntsc_audio.mp4", frames=15, audio=True)


@pytest.fixture(scope="module")
def clip_silent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "silent.mp4", size="63x47", rate="25", frames=10,
                     pix_fmt="yuv444p")  # odd sizes need 4:4:4


def copy_video(src: Path, dst: Path, **writer_kw: object) -> VideoWriter:
    info = probe_video(src)
    with VideoWriter(dst, info.fps, **writer_kw) as w:  # type: ignore[arg-type]
        for frame in iter_video_frames(src):
            w.write(frame)
    return w


def test_exact_fps_recovers_fractions() -> None:
    assert exact_fps(30000 / 1001) == NTSC
    assert exact_fps(24000 / 1001) == Fraction(24000, 1001)
    assert exact_fps(25.0) == 25
    assert exact_fps(12.5) == Fraction(25, 2)


def test_probe(clip_audio: Path, clip_silent: Path) -> None:
    info = probe_video(clip_audio)
    assert (info.width, info.height, info.fps) == (64, 48, NTSC)
    assert info.frame_count == 15 and info.has_audio and info.audio_codec == "aac"
    silent = probe_video(clip_silent)
    assert (silent.width, silent.height, silent.fps, silent.has_audio) == (63, 47, Fraction(25), False)


def test_ntsc_rate_frame_count_and_audio_kept(clip_audio: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    copy_video(clip_audio, out, audio_source=clip_audio)
    info = probe_video(out)
    assert info.fps == NTSC and count_frames_ffmpeg(out) == 15
    times = frame_times(out)  # independent of OpenCV: timestamps are exactly i * 1001/30000 s
    assert len(times) == 15 and times[-1] == pytest.approx(14 * 1001 / 30000, abs=1e-4)
    assert info.has_audio and audio_codec(out) == "aac"  # aac fits mp4: copied
    assert [p.name for p in tmp_path.iterdir()] == ["out.mp4"]  # no temporary files left


def test_audio_dropped_without_source(clip_audio: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    copy_video(clip_audio, out)
    assert not probe_video(out).has_audio and count_frames_ffmpeg(out) == 15


def test_audio_reencoded_when_container_refuses_codec(clip_audio: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.webm"  # webm takes neither aac nor h264: VP9 + Opus
    copy_video(clip_audio, out, audio_source=clip_audio)
    assert audio_codec(out) == "opus" and count_frames_ffmpeg(out) == 15


def test_odd_size_is_padded_by_one_edge_pixel(clip_silent: Path, tmp_path: Path) -> None:
    frame = np.arange(3 * 5 * 3, dtype=np.uint8).reshape(3, 5, 3)
    padded = even_frame(frame)
    assert padded.shape == (4, 6, 3)
    assert np.array_equal(padded[:3, :5], frame) and np.array_equal(padded[3, :5], frame[2])
    out = tmp_path / "odd.mp4"
    copy_video(clip_silent, out)
    info = probe_video(out)
    assert (info.width, info.height, info.fps) == (64, 48, Fraction(25)) and count_frames_ffmpeg(out) == 10


def test_trim_range_and_resize(clip_audio: Path, tmp_path: Path) -> None:
    assert frame_range(NTSC, 0.1, 0.4) == (3, 12)  # ceil(0.1*29.97)=3, ceil(0.4*29.97)=12
    assert frame_range(NTSC, None, None, 5) == (0, 5)
    assert frame_range(Fraction(25), 0.04, 0.2) == (1, 5)  # seconds as typed: 0.04 s is exactly frame 1
    frames = list(iter_video_frames(clip_audio, start=0.1, end=0.4, size=32))
    everything = list(iter_video_frames(clip_audio, size=32))
    assert len(frames) == 9 and frames[0].shape == (24, 32, 3)
    assert all(np.array_equal(a, b) for a, b in zip(frames, everything[3:12]))
    assert len(list(iter_video_frames(clip_audio, max_frames=4))) == 4
    # audio follows the trim: the muxed track lasts as long as the 9 frames, not the whole source
    out = tmp_path / "trim.mp4"
    with VideoWriter(out, NTSC, audio_source=clip_audio, audio_start=3 / NTSC) as w:
        for f in frames:
            w.write(f)
    err = subprocess.run([ffmpeg_exe(), "-hide_banner", "-i", str(out)], capture_output=True, text=True).stderr
    h, m, s = err.split("Duration: ")[1].split(",")[0].split(":")
    assert float(s) == pytest.approx(9 / float(NTSC), abs=0.05) and probe_video(out).has_audio


def test_bad_ranges_refused() -> None:
    with pytest.raises(VidstyleError):
        frame_range(NTSC, 2.0, 1.0)
    with pytest.raises(VidstyleError):
        frame_range(NTSC, -1.0)
    with pytest.raises(VidstyleError):
        frame_range(NTSC, None, None, 0)


def test_range_past_the_end_is_an_error(clip_audio: Path) -> None:
    with pytest.raises(VidstyleError, match="no frames"):
        list(iter_video_frames(clip_audio, start=100.0))


def test_missing_corrupt_and_truncated_videos(clip_audio: Path, tmp_path: Path) -> None:
    with pytest.raises(VidstyleError, match="not found"):
        probe_video(tmp_path / "missing.mp4")
    garbage = tmp_path / "garbage.mp4"
    garbage.write_bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8).tobytes())
    truncated = tmp_path / "truncated.mp4"
    truncated.write_bytes(clip_audio.read_bytes()[:3000])
    for bad in (garbage, truncated):
        with pytest.raises(VidstyleError):
            probe_video(bad)
        with pytest.raises(VidstyleError):
            list(iter_video_frames(bad))


def test_zero_frame_video(tmp_path: Path) -> None:
    audio_only = tmp_path / "zero.mp4"  # a valid mp4 with no video frame at all
    subprocess.run([ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                    "sine=duration=0.5", "-c:a", "aac", str(audio_only)], check=True)
    with pytest.raises(VidstyleError):
        probe_video(audio_only)
    with pytest.raises(VidstyleError):
        list(iter_video_frames(audio_only))


def test_writer_failure_leaves_nothing(clip_silent: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    out.write_bytes(b"previous result")
    with pytest.raises(RuntimeError):
        with VideoWriter(out, Fraction(25)) as w:
            w.write(np.zeros((16, 16, 3), np.uint8))
            raise RuntimeError("interrupted")
    assert out.read_bytes() == b"previous result" and sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]
    with pytest.raises(VidstyleError, match="no frames"):
        with VideoWriter(tmp_path / "empty.mp4", Fraction(25)):
            pass
    assert not (tmp_path / "empty.mp4").exists()


def test_streaming_memory_is_flat(tmp_path: Path) -> None:
    src = make_clip(tmp_path / "long.mp4", size="32x32", rate="25", frames=300)
    tracemalloc.start()
    try:
        n = 0
        with VideoWriter(tmp_path / "copy.mp4", Fraction(25)) as w:
            for frame in iter_video_frames(src):
                w.write(frame)
                n += 1
                if n == 20:
                    base = tracemalloc.get_traced_memory()[0]
        peak_growth = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert n == 300 and count_frames_ffmpeg(tmp_path / "copy.mp4") == 300
    assert peak_growth < 300_000  # keeping 280 more 3 KiB frames would take > 800 kB
