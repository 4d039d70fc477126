"""Downloading dataset files: canonical URLs, checksums, progress bar, atomic rename.

A download streams into a hidden temporary file beside its destination, hashing as it
goes; only a complete file whose size and checksums match is renamed into place, so a
half-written or wrong file never sits where a loader would find it. Every failure
(network, HTTP status, truncation, checksum) is a one-line :class:`DatasetError`.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from nn.errors import DatasetError

USER_AGENT = "neuroevo/0.1 (dataset download)"
CHUNK = 1 << 16


@dataclass(frozen=True)
class RemoteFile:
    """One downloadable file and what it must look like when it arrives."""

    url: str
    sha256: str | None = None  # hex digest of the file as served; None where none is canonical
    size: int | None = None  # bytes, where known
    md5: str | None = None  # where only an MD5 is published (checked in addition to sha256)

    @property
    def filename(self) -> str:
        return urllib.parse.unquote(PurePosixPath(urllib.parse.urlparse(self.url).path).name)


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def verify_file(path: Path, remote: RemoteFile) -> None:
    """Check a file already on disk against the size and checksums of ``remote``."""
    size = path.stat().st_size
    if remote.size is not None and size != remote.size:
        raise DatasetError(f"{path}: {size} bytes, expected {remote.size} "
                           f"(truncated or not the file from {remote.url})")
    for algo, want in (("sha256", remote.sha256), ("md5", remote.md5)):
        if want:
            got = file_digest(path, algo)
            if got != want.lower():
                raise DatasetError(f"{path}: {algo} checksum mismatch (got {got}, expected "
                                   f"{want}); delete it and download again from {remote.url}")


def fetch(remote: RemoteFile, dest: Path, *, progress: bool | None = None,
          timeout: float = 60.0) -> Path:
    """Download ``remote`` to the file ``dest`` (folders created), verified, atomically.

    ``progress``: True/False shows/hides the tqdm bar; None shows it on a terminal only.
    Returns ``dest``. An existing ``dest`` is replaced only by a verified download.
    """
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise DatasetError(f"cannot create download folder {dest.parent}: {e.strerror}") from None
    hint = f"download it by hand from {remote.url} to {dest}"
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        sha, md5 = hashlib.sha256(), hashlib.md5()
        received = 0
        request = urllib.request.Request(remote.url, headers={"User-Agent": USER_AGENT})
        try:
            response = urllib.request.urlopen(request, timeout=timeout)
        except urllib.error.HTTPError as e:
            raise DatasetError(f"download of {remote.url} failed: HTTP {e.code} {e.reason}; "
                               f"{hint}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as e:
            reason = getattr(e, "reason", e)
            raise DatasetError(f"download of {remote.url} failed ({reason}); {hint}") from None
        with response, os.fdopen(fd, "wb") as out:
            fd = -1
            header = response.headers.get("Content-Length")
            expected = int(header) if header and header.isdigit() else remote.size
            bar = _progress_bar(expected, remote.filename, progress)
            try:
                while True:
                    block = response.read(CHUNK)
                    if not block:
                        break
                    out.write(block)
                    sha.update(block)
                    md5.update(block)
                    received += len(block)
                    bar.update(len(block))
            except (OSError, http.client.HTTPException) as e:
                raise DatasetError(f"download of {remote.url} broke off after {received} bytes "
                                   f"({type(e).__name__}); {hint}") from None
            finally:
                bar.close()
            out.flush()
            os.fsync(out.fileno())
        if expected is not None and received != expected:
            raise DatasetError(f"download of {remote.url} is truncated: {received} of {expected} "
                               f"bytes; try again or {hint}")
        if remote.size is not None and received != remote.size:
            raise DatasetError(f"download of {remote.url} has {received} bytes, expected "
                               f"{remote.size}; {hint}")
        for algo, h, want in (("sha256", sha, remote.sha256), ("md5", md5, remote.md5)):
            if want and h.hexdigest() != want.lower():
                raise DatasetError(f"download of {remote.url} failed its {algo} check (got "
                                   f"{h.hexdigest()}, expected {want}); {hint}")
        os.replace(tmp, dest)
        return dest
    finally:
        if fd >= 0:
            os.close(fd)
        tmp.unlink(missing_ok=True)


def _progress_bar(total: int | None, desc: str, progress: bool | None):
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm is a dependency
        return _NoBar()
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
                disable=None if progress is None else not progress, leave=False)


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def safe_extract_tar(archive: Path, dest_dir: Path, prefix: str | None = None) -> list[Path]:
    """Extract the regular files (and folders) of a tar archive into ``dest_dir``.

    Refuses absolute names, ``..`` components, links and device files. With ``prefix``, only
    members under that top-level folder are extracted. Files go into a temporary folder
    first and are moved into place once the whole archive has been read.
    """
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    try:
        tar = tarfile.open(archive, "r:*")
    except (tarfile.TarError, OSError, EOFError) as e:
        raise DatasetError(f"{archive}: not a readable tar archive ({e})") from None
    staging = Path(tempfile.mkdtemp(prefix=".extract.", dir=dest_dir))
    try:
        with tar:
            members = []
            try:
                all_members = tar.getmembers()
            except (tarfile.TarError, OSError, EOFError) as e:
                raise DatasetError(f"{archive}: corrupt or truncated archive ({e})") from None
            for m in all_members:
                name = PurePosixPath(m.name)
                if m.name.startswith(("/", "\\")) or name.is_absolute() or ".." in name.parts \
                        or (len(m.name) > 1 and m.name[1] == ":"):
                    raise DatasetError(f"{archive}: unsafe member path {m.name!r}; refusing it")
                if not (m.isfile() or m.isdir()):
                    raise DatasetError(f"{archive}: member {m.name!r} is a link or special "
                                       f"file; refusing it")
                if prefix is not None and (not name.parts or name.parts[0] != prefix):
                    continue
                members.append(m)
            try:
                if hasattr(tarfile, "data_filter"):
                    tar.extractall(staging, members=members, filter="data")
                else:  # pragma: no cover - Python < 3.11.4; members already vetted above
                    tar.extractall(staging, members=members)
            except (tarfile.TarError, OSError, EOFError) as e:
                raise DatasetError(f"{archive}: corrupt or truncated archive ({e})") from None
        moved = []
        for top in sorted(staging.iterdir()):
            target = dest_dir / top.name
            if target.exists():
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            os.replace(top, target)
            moved.append(target)
        return moved
    finally:
        shutil.rmtree(staging, ignore_errors=True)
