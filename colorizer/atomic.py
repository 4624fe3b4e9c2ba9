"""Writing files so that a kill at any instant leaves either the old file or the new one.

Every file the package writes (model folders, checkpoints, evaluation outputs, colour priors,
colorized images) is first written under a temporary name in the same folder and then renamed
over the target with ``os.replace``, which is atomic on POSIX and Windows file systems. A temp file
left behind by a killed process is named ``.<name>.partial-<random><suffixes>`` (hidden, and
with the target's suffixes, so Keras and Pillow still recognise the format) and is removed by
:func:`remove_partial_files` the next time the folder is written.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path
from typing import Iterator

PARTIAL = ".partial-"


def _suffixes(name: str) -> str:
    """All suffixes of a file name (``.weights.h5`` of ``model.weights.h5``)."""
    stem = name.lstrip(".")
    return stem[stem.index("."):] if "." in stem else ""


def is_partial(path: str | Path) -> bool:
    """Whether ``path`` is a temp file of :func:`atomic_path` (left by a killed writer)."""
    name = Path(path).name
    return name.startswith(".") and PARTIAL in name


def _temp_name(path: Path) -> str:
    """``.<stem>.partial-<random><suffixes>`` for ``path``, within the folder's limit on a
    name's bytes (NAME_MAX, 255 where unknown): the stem is shortened first, then, only if that
    is not enough, the first of several suffixes (the last ones name the format)."""
    try:
        limit = os.pathconf(path.parent, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows), no such folder yet
        limit = None
    limit = limit if isinstance(limit, int) and limit > 0 else 255
    suffixes = _suffixes(path.name)
    stem = path.name[:len(path.name) - len(suffixes)]
    tag = f"{PARTIAL}{secrets.token_hex(4)}"

    def fits() -> bool:
        return len(os.fsencode(f".{stem}{tag}{suffixes}")) <= limit

    while stem and not fits():
        stem = stem[:-1]
    while "." in suffixes[1:] and not fits():
        suffixes = suffixes[suffixes.index(".", 1):]
    return f".{stem}{tag}{suffixes}"


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temp path next to ``path``; on success it replaces ``path``, on error it goes.

    >>> with atomic_path("out/result.png") as temp:
    ...     image.save(temp)                    # doctest: +SKIP
    """
    path = Path(path)
    # Not created here: the writer creates it, with the permissions it would give ``path``.
    temp = path.with_name(_temp_name(path))
    try:
        yield temp
        if not temp.is_file():
            raise OSError(f"nothing was written for {path}")
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def write_text(path: str | Path, text: str) -> Path:
    """``Path.write_text``, atomically."""
    path = Path(path)
    with atomic_path(path) as temp:
        temp.write_text(text)
    return path


def copy_file(source: str | Path, target: str | Path) -> Path:
    """``shutil.copy2``, atomically."""
    target = Path(target)
    with atomic_path(target) as temp:
        shutil.copy2(source, temp)
    return target


def save_figure(figure, path: str | Path, dpi: int = 100) -> Path:
    """A matplotlib figure written whole to ``path`` (tight layout), then closed."""
    import matplotlib.pyplot as plt

    figure.tight_layout()
    with atomic_path(path) as temp:
        figure.savefig(temp, dpi=dpi)
    plt.close(figure)
    return Path(path)


def remove_partial_files(folder: str | Path, name: str | None = None) -> list[Path]:
    """Delete the temp files that killed writers left directly in ``folder`` (only those of
    the file ``name`` if given); return them."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for path in folder.iterdir():
        if name is not None:
            suffixes = _suffixes(name)
            stem = name[:len(name) - len(suffixes)]
            if not (path.name.startswith(f".{stem}{PARTIAL}") and path.name.endswith(suffixes)):
                continue
        if is_partial(path) and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


@contextlib.contextmanager
def atomic_folder(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty temp folder next to ``path``; on success it takes ``path``'s place.

    With ``overwrite`` an existing ``path`` is replaced (it is moved aside first and removed
    once the new folder is in place); otherwise an existing ``path`` is an error. On an error,
    or a kill, ``path`` keeps its old contents; a killed writer's temp folder is removed by the
    next call for the same ``path``.
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{path.name}{PARTIAL}*"):
        shutil.rmtree(stale, ignore_errors=True)
    temp = path.with_name(f".{path.name}{PARTIAL}{secrets.token_hex(4)}")
    temp.mkdir()  # the usual permissions, not mkdtemp's owner-only ones
    try:
        yield temp
        if path.exists():
            old = path.with_name(f".{path.name}{PARTIAL}old-{secrets.token_hex(4)}")
            os.replace(path, old)
            os.replace(temp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temp, path)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
