"""Registry- and zoo-driven checks (timm / keras-hub habits): every architecture, both heads;
every shipped weight folder."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from colorizer import create_model
import colorizer
from colorizer.models import HEADS, ModelSpec, list_models, model_defaults
from colorizer.models.quantization import ab_bins

# The smallest convenient size each architecture accepts (xception needs >= 96 px).
SMALL = {"xception_decoder": 96}
# Architectures with an ImageNet encoder take several seconds to build: the slow lane.
ARCHITECTURES = [pytest.param(name, marks=pytest.mark.slow)
                 if "weights" in model_defaults(name) else name for name in list_models()]
GOLDEN = "tests/data/golden"


def _small(name: str, **args):
    offline = ModelSpec(name, model_defaults(name)).offline_args
    return create_model(name, **{**offline, "image_size": SMALL.get(name, 64), **args})


def _photo(size: int, seed: int = 0) -> np.ndarray:
    """L in 0..100, (1, size, size, 1): smooth structure, as a photo's lightness."""
    y, x = np.mgrid[0:size, 0:size] / size
    rng = np.random.default_rng(seed)
    return (50 + 40 * np.sin(6 * x + rng.uniform(0, 3)) * np.cos(4 * y))[None, ..., None]


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_forward_pass_of_every_architecture_and_head(name, head):
    model = _small(name, head=head)
    assert isinstance(model, colorizer.Colorizer)
    assert model.head == head and model.spec.args["head"] == head
    size = model.image_size
    output = np.asarray(model.network.predict_on_batch(np.zeros((2, size, size, 1), np.float32)))
    assert np.isfinite(output).all()
    if head == "regression":
        assert output.shape == (2, size, size, 2)
        assert np.abs(output).max() <= 1.0  # tanh: normalised ab
        assert model.default_temperature is None
    else:
        assert output.shape[-1] == len(ab_bins()) and size % output.shape[1] == 0
        np.testing.assert_allclose(output.sum(axis=-1), 1.0, atol=1e-4)  # a distribution
        assert model.default_temperature == pytest.approx(0.38)
    ab = model.predict_ab(_photo(size))  # decoded to ab in Lab units at the input size
    assert ab.shape == (1, size, size, 2) and np.abs(ab).max() <= 128


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("name", ARCHITECTURES)
def test_save_load_round_trip_of_every_architecture(name, head, tmp_path):
    model = _small(name, head=head)
    if head == "classification":
        prior = np.random.default_rng(0).random(len(ab_bins()))
        model.with_prior(prior / prior.sum())
    folder = model.save_pretrained(tmp_path / "model")
    loaded = colorizer.Colorizer.from_pretrained(folder)
    assert loaded.spec == model.spec
    lightness = _photo(model.image_size)
    np.testing.assert_array_equal(loaded.predict_ab(lightness), model.predict_ab(lightness))
    if head == "classification":
        np.testing.assert_allclose(loaded.spec.prior, model.spec.prior, rtol=1e-6)
    else:
        assert loaded.spec.prior is None and not (folder / "prior.json").exists()



