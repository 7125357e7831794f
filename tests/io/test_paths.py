"""The path registry: every file-writing option pointed at every file-reading option's path, directly, through
a symlink and through a hard link, is refused before any work; device nodes, FIFOs, work directories and
names over the file system's limit likewise; non-UTF-8 names reach OpenCV safely."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from tests.helpers import smooth_image
from tests.helpers.clips import make_clip
from vidstyle.config import Config
from vidstyle.errors import VidstyleError
from vidstyle.io.images import write_image
from vidstyle.io.path_registry import WORK_MARKER, Target, check_run_paths, name_max, opencv_name
from vidstyle.live.config import LiveConfig
from vidstyle.live.session import _check_outputs
from vidstyle.compose import resolve_files
from vidstyle.video.paths import check_video_paths
from vidstyle.video.pipeline import input_kind, output_kind

READS = ("INPUT", "frame", "STYLE", "--init", "--content-mask", "--style-mask", "--weights")
LINKS = ("direct", "symlink", "hardlink")


@pytest.fixture()
def project(tmp_path: Path) -> dict[str, Path]:
    """A frame-folder run's inputs: the folder and one of its frames, style, init, masks, weights."""
    files = {"INPUT": tmp_path / "in", "frame": tmp_path / "in" / "f0.png", "STYLE": tmp_path / "style.png",
             "--init": tmp_path / "init.png", "--content-mask": tmp_path / "cmask.png",
             "--style-mask": tmp_path / "smask.png", "--weights": tmp_path / "vgg19-caffe.pth"}
    files["INPUT"].mkdir()
    for i in range(2):
        write_image(files["INPUT"] / f"f{i}.png", smooth_image(8, 8, seed=i))
    for name in ("STYLE", "--init", "--content-mask", "--style-mask"):
        write_image(files[name], smooth_image(8, 8, seed=3))
    files["--weights"].write_bytes(b"not really weights, never loaded here")
    return files


def fingerprint(root: Path) -> dict[str, str]:
    """Every file under ``root`` (links not followed) with a hash of its bytes: nothing may change."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_symlink():
            out[str(p)] = "link:" + os.readlink(p)
        elif p.is_file():
            out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()
        else:
            out[str(p)] = "dir"
    return out


def pointer(tmp_path: Path, target: Path, how: str, name: str) -> Path | None:
    """``target`` itself, a symlink to it, or a hard link to it (None where no hard link can exist: folders)."""
    links = tmp_path / "links"
    links.mkdir(exist_ok=True)
    if how == "direct":
        return target
    path = links / f"{how}-{name.strip('-')}{target.suffix}"
    if how == "symlink":
        path.symlink_to(target)
    elif target.is_dir():
        return None
    else:
        os.link(target, path)
    return path


def config_for(files: dict[str, Path], **kw: object) -> Config:
    return Config(preset="fast", size=16, init=str(files["--init"]), content_mask=str(files["--content-mask"]),
                  style_mask=str(files["--style-mask"]), weights=str(files["--weights"]), quiet=True,
                  overwrite=True, **kw)  # type: ignore[arg-type]


def kind(output: Path) -> str:
    """OUTPUT's kind (an input's extension may name none: the registry's refusal does not depend on it)."""
    try:
        return output_kind(output)
    except VidstyleError:
        return "video"


@pytest.mark.parametrize("how", LINKS)
@pytest.mark.parametrize("writer", ("OUTPUT", "--report", "--work-dir"))
def test_every_output_option_at_every_input_is_refused(tmp_path, project, writer, how):
    before = fingerprint(tmp_path)
    for read in READS:
        path = pointer(tmp_path, project[read], how, f"{writer}-{read}")
        if path is None:
            continue
        before = fingerprint(tmp_path)  # the links made for this case are part of the tree
        output = tmp_path / "out.mp4"
        kw: dict[str, object] = {}
        if writer == "OUTPUT":
            output = path
        elif writer == "--report":
            kw["report"] = str(path)
        else:
            kw["work_dir"] = str(path)
        config = config_for(project, **kw)
        with pytest.raises(VidstyleError, match="must differ from the input|lies inside") as info:
            check_video_paths(project["INPUT"], [project["STYLE"]], output, kind(output), resolve_files(config),
                              input_kind(project["INPUT"]))
        assert "\n" not in str(info.value)
        assert fingerprint(tmp_path) == before, (writer, read, how)


@pytest.mark.parametrize("how", LINKS)
@pytest.mark.parametrize("writer", ("--record", "--report"))
def test_live_outputs_at_every_live_input_are_refused(tmp_path, project, writer, how):
    camera = make_clip(tmp_path / "cam.mp4", frames=3)
    for read, target in (("STYLE", project["STYLE"]), ("--camera", camera), ("--weights", project["--weights"])):
        path = pointer(tmp_path, target, how, f"{writer}-{read}")
        before = fingerprint(tmp_path)
        engine = Config(preset="fast", optimizer="adam", size=32, iterations=1, weights=str(project["--weights"]),
                        overwrite=True, quiet=True)
        config = LiveConfig(engine=engine, camera=str(camera), window=False,
                            **{writer.strip("-"): str(path)})  # type: ignore[arg-type]
        with pytest.raises(VidstyleError, match="must differ from the input"):
            _check_outputs(config, [project["STYLE"]])
        assert fingerprint(tmp_path) == before, (writer, read, how)


