"""Colour hints as a person gives them: the API, the CLI and their errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import colorizer
from colorizer.hints import USER_PATCH, parse_hints, user_points
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
    hinted = np.asarray(colorizer.colorize(photo, hint_model, hints=[(60, 40, (0, 200, 0))]),
                        float)
    assert hinted.shape == plain.shape
    # Green around the hint: more green than red there, and unlike the result without hints.
    patch = hinted[35:45, 55:65]
    assert (patch[..., 1] - patch[..., 0]).mean() > 20
    assert np.abs(patch - plain[35:45, 55:65]).mean() > 5
    with pytest.raises(ValueError, match="outside the photo"):
        hint_model.colorize(photo, hints=[(120, 0, (0, 200, 0))])


def test_hints_for_a_model_without_hint_inputs_are_refused():
    model = colorizer.create_model("cnn", image_size=32, width=0.125)
    with pytest.raises(ValueError, match="takes no colour hints"):
        model.colorize(colourful_image(0), hints=[(1, 1, (255, 0, 0))])


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
                                .save_pretrained(tmp_path / "cnn_model")), "--quiet"]) != 0
    assert "takes no colour hints" in capsys.readouterr().err
