"""Image I/O: round trip, atomic writes, resizing, bad files."""
import numpy as np
import pytest
from tests.helpers import smooth_image

from vidstyle.errors import VidstyleError
from vidstyle.io.atomic import check_output_path
from vidstyle.io.images import fitted_size, read_image, resize_long_side, write_image


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


@pytest.mark.parametrize("shape, size, plain, even", [
    ((544, 1280), 256, (109, 256), (108, 256)),  # bikes.mp4 at 256 px: 108.8 rows
    ((544, 1280), 160, (68, 160), (68, 160)),
    ((1280, 544), 255, (255, 108), (254, 108)),  # an odd long side rounds down to even
    ((480, 640), 100, (75, 100), (76, 100)),  # 75 rows: the nearest even number is 76
    ((5, 1000), 64, (1, 64), (2, 64)),  # never below 2
])
def test_fitted_size_even_sides_for_video(shape, size, plain, even):
    assert fitted_size(*shape, size) == plain
    assert fitted_size(*shape, size, even=True) == even
    img = smooth_image(*shape)
    assert resize_long_side(img, size, even=True).shape[:2] == even
    assert resize_long_side(img, size).shape[:2] == plain


def test_even_resize_keeps_an_even_image_and_fixes_an_odd_one():
    img = smooth_image(32, 64)
    assert resize_long_side(img, 64, even=True) is img
    odd = smooth_image(33, 64)
    assert resize_long_side(odd, 64, even=True).shape[:2] == (32, 64)


def test_bad_files(tmp_path):
    with pytest.raises(VidstyleError, match="not found"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "shots.png").mkdir()
    with pytest.raises(VidstyleError, match=r"shots\.png is a folder, not an image"):  # it exists: not "not found"
        read_image(tmp_path / "shots.png")
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


@pytest.mark.parametrize("ext", [".jpg", ".png"])
def test_a_file_cut_short_is_refused_not_half_grey(tmp_path, capfd, ext):
    """OpenCV decodes half a JPEG as a picture with a grey lower half, and libpng prints its own lines."""
    image = smooth_image(64, 80, seed=4)
    whole = tmp_path / f"whole{ext}"
    write_image(whole, image)
    assert read_image(whole).shape == image.shape
    cut = tmp_path / f"cut{ext}"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    capfd.readouterr()
    with pytest.raises(VidstyleError, match="cut short"):
        read_image(cut)
    assert capfd.readouterr().err == ""  # no decoder chatter on the terminal
