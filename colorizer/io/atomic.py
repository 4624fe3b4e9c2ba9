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


def _name_limit(folder: Path) -> int:
    """The longest name (bytes) ``folder`` takes: NAME_MAX, 255 where unknown."""
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (AttributeError, OSError, ValueError):  # no pathconf (Windows), no such folder yet
        limit = None
    return limit if isinstance(limit, int) and limit > 0 else 255


def _temp_name(path: Path) -> str:
    """``.<stem>.partial-<random><suffixes>`` for ``path``, within the folder's limit on a
    name's bytes (NAME_MAX, 255 where unknown): the stem is shortened first, then, only if that
    is not enough, the first of several suffixes (the last ones name the format)."""
    limit = _name_limit(path.parent)
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
    removed, limit = [], _name_limit(folder)
    for path in folder.iterdir():
        if name is not None and not _is_temp_of(path.name, name, limit):
            continue
        if is_partial(path) and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _is_temp_of(temp: str, name: str, limit: int) -> bool:
    """Whether ``temp`` is a name :func:`_temp_name` gives ``name``'s temp files: its stem and
    suffixes, or, for a name shortened to the limit, a start of the stem and an end of the
    suffixes."""
    head, tag, rest = temp.rpartition(PARTIAL)
    suffixes = _suffixes(name)
    stem, tail = name[:len(name) - len(suffixes)], rest.lstrip("0123456789abcdef")
    if not tag or not head.startswith(".") or not suffixes.endswith(tail):
        return False
    if head[1:] == stem and tail == suffixes:
        return True
    shortened = len(os.fsencode(temp)) > limit - 4  # (a multi-byte character may leave 3)
    return shortened and stem.startswith(head[1:]) and (tail or not suffixes)


def partial_folders(path: str | Path) -> list[Path]:
    """The temp folders :func:`atomic_folder` made for ``path`` (``.<name>.partial-*``)."""
    path = Path(path)
    prefix = f".{path.name}{PARTIAL}"
    if not path.parent.is_dir():
        return []
    return sorted(p for p in path.parent.iterdir() if p.name.startswith(prefix) and p.is_dir())


def _exchange(first: Path, second: Path) -> bool:
    """Swap the names of two existing paths in one step; False where the system or the file
    system cannot (then nothing happened).

    Linux has ``renameat2(..., RENAME_EXCHANGE)`` (glibc 2.28+, most local file systems),
    macOS ``renamex_np(..., RENAME_SWAP)``; Python exposes neither, so they are called through
    ctypes.
    """
    if os.name != "posix":
        return False
    import ctypes
    import errno

    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    names = [ctypes.c_char_p(os.fsencode(first)), ctypes.c_char_p(os.fsencode(second))]
    if hasattr(libc, "renameat2"):
        at_fdcwd, rename_exchange = -100, 2
        result = libc.renameat2(at_fdcwd, names[0], at_fdcwd, names[1], rename_exchange)
    elif hasattr(libc, "renamex_np"):
        rename_swap = 2
        result = libc.renamex_np(names[0], names[1], rename_swap)
    else:
        return False
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False  # this file system (or kernel) cannot swap
    raise OSError(code, os.strerror(code), str(first), None, str(second))


@contextlib.contextmanager
def atomic_folder(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty temp folder next to ``path``; on success it takes ``path``'s place.

    With ``overwrite`` an existing ``path`` is replaced with no moment at which the name is
    missing: the new folder and the old one swap names in one step (:func:`_exchange`) and the
    old one, now under the temp name, is removed. (A pointer, ``path`` a symlink renamed over
    to each new version, would be gap-free too, but would turn weight folders that git, the Hub
    upload and people see as plain folders into links.) Where no swap is offered (Windows, some
    network file systems) the old folder is renamed aside and the new one into place, a window
    of two renames; a kill in it leaves the old folder aside, which the next call for ``path``
    puts back. Without ``overwrite`` an existing ``path`` is an error. On an error, or a kill,
    ``path`` keeps its old contents; a killed writer's temp folders (hidden, so that the zoo
    lists none of them) are removed by the next call for the same ``path``.
    """
    path = Path(path)
    stale = partial_folders(path)
    aside = [p for p in stale if p.name.startswith(f".{path.name}{PARTIAL}old-")]
    if aside and not path.exists():  # a kill between the two renames of the fallback
        os.replace(aside[0], path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True (--overwrite) to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    for folder in partial_folders(path):
        shutil.rmtree(folder, ignore_errors=True)
    temp = path.with_name(f".{path.name}{PARTIAL}{secrets.token_hex(4)}")
    temp.mkdir()  # the usual permissions, not mkdtemp's owner-only ones
    try:
        yield temp
        if not path.exists():
            os.replace(temp, path)
        elif not _exchange(temp, path):  # swapped: temp now holds the old folder
            old = path.with_name(f".{path.name}{PARTIAL}old-{secrets.token_hex(4)}")
            os.replace(path, old)
            os.replace(temp, path)
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
