"""The one reader of run checkpoints: a round trip, and one line for every file it refuses."""

import numpy as np
import pytest

from common.files import read_run_checkpoint, write_npz


class Refused(Exception):
    pass


def written(tmp_path, meta, **arrays):
    path = tmp_path / "checkpoint.npz"
    write_npz(path, {"rows": np.arange(6.0).reshape(2, 3), **arrays}, meta)
    return path


def test_a_checkpoint_round_trips(tmp_path):
    theta = np.random.default_rng(0).normal(size=7)
    path = written(tmp_path, {"version": 2, "format": "f", "config": "a: 1"}, theta=theta)
    arrays, meta = read_run_checkpoint(path, "evolve", (1, 2), Refused,
                                       required=("rows", "theta"), fmt="f")
    assert meta == {"version": 2, "format": "f", "config": "a: 1"}
    assert np.array_equal(arrays["theta"], theta) and arrays["rows"].shape == (2, 3)


@pytest.mark.parametrize("meta, required, fmt, says", [
    ({"version": 3}, ("rows",), None, "checkpoint version 3 is not supported (this neuroevo "
                                      "reads version 1 or 2)"),
    ({"version": 1}, ("rows", "theta"), None, "not a checkpoint of neuroevo evolve"),
    ({"version": 1, "format": "other"}, (), "f", "not a checkpoint of neuroevo evolve"),
    (None, (), None, "not a checkpoint of neuroevo evolve"),
])
def test_a_foreign_or_other_version_file_is_one_line(tmp_path, meta, required, fmt, says):
    if meta is None:
        path = tmp_path / "checkpoint.npz"
        np.savez(path, rows=np.zeros(3))  # an archive without metadata
    else:
        path = written(tmp_path, meta)
    with pytest.raises(Refused) as e:
        read_run_checkpoint(path, "evolve", (1, 2), Refused, required=required, fmt=fmt)
    assert says in str(e.value) and "\n" not in str(e.value)


def test_garbage_and_truncated_files_are_one_line(tmp_path):
    good = written(tmp_path, {"version": 1})
    data = good.read_bytes()
    cases = {"garbage": b"not an archive", "truncated": data[:len(data) // 2]}
    for name, content in cases.items():
        path = tmp_path / f"{name}.npz"
        path.write_bytes(content)
        with pytest.raises(Refused) as e:
            read_run_checkpoint(path, "reinforce", (1,), Refused)
        assert str(e.value).startswith(str(path)) and "\n" not in str(e.value)
    with pytest.raises(Refused, match="no such checkpoint"):
        read_run_checkpoint(tmp_path / "absent.npz", "train", (1,), Refused)
