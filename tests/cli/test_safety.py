"""The command on the hostile inputs of a user trial: outputs pointed at inputs, device nodes, work
directories, odd names, bad environment variables, options that do not apply, closed or full streams.
Every refusal is exit 2 with one stderr line and no traceback, before any work; inputs keep their bytes."""
from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, smooth_image
from tests.helpers.clips import make_clip
from tests.io.temps import dead_pid
from vidstyle.cli.main import main
from vidstyle.io.images import write_image
from vidstyle.io.path_registry import WORK_MARKER
from vidstyle.io.video_files import probe_video


def fast(weights: Path, *extra: str) -> list[str]:
    return ["--preset", "fast", "--size", "32", "--iterations", "0", "--weights", str(weights), "--device", "cpu",
            "--quiet", *extra]


def video_fast(weights: Path, *extra: str) -> list[str]:
    return fast(weights, "--first-iterations", "0", "--temporal", "none", *extra)


def refused(capsys, argv: list[str], needle: str) -> None:
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture()
def images(tmp_path: Path) -> dict[str, Path]:
    files = {name: tmp_path / f"{name}.png" for name in ("content", "style", "init", "cmask", "smask")}
    for i, path in enumerate(files.values()):
        write_image(path, smooth_image(24, 32, seed=i))
    return files


@pytest.fixture()
def clip(tmp_path: Path) -> Path:
    return make_clip(tmp_path / "clip.mp4", frames=3)


def test_outputs_pointed_at_file_inputs_are_refused_and_inputs_kept(tmp_path, capsys, images, weights_path):
    weights = tmp_path / "vgg19-caffe.pth"
    shutil.copy(weights_path, weights)
    before = {p: digest(p) for p in [*images.values(), weights]}
    base = [images["content"], images["style"]]
    masks = ["--content-mask", images["cmask"], "--style-mask", images["smask"]]
    hard = tmp_path / "hard-init.png"
    os.link(images["init"], hard)
    cases = [
        ([*base, images["init"], "--init", images["init"]], "--init"),
        ([*base, hard, "--init", images["init"]], "--init"),
        ([*base, images["cmask"], *masks], "--content-mask"),
        ([*base, images["smask"], *masks], "--style-mask"),
        ([*base, tmp_path / "o.png", "--report", weights], "--weights"),
        ([*base, tmp_path / "o.png", "--report", images["init"], "--init", images["init"]], "--init"),
    ]
    for argv, needle in cases:
        refused(capsys, [*argv, *fast(weights, "--overwrite")], needle)
    assert {p: digest(p) for p in before} == before
    assert not (tmp_path / "o.png").exists()


