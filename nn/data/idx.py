"""Reader for the IDX format of MNIST and Fashion-MNIST, gzip-compressed or raw.

An IDX file is: two zero bytes, a type code, the number of dimensions ``n``, then ``n``
big-endian uint32 sizes, then the data in C order. Every structural problem (bad magic,
unknown type, size that does not match the header, truncated gzip) is a one-line
:class:`DatasetError` naming the file.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from nn.errors import DatasetError

# type code -> numpy dtype (IDX data are big-endian)
IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: Path) -> tuple[bytes, bytes]:
    """``(file bytes, payload bytes)``: the payload is the gunzipped content for gzip files."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DatasetError(f"cannot read {path}: {e.strerror}") from None
    if raw[:2] != GZIP_MAGIC:
        return raw, raw
    try:
        return raw, gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise DatasetError(f"{path}: corrupt or truncated gzip file ({e})") from None


def parse_idx(data: bytes, source: str = "<bytes>") -> np.ndarray:
    """Decode IDX bytes into an array (a read-only view for uint8, no copy)."""
    if len(data) < 4:
        raise DatasetError(f"{source}: too short for an IDX file ({len(data)} bytes)")
    if data[0] != 0 or data[1] != 0:
        raise DatasetError(f"{source}: bad IDX magic {data[:4].hex()} (not an IDX file)")
    code, ndim = data[2], data[3]
    if code not in IDX_TYPES:
        raise DatasetError(f"{source}: unknown IDX type code 0x{code:02x}")
    if ndim == 0:
        raise DatasetError(f"{source}: IDX header declares 0 dimensions")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DatasetError(f"{source}: truncated IDX header")
    dims = struct.unpack(f">{ndim}I", data[4:header])
    dtype = IDX_TYPES[code]
    count = int(np.prod(dims, dtype=np.int64))
    expected = header + count * dtype.itemsize
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "has trailing bytes"
        raise DatasetError(f"{source}: {what}: {len(data)} bytes, the header {tuple(dims)} "
                           f"needs {expected}")
    return np.frombuffer(data, dtype=dtype, count=count, offset=header).reshape(dims)


def read_idx(path: Path, ndim: int | None = None, shape_tail: tuple[int, ...] | None = None,
             dtype: np.dtype | type | None = np.uint8) -> np.ndarray:
    """Read and validate one IDX file (gzip or raw).

    ``ndim``, ``shape_tail`` (the sizes after the first axis) and ``dtype`` are checked
    when given.
    """
    _, payload = read_bytes(path)
    return check_idx(parse_idx(payload, str(path)), str(path), ndim, shape_tail, dtype)


def check_idx(arr: np.ndarray, source: str, ndim: int | None = None,
              shape_tail: tuple[int, ...] | None = None,
              dtype: np.dtype | type | None = np.uint8) -> np.ndarray:
    if ndim is not None and arr.ndim != ndim:
        raise DatasetError(f"{source}: expected {ndim} dimensions, found shape {arr.shape}")
    if shape_tail is not None and tuple(arr.shape[1:]) != tuple(shape_tail):
        raise DatasetError(f"{source}: expected items of shape {tuple(shape_tail)}, "
                           f"found {tuple(arr.shape[1:])}")
    if dtype is not None and arr.dtype != np.dtype(dtype):
        raise DatasetError(f"{source}: expected {np.dtype(dtype)} data, found {arr.dtype}")
    return arr


def encode_idx(arr: np.ndarray) -> bytes:
    """Encode an array as IDX bytes (the inverse of :func:`parse_idx`; used by tests/tools)."""
    arr = np.asarray(arr)
    for code, dt in IDX_TYPES.items():
        if dt.kind == arr.dtype.kind and dt.itemsize == arr.dtype.itemsize:
            header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
            return header + np.ascontiguousarray(arr, dtype=dt).tobytes()
    raise ValueError(f"no IDX type for dtype {arr.dtype}")
