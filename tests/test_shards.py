"""Training from memory-mapped photo shards (colorizer/training/shards.py) on tiny synthetic shards."""

import json

import numpy as np
import pytest
from PIL import Image

from colorizer.training import data, shards
from colorizer.training.loop import TrainConfig, train
from colorizer.training.sources import ArraySource
from conftest import colourful_image
from test_train import _epochs, _run_without_tensorflow

SIDE = 32


def write_shards(folder, splits: dict[str, list[np.ndarray]], side: int = SIDE) -> None:
    """Shards in the format of training/prepare_photos.py --shards (at ``side`` px)."""
    folder.mkdir(parents=True)
    index = {"pixels": side, "splits": {}}
    for split, arrays in splits.items():
        entries = []
        for i, array in enumerate(arrays):
            stem = f"{split}-{i:05d}"
            np.save(folder / f"{stem}.npy", array)
            (folder / f"{stem}.txt").write_text("".join(f"p{n}.jpg\n" for n in range(len(array))))
            entries.append({"pixels": f"{stem}.npy", "photos": f"{stem}.txt",
                            "count": len(array)})
        index["splits"][split] = entries
    (folder / "index.json").write_text(json.dumps(index))


def numbered(first: int, count: int) -> np.ndarray:
    """``count`` flat photos whose every value is their number."""
    return np.repeat(np.arange(first, first + count, dtype=np.uint8), SIDE * SIDE * 3).reshape(
        count, SIDE, SIDE, 3)


def colourful(first: int, count: int) -> np.ndarray:
    return np.stack([colourful_image(first + i, (SIDE, SIDE)) for i in range(count)])


@pytest.fixture
def numbered_folder(tmp_path):
    """A prepared folder whose shards hold photos numbered 0-12 (train, shards of 5, 5, 3) and
    100-103 (val)."""
    write_shards(tmp_path / "prepared" / "shards",
                 {"train": [numbered(0, 5), numbered(5, 5), numbered(10, 3)],
                  "val": [numbered(100, 4)]})
    return tmp_path / "prepared"


@pytest.fixture
def photo_folder(tmp_path):
    """A prepared folder (shards only) of 10 training and 4 validation colour photos."""
    write_shards(tmp_path / "photos" / "shards",
                 {"train": [colourful(0, 4), colourful(4, 4), colourful(8, 2)],
                  "val": [colourful(20, 4)]})
    return tmp_path / "photos"


def _config(folder, output, **overrides):
    settings = dict(model="autoencoder", data=str(folder), output=str(output),
                    image_size=SIDE, batch_size=2, epochs=1)
    return TrainConfig(**{**settings, **overrides})


def test_shards_read_like_one_array_copying_only_what_is_asked(numbered_folder):
    folder = shards.shard_folder(numbered_folder)
    assert folder == numbered_folder / "shards"
    assert shards.shard_folder(folder) == folder  # the shards folder itself
    train = shards.open_split(folder, shards.read_index(folder), "train")
    assert all(isinstance(a, np.memmap) for a in train.arrays)
    assert train.shape == (13, SIDE, SIDE, 3) and len(train) == 13
    assert train[np.array([7, 0, 12, 5])][:, 0, 0, 0].tolist() == [7, 0, 12, 5]
    assert train[3:7][:, 0, 0, 0].tolist() == [3, 4, 5, 6] and int(train[-1][0, 0, 0]) == 12
    with pytest.raises(IndexError):
        train[np.array([13])]
    # The first photos of a split: only the shards holding them are opened.
    first = shards.open_split(folder, shards.read_index(folder), "train", limit=6)
    assert len(first) == 6 and len(first.arrays) == 2
    assert all(isinstance(a, np.memmap) for a in first.arrays)
    assert first[np.arange(6)][:, 0, 0, 0].tolist() == list(range(6))
    assert len(train.head(7)) == 7 and len(shards.prior_sample(train)) == 13