def test_device_node_and_fifo_targets_are_refused_with_overwrite(tmp_path, capsys, images, weights_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    targets = [fifo]
    if os.geteuid() == 0:
        node = tmp_path / "null.json"
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
        targets.append(node)
    for target in targets:
        refused(capsys, [images["content"], images["style"], tmp_path / "o.png", "--report", target,
                         *fast(weights_path, "--overwrite")], "vidstyle writes only regular files")
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert all(not stat.S_ISREG(t.lstat().st_mode) for t in targets)
    # read from, a device would never end: /dev/zero as weights was hashed forever
    refused(capsys, [images["content"], images["style"], tmp_path / "o.png", *fast(Path("/dev/zero"))],
            "vidstyle reads regular files and folders")


def test_output_into_another_runs_work_directory_is_refused(tmp_path, capsys, clip, images, weights_path):
    work = tmp_path / "x.work"
    work.mkdir()
    (work / WORK_MARKER).write_text('{"fingerprint": "theirs"}')
    (work / "frame_000001.png").write_bytes(b"their frame")
    for out in (work, work / "o.mp4"):
        refused(capsys, [clip, images["style"], out, *video_fast(weights_path, "--overwrite")],
                "vidstyle work directory")
    refused(capsys, [clip, images["style"], tmp_path / "o.mp4", "--report", work / "r.json",
                     *video_fast(weights_path)], "vidstyle work directory")
    assert sorted(p.name for p in work.iterdir()) == ["frame_000001.png", WORK_MARKER]


def test_trailing_slash_means_a_folder_and_work_dir_under_a_file_is_refused(tmp_path, capsys, clip, images,
                                                                             weights_path):
    out = tmp_path / "newdir.mp4"
    assert main([str(clip), str(images["style"]), str(out) + "/", *video_fast(weights_path)]) == 0
    assert out.is_dir() and sorted(p.name for p in out.iterdir())[-1] == "frame_000003.png"
    refused(capsys, [clip, images["style"], tmp_path / "o.mp4", "--work-dir", tmp_path / "o.mp4" / "w",
                     *video_fast(weights_path)], "must not lie inside OUTPUT")
    assert not (tmp_path / "o.mp4").exists()


def test_long_names_are_refused_up_front(tmp_path, capsys, clip, images, weights_path):
    long_out = tmp_path / ("o" * 240 + ".mp4")  # fits, but its temporary name would not
    refused(capsys, [clip, images["style"], long_out, *video_fast(weights_path)], "vidstyle needs at most")
    too_long = tmp_path / ("c" * 300 + ".png")
    refused(capsys, [too_long, images["style"], tmp_path / "o.png", *fast(weights_path)], "too long")
    refused(capsys, [images["content"], too_long, tmp_path / "o.png", *fast(weights_path)], "too long")
    refused(capsys, [images["content"], images["style"], too_long, *fast(weights_path)], "too long")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["clip.mp4", *(p.name for p in images.values())])


@pytest.mark.parametrize("argv, option", [
    (["--crf", "18"], "--crf"), (["--no-audio"], "--no-audio"), (["--temporal", "flow"], "--temporal"),
    (["--temporal-weight", "5"], "--temporal-weight"), (["--flow-quality", "fine"], "--flow-quality"),
    (["--first-iterations", "1"], "--first-iterations"), (["--fps", "25"], "--fps"),
])
def test_options_for_other_inputs_are_refused_for_an_image(tmp_path, capsys, images, weights_path, argv, option):
    refused(capsys, [images["content"], images["style"], tmp_path / "o.png", *fast(weights_path), *argv],
            f"{option} applies only to")
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("argv, output, option", [
    (["--fps", "25"], "o.mp4", "--fps"),
    (["--temporal", "none", "--temporal-weight", "5"], "o.mp4", "--temporal-weight"),
    (["--temporal", "warm", "--flow-quality", "fast"], "o.mp4", "--flow-quality"),
    (["--crf", "18"], "frames", "--crf"),
    (["--no-audio"], "frames", "--no-audio"),
])
def test_options_for_other_runs_are_refused_for_a_video(tmp_path, capsys, clip, images, weights_path, argv, output,
                                                        option):
    refused(capsys, [clip, images["style"], tmp_path / output, *fast(weights_path), *argv], f"{option} applies only to")
    assert not (tmp_path / output).exists()


@pytest.mark.parametrize("argv, option, allowed", [
    (["--lr", "0.5"], "--lr", ["--optimizer", "adam"]),
    (["--orphan-labels", "whole"], "--orphan-labels", None),
])
def test_options_that_need_another_setting_are_refused_without_it(tmp_path, capsys, images, weights_path, argv,
                                                                  option, allowed):
    """--lr means nothing to L-BFGS and --orphan-labels nothing without masks: refused, not ignored."""
    refused(capsys, [images["content"], images["style"], tmp_path / "o.png", *fast(weights_path), *argv],
            f"{option} applies only to")
    assert not (tmp_path / "o.png").exists()
    if allowed:
        assert main([str(images["content"]), str(images["style"]), str(tmp_path / "o.png"), *fast(weights_path),
                     *argv, *allowed]) == 0


