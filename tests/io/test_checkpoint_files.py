"""VGG-19 checkpoint files on disk: which file a run reads (--weights, $VIDSTYLE_WEIGHTS, the cache), reading
one, the offline message, and the content digest a video work directory is fingerprinted with."""
import os
import shutil

import pytest
import torch

from vidstyle.errors import VidstyleError
from vidstyle.io import checkpoint_files
from vidstyle.io.checkpoint_files import (default_cache_path, read_checkpoint, resolve_weights_path,
                                          weights_digest)
from vidstyle.model.vgg import VGGFeatures


def test_corrupt_and_missing_files(tmp_path):
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(VidstyleError, match="cannot read"):
        read_checkpoint(tmp_path / "junk.pth")
    with pytest.raises(VidstyleError, match="not found"):
        resolve_weights_path(str(tmp_path / "absent.pth"))
    with pytest.raises(VidstyleError, match="is a folder"):
        resolve_weights_path(str(tmp_path))


def test_resolution_order(monkeypatch, tmp_path, weights_path):
    monkeypatch.setenv("VIDSTYLE_WEIGHTS", str(weights_path))
    assert resolve_weights_path(None) == weights_path
    other = tmp_path / "other.pth"
    other.write_bytes(b"x")
    assert resolve_weights_path(str(other)) == other  # --weights wins over the environment


def test_offline_without_weights_says_how_to_supply(monkeypatch):
    monkeypatch.setenv("VIDSTYLE_WEIGHTS_URL", "http://127.0.0.1:9/vgg19-dcbb9e9d.pth")
    with pytest.raises(VidstyleError, match="--weights PATH"):
        resolve_weights_path(None, quiet=True)


def test_digest_follows_content_and_is_cached_by_size_and_mtime(tmp_path, weights_path):
    a = tmp_path / "a.pth"
    shutil.copy(weights_path, a)
    first = weights_digest(a)
    b = tmp_path / "elsewhere.pth"
    shutil.copy(weights_path, b)
    assert weights_digest(b) == first  # same bytes, another path: same digest
    torch.save({k: torch.randn_like(v) for k, v in VGGFeatures(["relu1_1"]).state_dict().items()}, a)  # other weights
    assert weights_digest(a) != first
    cache = os.path.join(torch.hub.get_dir(), "vidstyle-weights-digests.json")
    assert os.path.isfile(cache) and str(b.resolve()) in open(cache).read()


def test_a_mirror_serving_another_file_is_refused_and_leaves_nothing(monkeypatch, tmp_path, weights_path):
    """$VIDSTYLE_WEIGHTS_URL must serve torchvision's file: it is cached under that name, so a wrong or
    truncated file would break every later run; nothing of the download stays behind."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(weights_path.read_bytes()[:4096])
    monkeypatch.setenv("VIDSTYLE_WEIGHTS_URL", truncated.as_uri())
    with pytest.raises(VidstyleError, match="failed the hash check"):
        resolve_weights_path(None, quiet=True)
    cache = default_cache_path().parent
    assert list(cache.iterdir()) == []  # neither the file nor a temporary


def test_an_interrupted_download_leaves_no_temporary(monkeypatch, tmp_path, weights_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))

    class Interrupted:  # a response that is stopped (Ctrl-C, or SIGTERM turned into KeyboardInterrupt) mid-way
        headers: dict[str, str] = {}

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, n):
            raise KeyboardInterrupt

    monkeypatch.setattr(checkpoint_files.urllib.request, "urlopen", lambda url, timeout: Interrupted())
    with pytest.raises(KeyboardInterrupt):
        resolve_weights_path(None, quiet=True)
    assert list(default_cache_path().parent.iterdir()) == []


def test_a_corrupt_cached_checkpoint_says_to_delete_it(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "home"))
    cached = default_cache_path()
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"half a download")
    with pytest.raises(VidstyleError, match="delete it to download it again"):
        read_checkpoint(cached)
