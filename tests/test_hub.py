import json

import numpy as np
import pytest

from colorizer import create_model, load_pretrained, save_pretrained


def test_round_trip_gives_identical_predictions(tmp_path):
    model = create_model("cnn", image_size=32, width=0.125)
    folder = save_pretrained(model, tmp_path / "cnn")
    config = json.loads((folder / "config.json").read_text())
    assert config["architecture"] == "cnn" and config["args"] == {"image_size": 32, "width": 0.125}
    assert config["normalization"] == {"ab_scale": 110.0, "l_center": 50.0, "l_scale": 100.0}
    loaded = load_pretrained(folder)
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 32, 32, 1)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(loaded(x)))


def test_xception_folder_loads_without_downloading(tmp_path):
    model = create_model("xception_decoder", image_size=96, weights=None)
    save_pretrained(model, tmp_path / "x")
    config = json.loads((tmp_path / "x" / "config.json").read_text())
    config["args"]["weights"] = "imagenet"  # as a folder trained online would record it
    (tmp_path / "x" / "config.json").write_text(json.dumps(config))
    assert load_pretrained(tmp_path / "x").count_params() == model.count_params()


def test_corrupted_or_mismatched_weights_name_the_file(tmp_path):
    save_pretrained(create_model("autoencoder", image_size=32), tmp_path / "a")
    (tmp_path / "a" / "model.weights.h5").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="model.weights.h5"):
        load_pretrained(tmp_path / "a")

    save_pretrained(create_model("autoencoder", image_size=32), tmp_path / "b")
    config = json.loads((tmp_path / "b" / "config.json").read_text())
    config["args"]["image_size"] = 64
    (tmp_path / "b" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match="does not match"):
        load_pretrained(tmp_path / "b")


def test_not_a_model_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json is missing"):
        load_pretrained(tmp_path)
