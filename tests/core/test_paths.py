import pytest

from scorehost.core.errors import PathNotAllowed
from scorehost.core.paths import PathPolicy


def test_reading_and_writing_stay_inside_the_folders(tmp_path):
    inside = tmp_path / "in"
    inside.mkdir()
    (inside / "a.mid").write_bytes(b"MThd")
    (tmp_path / "secret.mid").write_bytes(b"MThd")
    (inside / "escape.mid").symlink_to(tmp_path / "secret.mid")
    policy = PathPolicy([inside])
    assert policy.readable("a.mid") == inside / "a.mid"
    assert policy.readable(str(inside / "a.mid")) == inside / "a.mid"
    for bad in ("../secret.mid", str(tmp_path / "secret.mid"), "escape.mid", "/etc/passwd"):
        with pytest.raises(PathNotAllowed, match="outside the folders"):
            policy.readable(bad)
    with pytest.raises(PathNotAllowed, match="never writes over"):
        policy.writable("a.mid")
    assert policy.writable("new.mid") == inside / "new.mid"
    with pytest.raises(PathNotAllowed, match="no such folder"):
        policy.writable("sub/new.mid")


def test_no_folders_no_files(tmp_path):
    with pytest.raises(PathNotAllowed, match="reads and writes no files"):
        PathPolicy([]).readable(str(tmp_path))