def test_empty_paths_are_refused_by_name(tmp_path, capsys, images, weights_path):
    """'' would be read as the current folder (INPUT) or reported as a clash with it (STYLE)."""
    paths = [str(images["content"]), str(images["style"]), str(tmp_path / "o.png")]
    for i, name in enumerate(("CONTENT", "STYLE", "OUTPUT")):
        argv = list(paths)
        argv[i] = ""
        refused(capsys, [*argv, *fast(weights_path)], f"{name} is an empty path")
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize("option", ["--report", "--weights", "--init", "--work-dir"])
def test_empty_path_options_are_refused_before_any_work(tmp_path, capsys, clip, images, weights_path, option):
    """--report '' ran the whole job, wrote OUTPUT and then failed to write the report to '.'; --weights ''
    fell back to the download."""
    out = tmp_path / "o.mp4"
    refused(capsys, [clip, images["style"], out, *video_fast(weights_path), "--max-frames", "2", option, ""],
            f"{option} is an empty path")
    assert not out.exists() and not (tmp_path / "o.mp4.work").exists()


def test_empty_live_paths_are_refused(tmp_path, capsys, clip, images, weights_path):
    """--record '' used to be ignored: a session the user meant to record, not recorded."""
    for option in ("--record", "--report"):  # --snapshot-dir: refused with --no-window already
        refused(capsys, ["live", images["style"], *fast(weights_path, "--iterations", "1"), "--no-window",
                         "--camera", clip, "--max-frames", "2", option, ""], f"{option} is an empty path")


def test_a_dangling_link_as_output_is_refused_up_front_and_replaced_with_overwrite(tmp_path, capsys, clip, images,
                                                                                  weights_path):
    """A link to nothing passed the 'already exists' check (Path.exists follows links), the whole job ran and
    the commit then found the link's name taken ("appeared while this run was working"), leaving the work
    folder behind; live mode's --record replaced it silently."""
    outs = tmp_path / "outs"
    outs.mkdir()
    (outs / "o.mp4").symlink_to("nothing.mp4")
    (outs / "r.json").symlink_to("nothing.json")
    (outs / "frames").symlink_to("no-folder")
    video = [clip, images["style"]]
    refused(capsys, [*video, outs / "o.mp4", *video_fast(weights_path)], "link to nothing.mp4, which does not")
    refused(capsys, [*video, outs / "x.mp4", *video_fast(weights_path), "--report", outs / "r.json"],
            "link to nothing.json")
    refused(capsys, [*video, outs / "frames", *video_fast(weights_path)], "link to no-folder, which does not")
    refused(capsys, ["live", images["style"], *fast(weights_path, "--iterations", "1"), "--no-window", "--camera",
                     clip, "--max-frames", "2", "--record", outs / "o.mp4"], "pass --overwrite to replace the link")
    assert sorted(p.name for p in outs.iterdir()) == ["frames", "o.mp4", "r.json"]  # no work folder, no output
    (outs / "link.png").symlink_to("nothing.png")
    assert main([str(images["content"]), str(images["style"]), str(outs / "link.png"), *fast(weights_path),
                 "--overwrite"]) == 0
    assert not (outs / "link.png").is_symlink() and (outs / "link.png").stat().st_size > 0
    assert not (outs / "nothing.png").exists()  # the link itself was replaced, not its target created


def test_non_utf8_video_names_work(tmp_path, capsys, clip, images, weights_path):
    """A video named with an undecodable byte crashed OpenCV (SIGSEGV, which would end this test process) as
    INPUT and as metrics' reference."""
    bad = Path(os.fsdecode(bytes(tmp_path) + b"/bad\xffname.mp4"))
    shutil.copy(clip, bad)
    out = Path(os.fsdecode(bytes(tmp_path) + b"/out\xff.mp4"))
    assert main([str(bad), str(images["style"]), str(out), *video_fast(weights_path)]) == 0
    assert probe_video(out).frame_count == 3
    assert main(["metrics", str(out), "--reference", str(bad), "--flow-quality", "fast"]) == 0
    assert "warping error" in capsys.readouterr().out


