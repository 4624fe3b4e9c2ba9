import shutil

import pytest
from PIL import Image

from colorizer import create_model, save_pretrained
from colorizer.cli import main
from conftest import colourful_image


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    return save_pretrained(create_model("autoencoder", image_size=32),
                           tmp_path_factory.mktemp("m") / "model")


def test_colorize_a_mixed_folder(model_folder, image_folder, tmp_path, capsys):
    nested = image_folder / "nested"
    nested.mkdir()
    Image.fromarray(colourful_image(7, (123, 77))).convert("L").save(nested / "old.tif")
    (image_folder / "notes.txt").write_text("ignored: not an image suffix")
    out = tmp_path / "out"
    assert main(["colorize", str(image_folder), "-o", str(out), "--model", str(model_folder),
                 "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "wrote 14 image(s)" in printed
    assert "skipped 2" in printed and "not_an_image.jpg" in printed and "truncated.jpg" in printed
    assert Image.open(out / "nested" / "old.png").size == (123, 77)
    assert Image.open(out / "colour_01.png").size == (48, 40)

    # A second run does not replace earlier results unless asked to.
    main(["colorize", str(image_folder / "colour_01.jpg"), "-o", str(out), "--model",
          str(model_folder), "--quiet"])
    assert "exists (use --overwrite" in capsys.readouterr().out


def test_inputs_are_never_overwritten(model_folder, tmp_path, capsys):
    folder = tmp_path / "pngs"
    folder.mkdir()
    Image.fromarray(colourful_image(8)).save(folder / "a.png")
    before = (folder / "a.png").read_bytes()
    main(["colorize", str(folder), "-o", str(folder), "--model", str(model_folder), "--quiet",
          "--overwrite"])
    assert "is an input file" in capsys.readouterr().out
    assert (folder / "a.png").read_bytes() == before


def test_errors_are_one_line_messages(tmp_path, capsys):
    assert main(["colorize", str(tmp_path), "-o", str(tmp_path / "o"), "--model",
                 str(tmp_path / "missing")]) in (0, 1)
    Image.fromarray(colourful_image(9)).save(tmp_path / "x.png")
    assert main(["colorize", str(tmp_path / "x.png"), "-o", str(tmp_path / "o"), "--model",
                 str(tmp_path / "missing")]) == 2
    assert "unknown model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--model", "autoencoder", "--epochs", "x"])


@pytest.mark.slow
def test_models_command_lists_the_registry(capsys):
    assert main(["models"]) == 0
    printed = capsys.readouterr().out
    assert "9,753,154" in printed and "30,981,992" in printed and "cnn" in printed
    assert "| lite0_unet |" in printed and "efficientnet_lite0 (ImageNet)" in printed
    assert "| 20,861,480 |" in printed  # xception_decoder's frozen encoder


@pytest.mark.slow
def test_train_then_evaluate_from_the_command_line(image_folder, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--model", "cnn", "--width", "0.125", "--data", str(image_folder),
                 "--epochs", "1", "--image-size", "32", "--batch-size", "4",
                 "--output", str(run)]) == 0
    assert main(["evaluate", "--model", str(run), "--data", str(image_folder),
                 "--output", str(tmp_path / "eval"), "--grid", "2"]) == 0
    printed = capsys.readouterr().out
    assert "| model |" in printed and "| gray |" in printed and "| mean |" in printed
    shutil.rmtree(run)
