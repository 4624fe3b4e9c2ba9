"""research/probe_colourfulness.py: the ridge fit, and a whole run on a small photo folder."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from colorizer import create_model, save_pretrained

SCRIPT = Path(__file__).resolve().parent.parent / "probe_colourfulness.py"


@pytest.fixture(scope="module")
def probe():
    spec = importlib.util.spec_from_file_location("probe_colourfulness", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ridge_fits_the_signal_not_the_noise(probe):
    rng = np.random.default_rng(0)
    x, x_new = rng.normal(size=(400, 8)), rng.normal(size=(400, 8))
    weights = np.arange(1.0, 9.0)
    y = x @ weights + 30.0 + rng.normal(size=400)
    w, b = probe._fit_ridge(x, y, probe.ridge_cv(x, y))
    # On new photos the prediction is close to the noise-free relation (the noise itself has
    # a mean absolute value of 0.8).
    assert np.abs(x_new @ w + b - (x_new @ weights + 30.0)).mean() < 0.2


def test_mean_std_pool(probe):
    x = np.random.default_rng(1).normal(size=(2, 5, 4, 3)).astype(np.float32)
    pooled = np.asarray(probe.MeanStdPool()(x))
    np.testing.assert_allclose(pooled[:, :3], x.mean((1, 2)), atol=1e-5)
    np.testing.assert_allclose(pooled[:, 3:], x.std((1, 2)), atol=1e-3)


def run(probe, monkeypatch, capsys, *args):
    monkeypatch.setattr(sys, "argv", ["probe_colourfulness.py", *map(str, args)])
    probe.main()
    return capsys.readouterr().out


def test_whole_run_on_a_folder(probe, image_folder, tmp_path, monkeypatch, capsys):
    # lite0_unet names its layers (auto-named ones change each time a model is loaded); its
    # encoder is a nested model with several outputs, its decoder levels plain layers.
    model = save_pretrained(create_model("lite0_unet", image_size=32, weights=None),
                            tmp_path / "model")
    cache = tmp_path / "cache"
    with pytest.warns(UserWarning, match="2 unreadable"):
        out = run(probe, monkeypatch, capsys, "--data", image_folder, "--model", model,
                  "--layers", "efficientnet_lite0", "up0_relu2", "--cache", cache,
                  "--finetune-epochs", "1")
    assert "ridge regression" in out and "end to end, epoch 1" in out
    # The originals' CF of the 13 readable photos is cached per split.
    train_cf = np.load(cache / "cf_train.npy")
    assert len(train_cf) + len(np.load(cache / "cf_val.npy")) == 13
    assert (train_cf >= 0).all()
    # A second run reads the cached CF instead of computing it again.
    again = run(probe, monkeypatch, capsys, "--data", image_folder, "--model", model,
                "--layers", "up0_relu2", "--cache", cache)
    assert "originals:" not in again and "ridge regression" in again


def test_unknown_layer_is_named(probe, image_folder, tmp_path, monkeypatch, capsys):
    model = save_pretrained(create_model("autoencoder", image_size=32), tmp_path / "model")
    with pytest.raises(SystemExit, match="no_such_layer"):
        run(probe, monkeypatch, capsys, "--data", image_folder, "--model", model,
            "--layers", "no_such_layer", "--cache", tmp_path / "cache")


def test_bad_arguments_are_refused_before_any_work(probe, tmp_path, monkeypatch, capsys):
    with pytest.raises(SystemExit):
        run(probe, monkeypatch, capsys, "--data", tmp_path, "--model", tmp_path,
            "--layers", "ab", "--cache", tmp_path / "cache", "--finetune-epochs", "-1")
    assert "--finetune-epochs must be >= 0" in capsys.readouterr().err
    assert not (tmp_path / "cache").exists()