@pytest.mark.parametrize("name, value, needle", [
    ("OPENCV_IO_MAX_IMAGE_PIXELS", "abc", "OPENCV_IO_MAX_IMAGE_PIXELS"),
    ("OPENCV_IO_MAX_IMAGE_PIXELS", "-1", "OPENCV_IO_MAX_IMAGE_PIXELS"),
    ("VIDSTYLE_WEIGHTS", "/", "VIDSTYLE_WEIGHTS"),
])
def test_bad_environment_is_one_line(tmp_path, capsys, monkeypatch, images, name, value, needle):
    monkeypatch.setenv(name, value)
    refused(capsys, [images["content"], images["style"], tmp_path / "o.png", "--size", "32", "--quiet"], needle)


def test_torch_home_that_is_a_file_or_under_one(tmp_path, capsys, monkeypatch, images):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for home, needle in ((blocker, "TORCH_HOME"), (blocker / "sub", "cannot store the VGG-19 weights")):
        monkeypatch.setenv("TORCH_HOME", str(home))
        refused(capsys, [images["content"], images["style"], tmp_path / "o.png", "--size", "32", "--quiet"], needle)
    assert blocker.read_text() == "x"


@pytest.mark.slow
def test_closed_or_full_streams_keep_the_exit_code(tmp_path, capsys, monkeypatch, clip, images, weights_path):
    """No traceback, and the exit code says what happened to the run."""
    metrics = ["metrics", clip, "--reference", clip, "--flow-quality", "fast"]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    closed = subprocess.run([sys.executable, "-m", "vidstyle", *map(str, metrics)], stderr=subprocess.PIPE,
                            text=True, env=env, cwd=REPO, timeout=300, preexec_fn=lambda: os.close(1))
    assert closed.returncode == 2 and "cannot write the result to stdout" in closed.stderr, closed.stderr
    with open("/dev/full", "w") as full:
        with monkeypatch.context() as patch:
            patch.setattr(sys, "stdout", full)  # what `>/dev/full` gives the process
            code = main([str(a) for a in metrics])
        err = capsys.readouterr().err
        assert code == 2 and err.count("\n") == 1 and "cannot write the result to stdout: No space left" in err
        # a refusal whose one line cannot be written still exits 2 (the environment check runs before torch loads)
        bad = subprocess.run([sys.executable, "-m", "vidstyle", "nope.png", "x.png", "o.png"], stdout=subprocess.PIPE,
                             stderr=full, env={**env, "OPENCV_IO_MAX_IMAGE_PIXELS": "abc"}, cwd=tmp_path, timeout=300)
        assert bad.returncode == 2
    ok = subprocess.run(f"{sys.executable} -m vidstyle {images['content']} {images['style']} {tmp_path}/o.png "
                        f"{' '.join(fast(weights_path))[:-len(' --quiet')]} 2>&1 | head -c 5; "
                        "exit ${PIPESTATUS[0]}", shell=True, executable="/bin/bash", capture_output=True,
                        env=env, cwd=REPO, timeout=300)
    assert ok.returncode == 0 and (tmp_path / "o.png").is_file(), ok.stderr


def test_metrics_options_that_do_not_apply_are_refused(tmp_path, capsys, clip):
    refused(capsys, ["metrics", clip, "--reference", clip, "--fps", "5"], "--fps applies only to a frame-folder")
    refused(capsys, ["metrics", clip, "--reference", clip, "--weights", "w.pth"], "--weights applies only with --style")


def test_torch_home_that_cannot_be_written(tmp_path, capsys, monkeypatch, images):
    """Read-only or unwritable (root passes permission bits, so the check itself is what is tested)."""
    import vidstyle.io.checkpoint_files as weights

    home = tmp_path / "th"
    monkeypatch.setenv("TORCH_HOME", str(home))
    real = os.access
    monkeypatch.setattr(weights.os, "access", lambda path, mode: not str(path).startswith(str(home)) and real(path, mode))
    refused(capsys, [images["content"], images["style"], tmp_path / "o.png", "--size", "32", "--quiet"],
            "cannot store the VGG-19 weights")


def test_a_line_break_in_a_file_name_keeps_the_message_one_line(tmp_path, capsys, images, weights_path):
    odd = tmp_path / "two\nlines.png"
    refused(capsys, [odd, images["style"], tmp_path / "o.png", *fast(weights_path)], "two\\nlines.png")


