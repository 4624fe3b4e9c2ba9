"""Colour hints: hint maps, the simulator, the hint model's zero start, the hint evaluation."""

import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from colorizer import Colorizer, create_model
from colorizer.cli import main
from colorizer.evaluation.hints import evaluate_hints, parse_counts
from colorizer.hints.simulator import HintSampler
from colorizer.io import color
from colorizer.io.figures import hint_table
from colorizer.model import copy_shared_layers
from colorizer.models.hint_input import hint_maps, idw_fill, patch_means
from colorizer.training import data
from colorizer.training.config import TrainConfig
from colorizer.training.data import TfDataSource
from colorizer.training.loop import train
from colorizer.training.sources import ArraySource
from conftest import colourful_image


def test_hint_maps_hold_the_patches_their_mask_and_an_exact_fill_at_the_points():
    points = np.array([[3, 4, 20.0, -30.0, 1], [10, 12, -5.0, 40.0, 3], [0, 15, 7.0, 9.0, 4]],
                      np.float32)
    maps = np.asarray(hint_maps(points, 16))
    assert maps.shape == (16, 16, 5)
    for x, y, a, b, _ in points:  # the fill equals each hint's ab at its centre pixel
        np.testing.assert_allclose(maps[int(y), int(x), 3:] * color.AB_SCALE, [a, b], atol=1e-4)
    # Sparse channels: the hint over its patch (3 px: columns 9..11, rows 11..13), mask 1 there.
    np.testing.assert_allclose(maps[11:14, 9:12, :2] * color.AB_SCALE,
                               np.broadcast_to([-5.0, 40.0], (3, 3, 2)), atol=1e-4)
    # A 4 px patch at the corner (0, 15) starts 1 px left and is cut at the map's edges.
    assert maps[14:16, 0:3, 2].min() == 1.0 and maps[13, 0, 2] == 0.0 and maps[14, 3, 2] == 0.0
    assert maps[..., 2].sum() == 1 + 9 + 6
    assert set(np.unique(maps[..., 2])) == {0.0, 1.0}
    assert (maps[..., :2][maps[..., 2] == 0] == 0).all()
    # Between hints the fill is a weighted mean: within the hints' range everywhere.
    fill = maps[..., 3:] * color.AB_SCALE
    assert fill[..., 0].min() >= -5.0 - 1e-3 and fill[..., 0].max() <= 20.0 + 1e-3
    np.testing.assert_allclose(np.asarray(idw_fill(points, 16)), fill, atol=1e-4)
    # Inverse-distance weights (power 2) checked by hand at one pixel.
    d2 = (points[:, 0] - 7.0) ** 2 + (points[:, 1] - 2.0) ** 2
    expected = (points[:, 2:4] / d2[:, None]).sum(0) / (1.0 / d2).sum()
    np.testing.assert_allclose(fill[2, 7], expected, rtol=1e-5)


def test_no_hints_is_a_map_of_zeros():
    assert not np.asarray(hint_maps(np.zeros((0, 5), np.float32), 8)).any()


def test_patch_means_average_the_ground_truth_over_each_patch():
    ab = np.random.default_rng(0).normal(0, 30, (16, 16, 2)).astype(np.float32)
    points = np.array([[5, 6, 0, 0, 3], [15, 0, 0, 0, 5]], np.float32)
    means = np.asarray(patch_means(ab, points))
    np.testing.assert_allclose(means[0, 2:4], ab[5:8, 4:7].mean(axis=(0, 1)), rtol=1e-5)
    np.testing.assert_allclose(means[1, 2:4], ab[0:3, 13:16].mean(axis=(0, 1)), rtol=1e-5)
    np.testing.assert_array_equal(means[:, [0, 1, 4]], points[:, [0, 1, 4]])


def test_the_simulator_is_deterministic_given_its_key_and_seed():
    ab = tf.constant(np.random.default_rng(1).normal(0, 30, (32, 32, 2)), tf.float32)
    sampler = HintSampler(count=6)
    first, again = sampler.points(ab, 7).numpy(), sampler.points(ab, 7).numpy()
    np.testing.assert_array_equal(first, again)
    assert first.shape == (6, 5)
    assert not np.array_equal(first, sampler.points(ab, 8).numpy())
    assert not np.array_equal(first, HintSampler(count=6, seed=1).points(ab, 7).numpy())
    np.testing.assert_allclose(first, np.asarray(patch_means(ab, first)), rtol=1e-5)
    with pytest.raises(ValueError, match="p must be"):
        HintSampler(p=0.0)