def test_a_classification_model_keeps_its_own_temperature(tmp_path):
    model = _small("cnn", head="classification")
    prior = np.random.default_rng(0).random(len(ab_bins()))
    model.with_prior(prior / prior.sum())
    lightness = _photo(model.image_size)
    at_half = model.predict_ab(lightness, 0.5)
    folder = model.with_temperature(0.5).save_pretrained(tmp_path / "model")
    assert json.loads((folder / "config.json").read_text())["temperature"] == 0.5
    loaded = colorizer.Colorizer.from_pretrained(folder)
    assert loaded.default_temperature == 0.5 and loaded.spec == model.spec
    np.testing.assert_array_equal(loaded.predict_ab(lightness), at_half)
    assert loaded.predict_ab(lightness, 0.1).std() != at_half.std()  # a given T still wins
    # A render-size copy made before the temperature was set decodes at it too.
    fresh = _small("cnn", head="classification").with_prior(prior / prior.sum())
    # A fixed distribution tilted towards red (logits a / 40): T sets how red, in every pixel.
    head = fresh.network.get_layer("ab_distribution")
    kernel, _ = head.get_weights()
    head.set_weights([np.zeros_like(kernel), (ab_bins()[:, 0] / 40.0).astype(np.float32)])
    gray = Image.fromarray(np.round(_photo(40)[0, ..., 0] * 2.55).astype(np.uint8), "L")
    size = fresh.image_size + 16
    at_paper = np.asarray(fresh.colorize(gray, size=size))  # caches the copy at that size
    fresh.with_temperature(0.5)
    at_own = np.asarray(fresh.colorize(gray, size=size))
    np.testing.assert_array_equal(at_own, np.asarray(fresh.colorize(gray, size=size,
                                                                    temperature=0.5)))
    assert not np.array_equal(at_own, at_paper)
    with pytest.raises(ValueError, match="temperature applies to classification models"):
        _small("cnn").with_temperature(0.5)
    # A crafted folder: a temperature out of range, or on a regression head, is refused.
    config = json.loads((folder / "config.json").read_text())
    for bad, head in ((2, "classification"), ("hot", "classification"), (0.5, "regression")):
        (folder / "config.json").write_text(json.dumps(
            {**config, "temperature": bad, "args": {**config["args"], "head": head}}))
        with pytest.raises(ValueError, match="temperature must be null or, for a classification"):
            colorizer.Colorizer.from_pretrained(folder)

@pytest.mark.parametrize("name", ARCHITECTURES)
def test_at_size_of_every_architecture(name):
    model = _small(name)
    size = model.image_size + (model.spec.size_multiple or 16) * 2
    if not model.spec.resizable:
        with pytest.raises(ValueError, match="only works at its training size"):
            model.at_size(size)
        return
    resized = model.at_size(size)
    assert resized.image_size == size and resized.architecture == name
    assert resized is model.at_size(size)  # kept for the next call
    for mine, theirs in zip(model.network.get_weights(), resized.network.get_weights()):
        np.testing.assert_array_equal(mine, theirs)
    assert resized.predict_ab(_photo(size)).shape == (1, size, size, 2)
    with pytest.raises(ValueError, match="multiples of"):
        model.at_size(size + 1)
    assert model.at_size(None) is model and model.at_size(model.image_size) is model


@pytest.mark.slow
def test_resized_copies_are_few():
    from colorizer.model import RESIZED_CACHE

    model = _small("cnn", width=0.125)
    for size in range(32, 32 + 8 * (RESIZED_CACHE + 3), 8):
        model.at_size(size)
    assert len(model._resized) == RESIZED_CACHE


ZOO = [entry.name for entry in colorizer.list_pretrained()]


@pytest.mark.slow
@pytest.mark.parametrize("name", ZOO)
def test_every_shipped_model_loads_and_colorizes(name):
    model = colorizer.from_pretrained(name)
    assert isinstance(model, colorizer.Colorizer)
    gray = Image.fromarray(np.round(_photo(32)[0, ..., 0] * 2.55).astype(np.uint8), "L")
    result = model.colorize(gray)
    assert result.size == (32, 32) and result.mode == "RGB"


# The models shipped before the redesign that still ship (later ones have no "before" to match;
# the redesign's classification model, lite0_unet_classification.flickr8k_128, was retired).
BEFORE_REDESIGN = ["autoencoder.flickr8k_128", "cnn.flickr8k_128", "lite0_decoder.flickr8k_128",
                   "lite0_unet.flickr8k_128"]
GOLDEN_CASES = [(name, {}, name) for name in BEFORE_REDESIGN] + [
    ("cnn.flickr8k_128", {"size": 192}, "cnn.flickr8k_128.size192"),
]


