"""Crafted weight folders: config.json is checked before anything is built (issue 19, case 6)."""

import json

import pytest
from PIL import Image

from colorizer import create_model, from_pretrained
from colorizer.cli import main
from colorizer.hub.config_check import ARG_RULES
from colorizer.models import list_models, model_defaults


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return create_model("cnn", image_size=32, width=0.125).save_pretrained(
                           tmp_path_factory.mktemp("m") / "cnn")


def _crafted(folder, tmp_path, change):
    crafted = tmp_path / "crafted"
    crafted.mkdir(exist_ok=True)
    (crafted / "model.weights.h5").write_bytes((folder / "model.weights.h5").read_bytes())
    config = json.loads((folder / "config.json").read_text())
    config = change(config) or config
    (crafted / "config.json").write_text(json.dumps(config))
    return crafted


def _set(path, value):
    def change(config):
        *parents, key = path
        target = config
        for parent in parents:
            target = target[parent]
        target[key] = value
    return change


@pytest.mark.parametrize("change, message", [
    (_set(["args", "width"], 1e9), "args.width must be a number above 0 and at most 2.0, got 1000000000.0"),
    (_set(["args", "width"], 6), "args.width must be a number above 0 and at most 2.0, got 6"),
    (_set(["args", "image_size"], 1e9), "args.image_size must be an integer multiple of 8"),
    (_set(["args", "image_size"], 4096), "args.image_size must be an integer multiple of 8"),
    (_set(["args", "image_size"], "32"), "args.image_size must be an integer"),
    (_set(["args", "image_size"], True), "args.image_size must be an integer"),
    (_set(["args", "head"], "os.system"), "args.head must be one of regression, classification"),
    (_set(["args", "depth"], 3), "cnn has no argument(s) ['depth']"),
    (_set(["args"], [1, 2]), "args must be a JSON object"),
    (_set(["architecture"], "keras.models.load_model"), "unknown architecture"),
    (lambda config: [config], "must hold a JSON object, not list"),
])
def test_crafted_configs_are_refused_before_anything_is_built(folder, tmp_path, monkeypatch,
                                                               change, message):
    crafted = _crafted(folder, tmp_path, change)

    def build(*args, **kwargs):
        raise AssertionError("a model was built from a refused config")

    monkeypatch.setattr("colorizer.hub.folder.build_network", build)
    with pytest.raises(ValueError) as error:
        from_pretrained(crafted)
    assert message in str(error.value) and "config.json" in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("args, message", [
    ({"decoder_channels": [1_000_000]}, "args.decoder_channels must be null or a list"),
    ({"encoder_scale": 3}, "args.encoder_scale must be 1 or 2"),
    ({"encoder": "lite3"}, "args.encoder must be one of lite0, lite1, lite2"),
    ({"weights": "https://example.com/evil.h5"}, "args.weights must be null or \"imagenet\""),
])
def test_other_builder_arguments_are_checked(tmp_path, args, message):
    folder = tmp_path / "lite0"
    folder.mkdir()
    (folder / "model.weights.h5").write_bytes(b"")
    (folder / "config.json").write_text(json.dumps(
        {"architecture": "lite0_unet", "args": {"image_size": 32, **args}}))
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("[", r"\[")):
        from_pretrained(folder)


def test_every_builder_argument_has_a_rule():
    for name in list_models():
        assert set(model_defaults(name)) <= set(ARG_RULES), name


@pytest.mark.slow
def test_a_config_without_weights_never_downloads(tmp_path, monkeypatch):
    """An xception folder whose config has no ``weights`` key: the builder's default would be
    "imagenet" (a download); loading forces None."""
    import keras.src.utils.file_utils as file_utils

    model = create_model("xception_decoder", image_size=96, weights=None)
    folder = model.save_pretrained(tmp_path / "x")
    config = json.loads((folder / "config.json").read_text())
    del config["args"]["weights"]
    (folder / "config.json").write_text(json.dumps(config))

    def no_download(*args, **kwargs):
        raise AssertionError(f"loading tried to download {args or kwargs}")

    monkeypatch.setattr(file_utils, "get_file", no_download)
    assert from_pretrained(folder).count_params() == model.count_params()


def test_weights_of_other_shapes_are_one_line(tmp_path, capsys):
    """A crafted weight folder: config.json says one width, model.weights.h5 holds another's
    tensors. Loading says which layer and both shapes in one line, with no tensor dumps (Keras'
    own message is 33 lines) and none of Keras' warnings about its fallback."""
    import warnings

    small = create_model("cnn", image_size=32, width=0.125).save_pretrained(tmp_path / "x")
    wide = create_model("cnn", image_size=32, width=0.25).save_pretrained(tmp_path / "wide")
    (small / "model.weights.h5").write_bytes((wide / "model.weights.h5").read_bytes())
    with warnings.catch_warnings(record=True) as caught, pytest.raises(ValueError) as error:
        warnings.simplefilter("always")
        from_pretrained(small)
    message = str(error.value)
    assert len(message.splitlines()) == 1 and len(message) < 400, message
    assert message.startswith(f"{small / 'model.weights.h5'} does not fit the architecture in "
                              "config.json (cnn ")
    assert "layer conv1_1/kernel: expected shape (3, 3, 1, 8), got (3, 3, 1, 16)" in message
    assert not [w for w in caught if "Skipping" in str(w.message)]
    Image.new("L", (16, 16)).save(tmp_path / "photo.png")
    assert main(["colorize", str(tmp_path / "photo.png"), "-o", str(tmp_path / "out"),
                 "--model", str(small)]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "does not fit the architecture" in error
    (small / "model.weights.h5").write_bytes(b"not HDF5")
    with pytest.raises(ValueError, match="cannot be loaded into the architecture in config.json"):
        from_pretrained(small)


def test_the_cli_says_what_is_wrong_in_one_line(folder, tmp_path, capsys):
    crafted = _crafted(folder, tmp_path, _set(["args", "width"], 1e9))
    Image.new("L", (16, 16)).save(tmp_path / "photo.png")
    for command in (["colorize", str(tmp_path / "photo.png"), "-o", str(tmp_path / "out"),
                     "--model", str(crafted)], ["pull", str(crafted)]):
        assert main(command) == 2
        error = capsys.readouterr().err.strip()
        assert len(error.splitlines()) == 1 and "args.width must be" in error
    (crafted / "config.json").write_text("{not json")
    assert main(["pull", str(crafted)]) == 2
    assert "is not valid JSON" in capsys.readouterr().err
