"""Classification reports: confusion matrix, a grid of mistakes, and ``report.md``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from common.files import atomic_write_text
from common.plots import save_figure


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """``(n_classes, n_classes)`` counts: row = true class, column = predicted."""
    return np.bincount(y_true * n_classes + y_pred,
                       minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def per_class_accuracy(cm: np.ndarray) -> np.ndarray:
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(cm) / np.maximum(totals, 1), np.nan)


def confusion_figure(cm: np.ndarray, names: list[str], title: str = "") -> Figure:
    """The confusion matrix, coloured by the share of each true class, with the counts.

    The matrix is about half an inch a class, but at least 2.6 inches (2 classes: big
    cells with large numbers, not a stamp) and at most 12 (many classes: small cells, no
    numbers past 20); fonts follow the cell size and the figure holds the labels."""
    n = len(names)
    side = min(max(2.6, 0.5 * n), 12.0)  # inches of the matrix
    cell = side / max(n, 1)
    font = float(np.clip(16 * cell, 7, 11))  # class names (points)
    count_font = float(np.clip(18 * cell, 5, 14))
    longest = max((len(str(s)) for s in names), default=1) * font * 0.6 / 72  # inches
    rotate = longest > 0.9 * cell
    width = longest + 0.6 + side + 1.1  # names, "true", matrix, colour bar
    height = (0.7 * longest if rotate else font / 72) + 0.6 + side + (0.4 if title else 0.1)
    fig = Figure(figsize=(width, height), layout="constrained")
    ax = fig.subplots()
    rates = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    im = ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    if rotate:
        ax.set_xticks(range(n), names, rotation=45, ha="right", fontsize=font)
    else:
        ax.set_xticks(range(n), names, fontsize=font)
    ax.set_yticks(range(n), names, fontsize=font)
    ax.set_xlabel("predicted", fontsize=font + 1)
    ax.set_ylabel("true", fontsize=font + 1)
    if n <= 20:
        for i in range(n):
            for j in range(n):
                if cm[i, j]:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=count_font,
                            color="white" if rates[i, j] > 0.5 else "black")
    bar = fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    bar.ax.tick_params(labelsize=font)
    if title:
        ax.set_title(title, fontsize=font + 1)
    return fig


def plot_confusion(cm: np.ndarray, names: list[str], path: str | Path, title: str = "") -> None:
    """``confusion.png``: :func:`confusion_figure`."""
    save_figure(confusion_figure(cm, names, title), path)


def to_images(x: np.ndarray, input_shape) -> np.ndarray:
    """Flattened rows -> ``(N, H, W)`` or ``(N, H, W, 3)`` for display."""
    h, w, c = input_shape
    imgs = x.reshape(len(x), h, w, c)
    return imgs[..., 0] if c == 1 else np.clip(imgs, 0, 1)


def plot_mistakes(x: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, names: list[str],
                  input_shape, path: str | Path, limit: int = 36) -> int:
    """A grid of misclassified images labelled ``true -> predicted``; returns how many."""
    wrong = np.flatnonzero(y_true != y_pred)[:limit]
    cols = 6
    rows = max(1, -(-len(wrong) // cols))
    fig = Figure(figsize=(cols * 1.5, rows * 1.65))
    axes = np.atleast_1d(fig.subplots(rows, cols)).reshape(-1)
    imgs = to_images(x[wrong], input_shape) if len(wrong) else []
    for k, ax in enumerate(axes):
        ax.axis("off")
        if k < len(wrong):
            i = wrong[k]
            ax.imshow(imgs[k], cmap="gray_r" if imgs[k].ndim == 2 else None,
                      interpolation="nearest")
            ax.set_title(f"{names[y_true[i]]} -> {names[y_pred[i]]}", fontsize=7)
    if not len(wrong):
        axes[0].text(0.5, 0.5, "no mistakes", ha="center", va="center")
    fig.tight_layout()
    save_figure(fig, path)
    return len(wrong)


def write_report_md(path: str | Path, title: str, cm: np.ndarray, names: list[str],
                    extra: dict[str, str] | None = None,
                    pictures: tuple[str, ...] = ("curves.png", "confusion.png")) -> None:
    acc = per_class_accuracy(cm)
    total = cm.sum()
    lines = [f"# {title}", "", f"Test accuracy: **{np.trace(cm) / max(total, 1):.4f}** "
             f"({int(np.trace(cm))} of {int(total)})", ""]
    for k, v in (extra or {}).items():
        lines.append(f"- {k}: {v}")
    if extra:
        lines.append("")
    lines += ["| class | test samples | accuracy |", "|---|---:|---:|"]
    for name, n, a in zip(names, cm.sum(axis=1), acc):
        lines.append(f"| {name} | {int(n)} | {a:.4f} |")
    lines.append("")
    for pic in pictures:
        lines += [f"![{Path(pic).stem}]({pic})", ""]
    atomic_write_text(path, "\n".join(lines))
