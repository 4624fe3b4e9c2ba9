"""JSON read from folders and requests: a size cap checked before reading, and deep nesting or
malformed JSON as a one-line ValueError naming the file (never a RecursionError traceback)."""

import json

import pytest
from PIL import Image

from colorizer.io.jsonfiles import parse_json, read_json

DEEP = "[" * 200_000  # json.loads raises RecursionError on it


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert type(error.value) is ValueError and len(message.splitlines()) == 1, message
    return message


def _big(path, size=1_200_000):
    """A valid JSON file of ``size`` bytes: ``{"prior": [0, 0, ...]}``."""
    path.write_text('{"prior": [' + "0," * ((size - 14) // 2) + "0]}")
    return path


def test_the_helper_checks_size_and_nesting(tmp_path):
    assert read_json(_big(tmp_path / "ok.json", 1_000), max_bytes=1_000)["prior"][0] == 0
    with pytest.raises(ValueError) as error:
        read_json(_big(tmp_path / "big.json", 5_000), max_bytes=1_000)
    assert "big.json is 5,000 bytes, over the limit of 1,000" in _one_line(error)
    (tmp_path / "deep.json").write_text(DEEP)
    with pytest.raises(ValueError) as error:
        read_json(tmp_path / "deep.json")
    assert "deep.json is not valid JSON: nested too deeply" in _one_line(error)
    (tmp_path / "bad.json").write_bytes(b"\xff\xfe{")
    with pytest.raises(ValueError) as error:
        read_json(tmp_path / "bad.json")
    assert "bad.json is not valid JSON" in _one_line(error)
    with pytest.raises(ValueError, match="x is 13 bytes or more, over the limit of 10"):
        parse_json("[" + "1," * 5 + "1]", "x", max_bytes=10)
    with pytest.raises(FileNotFoundError):
        read_json(tmp_path / "missing.json")


def test_prior_json_is_capped_and_deep_nesting_is_one_line(tmp_path, monkeypatch):
    """A 96 MB prior.json took 1.16 GB before it was refused: now its size refuses it unread."""
    from colorizer.models import quantization

    def no_loads(*args, **kwargs):
        raise AssertionError("an over-large file was parsed")

    monkeypatch.setattr(json, "loads", no_loads)
    with pytest.raises(ValueError) as error:
        quantization.load_prior(_big(tmp_path / "prior.json"))
    assert "prior.json is not a colour prior file" in _one_line(error)
    assert "over the limit of 1,000,000" in str(error.value)
    monkeypatch.undo()
    (tmp_path / "prior.json").write_text(DEEP)
    with pytest.raises(ValueError) as error:
        quantization.load_prior(tmp_path / "prior.json")
    assert "nested too deeply" in _one_line(error)
    for record in ([1, 2], {"prior": [1, 2], "bins": quantization.ab_bins().tolist()}):
        (tmp_path / "prior.json").write_text(json.dumps(record))
        with pytest.raises(ValueError) as error:
            quantization.load_prior(tmp_path / "prior.json")
        assert "not a colour prior file" in _one_line(error)


def test_config_json_is_capped(tmp_path):
    from colorizer import create_model, from_pretrained

    folder = create_model("autoencoder", image_size=32).save_pretrained(tmp_path / "m")
    _big(folder / "config.json")
    with pytest.raises(ValueError) as error:
        from_pretrained(folder)
    assert "config.json is 1,200,000 bytes, over the limit" in _one_line(error)
    (folder / "config.json").write_text(DEEP)
    with pytest.raises(ValueError) as error:
        from_pretrained(folder)
    assert "config.json is not valid JSON: nested too deeply" in _one_line(error)


def test_zoo_json_is_capped(tmp_path):
    from colorizer.hub.zoo import read_manifest

    manifest = tmp_path / "zoo.json"
    manifest.write_text(DEEP)
    with pytest.raises(ValueError) as error:
        read_manifest(manifest)
    assert _one_line(error).startswith(f"zoo manifest {manifest} is not valid JSON")
    _big(manifest, 10_000_100)
    with pytest.raises(ValueError) as error:
        read_manifest(manifest)
    assert "over the limit of 10,000,000" in _one_line(error)
    manifest.write_text("[]")
    with pytest.raises(ValueError) as error:
        read_manifest(manifest)
    assert 'expected "models"' in _one_line(error)


def test_hints_json_deep_or_large_is_one_line_and_exit_2(tmp_path, capsys):
    """A 200,000-deep hints file gave a RecursionError traceback and exit 1; the help promises
    2 for a bad --hints file (it is read before the model loads)."""
    from colorizer.cli import main
    from colorizer.hints.user import read_hints_json

    Image.new("L", (16, 16)).save(tmp_path / "photo.png")
    hints = tmp_path / "hints.json"
    command = ["colorize", str(tmp_path / "photo.png"), "-o", str(tmp_path / "out"), "--hints",
               str(hints), "--model", str(tmp_path / "no_model")]
    for content, message in ((DEEP, "hints.json is not valid JSON: nested too deeply"),
                             (json.dumps([{"x": 1, "y": 1, "color": "#ffffff"}] * 40_000),
                              "over the limit of 1,000,000")):
        hints.write_text(content)
        assert main(command) == 2
        error = capsys.readouterr().err.strip()
        assert len(error.splitlines()) == 1 and message in error, error
    with pytest.raises(ValueError) as error:  # the web API's text
        read_hints_json(DEEP)
    assert _one_line(error) == "hints are not valid JSON: nested too deeply"
    with pytest.raises(ValueError, match="hints are 1,200,000 bytes or more"):
        read_hints_json(" " * 1_200_000)


def test_shards_index_json_deep_is_one_line(tmp_path):
    from colorizer.training.shards import read_index

    (tmp_path / "index.json").write_text(DEEP)
    with pytest.raises(ValueError) as error:
        read_index(tmp_path)
    assert "index.json is not valid JSON: nested too deeply" in _one_line(error)
