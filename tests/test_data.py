import numpy as np
import pytest

from colorizer.training import data


def test_folder_split_is_seeded_disjoint_and_80_20(tmp_path):
    for i in range(20):
        (tmp_path / f"{i:02d}.jpg").write_bytes(b"x")
    train = data.list_images(tmp_path, "train")
    val = data.list_images(tmp_path, "val")
    assert len(train) == 16 and len(val) == 4
    assert not set(train) & set(val)
    assert data.list_images(tmp_path, "val") == val
    assert data.list_images(tmp_path, "val", seed=1) != val
    assert len(data.list_images(tmp_path)) == 20


def test_list_files_are_used_when_present(tmp_path):
    (tmp_path / "train.txt").write_text("a.jpg\nb.jpg\n")
    (tmp_path / "val.txt").write_text("c.jpg\n\n")
    assert data.list_images(tmp_path, "val") == [str(tmp_path / "c.jpg")]
    assert data.list_images(tmp_path / "train.txt") == [str(tmp_path / "a.jpg"), str(tmp_path / "b.jpg")]


def test_missing_data_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="not found"):
        data.list_images(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="no images"):
        data.list_images(tmp_path)


def test_bad_and_gray_files_are_skipped_and_counted_in_one_warning(image_folder):
    paths = data.list_images(image_folder)
    with pytest.warns(UserWarning) as caught:
        pixels, kept, report = data.load_images(paths, 32)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert "2 unreadable" in message and "1 near-grayscale" in message
    assert pixels.shape == (12, 32, 32, 3) and pixels.dtype == np.uint8
    assert len(kept) == 12 and all("colour_" in k for k in kept)
    assert sorted(p.split("/")[-1] for p in report.unreadable) == ["not_an_image.jpg", "truncated.jpg"]


def test_dataset_yields_l_and_ab_in_lab_units(image_folder):
    pixels, _, _ = data.load_images(data.list_images(image_folder), 40, warn=False)
    batches = list(data.make_dataset(pixels, 32, 5, shuffle=True, augment=["flip", "crop"], seed=0))
    assert [int(b[0].shape[0]) for b in batches] == [5, 5, 2]
    lightness, ab = batches[0]
    assert lightness.shape == (5, 32, 32, 1) and ab.shape == (5, 32, 32, 2)
    assert 0.0 <= float(np.min(lightness)) and float(np.max(lightness)) <= 100.0
    assert float(np.abs(ab).max()) < 128
    assert float(np.abs(ab).max()) > 10  # the images are colourful


def test_unknown_augmentation_is_rejected():
    with pytest.raises(ValueError, match="unknown augmentation"):
        data.make_dataset(np.zeros((1, 8, 8, 3), np.uint8), 8, 1, augment=["rotate"])
