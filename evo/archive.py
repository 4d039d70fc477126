"""The grid archive of quality-diversity runs: per cell of a grid over behaviour
descriptors, the fittest genome seen there (its fitness and its descriptors).

A descriptor vector ``d (k,)`` falls in the cell ``floor((d - low) / (high - low) * cells)``
per dimension, clipped to the grid (a value outside ``[low, high]`` lands in the edge cell,
as pyribs' ``GridArchive`` does); cells are numbered in C order (``np.ravel_multi_index``).
A candidate with a NaN descriptor or fitness is never inserted.  A batch is inserted at
once: the fittest candidate of each cell (the first of equals) replaces the cell's elite
only when it is strictly fitter.

Statistics (``qd.csv``): ``coverage`` is the share of cells filled; ``qd_score`` is
``sum(max(fitness - offset, 0))`` over the elites, where ``offset`` (``qd.offset``,
default 0) is a fitness no elite should fall below, so the score never decreases and is
never negative (pyribs sums ``objective - qd_score_offset`` the same way, without the
clip).

``archive.npz`` (written by :func:`write_archive`, read by :func:`read_archive` only) holds
the filled cells: ``index (n,)`` flat cell numbers ascending, ``cell (n, k)`` their grid
coordinates, ``fitness (n,)``, ``descriptors (n, k)``, ``genomes (n, D)``, and the grid
``low (k,)``, ``high (k,)``, ``cells (k,)``; its JSON metadata names the format, its version,
the descriptors, the offset, the task and the run's config.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.config import ConfigError
from common.files import read_npz, write_npz

FORMAT = "neuroevo-archive"
VERSION = 1

# status of each candidate of a batch, against the archive before the batch
NOT_ADDED, IMPROVED, NEW = 0, 1, 2


@dataclass(frozen=True)
class GridSpec:
    """The grid: descriptor names, their bounds and the number of cells along each."""

    names: tuple[str, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    cells: tuple[int, ...]
    offset: float = 0.0  # fitness counted as 0 by the QD-score

    def __post_init__(self):
        k = len(self.names)
        if not k or not (len(self.low) == len(self.high) == len(self.cells) == k):
            raise ValueError("a grid needs one low, high and cell count per descriptor")
        if any(c < 1 for c in self.cells) or any(not lo < hi for lo, hi in
                                                 zip(self.low, self.high)):
            raise ValueError("a grid needs cells >= 1 and low < high on every dimension")

    @property
    def size(self) -> int:
        return int(np.prod(self.cells))

    def cell_of(self, descriptors: np.ndarray) -> np.ndarray:
        """``descriptors (n, k)`` -> grid coordinates ``(n, k)`` int64 (NaN gives -1)."""
        d = np.asarray(descriptors, np.float64)
        low, high = np.asarray(self.low), np.asarray(self.high)
        cells = np.asarray(self.cells)
        scaled = np.floor((d - low) / (high - low) * cells)
        ok = np.isfinite(scaled)
        out = np.clip(np.where(ok, scaled, 0), 0, cells - 1).astype(np.int64)
        return np.where(ok, out, -1)

    def index_of(self, descriptors: np.ndarray) -> np.ndarray:
        """``descriptors (n, k)`` -> flat cell numbers ``(n,)`` (-1 for a NaN)."""
        cell = self.cell_of(descriptors)
        bad = (cell < 0).any(axis=1)
        flat = np.ravel_multi_index(tuple(np.maximum(cell, 0).T), self.cells)
        return np.where(bad, -1, flat)


class GridArchive:
    """Dense per-cell arrays: ``fitness (C,)`` (-inf where empty), ``genomes (C, D)``,
    ``descriptors (C, k)``."""

    def __init__(self, spec: GridSpec, num_params: int):
        self.spec = spec
        self.num_params = int(num_params)
        c, k = spec.size, len(spec.names)
        self.fitness = np.full(c, -np.inf)
        self.genomes = np.zeros((c, self.num_params))
        self.descriptors = np.full((c, k), np.nan)
        self.filled = np.zeros(c, bool)

    # -- insertion ------------------------------------------------------------------------
    def add(self, genomes: np.ndarray, fitness: np.ndarray, descriptors: np.ndarray):
        """Insert a batch ``genomes (n, D)``, ``fitness (n,)``, ``descriptors (n, k)``.
        Returns ``(status (n,), value (n,))`` against the archive before the batch: status
        ``NEW`` (an empty cell), ``IMPROVED`` (fitter than its cell's elite) or
        ``NOT_ADDED``; value ``fitness - the elite's fitness`` (an empty cell counts as
        ``offset``), the improvement CMA-ME ranks by."""
        genomes = np.asarray(genomes, np.float64)
        fitness = np.asarray(fitness, np.float64)
        idx = self.spec.index_of(descriptors)
        ok = (idx >= 0) & ~np.isnan(fitness)
        safe = np.where(ok, idx, 0)
        old = np.where(self.filled[safe], self.fitness[safe], self.spec.offset)
        value = np.where(ok, fitness - old, np.nan)
        status = np.where(~ok, NOT_ADDED, np.where(
            ~self.filled[safe], NEW, np.where(fitness > self.fitness[safe], IMPROVED,
                                              NOT_ADDED)))
        # the fittest candidate per cell (first of equals), then only where it beats the cell
        cand = np.flatnonzero(ok)
        if len(cand):
            order = cand[np.lexsort((cand, -fitness[cand], idx[cand]))]
            first = np.ones(len(order), bool)
            first[1:] = idx[order][1:] != idx[order][:-1]
            win = order[first]
            cells = idx[win]
            better = fitness[win] > self.fitness[cells]
            win, cells = win[better], cells[better]
            self.fitness[cells] = fitness[win]
            self.genomes[cells] = genomes[win]
            self.descriptors[cells] = np.asarray(descriptors, np.float64)[win]
            self.filled[cells] = True
        return status.astype(np.int64), value

    # -- statistics -------------------------------------------------------------------------
    def __len__(self) -> int:
        return int(self.filled.sum())

    @property
    def coverage(self) -> float:
        return len(self) / self.spec.size

    @property
    def qd_score(self) -> float:
        f = self.fitness[self.filled]
        return float(np.maximum(f - self.spec.offset, 0.0).sum())

    @property
    def best(self) -> float:
        return float(self.fitness.max()) if len(self) else float("nan")

    def stats(self) -> dict[str, float]:
        return {"cells": float(len(self)), "coverage": self.coverage,
                "qd_score": self.qd_score, "archive_best": self.best}

    def map2d(self) -> tuple[np.ndarray, np.ndarray]:
        """The archive over its first two descriptors: ``(fitness (n0, n1), cell (n0, n1))``,
        NaN and -1 where empty; with more descriptors each entry is the fittest elite over
        the others (``cell``: its flat cell number), with one descriptor ``n1`` is 1."""
        cells = self.spec.cells
        n0, n1 = cells[0], cells[1] if len(cells) > 1 else 1
        fit = self.fitness.reshape(n0, n1, -1)  # (n0, n1, the other descriptors' cells)
        k = fit.argmax(axis=2)
        best = np.take_along_axis(fit, k[..., None], 2)[..., 0]
        flat = np.arange(self.spec.size).reshape(n0, n1, -1)
        cell = np.take_along_axis(flat, k[..., None], 2)[..., 0]
        filled = np.isfinite(best)
        return np.where(filled, best, np.nan), np.where(filled, cell, -1)

    def sample(self, rng: np.random.Generator, n: int, top: float = 1.0) -> np.ndarray:
        """Flat cell numbers of ``n`` elites drawn uniformly (with replacement); with
        ``top`` < 1 only among the fittest ``ceil(top * elites)`` (ties: lower cell first)."""
        occupied = np.flatnonzero(self.filled)
        if top < 1.0:
            k = max(1, int(np.ceil(top * len(occupied))))
            occupied = occupied[np.argsort(-self.fitness[occupied], kind="stable")[:k]]
        return occupied[rng.integers(0, len(occupied), n)]

    # -- state (the filled cells only, as plain arrays) -------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        index = np.flatnonzero(self.filled)
        return {"index": index, "fitness": self.fitness[index],
                "genomes": self.genomes[index], "descriptors": self.descriptors[index]}

    def load_state_dict(self, state: dict[str, np.ndarray]) -> None:
        index = np.asarray(state["index"], np.int64).reshape(-1)
        genomes = np.asarray(state["genomes"], np.float64)
        if genomes.size != len(index) * self.num_params or (len(index) and (
                index.min() < 0 or index.max() >= self.spec.size)):
            raise ValueError("archive state does not fit this grid or genome size")
        genomes = genomes.reshape(len(index), self.num_params)
        self.__init__(self.spec, self.num_params)
        self.fitness[index] = state["fitness"]
        self.genomes[index] = genomes
        self.descriptors[index] = np.asarray(state["descriptors"], np.float64).reshape(
            len(index), len(self.spec.names))
        self.filled[index] = True


# -- archive.npz -------------------------------------------------------------------------------
def write_archive(path: str | Path, archive: GridArchive, meta: dict | None = None) -> None:
    """``archive`` into ``path`` atomically (the filled cells; see the module docstring)."""
    s = archive.state_dict()
    spec = archive.spec
    cell = np.array(np.unravel_index(s["index"], spec.cells)).T.reshape(-1, len(spec.cells))
    arrays = {"index": s["index"], "cell": cell.astype(np.int64), "fitness": s["fitness"],
              "descriptors": s["descriptors"], "genomes": s["genomes"],
              "low": np.array(spec.low), "high": np.array(spec.high),
              "cells": np.array(spec.cells, np.int64)}
    write_npz(path, arrays, {"format": FORMAT, "version": VERSION,
                             "descriptors": list(spec.names), "offset": spec.offset,
                             **(meta or {})})


@dataclass
class ArchiveFile:
    """What :func:`read_archive` returns: the archive and the file's metadata."""

    archive: GridArchive
    meta: dict
    path: Path

    def elite(self, cell: tuple[int, ...]) -> tuple[np.ndarray, float, np.ndarray]:
        """The genome, fitness and descriptors of grid coordinates ``cell``; a cell out of
        range or empty is a one-line :class:`ConfigError`."""
        spec = self.archive.spec
        if len(cell) != len(spec.cells) or any(
                not 0 <= c < n for c, n in zip(cell, spec.cells)):
            size = "x".join(map(str, spec.cells))
            raise ConfigError(f"--cell {','.join(map(str, cell))}: out of range for the "
                              f"{size} grid of {self.path} (cells count from 0)")
        i = int(np.ravel_multi_index(tuple(cell), spec.cells))
        if not self.archive.filled[i]:
            some = np.array(np.unravel_index(np.flatnonzero(self.archive.filled)[:4],
                                             spec.cells)).T
            filled = " ".join(",".join(map(str, c)) for c in some)
            raise ConfigError(f"--cell {','.join(map(str, cell))}: empty in {self.path} "
                              f"({len(self.archive)} of {spec.size} cells are filled"
                              f"{', e.g. ' + filled if len(some) else ''})")
        a = self.archive
        return a.genomes[i].copy(), float(a.fitness[i]), a.descriptors[i].copy()


