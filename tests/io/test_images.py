"""Image I/O: round trip, atomic writes, resizing, bad files."""
import numpy as np
import pytest
from tests.helpers import smooth_image

from vidstyle.errors import VidstyleError
from vidstyle.io.atomic import check_output_path
from vidstyle.io.images import read_image, resize_long_side, write_image


@pytest.mark.parametrize("ext", [".png", ".bmp"])
def test_lossless_round_trip(tmp_path, ext):
    img = smooth_image(20, 30)
    path = tmp_path / f"x{ext}"
    write_image(path, img)
    assert np.array_equal(read_image(path), img)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left behind


def test_jpeg_and_webp_readable(tmp_path):
    img = np.repeat(np.linspace(0, 255, 30, dtype=np.uint8)[None, :, None], 20, 0).repeat(3, 2)
    for ext in (".jpg", ".webp"):
        write_image(tmp_path / f"y{ext}", img)
        assert np.abs(read_image(tmp_path / f"y{ext}").astype(int) - img).mean() < 12


def test_resize_long_side():
    img = smooth_image(50, 100)
    assert resize_long_side(img, 64).shape == (32, 64, 3)
    assert resize_long_side(img, None) is img


def test_bad_files(tmp_path):
    with pytest.raises(VidstyleError, match="not found"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8garbage")
    with pytest.raises(VidstyleError, match="cannot decode"):
        read_image(tmp_path / "bad.jpg")
    with pytest.raises(VidstyleError, match="unsupported"):
        write_image(tmp_path / "x.gif", smooth_image(4, 4))


def test_existing_output_needs_overwrite(tmp_path):
    (tmp_path / "o.png").write_bytes(b"keep")
    with pytest.raises(VidstyleError, match="--overwrite"):
        check_output_path(tmp_path / "o.png", overwrite=False)
    assert check_output_path(tmp_path / "o.png", overwrite=True).name == "o.png"
    with pytest.raises(VidstyleError, match="does not exist"):
        check_output_path(tmp_path / "nodir" / "o.png", overwrite=False)