def test_the_simulator_follows_the_papers_statistics():
    size = 32
    ab = tf.zeros((size, size, 2))
    sampler = HintSampler()
    points = list(tf.data.Dataset.range(3000).map(lambda key: sampler.points(ab, key))
                  .as_numpy_iterator())
    counts = np.array([len(p) for p in points])
    hinted = counts[counts > 0]
    assert abs((counts == 0).mean() - 0.25) < 0.03  # a quarter of the photos get no hints
    assert abs(hinted.mean() - 8.0) < 0.6  # geometric, p = 1/8: mean 8
    assert abs((hinted == 1).mean() - 1 / 8) < 0.03
    assert hinted.max() <= 64
    allp = np.concatenate(points)
    assert allp[:, :2].min() >= 0 and allp[:, :2].max() <= size - 1
    assert set(np.unique(allp[:, 4])) == set(range(1, 10))  # patch sides 1..9
    # Half the points are Gaussian around the centre (sigma size / 4), half uniform: the middle
    # half of each axis holds 0.5 * (0.25 + 0.683^2) = 0.358 of them (uniform alone: 0.25).
    middle = ((allp[:, :2] >= size / 4) & (allp[:, :2] < 3 * size / 4)).all(axis=1).mean()
    assert abs(middle - 0.358) < 0.03


def test_hint_batches_are_fixed_for_validation_and_redrawn_for_training():
    images = np.stack([colourful_image(i, (16, 16)) for i in range(6)])
    sampler = HintSampler(seed=3)
    val = data.make_dataset(images, 16, 6, hints=sampler)
    (lightness, ab, hints), (_, _, again) = next(iter(val)), next(iter(val))
    assert lightness.shape == (6, 16, 16, 1) and hints.shape == (6, 16, 16, 5)
    np.testing.assert_array_equal(hints, again)
    train = data.make_dataset(images, 16, 6, shuffle=True, seed=0, hints=sampler)
    epochs = [next(iter(train))[2].numpy() for _ in range(2)]
    assert not np.array_equal(*epochs)
    fresh = data.make_dataset(images, 16, 6, shuffle=True, seed=0, hints=sampler)
    np.testing.assert_array_equal(next(iter(fresh))[2], epochs[0])


def test_hints_come_from_each_photos_own_colour_and_reach_the_network_input():
    colours = np.array([[200, 30, 30], [30, 160, 40], [40, 60, 220], [230, 200, 40]], np.uint8)
    images = np.broadcast_to(colours[:, None, None, :], (4, 16, 16, 3)).copy()
    _, ab, hints = next(iter(data.make_dataset(images, 16, 4, hints=HintSampler(count=3))))
    ab, hints = ab.numpy(), hints.numpy()
    for photo in range(4):
        mask = hints[photo, ..., 2] > 0
        assert mask.any()
        np.testing.assert_allclose(hints[photo][mask][:, :2] * color.AB_SCALE,
                                   ab[photo][mask], atol=1e-3)
        np.testing.assert_allclose(hints[photo, ..., 3:] * color.AB_SCALE, ab[photo], atol=1e-3)
    config = TrainConfig(model="lite0_unet", data="unused", model_args={"hints": True},
                         batch_size=4, image_size=16)
    batch = next(iter(TfDataSource().batches(images, config, Colorizer.training_pair,
                                             training=False)))
    inputs, target = batch
    assert set(inputs) == {"lightness", "hints"}
    np.testing.assert_allclose(target, ab / color.AB_SCALE, atol=1e-6)
    with pytest.raises(ValueError, match="only used by a hint model"):
        TrainConfig(model="lite0_unet", data="x", hint_sampler={"p": 0.5}).resolved()
    with pytest.raises(ValueError, match="bad hint_sampler"):
        TrainConfig(model="lite0_unet", data="x", model_args={"hints": True},
                    hint_sampler={"q": 0.5}).resolved()


def _models():
    base = create_model("lite0_unet", image_size=32, weights=None)
    hinted = create_model("lite0_unet", image_size=32, weights=None, hints=True)
    return base, hinted


