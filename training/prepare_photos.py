"""Build one training photo folder from local copies of photo-set repositories (issue 17).

    python training/prepare_photos.py training/sources/mixed150k.json --src /work/data/src \\
        --root flickr8k=data/flickr8k --output /work/data/mixed150k --shards

The sources file names each set: its repository, commit and paths (or list files), its terms,
and which of its photos are validation photos. A set's root is ``--src``/NAME (the paths of
the repository at that commit, e.g. extracted with ``git archive COMMIT PATHS | tar -x``) unless
``--root NAME=DIR`` says otherwise. Every photo file is decoded (unreadable ones are counted and
skipped); near-gray photos (``colorizer.io.photo_files``'s GRAY_CHROMA / GRAY_PIXEL_SHARE, judged at
128 px as the training loader does) are dropped, and so are training photos whose bytes equal an
earlier photo's or whose 64-bit perceptual hash (``imagehash.phash``) is within ``--threshold``
bits of an earlier photo's or of ANY validation photo's, so no validation photo leaks into
training. Earlier means: sets in the sources file's order, files sorted by path.

The output folder gets the kept photos (the originals' bytes, no resizing; a set marked
``"link": true`` is symlinked instead of copied unless ``--copy``), ``train.txt``, each
validation list (e.g. ``val.txt``, ``val_miniplaces.txt``: a fixed subset drawn with
``--seed``), ``SOURCES.md`` (repository, commit, paths, counts and terms of each set),
``photos.tsv`` (every file found and what became of it) and, with ``--shards``, the 128 px
pixels as memory-mappable uint8 ``.npy`` shards of at most ~60 MB (``shards/``, training
photos in a seeded random order). The folder is built beside the output and moved into place
at the end, so a failed run leaves no half-written output. The same inputs give the same
folder, byte for byte.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import multiprocessing
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterable, Iterator

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import imagehash  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from skimage.color import rgb2lab  # noqa: E402

from colorizer.io.photo_files import GRAY_CHROMA, GRAY_PIXEL_SHARE, IMAGE_EXTENSIONS  # noqa: E402

# Side at which the gray check and the hash look at a photo (the training loader's 128 px), and
# of the pixels in the shards.
PIXELS = 128
# Formats every decoder of the project reads (tf.io.decode_image, Pillow): kept byte for byte.
# Others are written as PNG.
KEPT_FORMATS = ("JPEG", "PNG", "GIF", "BMP")
SHARD_BYTES = 60_000_000
STATUSES = ("kept", "unreadable", "gray", "exact duplicate", "near duplicate")


class PrepareError(Exception):
    """Bad input: reported as one line, before anything is written."""


# --- the sources file ----------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Part:
    """The photos of one split of a set: folders under its root, or a list file there."""

    paths: tuple[str, ...] = ()
    list: str | None = None
    output: str | None = None  # validation only: the list file written in the output folder
    subset: int | None = None  # validation only: a seeded subset of this many colour photos


@dataclasses.dataclass(frozen=True)
class PhotoSet:
    name: str
    title: str
    repository: str
    commit: str
    terms: str
    train: Part
    val: Part | None = None
    link: bool = False


def _part(raw: object, where: str, validation: bool) -> Part:
    if not isinstance(raw, dict):
        raise PrepareError(f"{where} must be an object")
    allowed = {"paths", "list"} | ({"output", "subset"} if validation else set())
    unknown = set(raw) - allowed
    if unknown:
        raise PrepareError(f"{where} has unknown key(s) {sorted(unknown)}; "
                           f"allowed: {sorted(allowed)}")
    paths, listed = raw.get("paths", []), raw.get("list")
    if bool(paths) == bool(listed):
        raise PrepareError(f"{where} needs either 'paths' (a list of folders) or 'list' (a file)")
    if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
        raise PrepareError(f"{where}.paths must be a list of folder names")
    names = [Path(p).name for p in paths]
    if len(set(names)) != len(names):
        raise PrepareError(f"{where}.paths must end in different folder names, got {paths}")
    subset = raw.get("subset")
    if subset is not None and (not isinstance(subset, int) or subset < 1):
        raise PrepareError(f"{where}.subset must be a positive number of photos, got {subset!r}")
    output = raw.get("output")
    if validation and (not isinstance(output, str) or not output.endswith(".txt")
                       or "/" in output or output == "train.txt"):
        raise PrepareError(f"{where}.output must be a list file name such as 'val.txt'")
    return Part(tuple(paths), listed, output, subset)


def read_sources(path: Path) -> list[PhotoSet]:
    """The sets of a sources file (JSON: {"sets": [...]}), checked."""
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        raise PrepareError(f"sources file not found: {path}") from None
    except json.JSONDecodeError as error:
        raise PrepareError(f"sources file {path} is not valid JSON: {error}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("sets"), list) or not raw["sets"]:
        raise PrepareError(f"sources file {path} must hold {{\"sets\": [...]}} with at least "
                           "one set")
    sets, outputs = [], {"train.txt"}
    required = ("name", "title", "repository", "commit", "terms", "train")
    for i, item in enumerate(raw["sets"]):
        where = f"{path.name}: sets[{i}]"
        if not isinstance(item, dict):
            raise PrepareError(f"{where} must be an object")
        missing = [key for key in required if key not in item]
        unknown = set(item) - {*required, "val", "link"}
        if missing or unknown:
            raise PrepareError(f"{where} lacks {missing} / has unknown {sorted(unknown)}")
        name = item["name"]
        if not isinstance(name, str) or not name.isidentifier() or name == "shards":
            raise PrepareError(f"{where}.name must be a simple name (letters, digits, _), "
                               f"got {name!r}")
        if any(s.name == name for s in sets):
            raise PrepareError(f"{where}: set name {name!r} is used twice")
        val = _part(item["val"], f"{where}.val", True) if "val" in item else None
        if val is not None:
            if val.output in outputs:
                raise PrepareError(f"{where}.val.output {val.output!r} is used twice")
            outputs.add(val.output)
        sets.append(PhotoSet(name, str(item["title"]), str(item["repository"]),
                             str(item["commit"]), str(item["terms"]),
                             _part(item["train"], f"{where}.train", False), val,
                             bool(item.get("link", False))))
    return sets


# --- finding and analysing photos ----------------------------------------------------------------

@dataclasses.dataclass
class Photo:
    set: str
    split: str  # "train" or "val"
    relpath: str  # in the output folder: SET/...
    source: Path
    # Filled by the analysis:
    error: str = ""
    sha256: str = ""
    phash: int = 0
    colored: float = 0.0
    format: str = ""
    # Filled by the decisions:
    status: str = ""
    duplicate_of: str = ""

    @property
    def is_gray(self) -> bool:
        return self.colored < GRAY_PIXEL_SHARE


def find_photos(photo_set: PhotoSet, root: Path, split: str) -> tuple[list[Photo], int]:
    """The photo files of one split of a set, sorted, and how many other files were ignored."""
    part = photo_set.train if split == "train" else photo_set.val
    photos, ignored = [], 0
    if part.list:
        list_file = root / part.list
        if not list_file.is_file():
            raise PrepareError(f"set {photo_set.name}: list file not found: {list_file}")
        lines = [line.strip() for line in list_file.read_text().splitlines()]
        for line in sorted(line for line in lines if line and not line.startswith("#")):
            if Path(line).is_absolute() or ".." in Path(line).parts:
                raise PrepareError(f"{list_file} names {line!r}: list entries must be paths "
                                   "inside its folder")
            photos.append(Photo(photo_set.name, split, f"{photo_set.name}/{line}", root / line))
        return photos, ignored
    for path in part.paths:
        folder = root / path
        if not folder.is_dir():
            raise PrepareError(f"set {photo_set.name}: folder not found: {folder} (extract "
                               f"{path!r} of {photo_set.repository} @ {photo_set.commit} there)")
        for file in sorted(folder.rglob("*")):
            if not file.is_file():
                continue
            if file.suffix.lower() not in IMAGE_EXTENSIONS:
                ignored += 1
                continue
            relpath = f"{photo_set.name}/{Path(path).name}/{file.relative_to(folder).as_posix()}"
            photos.append(Photo(photo_set.name, split, relpath, file))
    return photos, ignored


def squashed(image: Image.Image, size: int = PIXELS) -> Image.Image:
    """RGB at size x size (bicubic, antialiased when shrinking), as the training loader squashes."""
    image = image.convert("RGB")
    return image if image.size == (size, size) else image.resize((size, size), Image.BICUBIC)


def colored_share(rgb: np.ndarray) -> float:
    """Share of pixels with a Lab chroma above GRAY_CHROMA (``colorizer.io.photo_files``'s definition;
    skimage's Lab, which ``colorizer.io.color`` follows, without loading Keras)."""
    lab = rgb2lab(rgb.astype(np.float32) / 255.0)
    return float(np.mean(np.hypot(lab[..., 1], lab[..., 2]) > GRAY_CHROMA))


def analyse(source: Path) -> tuple[str, str, int, float, str]:
    """(error, sha256, 64-bit phash, colored share, format) of one file; error "" if readable."""
    try:
        data = source.read_bytes()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            small, fmt = squashed(image), image.format or ""
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as error:
        # Pillow raises OSError for unidentified or truncated files, ValueError/SyntaxError for
        # some malformed headers.
        return f"{type(error).__name__}: {error}".splitlines()[0][:200], "", 0, 0.0, ""
    bits = imagehash.phash(small).hash.flatten()
    phash = int("".join("1" if b else "0" for b in bits), 2)
    return "", hashlib.sha256(data).hexdigest(), phash, colored_share(np.asarray(small)), fmt


def parallel_map(function, items: list, workers: int, label: str) -> Iterator:
    """``map`` over ``items`` in order, on ``workers`` processes, with a progress line per 10k."""
    start = time.time()

    def progress(results: Iterable) -> Iterator:
        for i, result in enumerate(results, 1):
            if i % 10_000 == 0 or i == len(items):
                print(f"  {label}: {i}/{len(items)} ({time.time() - start:.0f} s)", flush=True)
            yield result

    if workers <= 1 or len(items) < 2:
        yield from progress(map(function, items))
        return
    # fork: the workers inherit the imports (Pillow, NumPy, scikit-image; no TensorFlow).
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield from progress(pool.imap(function, items, chunksize=64))


# --- decisions -----------------------------------------------------------------------------------

class HashIndex:
    """Finds a stored 64-bit hash within ``threshold`` bits of a query.

    Multi-index hashing: the hash is cut into ``threshold + 1`` bands; two hashes within
    ``threshold`` bits agree exactly on at least one band (pigeonhole), so only the stored
    hashes sharing a band with the query are compared.
    """

    def __init__(self, threshold: int):
        if not 0 <= threshold <= 31:
            raise PrepareError(f"--threshold must be between 0 and 31 bits, got {threshold}")
        self.threshold = threshold
        edges = np.linspace(0, 64, threshold + 2).round().astype(int)
        self.bands = [(int(lo), (1 << int(hi - lo)) - 1) for lo, hi in zip(edges[:-1], edges[1:])]
        self.tables: list[dict[int, list[int]]] = [{} for _ in self.bands]
        self.hashes: list[int] = []
        self.names: list[str] = []

    def add(self, value: int, name: str) -> None:
        for (shift, mask), table in zip(self.bands, self.tables):
            table.setdefault((value >> shift) & mask, []).append(len(self.hashes))
        self.hashes.append(value)
        self.names.append(name)

    def find(self, value: int) -> str | None:
        """The name of the earliest stored hash within the threshold, or None."""
        candidates = set()
        for (shift, mask), table in zip(self.bands, self.tables):
            candidates.update(table.get((value >> shift) & mask, ()))
        for i in sorted(candidates):
            if (self.hashes[i] ^ value).bit_count() <= self.threshold:
                return self.names[i]
        return None


def decide(photos: list[Photo], threshold: int) -> None:
    """Set each photo's status: validation photos first (all of them guard against leaks), then
    training photos in order, each checked against everything before it."""
    index, seen = HashIndex(threshold), {}
    for photo in photos:
        if photo.split == "val" and not photo.error:
            index.add(photo.phash, photo.relpath)
            seen.setdefault(photo.sha256, photo.relpath)
    for photo in photos:
        if photo.error:
            photo.status = "unreadable"
        elif photo.split == "val":
            photo.status = "gray" if photo.is_gray else "kept"
        elif photo.is_gray:
            photo.status = "gray"
        elif photo.sha256 in seen:
            photo.status, photo.duplicate_of = "exact duplicate", seen[photo.sha256]
        elif (match := index.find(photo.phash)) is not None:
            photo.status, photo.duplicate_of = "near duplicate", match
        else:
            photo.status = "kept"
            index.add(photo.phash, photo.relpath)
            seen[photo.sha256] = photo.relpath


def validation_list(photo_set: PhotoSet, photos: list[Photo], seed: int) -> list[Photo]:
    """The photos a set's validation list names: all of them (list as given), or a seeded
    subset of its readable colour photos."""
    mine = [p for p in photos if p.set == photo_set.name and p.split == "val"]
    if photo_set.val.subset is None:
        return mine
    pool = [p for p in mine if p.status == "kept"]
    if len(pool) < photo_set.val.subset:
        raise PrepareError(f"set {photo_set.name}: only {len(pool)} readable colour validation "
                           f"photos, fewer than the subset of {photo_set.val.subset}")
    return sorted(random.Random(seed).sample(pool, photo_set.val.subset), key=lambda p: p.relpath)


# --- writing -------------------------------------------------------------------------------------

def place(photo: Photo, folder: Path, link: bool) -> str:
    """Put a photo into the output folder (bytes copied, or a symlink); its relpath there."""
    relpath = photo.relpath
    if photo.format and photo.format not in KEPT_FORMATS:
        relpath = str(Path(relpath).with_suffix(".png"))
        target = folder / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(photo.source) as image:
            image.convert("RGB").save(target, "PNG")
        return relpath
    target = folder / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    if link:
        target.symlink_to(photo.source.resolve())
    else:
        shutil.copyfile(photo.source, target)
    return relpath


def pixels_of(source: Path) -> np.ndarray:
    with Image.open(source) as image:
        return np.asarray(squashed(image), dtype=np.uint8)


def write_shards(folder: Path, name: str, files: list[str], sources: list[Path], workers: int,
                 per_shard: int) -> list[dict]:
    """``files`` as uint8 (N, PIXELS, PIXELS, 3) .npy shards, each with a .txt of its photos."""
    entries, batch, names = [], [], []

    def flush() -> None:
        stem = f"{name}-{len(entries):05d}"
        np.save(folder / f"{stem}.npy", np.stack(batch))
        (folder / f"{stem}.txt").write_text("".join(f"{n}\n" for n in names))
        entries.append({"pixels": f"{stem}.npy", "photos": f"{stem}.txt", "count": len(batch)})
        batch.clear()
        names.clear()

    for file, pixels in zip(files, parallel_map(pixels_of, sources, workers, f"shards {name}")):
        batch.append(pixels)
        names.append(file)
        if len(batch) == per_shard:
            flush()
    if batch:
        flush()
    return entries


def sources_md(sets: list[PhotoSet], photos: list[Photo], ignored: dict[str, int],
               lists: dict[str, list[str]], args: argparse.Namespace) -> str:
    lines = [
        "# Photo sources",
        "",
        "Made by `training/prepare_photos.py` (colorizer repository) with "
        f"`--threshold {args.threshold} --seed {args.seed}` from `{args.sources.name}`. The "
        "photos keep their sets' terms: never commit them to a repository.",
        "",
        "Counts per set: photo files found (image extensions); unreadable; near-gray (fewer than "
        f"{GRAY_PIXEL_SHARE:.0%} of the pixels with Lab chroma above {GRAY_CHROMA:g} at "
        f"{PIXELS} px); exact duplicates (same bytes as an earlier photo); near duplicates "
        f"(perceptual hash within {args.threshold} of 64 bits of an earlier photo or of any "
        "validation photo); how many of those duplicates copy a validation photo (kept out of "
        "training so that none leaks into it); kept for training.",
        "",
        "| set | repository @ commit | paths | found | unreadable | gray | exact dup. "
        "| near dup. | dup. of val. | kept | validation | terms |",
        "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    val_files = {p.relpath for p in photos if p.split == "val"}
    totals = np.zeros(7, int)
    for s in sets:
        train = [p for p in photos if p.set == s.name and p.split == "train"]
        count = {status: sum(p.status == status for p in train) for status in STATUSES}
        near_val = sum(p.status in ("exact duplicate", "near duplicate") and p.duplicate_of in
                       val_files for p in train)
        row = [len(train), count["unreadable"], count["gray"], count["exact duplicate"],
               count["near duplicate"], near_val, count["kept"]]
        totals += row
        part = s.train
        paths = ", ".join(f"`{p}`" for p in part.paths) or f"list `{part.list}`"
        validation = "-"
        if s.val is not None:
            found = sum(p.set == s.name and p.split == "val" for p in photos)
            source = ", ".join(f"`{p}`" for p in s.val.paths) or f"list `{s.val.list}`"
            how = f"a seeded subset of {s.val.subset}" if s.val.subset else "all"
            validation = (f"`{s.val.output}`: {len(lists[s.val.output]):,} of {found:,} in "
                          f"{source} ({how})")
        commit = f" @ `{s.commit}`" if s.commit else ""
        lines.append(f"| {s.title} | {s.repository}{commit} | {paths} | "
                     + " | ".join(f"{n:,}" for n in row) + f" | {validation} | {s.terms} |")
    lines.append("| **all** | | | " + " | ".join(f"{n:,}" for n in totals[:-1])
                 + f" | **{totals[-1]:,}** | | |")
    skipped = {name: n for name, n in ignored.items() if n}
    lines += ["", "Lists: " + ", ".join(f"`{name}` ({len(files):,} photos)"
                                          for name, files in lists.items()) + "."]
    if skipped:
        lines += ["", "Files without an image extension, ignored: " + ", ".join(
            f"{name} {n}" for name, n in skipped.items()) + "."]
    linked = [s.name for s in sets if s.link and not args.copy]
    if linked:
        lines += ["", f"Symlinked to the local copy, not copied: {', '.join(linked)}."]
    lines += ["", "Every file found and what became of it: `photos.tsv`."]
    if args.shards:
        lines += ["", f"`shards/`: the photos of each list as {PIXELS} px uint8 RGB, squashed "
                  "(bicubic), in memory-mappable `.npy` files (`numpy.load(f, mmap_mode='r')`) "
                  f"of at most {args.shard_photos} photos, each with a `.txt` naming its photos in "
                  "order; training photos in a seeded random order. `shards/index.json` lists "
                  "them."]
    return "\n".join(lines) + "\n"


def photos_tsv(photos: list[Photo]) -> str:
    rows = ["relpath\tsplit\tstatus\tduplicate_of\tsha256\tphash\tcolored_share\tsource_error"]
    for p in photos:
        rows.append("\t".join([p.relpath, p.split, p.status, p.duplicate_of, p.sha256,
                               f"{p.phash:016x}" if not p.error else "",
                               f"{p.colored:.4f}" if not p.error else "", p.error]))
    return "\n".join(rows) + "\n"


# --- the command ---------------------------------------------------------------------------------

def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _git_ignored(path: Path) -> bool:
    try:
        return subprocess.run(["git", "-C", str(REPO), "check-ignore", "-q", str(path)],
                              capture_output=True).returncode == 0
    except OSError:  # no git: treat as not ignored
        return False


def check_output(output: Path, roots: Iterable[Path], overwrite: bool) -> Path:
    output = output.resolve()
    if _inside(output, REPO) and not _git_ignored(output):
        raise PrepareError(f"refusing to write photos into the repository ({output}): the "
                           "sets' terms keep them out of git; use data/ (git-ignored) or a "
                           "folder outside")
    for root in roots:
        root = root.resolve()
        if _inside(output, root) or _inside(root, output):
            raise PrepareError(f"the output {output} and the set folder {root} overlap")
    if output.exists() and not output.is_dir():
        raise PrepareError(f"output {output} exists and is not a folder")
    if output.is_dir() and any(output.iterdir()) and not overwrite:
        raise PrepareError(f"output folder {output} is not empty: pass --overwrite to replace it")
    return output


def parse_roots(items: list[str], sets: list[PhotoSet], src: Path | None) -> dict[str, Path]:
    names = [s.name for s in sets]
    roots = {}
    for item in items:
        name, sep, folder = item.partition("=")
        if not sep or not folder:
            raise PrepareError(f"--root takes NAME=FOLDER, got {item!r}")
        if name not in names:
            raise PrepareError(f"--root {item!r}: no set named {name!r} (sets: {', '.join(names)})")
        roots[name] = Path(folder)
    for name in names:
        if name not in roots:
            if src is None:
                raise PrepareError(f"set {name}: no folder (give --src or --root {name}=FOLDER)")
            roots[name] = src / name
        if not roots[name].is_dir():
            raise PrepareError(f"set {name}: folder not found: {roots[name]}")
    return roots


def prepare(args: argparse.Namespace) -> Path:
    """Build the output folder; returns it. Raises PrepareError on bad input."""
    sets = read_sources(args.sources)
    roots = parse_roots(args.root, sets, args.src)
    output = check_output(args.output, roots.values(), args.overwrite)
    if args.shard_photos < 1 or args.shard_photos * PIXELS * PIXELS * 3 > SHARD_BYTES:
        raise PrepareError(f"--shard-photos must be 1 to {SHARD_BYTES // (PIXELS * PIXELS * 3)} "
                           f"(at most {SHARD_BYTES / 1e6:.0f} MB a shard), got {args.shard_photos}")
    HashIndex(args.threshold)  # checks the threshold

    photos, ignored = [], {}
    for split in ("val", "train"):
        for s in sets:
            if split == "val" and s.val is None:
                continue
            found, n_ignored = find_photos(s, roots[s.name], split)
            photos += found
            ignored[s.name] = ignored.get(s.name, 0) + n_ignored
    print(f"{len(photos):,} photo files in {len(sets)} sets", flush=True)

    start = time.time()
    for photo, result in zip(photos, parallel_map(analyse, [p.source for p in photos],
                                                  args.workers, "decode, hash")):
        photo.error, photo.sha256, photo.phash, photo.colored, photo.format = result
    print(f"analysed {len(photos):,} files in {time.time() - start:.0f} s", flush=True)
    decide(photos, args.threshold)

    train = sorted((p for p in photos if p.split == "train" and p.status == "kept"),
                   key=lambda p: p.relpath)
    chosen = {s.val.output: validation_list(s, photos, args.seed) for s in sets if s.val}
    by_set = {s.name: s for s in sets}

    partial = output.parent / f".{output.name}.partial"
    if partial.exists():  # left by an interrupted run: this script's scratch folder
        shutil.rmtree(partial)
    partial.mkdir(parents=True)
    try:
        lists: dict[str, list[str]] = {}
        for name, chosen_photos in (("train.txt", train), *chosen.items()):
            lists[name] = [place(p, partial, by_set[p.set].link and not args.copy)
                           for p in chosen_photos]
            (partial / name).write_text("".join(f"{f}\n" for f in lists[name]))
        if args.shards:
            shard_folder = partial / "shards"
            shard_folder.mkdir()
            index = {"pixels": PIXELS, "splits": {}}
            for name, files in lists.items():
                order = list(range(len(files)))
                if name == "train.txt":
                    random.Random(args.seed).shuffle(order)
                split = name.removesuffix(".txt")
                index["splits"][split] = write_shards(
                    shard_folder, split, [files[i] for i in order],
                    [partial / files[i] for i in order], args.workers, args.shard_photos)
            (shard_folder / "index.json").write_text(json.dumps(index, indent=1) + "\n")
        (partial / "photos.tsv").write_text(photos_tsv(photos))
        (partial / "SOURCES.md").write_text(sources_md(sets, photos, ignored, lists, args))
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if output.exists():
        old = output.parent / f".{output.name}.old"
        if old.exists():
            shutil.rmtree(old)
        output.rename(old)
        partial.rename(output)
        shutil.rmtree(old)
    else:
        partial.rename(output)
    return output


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sources", type=Path, help="sources file (JSON), e.g. "
                        "training/sources/mixed150k.json")
    parser.add_argument("--output", type=Path, required=True,
                        help="the photo folder to write (outside the repository)")
    parser.add_argument("--src", type=Path, help="folder holding each set's copy as SRC/NAME")
    parser.add_argument("--root", action="append", default=[], metavar="NAME=FOLDER",
                        help="a set's folder, instead of SRC/NAME (repeatable)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace a non-empty output folder")
    parser.add_argument("--threshold", type=int, default=4,
                        help="near duplicates: at most this many of the 64 hash bits differ "
                        "(default 4; phash sets 32 bits, so distances are even)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the validation subsets and the shards' order")
    parser.add_argument("--copy", action="store_true",
                        help="copy the photos of sets marked 'link' too (a folder that stands "
                        "alone)")
    parser.add_argument("--shards", action="store_true",
                        help=f"also write the {PIXELS} px pixels as .npy shards (shards/)")
    parser.add_argument("--shard-photos", type=int, default=SHARD_BYTES // (PIXELS * PIXELS * 3),
                        help="photos per shard (default: the most that fit in 60 MB)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="processes decoding photos (default: one per CPU core)")
    args = parser.parse_args(argv)
    start = time.time()
    try:
        output = prepare(args)
    except PrepareError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"wrote {output} in {time.time() - start:.0f} s; counts in {output / 'SOURCES.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