def read_archive(path: str | Path) -> ArchiveFile:
    """The one reader of ``archive.npz`` (never unpickles); anything else, or a damaged
    file, is a one-line :class:`ConfigError`."""
    path = Path(path)
    arrays, meta = read_npz(path, "archive", "an archive.npz written by neuroevo evolve with "
                            "a QD strategy is expected", ConfigError)
    keys = ("index", "fitness", "descriptors", "genomes", "low", "high", "cells")
    if meta is None or meta.get("format") != FORMAT or any(k not in arrays for k in keys):
        raise ConfigError(f"{path}: not an archive written by neuroevo evolve")
    if meta.get("version") != VERSION:
        raise ConfigError(f"{path}: archive version {meta.get('version')!r} not supported "
                          f"(this neuroevo reads version {VERSION})")
    try:
        spec = GridSpec(tuple(meta["descriptors"]), tuple(map(float, arrays["low"])),
                        tuple(map(float, arrays["high"])),
                        tuple(int(c) for c in arrays["cells"]), float(meta.get("offset", 0)))
        genomes = arrays["genomes"]
        if genomes.ndim != 2:
            raise ValueError("genomes must be a matrix")
        archive = GridArchive(spec, genomes.shape[1])
        archive.load_state_dict(arrays)
    except (ValueError, TypeError, KeyError) as e:
        raise ConfigError(f"{path}: inconsistent archive ({str(e).splitlines()[0]})") from None
    return ArchiveFile(archive, meta, path)


def archive_figure(archive: GridArchive, title: str = "", unit: str = ""):
    """A heatmap of the elites' fitness over the first two descriptors (a further
    dimension: the best over it; one descriptor: a strip); ``unit`` follows "fitness" on
    the colour bar, e.g. " (laps)"."""
    from matplotlib.figure import Figure

    spec = archive.spec
    shown = archive.map2d()[0]
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.subplots()
    y_lo, y_hi = (spec.low[1], spec.high[1]) if len(spec.cells) > 1 else (0, 1)
    im = ax.imshow(shown.T, origin="lower", aspect="auto", cmap="viridis",
                   extent=(spec.low[0], spec.high[0], y_lo, y_hi), interpolation="nearest")
    fig.colorbar(im, ax=ax, label=f"fitness{unit}")
    ax.set_xlabel(spec.names[0])
    ax.set_ylabel(spec.names[1] if len(spec.names) > 1 else "")
    ax.set_title(f"{title}{': ' if title else ''}{len(archive)} of {spec.size} cells, "
                 f"QD-score {archive.qd_score:.4g}")
    return fig