def test_a_warm_started_hint_model_colours_as_its_source_until_it_learns(tmp_path):
    base, hinted = _models()
    assert hinted.has_hints and not base.has_hints
    assert set(hinted.network.input) == {"lightness", "hints"}
    folder = base.save_pretrained(tmp_path / "base")
    hinted.warm_start(str(folder))
    rng = np.random.default_rng(0)
    lightness = rng.uniform(-0.5, 0.5, (2, 32, 32, 1)).astype(np.float32)
    hints = rng.uniform(-1, 1, (2, 32, 32, 5)).astype(np.float32)
    expected = np.asarray(base.network(lightness))
    for hint_map in (np.zeros_like(hints), hints):  # zero-initialised: no effect yet
        out = np.asarray(hinted.network({"lightness": lightness, "hints": hint_map}))
        np.testing.assert_allclose(out, expected, atol=1e-6)
    # The hint layers are the new ones, at zero, with no bias.
    new = [layer for layer in hinted.network.layers if layer.name.endswith("_hints")]
    assert [layer.name for layer in new] == ["up0_hints", "up1_hints", "up2_hints", "up3_hints",
                                             "up4_hints", "ab_hints"]
    assert all(len(layer.get_weights()) == 1 and not layer.get_weights()[0].any() for layer in new)
    # Once a hint layer is not zero, the hints steer the colour.
    # predict_ab gives a hint model no hints unless asked to.
    np.testing.assert_allclose(hinted.predict_ab(lightness * 100 + 50), base.predict_ab(
        lightness * 100 + 50), atol=1e-4)
    with pytest.raises(ValueError, match="takes no hint maps as input: give hints to colorize"):
        base.predict_ab(lightness, hints=hints)
    # Once a hint layer is not zero, the hints steer the colour.
    layer = hinted.network.get_layer("ab_hints")
    layer.set_weights([np.ones_like(layer.get_weights()[0])])
    steered = np.asarray(hinted.network({"lightness": lightness, "hints": hints}))
    assert not np.allclose(steered, expected)


def test_layers_are_copied_by_name_where_name_and_shapes_match():
    base, hinted = _models()
    with_weights = [layer.name for layer in base.network.layers if layer.get_weights()]
    assert copy_shared_layers(base.network, hinted.network) == (len(with_weights), [])
    other = create_model("lite0_unet", image_size=32, weights=None, hints=True,
                         decoder_channels=(8, 8, 8, 8, 8))
    copied, skipped = copy_shared_layers(base.network, other.network)
    assert "up0_conv1" in skipped and "efficientnet_lite0" not in skipped
    assert copied + len(skipped) == len(with_weights)
    with pytest.raises(ValueError, match="regression head"):
        create_model("lite0_unet", image_size=32, weights=None, hints=True, head="classification")