def test_overlap_is_refused_both_ways(tmp_path):
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "clip.mp4").write_bytes(b"x")
    with pytest.raises(VidstyleError, match="lies inside OUTPUT"):  # an input inside an output folder
        check_run_paths([("INPUT", proj / "clip.mp4")], [Target("OUTPUT", proj, folder=None)])
    with pytest.raises(VidstyleError, match="must differ from the input"):  # an output inside an input folder
        check_run_paths([("INPUT", proj)], [Target("OUTPUT", proj / "out", folder=None)])
    check_run_paths([("INPUT", proj / "clip.mp4")], [Target("OUTPUT", tmp_path / "out", folder=None)])


def test_input_frames_linked_into_the_output_folder_are_refused(tmp_path):
    """restyle/r1.png -> ../prev/frame_000001.png, then `vidstyle restyle style prev --overwrite`."""
    prev, restyle = tmp_path / "prev", tmp_path / "restyle"
    prev.mkdir()
    restyle.mkdir()
    write_image(prev / "frame_000001.png", smooth_image(8, 8))
    (restyle / "r1.png").symlink_to(Path("..") / "prev" / "frame_000001.png")
    with pytest.raises(VidstyleError, match="lies inside OUTPUT"):
        check_run_paths([("INPUT", restyle)], [Target("OUTPUT", prev, folder=True)])


def test_device_fifo_and_socket_targets_are_refused_with_overwrite(tmp_path):
    import socket
    import stat as st

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    sock = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(sock))
    targets = {"FIFO": fifo, "socket": sock, "device node": Path("/dev/null")}
    if os.geteuid() == 0:  # a copy of /dev/null, as in the report
        node = tmp_path / "null"
        os.mknod(node, st.S_IFCHR | 0o666, os.makedev(1, 3))
        targets["device node"] = node
    try:
        for what, path in targets.items():
            with pytest.raises(VidstyleError, match=f"is a {what}"):
                check_run_paths([], [Target("--report", path)])
            link = tmp_path / f"to-{path.name}.json"
            link.symlink_to(path)
            with pytest.raises(VidstyleError, match=f"is a {what}"):
                check_run_paths([], [Target("--report", link)])
    finally:
        server.close()
    assert st.S_ISFIFO(fifo.lstat().st_mode) and st.S_ISSOCK(sock.lstat().st_mode)


def test_outputs_in_a_work_directory_are_refused(tmp_path):
    work = tmp_path / "x.work"
    work.mkdir()
    (work / WORK_MARKER).write_text("{}")
    for target in (Target("OUTPUT", work, folder=None), Target("OUTPUT", work / "o.mp4"),
                   Target("--report", work / "r.json"), Target("--work-dir", work / "sub", folder=True)):
        with pytest.raises(VidstyleError, match="work directory"):
            check_run_paths([], [target])
    check_run_paths([], [Target("--work-dir", work, folder=True)])  # resuming in it is what it is for


def test_names_over_the_limit_are_refused_up_front(tmp_path):
    limit = name_max(tmp_path)
    fits = "o" * (limit - 40) + ".mp4"
    check_run_paths([], [Target("OUTPUT", tmp_path / fits)])
    for length in (limit - 15, limit + 10):  # the name fits but its temporary names do not; the name does not
        with pytest.raises(VidstyleError, match="bytes; vidstyle needs at most|file name too long"):
            check_run_paths([], [Target("OUTPUT", tmp_path / ("o" * length + ".mp4"))])
    with pytest.raises(VidstyleError, match="file name too long"):
        check_run_paths([("STYLE", tmp_path / ("s" * (limit + 1) + ".png"))], [])


def test_outputs_inside_each_other_or_under_a_file_are_refused(tmp_path):
    (tmp_path / "out.mp4").write_bytes(b"x")
    with pytest.raises(VidstyleError, match="must not lie inside OUTPUT"):
        check_run_paths([], [Target("OUTPUT", tmp_path / "o2.mp4"), Target("--work-dir", tmp_path / "o2.mp4" / "w")])
    with pytest.raises(VidstyleError, match="which is not a directory"):
        check_run_paths([], [Target("--work-dir", tmp_path / "out.mp4" / "w", folder=True)])


def test_an_input_named_like_a_stale_temporary_is_refused(tmp_path):
    victim = tmp_path / ".o.mp4.1.abcdefgh.part.mp4"
    victim.write_bytes(b"x")
    with pytest.raises(VidstyleError, match="named like a temporary file"):
        check_run_paths([("INPUT", victim)], [Target("OUTPUT", tmp_path / "o.mp4")])


def test_non_utf8_names_get_a_safe_link_that_is_removed(tmp_path):
    bad = Path(os.fsdecode(bytes(tmp_path) + b"/bad\xffname.mp4"))
    bad.write_bytes(b"data")
    with opencv_name(bad) as name:
        name.encode("utf-8")  # what OpenCV needs
        assert Path(name).read_bytes() == b"data" and name.endswith(".mp4")
        folder = Path(name).parent
    assert not folder.exists()
    with opencv_name(tmp_path / "fine.mp4") as name:
        assert name == str(tmp_path / "fine.mp4")


def test_a_colon_in_a_video_name_is_not_read_as_a_protocol(tmp_path, monkeypatch):
    from vidstyle.io.video_files import probe_video

    make_clip(tmp_path / "take:2.mp4", frames=3, audio=True)
    monkeypatch.chdir(tmp_path)
    info = probe_video(Path("take:2.mp4"))  # FFmpeg alone: "Protocol not found"
    assert info.frame_count == 3 and info.has_audio


def test_a_camera_file_with_a_non_utf8_name_opens(tmp_path):
    from vidstyle.io.camera import open_camera

    bad = Path(os.fsdecode(bytes(tmp_path) + b"/cam\xff.mp4"))
    make_clip(bad, frames=3)
    camera = open_camera(str(bad), size=32)  # OpenCV alone: SIGSEGV
    try:
        assert camera.is_file and camera.latest() is not None
    finally:
        camera.stop()
