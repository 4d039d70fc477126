"""Download, checksum, atomic rename and safe extraction, against a local HTTP server."""

from __future__ import annotations

import hashlib
import io
import socket
import tarfile
from pathlib import Path

import pytest

from nn.data import locate
from nn.data.download import RemoteFile, fetch, safe_extract_tar, verify_file
from nn.errors import DatasetError

BODY = bytes(range(256)) * 300  # 76,800 bytes: several read chunks


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def test_fetch_success_verifies_and_renames(http_server, tmp_path):
    url = http_server("/files/data.bin", BODY)
    remote = RemoteFile(url, sha256=_sha(BODY), size=len(BODY),
                        md5=hashlib.md5(BODY).hexdigest())
    dest = tmp_path / "dl" / "data.bin"
    assert fetch(remote, dest, progress=False) == dest
    assert dest.read_bytes() == BODY
    assert _leftovers(dest.parent) == []
    verify_file(dest, remote)  # and the on-disk check agrees


def test_fetch_with_progress_bar(http_server, tmp_path, capsys):
    url = http_server("/p.bin", BODY)
    fetch(RemoteFile(url, sha256=_sha(BODY)), tmp_path / "p.bin", progress=True)
    assert (tmp_path / "p.bin").read_bytes() == BODY
    assert "p.bin" in capsys.readouterr().err  # tqdm writes its bar to stderr


def test_filename_is_unquoted():
    assert RemoteFile("https://x/full/numpy_bitmap/house%20plant.npy").filename == \
        "house plant.npy"


def test_checksum_mismatch_leaves_nothing(http_server, tmp_path):
    url = http_server("/bad.bin", BODY)
    dest = tmp_path / "bad.bin"
    with pytest.raises(DatasetError, match="sha256 check") as e:
        fetch(RemoteFile(url, sha256="0" * 64), dest, progress=False)
    assert "\n" not in str(e.value) and url in str(e.value)
    assert not dest.exists() and _leftovers(tmp_path) == []


def test_md5_mismatch(http_server, tmp_path):
    url = http_server("/m.bin", BODY)
    with pytest.raises(DatasetError, match="md5"):
        fetch(RemoteFile(url, md5="0" * 32), tmp_path / "m.bin", progress=False)


def test_wrong_size_is_refused(http_server, tmp_path):
    url = http_server("/s.bin", BODY)
    with pytest.raises(DatasetError, match="expected"):
        fetch(RemoteFile(url, size=len(BODY) + 1), tmp_path / "s.bin", progress=False)


def test_truncated_transfer(http_server, tmp_path):
    url = http_server("/trunc.bin", BODY, kind="truncate")
    dest = tmp_path / "trunc.bin"
    with pytest.raises(DatasetError, match="truncated|broke off"):
        fetch(RemoteFile(url), dest, progress=False)
    assert not dest.exists() and _leftovers(tmp_path) == []


def test_server_error(http_server, tmp_path):
    url = http_server("/boom.bin", kind="error")
    with pytest.raises(DatasetError, match="HTTP 500") as e:
        fetch(RemoteFile(url), tmp_path / "boom.bin", progress=False)
    assert "download it by hand" in str(e.value)
    assert _leftovers(tmp_path) == []


def test_not_found(http_server, tmp_path):
    with pytest.raises(DatasetError, match="HTTP 404"):
        fetch(RemoteFile(http_server.base + "/missing.bin"), tmp_path / "x", progress=False)


def test_connection_refused(tmp_path):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(DatasetError, match="failed"):
        fetch(RemoteFile(f"http://127.0.0.1:{port}/x.bin"), tmp_path / "x.bin", progress=False,
              timeout=5)


def test_failed_download_keeps_existing_file(http_server, tmp_path):
    dest = tmp_path / "keep.bin"
    dest.write_bytes(b"old")
    url = http_server("/keep.bin", BODY)
    with pytest.raises(DatasetError):
        fetch(RemoteFile(url, sha256="1" * 64), dest, progress=False)
    assert dest.read_bytes() == b"old"


def test_verify_file_on_disk(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"abc")
    verify_file(p, RemoteFile("http://x/f", sha256=_sha(b"abc"), size=3))
    with pytest.raises(DatasetError, match="checksum mismatch"):
        verify_file(p, RemoteFile("http://x/f", sha256=_sha(b"abd")))
    with pytest.raises(DatasetError, match="3 bytes, expected 4"):
        verify_file(p, RemoteFile("http://x/f", size=4))


# ------------------------------------------------------------------ tar extraction

def _tar(members: list[tuple[str, bytes | None, str]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data, kind in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            elif kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = data.decode()
                tar.addfile(info)
    return buf.getvalue()


def test_safe_extract(tmp_path):
    arch = tmp_path / "a.tar.gz"
    arch.write_bytes(_tar([("top", None, "dir"), ("top/a.txt", b"A", "file"),
                           ("other/b.txt", b"B", "file")]))
    out = tmp_path / "out"
    moved = safe_extract_tar(arch, out, prefix="top")
    assert moved == [out / "top"]
    assert (out / "top" / "a.txt").read_bytes() == b"A"
    assert not (out / "other").exists()
    assert [p.name for p in out.iterdir()] == ["top"]  # no staging folder left


@pytest.mark.parametrize("name,data,kind", [
    ("/etc/evil.txt", b"x", "file"),
    ("top/../../evil.txt", b"x", "file"),
    ("top/link", b"/etc/passwd", "symlink"),
])
def test_unsafe_tar_members_are_refused(tmp_path, name, data, kind):
    arch = tmp_path / "bad.tar.gz"
    arch.write_bytes(_tar([("top/ok.txt", b"ok", "file"), (name, data, kind)]))
    out = tmp_path / "out"
    with pytest.raises(DatasetError, match="refusing"):
        safe_extract_tar(arch, out)
    assert not (out / "top").exists()
    assert not (tmp_path / "evil.txt").exists()


def test_corrupt_tar(tmp_path):
    arch = tmp_path / "c.tar.gz"
    arch.write_bytes(_tar([("top/a.txt", b"A" * 5000, "file")])[:40])
    with pytest.raises(DatasetError, match="c.tar.gz"):
        safe_extract_tar(arch, tmp_path / "out")


# ------------------------------------------------------------------ locate

def test_cache_dir_honours_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "c"))
    assert locate.cache_dir() == tmp_path / "c" / "neuroevo"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as the spec says
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert locate.cache_dir() == tmp_path / "home" / ".cache" / "neuroevo"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert locate.cache_dir() == tmp_path / "home" / ".cache" / "neuroevo"


def test_search_order(monkeypatch, tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for d in (a, b, c):
        d.mkdir()
    monkeypatch.setenv("NEUROEVO_DATA", f"{b}:{c}")
    roots = locate.search_roots(a, extra=["/usr/share/x"])
    assert roots == [a, b, c, locate.cache_dir(), Path("/usr/share/x")]
    assert locate.search_roots(None)[0] == b
    assert locate.search_roots(b)[:2] == [b, c]  # no duplicates


def test_missing_data_dir_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        locate.search_roots(tmp_path / "nope")


def test_downloads_allowed(monkeypatch):
    monkeypatch.setenv("NEUROEVO_OFFLINE", "1")
    assert not locate.downloads_allowed()
    assert locate.downloads_allowed(True)
    monkeypatch.setenv("NEUROEVO_OFFLINE", "0")
    assert locate.downloads_allowed()
    assert not locate.downloads_allowed(False)