@pytest.fixture
def four_photos(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    rng = np.random.default_rng(0)
    ramp = np.linspace(0.0, 1.0, 40)[None, :, None]
    for i in range(4):  # smooth photos: a left-to-right blend of two saturated colours
        left, right = rng.uniform(0, 255, (2, 3))
        photo = left + (right - left) * ramp + np.zeros((32, 1, 1))
        Image.fromarray(np.round(photo).astype(np.uint8)).save(folder / f"p{i}.png")
    return folder


def test_evaluate_hints_scores_the_model_beside_the_fill(four_photos, tmp_path):
    base, hinted = _models()
    copy_shared_layers(base.network, hinted.network)
    edited = evaluate_hints(base, four_photos, [0, 10], split=None)  # the hints as an edit
    plain_model = edited["results"]["model"]
    assert plain_model["10"]["ab_mse"] < plain_model["0"]["ab_mse"]  # the truth's own colours
    summary = evaluate_hints(hinted, four_photos, [10, 0, 2], split=None,
                             output=tmp_path / "eval")
    assert summary["images"] == 4 and summary["hints"] == [0, 2, 10]
    model, fill = summary["results"]["model"], summary["results"]["idw_fill"]
    # The untrained hint layers are zero: the model ignores hints; the fill of 0 hints is gray.
    assert model["0"]["ab_mse"] == pytest.approx(model["10"]["ab_mse"], rel=1e-5)
    assert fill["0"]["ab_mse"] > fill["2"]["ab_mse"] > fill["10"]["ab_mse"]
    assert fill["10"]["psnr"] > fill["0"]["psnr"]
    # The same seed gives the same figures.
    again = evaluate_hints(hinted, four_photos, [10], split=None)
    assert again["results"]["idw_fill"]["10"] == fill["10"]
    saved = json.loads((tmp_path / "eval" / "hint_metrics.json").read_text())
    assert saved["results"] == summary["results"]
    assert (tmp_path / "eval" / "hint_curves.png").stat().st_size > 1000
    assert hint_table(summary).count("\n") == 4


def test_hint_counts_are_checked():
    assert parse_counts("0, 10,2,2") == [0, 2, 10]
    for bad in ("ten", "-1", ""):
        with pytest.raises(ValueError, match="--hints takes"):
            parse_counts(bad)


def test_cli_evaluate_with_hints(four_photos, tmp_path, capsys):
    base, hinted = _models()
    folder = hinted.save_pretrained(tmp_path / "hinted")
    assert main(["evaluate", "--model", str(folder), "--data", str(four_photos), "--split",
                 "val", "--hints", "0,5", "--output", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "| 5 |" in out and (tmp_path / "out" / "hint_curves.png").is_file()
    assert main(["evaluate", "--model", str(folder), "--data", str(four_photos),
                 "--hints", "x"]) != 0
    plain = base.save_pretrained(tmp_path / "plain")  # any model: hints edit its colour
    assert main(["evaluate", "--model", str(plain), "--data", str(four_photos),
                 "--hints", "0,5", "--output", str(tmp_path / "plain_out")]) == 0
    assert "| 5 |" in capsys.readouterr().out


@pytest.mark.slow  # (trains: 12 s)
@pytest.mark.filterwarnings("ignore::UserWarning")  # the folder's unreadable and gray files
def test_a_hint_model_trains_from_a_model_without_hints(image_folder, tmp_path):
    base = create_model("lite0_unet", image_size=32, weights=None).save_pretrained(
        tmp_path / "base")
    config = TrainConfig(model="lite0_unet", data=str(image_folder), output=str(tmp_path / "run"),
                         epochs=1, batch_size=4, image_size=32, limit=8, val_limit=4,
                         model_args={"weights": None, "hints": True}, init_from=str(base),
                         hint_sampler={"no_hint_share": 0.5})
    run = train(config)
    trained = Colorizer.from_pretrained(run)
    assert trained.has_hints
    assert TrainConfig.load(run / "config.json").hint_sampler == {"no_hint_share": 0.5}
    assert np.abs(trained.network.get_layer("ab_hints").get_weights()[0]).max() > 0  # it learned
    with pytest.raises(ValueError, match="tf.data source"):
        ArraySource().check(config)


@pytest.mark.slow  # (trains, evaluates and exports: 10 s)
def test_export_ships_the_hint_evaluation_and_the_card_shows_it(four_photos, tmp_path):
    from huggingface_hub import ModelCard

    from colorizer.training.export import export_weights

    base, hinted = _models()
    run = tmp_path / "run"
    hinted.save_pretrained(run / "model")
    (run / "history.csv").write_text("epoch,loss,epoch_seconds\n0,1.0,10.0\n")
    assert main(["evaluate", "--model", str(run), "--data", str(four_photos), "--split", "val",
                 "--output", str(tmp_path / "eval")]) == 0
    assert main(["evaluate", "--model", str(run), "--data", str(four_photos), "--split", "val",
                 "--hints", "0,5", "--output", str(tmp_path / "hints")]) == 0
    hint_metrics = tmp_path / "hints" / "hint_metrics.json"
    with pytest.raises(ValueError, match="hint_metrics.json"):
        export_weights(run, tmp_path / "w1", evaluation=tmp_path / "eval" / "metrics.json",
                       hint_evaluation=tmp_path / "eval" / "metrics.json")
    assert not (tmp_path / "w1").exists()
    folder = export_weights(run, tmp_path / "lite0_unet_hints.tiny_32",
                            evaluation=tmp_path / "eval" / "metrics.json",
                            hint_evaluation=hint_metrics)
    assert json.loads((folder / "hint_metrics.json").read_text()) == \
        json.loads(hint_metrics.read_text())
    assert (folder / "hint_curves.png").is_file()
    card = ModelCard.load(folder / "README.md").text
    assert "### With colour hints" in card and "| 5 |" in card and "hint_curves.png" in card
    assert 'hints=[(120, 80, (200, 30, 40))' in card and '{"x": .., "y": ..' in card
    # A model without hint inputs has neither.
    plain = tmp_path / "plain"
    base.save_pretrained(plain / "model")
    with pytest.raises(ValueError, match="not a hint model"):
        export_weights(plain, tmp_path / "w2", evaluation=tmp_path / "eval" / "metrics.json",
                       hint_evaluation=hint_metrics)
