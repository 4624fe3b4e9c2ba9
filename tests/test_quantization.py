"""The classification head's colour classes (Zhang et al. 2016): bins, soft-encoding, prior,
rebalancing, annealed-mean decoding, the loss, and a classification model end to end."""

import json

import keras
import numpy as np
import pytest
from PIL import Image

from colorizer import create_model, from_pretrained
from colorizer.cli import main
from colorizer.evaluation.evaluate import evaluate
from colorizer.io import color
from colorizer.models import quantization
from colorizer.models.losses import RebalancedCrossEntropy, objective
from colorizer.training.loop import TrainConfig, train
from tests.conftest import colourful_image

BINS = quantization.ab_bins()
Q = len(BINS)


def test_bins_are_the_grid_cells_that_srgb_colours_reach():
    # Every 8-bit sRGB colour reaches one of these cells and each cell is reached: 261 cells
    # of the 10 x 10 grid (Zhang et al. keep 313; see the README on the difference).
    assert BINS.shape == (261, 2)
    assert np.all(BINS % 10 == 0)
    assert BINS[:, 0].min() == -90 and BINS[:, 0].max() == 100  # the paper's extent
    assert BINS[:, 1].min() == -110 and BINS[:, 1].max() == 90
    rng = np.random.default_rng(0)
    ab = np.asarray(color.rgb_to_lab(rng.integers(0, 256, (5000, 3)) / 255.0))[:, 1:]
    cells = np.floor(ab / 10 + 0.5) * 10
    known = {tuple(c) for c in BINS.tolist()}
    assert all(tuple(c) in known for c in cells.tolist())
    assert quantization.ab_bins() is BINS  # computed once


def test_decoding_a_one_hot_distribution_gives_the_bin_centre():
    for k in (0, 17, Q - 1):
        one_hot = np.eye(Q, dtype=np.float32)[k]
        for temperature in (0.0, 0.38, 1.0):
            ab = np.asarray(quantization.annealed_mean(one_hot, temperature=temperature))
            np.testing.assert_allclose(ab, BINS[k], atol=1e-4)


def test_temperature_zero_is_the_mode_and_one_is_the_mean():
    rng = np.random.default_rng(1)
    probabilities = rng.dirichlet(np.full(Q, 0.3), size=4).astype(np.float32)
    mode = BINS[np.argmax(probabilities, axis=-1)]
    np.testing.assert_allclose(quantization.annealed_mean(probabilities, temperature=0.0), mode)
    np.testing.assert_allclose(quantization.annealed_mean(probabilities, temperature=0.01), mode,
                               atol=0.5)
    np.testing.assert_allclose(quantization.annealed_mean(probabilities, temperature=1.0),
                               probabilities @ BINS, rtol=1e-4, atol=1e-3)
    with pytest.raises(ValueError, match="temperature"):
        quantization.annealed_mean(probabilities, temperature=-0.1)


def test_soft_encoding_sums_to_one_and_peaks_at_the_true_bin():
    rng = np.random.default_rng(2)
    true_bins = rng.integers(0, Q, 50)
    ab = (BINS[true_bins] + rng.uniform(-4, 4, (50, 2))).astype(np.float32)
    encoded = np.asarray(quantization.soft_encode(ab))
    assert encoded.shape == (50, Q)
    np.testing.assert_allclose(encoded.sum(axis=-1), 1.0, rtol=1e-5)
    assert np.all(np.count_nonzero(encoded, axis=-1) == quantization.NEIGHBOURS)
    assert np.all(np.argmax(encoded, axis=-1) == true_bins)


def test_rebalancing_weights_are_normalised_and_favour_rare_colours():
    rng = np.random.default_rng(3)
    prior = rng.dirichlet(np.full(Q, 0.5))
    weights = quantization.rebalancing_weights(prior, 0.5)
    assert np.sum(prior * weights) == pytest.approx(1.0)
    assert weights[np.argmin(prior)] > weights[np.argmax(prior)]
    # lambda = 1 is no rebalancing at all: every class weighs 1.
    np.testing.assert_allclose(quantization.rebalancing_weights(prior, 1.0), 1.0)


def test_prior_of_images_peaks_at_their_colour_and_round_trips(tmp_path):
    red = np.zeros((2, 8, 8, 3), np.uint8)
    red[..., 0] = 200
    prior = quantization.prior_from_images(red)
    ab = np.asarray(color.rgb_to_lab(red[0, 0, 0] / 255.0))[1:]
    assert prior.sum() == pytest.approx(1.0)
    assert np.linalg.norm(BINS[np.argmax(prior)] - ab) <= 5 * np.sqrt(2)
    path = quantization.save_prior(prior, tmp_path / "prior.json", source="test")
    np.testing.assert_allclose(quantization.load_prior(path), prior)
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(ValueError, match="not a colour prior"):
        quantization.load_prior(tmp_path / "bad.json")


