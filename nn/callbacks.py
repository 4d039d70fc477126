"""Trainer callbacks that write files: metrics and timings as CSV, rewritten atomically."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from common.files import atomic_write_text
from nn.train import METRIC_COLUMNS, TIMING_COLUMNS, Callback


def _fmt(v) -> str:
    if isinstance(v, float):
        return "nan" if math.isnan(v) else repr(v)
    return str(v)


def write_csv(path: Path, columns, rows) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for row in rows:
        w.writerow([_fmt(row[c]) for c in columns])
    atomic_write_text(path, buf.getvalue())


class MetricsCSV(Callback):
    """``metrics.csv`` (deterministic columns only) and ``timing.csv`` (wall time),
    rewritten after every epoch."""

    def __init__(self, out_dir: str | Path):
        self.out_dir = Path(out_dir)
        self.rows: list[dict] = []

    def on_epoch_end(self, trainer, record):
        self.rows.append(record)
        write_csv(self.out_dir / "metrics.csv", METRIC_COLUMNS, self.rows)
        write_csv(self.out_dir / "timing.csv", TIMING_COLUMNS, self.rows)