@pytest.mark.parametrize(("name", "kwargs", "reference"), GOLDEN_CASES,
                         ids=[case[2] for case in GOLDEN_CASES])
@pytest.mark.slow
def test_shipped_models_give_the_pixels_they_gave_before_the_redesign(name, kwargs, reference):
    """tests/data/golden holds each shipped model's colorization of a 96 px public-domain photo
    (examples/1909Chicago.jpg), made with the code before the Colorizer object existed."""
    model = colorizer.from_pretrained(name)
    result = np.asarray(model.colorize(f"{GOLDEN}/input.png", **kwargs))
    expected = np.asarray(Image.open(f"{GOLDEN}/{reference}.png"))
    # The same pixels, but for float rounding: another CPU's SIMD paths may put a value that
    # lies on a rounding edge one 8-bit level off (seen: 1 of 22,176 values on this machine).
    difference = np.abs(result.astype(int) - expected.astype(int))
    assert difference.max() <= 1 and (difference > 0).mean() < 1e-3
    # The module-level function is the same call.
    np.testing.assert_array_equal(
        np.asarray(model.colorize(f"{GOLDEN}/input.png", **kwargs)), result)


@pytest.mark.slow
def test_the_shipped_hint_model_follows_a_hint_and_colours_like_the_default_without():
    """Real weights: a red hint turns its spot red; without hints the colour is near the
    network's it was warm-started from, lite0_unet.mixed150k_128."""
    hinted = colorizer.from_pretrained("lite0_unet_hints.mixed150k_128")
    assert hinted.has_hints
    photo = f"{GOLDEN}/input.png"
    plain = np.asarray(hinted.colorize(photo), np.float32)
    default = np.asarray(colorizer.from_pretrained("lite0_unet.mixed150k_128").colorize(photo),
                         np.float32)
    assert np.abs(plain - default).mean() < 4.0
    x, y = 30, 40
    red = np.asarray(hinted.colorize(photo, hints=[(x, y, (220, 30, 30))]), np.float32)
    spot = red[y - 2:y + 3, x - 2:x + 3].reshape(-1, 3).mean(axis=0)
    before = plain[y - 2:y + 3, x - 2:x + 3].reshape(-1, 3).mean(axis=0)
    assert spot[0] - spot[1] > before[0] - before[1] + 20  # redder than without the hint


def test_a_model_keeps_its_own_default_vividness(tmp_path):
    """The default vividness (chosen per zoo model) is saved, loaded, shown on the card and used
    by colorize when a call gives none; an explicit one, 0 included, still wins."""
    from colorizer.hub.zoo import folder_fields

    model = _small("cnn")
    gray = Image.fromarray(np.round(_photo(40)[0, ..., 0] * 2.55).astype(np.uint8), "L")
    at_30 = np.asarray(model.colorize(gray, vividness=30))
    own = np.asarray(model.colorize(gray, vividness=0))
    folder = model.with_vividness(30).save_pretrained(tmp_path / "model")
    assert json.loads((folder / "config.json").read_text())["vividness"] == 30
    assert folder_fields(folder)["vividness"] == 30
    loaded = colorizer.Colorizer.from_pretrained(folder)
    assert loaded.default_vividness == 30
    np.testing.assert_array_equal(np.asarray(loaded.colorize(gray)), at_30)
    np.testing.assert_array_equal(np.asarray(loaded.colorize(gray, vividness=0)), own)
    from colorizer.hub.card import write_model_card

    assert "Default vividness: **30** (chroma x 1.30" in write_model_card(folder).read_text()
    with pytest.raises(ValueError, match="vividness must be a number from 0 to 100"):
        model.with_vividness(101)
    config = json.loads((folder / "config.json").read_text())
    for bad in (-1, 150, "vivid", True):
        (folder / "config.json").write_text(json.dumps({**config, "vividness": bad}))
        with pytest.raises(ValueError, match="vividness must be a number from 0 to 100"):
            colorizer.Colorizer.from_pretrained(folder)
