"""Which image files make up a data folder and its train / val splits (no TensorFlow needed)."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
SPLITS = ("train", "val")
# An image counts as near-grayscale when fewer than GRAY_PIXEL_SHARE of its pixels have a chroma
# sqrt(a^2 + b^2) above GRAY_CHROMA (Lab units): it carries no colour to learn from.
GRAY_CHROMA = 5.0
GRAY_PIXEL_SHARE = 0.01


def list_images(data: str | Path, split: str | None = None, *, val_fraction: float = 0.2,
                seed: int = 0) -> list[str]:
    """Image paths of ``data`` for ``split`` ("train", "val" or None for all).

    ``data`` is a folder (searched recursively) or a list file of paths relative to its folder.
    A folder holding ``train.txt`` / ``val.txt`` uses them for the splits; otherwise the sorted
    files are shuffled with ``seed`` and split ``1 - val_fraction : val_fraction``.
    """
    data = Path(data)
    if split not in (None, *SPLITS):
        raise ValueError(f"split must be one of {SPLITS} or None, got {split!r}")
    if data.is_file():
        return _read_list(data)
    if not data.is_dir():
        raise FileNotFoundError(f"data folder or list file not found: {data}")
    if split is not None and (data / f"{split}.txt").is_file():
        return _read_list(data / f"{split}.txt")
    files = sorted(
        str(p) for p in data.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file()
    )
    if not files:
        raise FileNotFoundError(f"no images ({', '.join(IMAGE_EXTENSIONS)}) under {data}")
    if split is None:
        return files
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1, got {val_fraction}")
    random.Random(seed).shuffle(files)
    n_val = max(1, round(len(files) * val_fraction))
    return sorted(files[:n_val] if split == "val" else files[n_val:])


def _read_list(list_file: Path) -> list[str]:
    lines = [line.strip() for line in list_file.read_text().splitlines()]
    files = [str(list_file.parent / line) for line in lines if line and not line.startswith("#")]
    if not files:
        raise ValueError(f"list file {list_file} names no images")
    return files


def split_paths(config) -> tuple[list[str], list[str]]:
    """The training and validation files of a :class:`~colorizer.training.config.TrainConfig` (its data,
    val_fraction, seed, limit and val_limit)."""
    train, val = (list_images(config.data, split, val_fraction=config.val_fraction,
                              seed=config.seed) for split in SPLITS)
    return train[: config.limit or None], val[: config.val_limit or None]


@dataclasses.dataclass
class LoadReport:
    """What :func:`load_images` kept and skipped."""

    requested: int
    unreadable: list[str]
    grayscale: list[str]

    @property
    def kept(self) -> int:
        return self.requested - len(self.unreadable) - len(self.grayscale)

    def summary(self) -> str:
        parts = []
        for label, files in (("unreadable", self.unreadable), ("near-grayscale", self.grayscale)):
            if files:
                examples = ", ".join(Path(f).name for f in files[:3])
                parts.append(f"{len(files)} {label} (e.g. {examples})")
        return f"skipped {len(self.unreadable) + len(self.grayscale)} of {self.requested} images: " + "; ".join(parts)