def test_rebalanced_loss_rewards_the_true_colours():
    prior = np.full(Q, 1.0 / Q)
    loss = RebalancedCrossEntropy(prior)
    ab = np.stack(np.broadcast_arrays(BINS[40], np.zeros((1, 4, 4, 2))))[0].astype(np.float32)
    target = color.normalize_ab(ab)
    right = np.asarray(quantization.soft_encode(ab), np.float32)
    uniform = np.full((1, 4, 4, Q), 1.0 / Q, np.float32)
    assert float(loss(target, right)) < float(loss(target, uniform))
    # A target at twice the prediction's size is pooled down to it.
    assert np.isfinite(float(loss(np.repeat(np.repeat(target, 2, 1), 2, 2), right)))
    with pytest.raises(ValueError, match="prior"):
        objective("classification", None)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["cnn", "lite0_unet"])
def test_architectures_build_with_either_head(name):
    args = {"image_size": 64, **({"weights": None} if name == "lite0_unet" else {"width": 0.25})}
    regression = create_model(name, **args)
    classification = create_model(name, head="classification", **args)
    assert regression.network.output_shape[-1] == 2
    assert classification.network.output_shape[-1] == Q
    # the distribution is made at a coarser scale
    assert classification.network.output_shape[1] < 64
    ab = classification.predict_ab(np.full((1, 64, 64, 1), 50.0, np.float32))
    assert ab.shape == (1, 64, 64, 2)
    with pytest.raises(ValueError, match="head must be one of"):
        create_model(name, head="gan", **args)


@pytest.mark.slow
def test_a_classification_model_trains_colorizes_and_evaluates(image_folder, tmp_path):
    config = TrainConfig(model="autoencoder", data=str(image_folder), output=str(tmp_path / "run"),
                         image_size=32, batch_size=4, epochs=1,
                         model_args={"head": "classification"})
    with pytest.warns(UserWarning, match="skipped 3"):
        run = train(config)
    assert (run / "prior.json").is_file() and (run / "model" / "prior.json").is_file()
    model = from_pretrained(run)
    np.testing.assert_allclose(model.spec.prior,
                               quantization.load_prior(run / "prior.json"))

    photo = Image.fromarray(colourful_image(5, (50, 30)))
    vivid = model.colorize(photo, temperature=0.05)
    muted = model.colorize(photo, temperature=1.0)
    assert vivid.size == muted.size == (50, 30)
    with pytest.raises(ValueError, match="between 0 and 1"):
        model.colorize(photo, temperature=2.0)

    summary = evaluate(model, image_folder, split=None, limit=4, grid_images=0)
    assert summary["temperature"] == pytest.approx(0.38)
    for predictor in ("model", "gray", "mean"):
        assert 0.0 <= summary["results"][predictor]["auc_rebalanced"] <= 100.0


def test_temperature_is_refused_for_a_regression_model():
    model = create_model("autoencoder", image_size=32)
    with pytest.raises(ValueError, match="regression head"):
        model.colorize(colourful_image(1), temperature=0.38)


def test_prior_command(image_folder, tmp_path, capsys):
    output = tmp_path / "prior.json"
    with pytest.warns(UserWarning, match="skipped 3"):
        assert main(["prior", "--data", str(image_folder), "--split", "train", "-o",
                     str(output)]) == 0
    assert "bins above" in capsys.readouterr().out
    record = json.loads(output.read_text())
    assert len(record["prior"]) == Q and record["sigma"] == quantization.SIGMA
    assert main(["prior", "--data", str(image_folder), "-o", str(output)]) == 2  # no overwrite
    assert "exists" in capsys.readouterr().err


@pytest.mark.slow
def test_a_classification_model_can_start_from_a_regression_one(image_folder, tmp_path):

    regression = create_model("autoencoder", image_size=32)
    regression.save_pretrained(tmp_path / "regression")
    config = TrainConfig(model="autoencoder", data=str(image_folder), output=str(tmp_path / "run"),
                         image_size=32, batch_size=4, epochs=1, limit=4, lr=1e-12,
                         model_args={"head": "classification"}, init_from=str(tmp_path / "regression"))
    run = train(config)
    started = from_pretrained(run)

    def first_conv(model):  # a layer both heads share
        return next(layer for layer in model.network.layers
                    if isinstance(layer, keras.layers.Conv2D))

    np.testing.assert_allclose(first_conv(started).get_weights()[0],
                               first_conv(regression).get_weights()[0], atol=1e-6)


def test_a_bad_prior_file_fails_before_the_run_folder_is_made(image_folder, tmp_path):
    (tmp_path / "prior.json").write_text("{}")
    config = TrainConfig(model="autoencoder", data=str(image_folder), output=str(tmp_path / "run"),
                         image_size=32, prior=str(tmp_path / "prior.json"),
                         model_args={"head": "classification"})
    with pytest.raises(ValueError, match="not a colour prior"):
        train(config)
    assert not (tmp_path / "run").exists()
