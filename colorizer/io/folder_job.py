"""Planning a folder job: which inputs become which output files, never touching an input.

Every input ends up in exactly one place of the :class:`Plan`: a job, ``done`` (its output
exists already: skipped on purpose), or ``failed`` (missing, an unsupported image format, or an
output that would clash with an input or another output). Files in a folder that are not images
at all (notes, sidecar files) are only counted.
"""

from __future__ import annotations

import dataclasses
import mimetypes
from pathlib import Path
from typing import Sequence

from colorizer.io.atomic import is_partial
from colorizer.io.photo_files import IMAGE_EXTENSIONS

# Besides the training formats, Pillow reads these for inference.
INPUT_EXTENSIONS = IMAGE_EXTENSIONS + (".tif", ".tiff", ".webp")
# Camera raw formats that mimetypes does not know as images.
RAW_EXTENSIONS = (".arw", ".cr3", ".dng", ".erf", ".raf", ".raw", ".rw2", ".srw")


def is_image_name(path: Path) -> bool:
    """Whether a file's name says it is a photo, whether or not we can read its format."""
    kind = mimetypes.guess_type(path.name)[0] or ""
    return kind.startswith("image/") or path.suffix.lower() in RAW_EXTENSIONS


@dataclasses.dataclass
class Plan:
    jobs: list[tuple[Path, Path]]  # (input, output) to colorize
    done: list[tuple[Path, str]]  # inputs whose output exists (not an error)
    failed: list[tuple[Path, str]]  # inputs that cannot be colorized, with the reason
    ignored: list[Path]  # files in the input folders that are not images


def _expand(inputs: Sequence[str | Path]) -> tuple[list[tuple[Path, Path]], list[tuple[Path, str]],
                                                   list[Path]]:
    """(file, path relative to its input root) for every file; problems and non-images apart."""
    found, failed, ignored = [], [], []
    supported = ", ".join(INPUT_EXTENSIONS)
    for item in map(Path, inputs):
        if item.is_dir():
            for path in sorted(p for p in item.rglob("*") if p.is_file() and not is_partial(p)):
                if path.suffix.lower() in INPUT_EXTENSIONS:
                    found.append((path, path.relative_to(item)))
                elif is_image_name(path):
                    failed.append((path, f"unsupported image format {path.suffix} (this reads "
                                         f"{supported}); convert it first"))
                else:
                    ignored.append(path)
        elif item.is_file():
            found.append((item, Path(item.name)))
        else:
            failed.append((item, "no such file or folder"))
    return found, failed, ignored


def plan_outputs(inputs: Sequence[str | Path], output_dir: Path, *, overwrite: bool = False
                 ) -> Plan:
    """Pair each input image with ``output_dir/<relative path>.png``.

    A target that is an input file is never written; an existing target is left alone (``done``)
    unless ``overwrite``; two inputs that map to one target keep the first.
    """
    found, failed, ignored = _expand(inputs)
    input_files = {source.resolve() for source, _ in found}
    plan = Plan([], [], failed, ignored)
    targets = set()
    for source, relative in found:
        target = output_dir / relative.with_suffix(".png")
        try:  # a target the system refuses to look at (e.g. in a folder without access)
            resolved = target.resolve()
            exists = target.exists()
        except OSError as error:
            plan.failed.append((source, f"cannot check its output {target}: {error}"))
            continue
        if resolved in input_files:
            plan.failed.append((source, f"its output {target} is an input file; choose another -o"))
        elif resolved in targets:
            plan.failed.append((source, f"another input already writes {target}"))
        elif exists and not overwrite:
            plan.done.append((source, f"{target} exists (use --overwrite to replace it)"))
        else:
            plan.jobs.append((source, target))
            targets.add(resolved)
    return plan


def colorize_job(model, source: str | Path, target: Path, **options) -> str | None:
    """Colorize one input of a :class:`Plan` into ``target`` as ``colorizer colorize`` does (the
    CLI and the archive engines both call this, so their PNGs match byte for byte); None when
    done, else why not, in one line.

    ``model`` is a :class:`~colorizer.Colorizer` and ``options`` go to its ``colorize``
    (temperature, max_pixels, hints, vividness). The PNG is written under a temporary name and
    renamed (:func:`~colorizer.io.atomic.atomic_path`), so a kill never leaves a truncated one
    at ``target``; a temp file of a killed earlier run is removed first. An unreadable input and
    an output that cannot be written (a read-only folder, a full disk) fail alone.
    """
    from colorizer.io.atomic import atomic_path, remove_partial_files
    from colorizer.io.images import PNG_COMPRESS_LEVEL, ImageError

    try:
        result = model.colorize(source, **options)
    except (ImageError, OSError) as error:
        return str(error)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_partial_files(target.parent, target.name)
        with atomic_path(target) as temp:
            result.save(temp, compress_level=PNG_COMPRESS_LEVEL)
    except OSError as error:
        return f"cannot write {target}: {error}"
    return None
