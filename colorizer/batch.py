"""Planning a folder job: which inputs become which output files, never touching an input."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from colorizer.listing import IMAGE_EXTENSIONS

# Besides the training formats, Pillow reads these for inference.
INPUT_EXTENSIONS = IMAGE_EXTENSIONS + (".tif", ".tiff", ".webp")


def _expand(inputs: Sequence[str | Path]) -> tuple[list[tuple[Path, Path]], list[tuple[Path, str]]]:
    """(file, path relative to its input root) for every file; missing inputs are reported."""
    found, missing = [], []
    for item in map(Path, inputs):
        if item.is_dir():
            files = sorted(p for p in item.rglob("*") if p.is_file())
            found += [(p, p.relative_to(item)) for p in files
                      if p.suffix.lower() in INPUT_EXTENSIONS]
        elif item.is_file():
            found.append((item, Path(item.name)))
        else:
            missing.append((item, "no such file or folder"))
    return found, missing


def plan_outputs(inputs: Sequence[str | Path], output_dir: Path, *, overwrite: bool = False
                 ) -> tuple[list[tuple[Path, Path]], list[tuple[Path, str]]]:
    """Pair each input image with ``output_dir/<relative path>.png``.

    Returns (jobs, skipped). A target that is an input file is always skipped; an existing
    target is skipped unless ``overwrite``; two inputs that map to one target keep the first.
    """
    found, skipped = _expand(inputs)
    input_files = {source.resolve() for source, _ in found}
    jobs, targets = [], set()
    for source, relative in found:
        target = output_dir / relative.with_suffix(".png")
        resolved = target.resolve()
        if resolved in input_files:
            skipped.append((source, f"its output {target} is an input file; choose another -o"))
        elif resolved in targets:
            skipped.append((source, f"another input already writes {target}"))
        elif target.exists() and not overwrite:
            skipped.append((source, f"{target} exists (use --overwrite to replace it)"))
        else:
            jobs.append((source, target))
            targets.add(resolved)
    return jobs, skipped