def tree(folder: Path) -> dict[str, str]:
    """Every entry under ``folder``: a link as its target text, a folder as 'dir', a file by its SHA-256."""
    found = {}
    for p in sorted(folder.rglob("*")):
        key = str(p.relative_to(folder))
        found[key] = ("link:" + os.readlink(p) if p.is_symlink() else "dir" if p.is_dir() else digest(p))
    return found


def test_a_folder_named_like_a_stale_temporary_is_kept(tmp_path, capsys, clip, images, weights_path):
    """The clean-up of a dead run's temporaries removes only what vidstyle can prove it made: a user's folder
    (or file) beside OUTPUT named like one stays with everything in it; it was deleted with its contents."""
    pid = dead_pid()
    for name in (f".out.png.{pid}.abcdefgh.part", f".out.mp4.{pid}.abcdefgh.video.mp4"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "precious.txt").write_text("precious")
    (tmp_path / f".out.png.{pid}.abcdefgh.part.png").write_text("mine")
    before = tree(tmp_path)
    assert main([str(a) for a in [images["content"], images["style"], tmp_path / "out.png", *fast(weights_path)]]) == 0
    assert main([str(a) for a in [clip, images["style"], tmp_path / "out.mp4", *video_fast(weights_path)]]) == 0
    after = tree(tmp_path)
    assert {k: v for k, v in after.items() if k not in ("out.png", "out.mp4")} == before


def swap_for_link(folder: Path, target: Path) -> None:
    """What `rmdir o; ln -s inputs o` does while the run works (a folder that is not empty is moved away)."""
    if folder.is_symlink():
        return
    try:
        folder.rmdir()
    except OSError:
        folder.rename(folder.with_name(folder.name + ".moved"))
    os.symlink(target, folder)


@pytest.mark.parametrize("case", ["image", "image without --overwrite", "video", "frame folder", "report"])
def test_a_folder_swapped_for_a_link_to_the_inputs_is_refused_at_commit(tmp_path, capsys, monkeypatch, clip, images,
                                                                        weights_path, case):
    """Paths are checked before the run and again when the result is committed: a folder on an output's path
    swapped for a link to the inputs just before the commit must not let it replace an input (it did with
    --overwrite, exit 0), however the output is written. The swap happens in a wrapper of the pipeline's step
    that writes (deterministic: no sleeps)."""
    import vidstyle.still
    import vidstyle.video.pipeline as pipeline

    inputs, o = tmp_path / "inputs", tmp_path / "o"
    inputs.mkdir()
    o.mkdir()
    shutil.copy(images["content"], inputs / "photo.png")
    shutil.copy(clip, inputs / "clip.mp4")
    prev = tmp_path / "prev"  # a frame folder vidstyle wrote once, now an input
    prev.mkdir()
    for i in range(3):
        write_image(prev / f"frame_{i + 1:06d}.png", smooth_image(24, 32, seed=i))
    style = images["style"]
    overwrite = [] if case == "image without --overwrite" else ["--overwrite"]
    argv, module, step, link_to = {
        "image": ([inputs / "photo.png", style, o / "photo.png", *fast(weights_path, *overwrite)],
                  vidstyle.still, "write_image", inputs),
        "image without --overwrite": ([inputs / "photo.png", style, o / "photo.png", *fast(weights_path)],
                                      vidstyle.still, "write_image", inputs),
        "video": ([inputs / "clip.mp4", style, o / "clip.mp4", *video_fast(weights_path, "--work-dir",
                                                                            tmp_path / "wd", *overwrite)],
                  pipeline, "_write_output", inputs),
        "frame folder": ([prev, style, o, *video_fast(weights_path, "--work-dir", tmp_path / "wd", *overwrite)],
                         pipeline, "_write_output", prev),
        "report": ([prev, style, tmp_path / "out.mp4", *video_fast(weights_path, "--report", o / "run.json",
                                                                   *overwrite)],
                   pipeline, "staged_report", prev),
    }[case]
    real = getattr(module, step)

    def swapped_first(*args, **kwargs):
        swap_for_link(o, link_to)
        return real(*args, **kwargs)

    monkeypatch.setattr(module, step, swapped_first)
    before = {"inputs": tree(inputs), "prev": tree(prev), "style": digest(style)}
    refused(capsys, argv, "now leads to the input")
    assert {"inputs": tree(inputs), "prev": tree(prev), "style": digest(style)} == before
    assert o.is_symlink()


