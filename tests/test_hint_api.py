"""Colour hints as a person gives them: the API, the CLI and their errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import colorizer
from colorizer.hints.user import USER_PATCH, parse_hints, user_points
from conftest import colourful_image


@pytest.fixture(scope="module")
def hint_model():
    """A small untrained hint model (what is tested here is the plumbing, not the learning)."""
    return colorizer.create_model("lite0_unet", image_size=64, weights=None, hints=True)


def test_user_points_are_in_model_pixels_with_the_colours_chroma():
    points = user_points([(0, 0, (255, 0, 0)), (199.0, 99, "#0000ff")], 200, 100, 64)
    np.testing.assert_array_equal(points[:, :2], [[0, 0], [63, 63]])
    assert points[0, 2] > 60 and points[1, 3] < -90  # red: a > 0; blue: b < 0
    assert (points[:, 4] == USER_PATCH).all()
    # The same colour at another lightness gives about the same chroma direction, and gray none.
    gray = user_points([(5, 5, (128, 128, 128))], 10, 10, 64)
    assert np.abs(gray[0, 2:4]).max() < 0.01


@pytest.mark.parametrize(("hint", "message"), [
    ((200, 5, "#ff0000"), "x = 200 is outside the photo"),
    ((5, -1, "#ff0000"), "y = -1 is outside the photo"),
    ({"x": "10", "y": 2, "color": "#ff0000"}, r"x must be a number of pixels, got '10' \(str\)"),
    ((5, None, "#ff0000"), r"y must be a number of pixels, got None"),
    ((5, 5, "red"), "'#rrggbb'"),
    ((5, 5, "#ff00zz"), "'#rrggbb'"),
    ((5, 5, (256, 0, 0)), "three integers 0..255"),
    ((5, 5), r"\(x, y, colour\)"),
    ({"x": 1, "y": 2}, "keys x, y and color"),
])
def test_bad_hints_are_named(hint, message):
    with pytest.raises(ValueError, match=message):
        parse_hints([hint], 200, 100)


def test_colorize_with_hints_changes_the_colour_there_and_keeps_lightness(hint_model):
    layer = hint_model.network.get_layer("ab_hints")  # adds the hints' fill to ab (pre-tanh)
    kernel, *rest = layer.get_weights()
    kernel[:] = 0
    kernel[0, 0, 3, 0] = kernel[0, 0, 4, 1] = 20.0  # channels 3, 4: the inverse-distance fill
    layer.set_weights([kernel, *rest])
    photo = Image.fromarray(colourful_image(3, (120, 80))).convert("L")
    plain = np.asarray(hint_model.colorize(photo), float)
    np.testing.assert_array_equal(np.asarray(hint_model.colorize(photo, hints=[]), float), plain)
    hinted = np.asarray(hint_model.colorize(photo, hints=[(60, 40, (0, 200, 0))],
                                            hints_as_input=True), float)
    assert hinted.shape == plain.shape
    # Green around the hint: more green than red there, and unlike the result without hints.
    patch = hinted[35:45, 55:65]
    assert (patch[..., 1] - patch[..., 0]).mean() > 20
    assert np.abs(patch - plain[35:45, 55:65]).mean() > 5
    with pytest.raises(ValueError, match="outside the photo"):
        hint_model.colorize(photo, hints=[(120, 0, (0, 200, 0))])
    # By default a hint model edits its own colour locally, as every model does (the network's
    # hint input stays empty): far from the hint it changes less than the hint input does.
    edited = np.asarray(hint_model.colorize(photo, hints=[(60, 40, (0, 200, 0))]), float)
    far = np.s_[:, :15]
    assert np.abs(edited - plain)[far].mean() < np.abs(hinted - plain)[far].mean() / 2
    assert np.abs(edited[35:45, 55:65] - plain[35:45, 55:65]).mean() > 5
    with pytest.raises(ValueError, match="hints_as_input needs a hint model"):
        colorizer.create_model("cnn", image_size=32, width=0.125).colorize(
            photo, hints=[(60, 40, (0, 200, 0))], hints_as_input=True)


def test_every_model_takes_hints_as_a_local_edit_and_none_changes_nothing():
    """A model without hint inputs: no hints (None or []) is its own result bit for bit; one
    hint recolours the flat region around its point and leaves the region across an edge."""
    model = colorizer.create_model("cnn", image_size=32, width=0.125)
    photo = np.zeros((48, 64), np.uint8)
    photo[:, 32:] = 200  # two flat halves: dark left, light right
    plain = np.asarray(model.colorize(photo))
    np.testing.assert_array_equal(np.asarray(model.colorize(photo, hints=[])), plain)
    hinted = np.asarray(model.colorize(photo, hints=[(50, 24, (40, 90, 200))]), float)
    right, left = hinted[8:40, 40:60] - plain[8:40, 40:60], hinted[8:40, 4:24] - plain[8:40, 4:24]
    assert (hinted[8:40, 40:60, 2] - hinted[8:40, 40:60, 0]).mean() > 20  # blue on the right
    assert np.abs(right).mean() > 10 and np.abs(left).mean() < 1.5
    with pytest.raises(ValueError, match="outside the photo"):
        model.colorize(photo, hints=[(64, 0, (0, 200, 0))])


def test_cli_hints_file(hint_model, tmp_path, capsys):
    from colorizer.cli import main

    folder = hint_model.save_pretrained(tmp_path / "hint_model")
    photo = tmp_path / "photo.png"
    Image.fromarray(colourful_image(1, (64, 48))).save(photo)
    hints = tmp_path / "hints.json"
    hints.write_text(json.dumps([{"x": 10, "y": 20, "color": "#00c800"}]))
    assert main(["colorize", str(photo), "-o", str(tmp_path / "out"), "--model", str(folder),
                 "--hints", str(hints), "--quiet"]) == 0
    assert Image.open(tmp_path / "out" / "photo.png").size == (64, 48)
    for content, message in (([{"x": 64, "y": 0, "color": "#00c800"}], "outside the photo"),
                             ([{"x": 1, "y": 0, "color": "green"}], "#rrggbb"),
                             ({"x": 1}, "JSON list")):
        hints.write_text(json.dumps(content))
        assert main(["colorize", str(photo), "-o", str(tmp_path / "bad"), "--model",
                     str(folder), "--hints", str(hints), "--overwrite", "--quiet"]) != 0
        assert message in capsys.readouterr().err
    hints.write_text(json.dumps([{"x": 10, "y": 20, "color": "#00c800"}]))
    assert main(["colorize", str(photo), "-o", str(tmp_path / "cnn"), "--hints", str(hints),
                 "--model", str(colorizer.create_model("cnn", image_size=32, width=0.125)
                                .save_pretrained(tmp_path / "cnn_model")), "--quiet"]) == 0
    assert Image.open(tmp_path / "cnn" / "photo.png").size == (64, 48)


def test_likely_colours_are_the_most_probable_bins_at_the_pixel_s_own_lightness():
    from colorizer.io import color
    from colorizer.models.quantization import ab_bins, nearest_bin

    model = colorizer.create_model("lite0_unet", image_size=64, weights=None,
                                   head="classification")
    layer = model.network.get_layer("ab_distribution")
    kernel, bias = layer.get_weights()
    favourites = [int(nearest_bin(np.array(ab, np.float32))) for ab in
                  ((40.0, 30.0), (-30.0, 20.0), (10.0, -40.0))]  # red, green, blue
    kernel[:] = 0.0
    bias[:] = 0.0
    bias[favourites] = (6.0, 5.0, 4.0)
    layer.set_weights([kernel, bias])
    photo = np.zeros((40, 60), np.uint8)
    photo[:, :30], photo[:, 30:] = 60, 160  # a dark left half, a light right half
    dark = model.likely_colours(photo, 5, 20, k=4)
    light = model.likely_colours(photo, 50.0, 20, k=4)
    assert len(dark) == 4 and [p for _, p in dark] == sorted([p for _, p in dark], reverse=True)
    for colours, level in ((dark, 60), (light, 160)):
        lab = np.asarray(color.rgb_to_lab(np.array([rgb for rgb, _ in colours[:3]],
                                                   np.float32) / 255.0))
        pixel = np.asarray(color.rgb_to_lab(np.full((1, 3), level / 255.0, np.float32)))[0, 0]
        np.testing.assert_allclose(lab[:, 0], pixel, atol=1.0)  # the pixel's own lightness
        np.testing.assert_allclose(lab[:, 1:], ab_bins()[favourites], atol=2.0)  # the bins' ab
    with pytest.raises(ValueError, match="x = 60 is outside the photo"):
        model.likely_colours(photo, 60, 0)


def test_likely_colours_need_a_classification_model(hint_model):
    with pytest.raises(ValueError, match="need a classification model"):
        hint_model.likely_colours(colourful_image(0), 1, 1)


def test_the_zoo_says_which_models_take_hints(hint_model, tmp_path, monkeypatch):
    from colorizer.hub.zoo import write_manifest

    weights = tmp_path / "weights"
    hint_model.save_pretrained(weights / "lite0_unet_hints.tiny_64")
    colorizer.create_model("cnn", image_size=32, width=0.125).save_pretrained(
        weights / "cnn.tiny_32")
    zoo = write_manifest({"owner": "team", "models": [  # published, not downloaded yet
        {"name": "lite0_unet_hints.hub_128", "repo": "r", "revision": "0" * 40, "hints": True}]},
        tmp_path / "zoo.json")
    monkeypatch.setenv("COLORIZER_WEIGHTS", str(weights))
    monkeypatch.setenv("COLORIZER_ZOO", str(zoo))
    assert {entry.name: entry.hints for entry in colorizer.list_pretrained()} == {
        "cnn.tiny_32": False, "lite0_unet_hints.tiny_64": True, "lite0_unet_hints.hub_128": True}


def test_too_many_hints_are_refused_before_any_work():
    from colorizer.hints.user import MAX_HINTS, parse_hints

    assert len(parse_hints([(1, 1, "#ff0000")] * MAX_HINTS, 10, 10)) == MAX_HINTS
    with pytest.raises(ValueError, match=f"at most {MAX_HINTS} hints, got {MAX_HINTS + 1}"):
        parse_hints([(1, 1, "#ff0000")] * (MAX_HINTS + 1), 10, 10)
    with pytest.raises(ValueError, match="must be a list"):
        parse_hints("[]", 10, 10)


def test_a_hint_comes_out_in_its_colour_at_any_vividness():
    """Vividness scales the model's chroma, not the colour a person gave: at the hint's point
    the result is the hint's colour whether vividness is 0 or 100."""
    from colorizer.io.color import rgb_to_lab

    model = colorizer.create_model("cnn", image_size=32, width=0.125)
    photo = np.full((48, 64), 120, np.uint8)
    hint = (30, 24, (60, 110, 170))

    def ab_at_hint(vividness):
        rgb = np.asarray(model.colorize(photo, hints=[hint], vividness=vividness), np.float32)
        return np.asarray(rgb_to_lab(rgb[20:29, 26:35] / 255.0))[..., 1:].mean(axis=(0, 1))

    target = np.asarray(rgb_to_lab(np.array([[hint[2]]], np.float32) / 255.0))[0, 0, 1:]
    for vividness in (0, 100):
        assert np.abs(ab_at_hint(vividness) - target).max() < 4, (vividness, ab_at_hint(vividness))
