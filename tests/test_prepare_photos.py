"""training/prepare_photos.py on a tiny generated photo-set repository (no network)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SCRIPT = Path(__file__).resolve().parent.parent / "training" / "prepare_photos.py"


@pytest.fixture(scope="module")
def prep():
    spec = importlib.util.spec_from_file_location("prepare_photos", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def photo(seed: int, size=(64, 48)) -> Image.Image:
    """A smooth random colour photo: different seeds give unrelated pictures."""
    cells = np.random.default_rng(seed).uniform(0, 255, (5, 6, 3)).astype(np.uint8)
    return Image.fromarray(cells).resize(size, Image.BICUBIC)


def jpeg(image: Image.Image, path: Path, quality: int = 90) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path, "JPEG", quality=quality)


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A photo-set repository at a commit, extracted as the README says; a Flickr8k-like list
    set; and a sources file naming both."""
    base = tmp_path_factory.mktemp("prepare")
    repo = base / "repo"
    images = repo / "pics"
    for i in range(4):
        jpeg(photo(i), images / "train" / f"a{i}.jpg")
    jpeg(photo(10), images / "val" / "v0.jpg")
    jpeg(photo(11), images / "val" / "v1.jpg")
    jpeg(photo(12), images / "val" / "v2.jpg")
    gray = np.asarray(photo(20).convert("L").convert("RGB"))
    jpeg(Image.fromarray(gray), images / "train" / "gray.jpg")
    shutil.copyfile(images / "train" / "a0.jpg", images / "train" / "same_as_a0.jpg")
    jpeg(photo(1).resize((56, 42), Image.BICUBIC), images / "train" / "like_a1.jpg", quality=60)
    jpeg(photo(10).resize((60, 45), Image.BICUBIC), images / "train" / "like_v0.jpg",
         quality=60)
    whole = (images / "train" / "a3.jpg").read_bytes()
    (images / "train" / "truncated.jpg").write_bytes(whole[: len(whole) // 2])
    photo(5).save(images / "train" / "tiff_inside.jpg", "TIFF")  # not a format to keep
    (images / "train" / ".DS_Store").write_bytes(b"\0\1junk")
    (repo / "README").write_text("not a photo\n")
    git("init", "-q", cwd=repo)
    git("add", ".", cwd=repo)
    git("-c", "user.name=t", "-c", "user.email=t@t.invalid", "commit", "-qm", "photos", cwd=repo)
    commit = git("rev-parse", "HEAD", cwd=repo)
    src = base / "src"
    (src / "alpha").mkdir(parents=True)
    archive = subprocess.run(["git", f"--git-dir={repo / '.git'}", "archive", commit, "pics"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(src / "alpha")], input=archive, check=True)

    flickr = base / "flickr"
    for i in range(3):
        jpeg(photo(30 + i), flickr / f"f{i}.jpg")
    jpeg(photo(40), flickr / "fv0.jpg")
    jpeg(Image.fromarray(np.asarray(photo(41).convert("L").convert("RGB"))), flickr / "fv1.jpg")
    (flickr / "train.txt").write_text("f0.jpg\nf1.jpg\nf2.jpg\n")
    (flickr / "val.txt").write_text("fv0.jpg\nfv1.jpg\n")

    sources = base / "sources.json"
    sources.write_text(json.dumps({"sets": [
        {"name": "flick", "title": "Flickr-like", "repository": "a local copy", "commit": "",
         "train": {"list": "train.txt"}, "val": {"list": "val.txt", "output": "val.txt"},
         "link": True, "terms": "research only"},
        {"name": "alpha", "title": "Alpha", "repository": "example.invalid/alpha",
         "commit": commit, "train": {"paths": ["pics/train"]},
         "val": {"paths": ["pics/val"], "output": "val_alpha.txt", "subset": 2},
         "terms": "CC0"},
    ]}))
    return {"base": base, "src": src, "flickr": flickr, "sources": sources, "commit": commit,
            "alpha": src / "alpha" / "pics"}


def run(prep, world, output: Path, *extra: str) -> int:
    return prep.main([str(world["sources"]), "--src", str(world["src"]),
                      "--root", f"flick={world['flickr']}", "--output", str(output),
                      "--workers", "1", *extra])


def tree(folder: Path) -> dict[str, object]:
    """Every entry under ``folder``: a symlink's target or a file's bytes."""
    return {str(p.relative_to(folder)): (("link", str(p.readlink())) if p.is_symlink()
                                         else p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_symlink() or p.is_file()}


@pytest.fixture(scope="module")
def prepared(prep, world):
    output = world["base"] / "out"
    assert run(prep, world, output, "--shards", "--shard-photos", "4") == 0
    return output


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def test_keeps_colour_photos_and_drops_gray_unreadable_and_duplicates(prepared, world):
    assert lines(prepared / "train.txt") == [
        "alpha/train/a0.jpg", "alpha/train/a1.jpg", "alpha/train/a2.jpg", "alpha/train/a3.jpg",
        "alpha/train/tiff_inside.png", "flick/f0.jpg", "flick/f1.jpg", "flick/f2.jpg"]
    status = {row.split("\t")[0]: row.split("\t")[2:4]
              for row in lines(prepared / "photos.tsv")[1:]}
    assert status["alpha/train/gray.jpg"] == ["gray", ""]
    assert status["alpha/train/truncated.jpg"] == ["unreadable", ""]
    assert status["alpha/train/same_as_a0.jpg"] == ["exact duplicate", "alpha/train/a0.jpg"]
    assert status["alpha/train/like_a1.jpg"] == ["near duplicate", "alpha/train/a1.jpg"]
    # A near copy of a validation photo never reaches training, whichever set it is in.
    assert status["alpha/train/like_v0.jpg"] == ["near duplicate", "alpha/val/v0.jpg"]
    assert not any(".DS_Store" in name for name in status)
    assert len(status) == 10 + 3 + 3 + 2  # alpha train, alpha val, flick train, flick val

    # The originals' bytes, no resizing; the linked set as symlinks; the odd format as PNG.
    assert (prepared / "alpha/train/a0.jpg").read_bytes() == (
        world["alpha"] / "train/a0.jpg").read_bytes()
    assert not (prepared / "alpha/train/a0.jpg").is_symlink()
    assert (prepared / "flick/f0.jpg").resolve() == (world["flickr"] / "f0.jpg").resolve()
    with Image.open(prepared / "alpha/train/tiff_inside.png") as image:
        assert image.format == "PNG" and image.size == (64, 48)


def test_validation_lists(prepared, world, prep):
    # The Flickr-like validation list is kept as it is (its gray photo included) ...
    assert lines(prepared / "val.txt") == ["flick/fv0.jpg", "flick/fv1.jpg"]
    # ... and the repository's validation split gives a fixed subset of its colour photos.
    chosen = lines(prepared / "val_alpha.txt")
    assert len(chosen) == 2 and set(chosen) <= {f"alpha/val/v{i}.jpg" for i in range(3)}
    assert all((prepared / name).is_file() for name in chosen)
    other = world["base"] / "out_seed"
    assert run(prep, world, other, "--seed", "0") == 0
    assert lines(other / "val_alpha.txt") == chosen


def test_sources_md_counts(prepared, world):
    text = (prepared / "SOURCES.md").read_text()
    alpha = next(line for line in text.splitlines() if line.startswith("| Alpha"))
    assert f"example.invalid/alpha @ `{world['commit']}`" in alpha
    # found 10, unreadable 1, gray 1, exact 1, near 2 (1 of them of a validation photo), kept 5
    assert "| 10 | 1 | 1 | 1 | 2 | 1 | 5 |" in alpha
    assert "`val_alpha.txt`: 2 of 3" in alpha and "| CC0 |" in alpha
    flick = next(line for line in text.splitlines() if line.startswith("| Flickr-like"))
    assert "| 3 | 0 | 0 | 0 | 0 | 0 | 3 |" in flick and "research only" in flick
    assert "alpha 1" in text  # the .DS_Store file, ignored


def test_shards_hold_the_listed_photos_at_128_px(prepared, prep):
    index = json.loads((prepared / "shards/index.json").read_text())
    assert index["pixels"] == 128 and set(index["splits"]) == {"train", "val", "val_alpha"}
    shards = index["splits"]["train"]
    assert [s["count"] for s in shards] == [4, 4]
    names, pixels = [], []
    for shard in shards:
        array = np.load(prepared / "shards" / shard["pixels"], mmap_mode="r")
        assert array.dtype == np.uint8 and array.shape == (shard["count"], 128, 128, 3)
        names += lines(prepared / "shards" / shard["photos"])
        pixels.append(np.asarray(array))
    assert sorted(names) == lines(prepared / "train.txt")
    assert names != sorted(names)  # a seeded random order: every shard a mix of the sets
    first = prep.pixels_of(prepared / names[0])
    np.testing.assert_array_equal(np.concatenate(pixels)[0], first)


def test_training_reads_the_shards_it_writes(prepared):
    from colorizer.training import shards

    folder = shards.shard_folder(prepared)
    index = shards.read_index(folder)
    train = shards.open_split(folder, index, "train")
    names = [name for entry in index["splits"]["train"]
             for name in lines(folder / entry["photos"])]
    assert len(train) == len(names) == 8
    np.testing.assert_array_equal(train[[7]], np.load(folder / "train-00001.npy")[[3]])
    assert len(shards.open_split(folder, index, "val_alpha")) == 2


def test_same_inputs_same_folder_and_parallel_workers_agree(prepared, prep, world):
    again = world["base"] / "again"
    again.mkdir()
    assert prep.main([str(world["sources"]), "--src", str(world["src"]),
                      "--root", f"flick={world['flickr']}", "--output", str(again),
                      "--workers", "2", "--shards", "--shard-photos", "4"]) == 0
    first = tree(prepared)
    assert tree(again) == first
    assert run(prep, world, again, "--shards", "--shard-photos", "4", "--overwrite") == 0
    assert tree(again) == first
    assert not list(world["base"].glob(".again*"))  # no scratch folder left behind


def test_refuses_to_overwrite_or_to_write_into_the_repository(prep, world, capsys):
    output = world["base"] / "busy"
    output.mkdir()
    (output / "keep.txt").write_text("mine")
    assert run(prep, world, output) == 2
    assert "not empty: pass --overwrite" in capsys.readouterr().err
    assert tree(output) == {"keep.txt": b"mine"}
    repo = SCRIPT.parent.parent
    assert run(prep, world, repo / "tests" / "artifacts" / "photos") == 2
    assert "into the repository" in capsys.readouterr().err
    assert not (repo / "tests" / "artifacts" / "photos").exists()
    # data/ is git-ignored: the place for local data sets in a checkout.
    assert prep.check_output(repo / "data" / "not_made", [], False) == repo / "data" / "not_made"
    assert run(prep, world, world["src"] / "alpha" / "out") == 2
    assert "overlap" in capsys.readouterr().err


def test_bad_input_is_one_clear_line(prep, world, capsys, tmp_path):
    output = tmp_path / "out"
    assert prep.main([str(world["sources"]), "--src", str(tmp_path / "nowhere"),
                      "--root", f"flick={world['flickr']}", "--output", str(output)]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"sets": [{"name": "x", "title": "X", "repository": "r",
                                         "commit": "c", "terms": "t",
                                         "train": {"paths": ["nope"]}}]}))
    assert prep.main([str(bad), "--src", str(world["src"]), "--root",
                      f"x={world['src'] / 'alpha'}", "--output", str(output)]) == 2
    err = capsys.readouterr().err
    assert "folder not found" in err and "nope" in err
    escaping = tmp_path / "escaping"
    escaping.mkdir()
    (escaping / "train.txt").write_text("../elsewhere.jpg\n")
    bad.write_text(json.dumps({"sets": [{"name": "x", "title": "X", "repository": "r",
                                         "commit": "c", "terms": "t",
                                         "train": {"list": "train.txt"}}]}))
    assert prep.main([str(bad), "--root", f"x={escaping}", "--output", str(output)]) == 2
    assert "inside its folder" in capsys.readouterr().err
    bad.write_text("{")
    assert prep.main([str(bad), "--output", str(output)]) == 2
    assert "not valid JSON" in capsys.readouterr().err
    assert prep.main([str(world["sources"]), "--src", str(world["src"]), "--root",
                      f"flick={world['flickr']}", "--output", str(output),
                      "--threshold", "40"]) == 2
    assert "--threshold" in capsys.readouterr().err
    assert not output.exists()


def test_hash_index_finds_what_brute_force_finds(prep):
    rng = np.random.default_rng(0)
    stored = [int(v) for v in rng.integers(0, 2**63, 300, dtype=np.int64)]
    queries = [stored[i] ^ (1 << int(rng.integers(64))) ^ (1 << int(rng.integers(64)))
               for i in range(0, 300, 7)] + [int(v) for v in rng.integers(0, 2**63, 50)]
    for threshold in (0, 2, 5):
        index = prep.HashIndex(threshold)
        for i, value in enumerate(stored):
            index.add(value, str(i))
        for query in queries:
            near = [str(i) for i, v in enumerate(stored) if (v ^ query).bit_count() <= threshold]
            assert index.find(query) == (near[0] if near else None)