@pytest.fixture()
def in_empty_folder(tmp_path, monkeypatch) -> Path:
    """The current folder is tmp_path/o, empty."""
    (tmp_path / "o").mkdir()
    monkeypatch.chdir(tmp_path / "o")
    return tmp_path / "o"


def test_output_dot_with_a_work_dir_elsewhere_works(tmp_path, capsys, in_empty_folder, clip, images, weights_path):
    """`cd o && vidstyle clip.mp4 S . --work-dir ../wd`: every frame was computed, then '.' had "gained files"
    (the temporary folder the run staged its frames in, inside '.' itself), exit 2, on every rerun. Now the
    frames land in the current folder; nothing else is left anywhere."""
    o = in_empty_folder
    before = {"clip": digest(clip), "style": digest(images["style"])}
    argv = [clip, images["style"], ".", *video_fast(weights_path, "--max-frames", "2", "--work-dir", "../wd")]
    assert main([str(a) for a in argv]) == 0, capsys.readouterr().err
    assert sorted(os.listdir(o)) == ["frame_000001.png", "frame_000002.png"]
    assert sorted(os.listdir(tmp_path)) == sorted(["clip.mp4", "o", *(p.name for p in images.values())])
    assert {"clip": digest(clip), "style": digest(images["style"])} == before


@pytest.mark.slow
def test_output_dot_is_the_current_folder(tmp_path, capsys, monkeypatch, in_empty_folder, clip, images,
                                         weights_path):
    """OUTPUT '.' or './' for a video (a ValueError from the default work directory's name, exit 1) is the
    current folder as a frame folder; its temporaries and default work directory (o.work) go beside it, and
    are gone after. A current folder with other files in it is refused up front, naming it, before any frame
    is computed; --overwrite writes the frames and keeps the rest, as for any frame folder."""
    import vidstyle.video.pipeline as pipeline

    o = in_empty_folder
    inputs = {"clip": digest(clip), "style": digest(images["style"])}
    beside = sorted(["clip.mp4", "o", *(p.name for p in images.values())])
    frames = ["frame_000001.png", "frame_000002.png"]
    video = [clip, images["style"], *video_fast(weights_path, "--max-frames", "2")]
    assert main([str(a) for a in [*video[:2], "./", *video[2:]]]) == 0, capsys.readouterr().err
    assert main([str(a) for a in [*video[:2], ".", *video[2:], "--overwrite"]]) == 0, capsys.readouterr().err
    assert sorted(os.listdir(o)) == frames and sorted(os.listdir(tmp_path)) == beside
    (o / "notes.txt").write_text("mine")
    mine = tree(o)

    def no_work(*args, **kwargs):
        raise AssertionError("a frame was computed")

    with monkeypatch.context() as patch:
        patch.setattr(pipeline.LocalRunner, "run", no_work)
        for out in (".", "./"):
            refused(capsys, [*video[:2], out, *video[2:]], f". (the folder {o}) already exists and is not empty")
        refused(capsys, [images["content"], images["style"], ".", *fast(weights_path)], "OUTPUT must be an image")
    assert tree(o) == mine and sorted(os.listdir(tmp_path)) == beside
    assert main([str(a) for a in [*video[:2], ".", *video[2:], "--overwrite"]]) == 0, capsys.readouterr().err
    assert sorted(os.listdir(o)) == [*frames, "notes.txt"] and (o / "notes.txt").read_text() == "mine"
    assert {"clip": digest(clip), "style": digest(images["style"])} == inputs and sorted(os.listdir(tmp_path)) == beside