def test_epoch_order_is_seeded_and_shuffles_within_windows_of_shards(tmp_path, monkeypatch):
    write_shards(tmp_path / "s", {"train": [numbered(5 * i, 5) for i in range(6)], "val": []})
    train = shards.open_split(tmp_path / "s", shards.read_index(tmp_path / "s"), "train")
    monkeypatch.setattr(shards, "SHUFFLE_WINDOW", 2)
    rng = np.random.default_rng(7)
    epochs = [train.epoch_order(rng) for _ in range(3)]
    again = np.random.default_rng(7)
    assert all(np.array_equal(order, train.epoch_order(again)) for order in epochs)
    assert not np.array_equal(epochs[0], epochs[1])
    for order in epochs:
        assert sorted(order.tolist()) == list(range(30))
        # Each run of 10 photos comes from 2 shards (a window), mixed together.
        windows = [set((order[i:i + 10] // 5).tolist()) for i in range(0, 30, 10)]
        assert all(len(w) == 2 for w in windows) and set().union(*windows) == set(range(6))
        assert not np.array_equal(np.sort(order[:10]), order[:10])


def test_smaller_sizes_are_resized_larger_ones_refused(photo_folder):
    folder = photo_folder / "shards"
    small = shards.open_split(folder, shards.read_index(folder), "val", size=16)
    assert small.shape == (4, 16, 16, 3)
    expected = Image.fromarray(colourful_image(21, (SIDE, SIDE))).resize((16, 16),
                                                                         Image.BICUBIC)
    np.testing.assert_array_equal(small[1], np.asarray(expected))
    with pytest.raises(ValueError, match="would upscale them; train at 32 px or less"):
        shards.open_splits(_config(photo_folder, "unused", image_size=64))


def _one_line_error(config, kind, match):
    with pytest.raises(kind, match=match) as caught:
        shards.open_splits(config)
    assert "\n" not in str(caught.value)


def test_bad_shard_folders_are_one_clear_line(numbered_folder):
    folder = numbered_folder / "shards"
    config = _config(numbered_folder, "unused")
    shard = folder / "train-00001.npy"
    whole = shard.read_bytes()
    shard.write_bytes(whole[: len(whole) // 2])
    _one_line_error(config, ValueError, "train-00001.npy is not a readable .npy shard")
    np.save(shard, numbered(5, 5)[:, :16])
    _one_line_error(config, ValueError, r"train-00001.npy holds uint8 \(5, 16, 32, 3\)")
    np.save(shard, numbered(5, 4))
    _one_line_error(config, ValueError, r"says uint8 \(5, 32, 32, 3\)")
    shard.unlink()
    _one_line_error(config, FileNotFoundError, "train-00001.npy .* is missing")
    index = json.loads((folder / "index.json").read_text())
    (folder / "index.json").write_text(json.dumps({**index, "splits": {"train": []}}))
    _one_line_error(config, ValueError, "has no 'val' split")
    (folder / "index.json").write_text("{")
    _one_line_error(config, ValueError, "index.json is not valid JSON")
    (folder / "index.json").unlink()
    _one_line_error(config, FileNotFoundError, "holds .npy shards but no index.json")


def test_tf_dataset_reads_the_shards_in_a_seeded_order_per_epoch(photo_folder, monkeypatch):
    folder = photo_folder / "shards"
    train = shards.open_split(folder, shards.read_index(folder), "train")

    def never(*args):
        raise AssertionError("the shards were turned into one tensor")

    monkeypatch.setattr(data.tf.data.Dataset, "from_tensor_slices", never)

    def epochs(seed, augment=()):
        dataset = data.make_dataset(train, 24, 4, shuffle=True, seed=seed, augment=augment)
        return [np.concatenate([np.asarray(lightness) for lightness, _ in dataset])
                for _ in range(2)]

    first, second = epochs(3)
    assert first.shape == (10, 24, 24, 1)
    assert not np.allclose(first, second)  # a new order every epoch ...
    np.testing.assert_allclose(epochs(3)[1], second)  # ... the same given the seed
    assert not np.allclose(epochs(4)[0], first)
    crops = data.make_dataset(train, 24, 4, shuffle=True, seed=3, augment=["flip", "crop"])
    assert [tuple(ab.shape) for _, ab in crops] == [(4, 24, 24, 2)] * 2 + [(2, 24, 24, 2)]


@pytest.mark.slow
def test_tf_source_trains_one_epoch_from_shards(photo_folder, tmp_path, monkeypatch, capsys):
    def never(*args, **kwargs):
        raise AssertionError("photo files were decoded")

    monkeypatch.setattr(data, "load_images", never)
    monkeypatch.setattr(shards, "PRIOR_PHOTOS", 5)
    run = train(_config(photo_folder, tmp_path / "run", limit=6, val_limit=3,
                        augment=["flip", "crop"], model_args={"head": "classification"}))
    assert "training on 6 images, validating on 3" in capsys.readouterr().err
    assert _epochs(run) == [0] and (run / "model").is_dir()
    prior = json.loads((run / "prior.json").read_text())
    assert prior["source"] == f"5 training images of {photo_folder}"


def test_array_source_indexes_the_memory_maps_per_batch(photo_folder):
    train, val = ArraySource().load(_config(photo_folder, "unused", limit=7))
    assert (len(train), len(val)) == (7, 4)
    assert isinstance(train, shards.Shards) and all(isinstance(a, np.memmap) for a in train.arrays)
    config = _config(photo_folder, "unused", seed=5)
    runs = [ArraySource().batches(train, config, lambda lightness, ab: (lightness, ab),
                                  training=True) for _ in range(2)]
    for epoch in range(2):
        batches = [[np.asarray(b[1][..., 0]) for b in (run[i] for i in range(len(run)))]
                   for run in runs]
        np.testing.assert_array_equal(np.concatenate(batches[0]), np.concatenate(batches[1]))
        for run in runs:
            run.on_epoch_end()


@pytest.mark.slow
def test_shards_train_on_jax_without_tensorflow(photo_folder, tmp_path):
    done = _run_without_tensorflow(f"""
        from colorizer.training.config import TrainConfig
        from colorizer.training.loop import train

        train(TrainConfig(model="cnn", data={str(photo_folder / 'shards')!r}, output="run",
                          epochs=1, image_size=16, batch_size=2, limit=5, val_limit=2,
                          model_args={{"width": 0.125}}))
        print("TF", "tensorflow" in sys.modules)
    """, tmp_path)
    assert "TF False" in done.stdout
    assert "training on 5 images, validating on 2" in done.stderr
    assert _epochs(tmp_path / "run") == [0]
