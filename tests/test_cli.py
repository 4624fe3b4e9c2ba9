import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorizer import create_model
from colorizer.cli import main
from conftest import colourful_image


@pytest.fixture(scope="module")
def model_folder(tmp_path_factory):
    return create_model("autoencoder", image_size=32).save_pretrained(
                           tmp_path_factory.mktemp("m") / "model")


def test_colorize_a_mixed_folder(model_folder, image_folder, tmp_path, capsys):
    nested = image_folder / "nested"
    nested.mkdir()
    Image.fromarray(colourful_image(7, (123, 77))).convert("L").save(nested / "old.tif")
    (image_folder / "notes.txt").write_text("ignored: not an image suffix")
    out = tmp_path / "out"
    # Two unreadable photos: the rest is colorized, and the exit code says that some failed.
    assert main(["colorize", str(image_folder), "-o", str(out), "--model", str(model_folder),
                 "--quiet"]) == 1
    printed = capsys.readouterr().out
    assert "wrote 14 image(s)" in printed and "ignored 1 file(s) that are not images" in printed
    assert "failed 2 of 16 input(s)" in printed
    assert "not_an_image.jpg" in printed and "truncated.jpg" in printed
    assert Image.open(out / "nested" / "old.png").size == (123, 77)
    assert Image.open(out / "colour_01.png").size == (48, 40)

    # A second run does not replace earlier results unless asked to; that is not a failure.
    assert main(["colorize", str(image_folder / "colour_01.jpg"), "-o", str(out), "--model",
                 str(model_folder), "--quiet"]) == 0
    assert "left 1 whose output exists (use --overwrite" in capsys.readouterr().out


def test_exit_codes_and_unsupported_formats(model_folder, tmp_path, capsys):
    photos = tmp_path / "photos"
    photos.mkdir()
    Image.fromarray(colourful_image(10)).save(photos / "a.jpg")
    (photos / "b.heic").write_bytes(b"\x00\x00\x00\x18ftypheic")  # a format this cannot read
    (photos / "b.json").write_text("{}")  # a sidecar file: not an image, only counted
    out = tmp_path / "out"
    args = ["-o", str(out), "--model", str(model_folder), "--quiet"]

    assert main(["colorize", str(photos), *args]) == 1
    printed = capsys.readouterr().out
    assert "wrote 1 image(s)" in printed and "failed 1 of 2 input(s)" in printed
    assert "b.heic: unsupported image format .heic" in printed
    assert "ignored 1 file(s) that are not images" in printed and "b.json" in printed

    # An idempotent rerun of what was colorized exits 0 (a missing input is refused before any
    # work: test_a_missing_input_is_reported_before_any_work).
    assert main(["colorize", str(photos / "a.jpg"), *args]) == 0
    assert "left 1 whose output exists" in capsys.readouterr().out


def test_a_file_that_cannot_be_written_fails_alone(model_folder, tmp_path, capsys, monkeypatch):
    """A 254-character name (the temp name is 18 characters longer) and outputs in a blocked or
    a read-only folder: each is reported and skipped, the rest done, the summary printed, exit 1."""
    import os

    photos, out = tmp_path / "photos", tmp_path / "out"
    for name in ("a.jpg", "b_blocked/d.jpg", "b_readonly/e.jpg", "c.jpg", "x" * 250 + ".jpg"):
        (photos / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(colourful_image(len(name))).save(photos / name)
    out.mkdir()
    (out / "b_blocked").write_text("a file where the output folder should be")
    (out / "b_readonly").mkdir()
    (out / "b_readonly").chmod(0o555)
    if os.geteuid() == 0:  # root writes anyway: refuse as the kernel refuses everyone else
        real_save = Image.Image.save

        def save(image, path, *args, **kwargs):
            if Path(path).parent == out / "b_readonly":
                raise PermissionError(13, "Permission denied", str(path))
            return real_save(image, path, *args, **kwargs)

        monkeypatch.setattr(Image.Image, "save", save)
    try:
        assert main(["colorize", str(photos), "-o", str(out), "--model", str(model_folder),
                     "--quiet"]) == 1
    finally:
        (out / "b_readonly").chmod(0o755)
    printed = capsys.readouterr().out
    assert "wrote 3 image(s)" in printed and "failed 2 of 5 input(s)" in printed
    assert f"cannot write {out / 'b_blocked' / 'd.png'}" in printed
    assert f"cannot write {out / 'b_readonly' / 'e.png'}" in printed
    assert sorted(p.name for p in out.iterdir() if p.is_file()) == \
        ["a.png", "b_blocked", "c.png", "x" * 250 + ".png"]
    assert list((out / "b_readonly").iterdir()) == []


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
                 str(tmp_path / "missing")]) == 0  # an empty folder: nothing to do
    Image.fromarray(colourful_image(9)).save(tmp_path / "x.png")
    assert main(["colorize", str(tmp_path / "x.png"), "-o", str(tmp_path / "o"), "--model",
                 str(tmp_path / "missing")]) == 2
    assert "unknown model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--model", "autoencoder", "--epochs", "x"])
    with pytest.raises(SystemExit):  # before any work
        main(["colorize", str(tmp_path / "x.png"), "-o", str(tmp_path / "o"),
              "--vividness", "150"])
    assert "--vividness: must be a number from 0 to 100, got '150'" in capsys.readouterr().err
    # -o naming a file (e.g. the input itself): one line, before any work.
    assert main(["colorize", str(tmp_path / "x.png"), "-o", str(tmp_path / "x.png")]) == 2
    assert "-o must be a folder, and" in capsys.readouterr().err


def test_vividness_from_the_command_line(model_folder, tmp_path):
    Image.fromarray(colourful_image(9)).save(tmp_path / "x.png")
    for vividness in ("0", "100"):
        assert main(["colorize", str(tmp_path / "x.png"), "-o", str(tmp_path / vividness),
                     "--model", str(model_folder), "--quiet", "--vividness", vividness]) == 0
    plain, vivid = (np.asarray(Image.open(tmp_path / v / "x.png"), float) for v in ("0", "100"))
    assert np.abs(vivid - vivid.mean(-1, keepdims=True)).mean() \
        > np.abs(plain - plain.mean(-1, keepdims=True)).mean()  # more colour


@pytest.mark.slow
def test_models_command_lists_the_registry(capsys):
    assert main(["models"]) == 0
    printed = capsys.readouterr().out
    assert "9,753,154" in printed and "30,981,992" in printed and "cnn" in printed
    assert "| lite0_unet |" in printed and "efficientnet_lite0 (ImageNet)" in printed
    assert "| 20,861,480 |" in printed  # xception_decoder's frozen encoder
    # The zoo's own configurations, so that a cnn of 32M beside the zoo's 8M is explained.
    assert "builder's defaults" in printed and "cnn.flickr8k_128: 8,045,410 params" in printed


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


# --- a quiet, quick command line -----------------------------------------------------------------

QUIET_SCRIPT = """
import sys, time
started = time.perf_counter()
from colorizer.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
heavy = sorted(m for m in ("tensorflow", "keras", "jax") if m in sys.modules)
print(f"@@ {code} {','.join(heavy) or '-'} {time.perf_counter() - started:.2f}")
"""


def _cli(tmp_path, *args, env=None):
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    environment = {key: value for key, value in os.environ.items()
                   if key != "TF_CPP_MIN_LOG_LEVEL"}
    environment["PYTHONPATH"] = os.pathsep.join([str(root), environment.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", QUIET_SCRIPT, *args], capture_output=True,
                          text=True, cwd=tmp_path, env={**environment, **(env or {})}, timeout=300)
    code, heavy, seconds = done.stdout.rsplit("@@ ", 1)[1].split()
    return int(code), heavy, float(seconds), done.stdout, done.stderr


def test_help_list_and_a_bad_model_answer_without_tensorflow(tmp_path):
    Image.fromarray(colourful_image(3)).save(tmp_path / "photo.png")
    code, heavy, seconds, out, err = _cli(tmp_path, "--help")
    assert code == 0 and heavy == "-" and "publish" in out
    code, heavy, seconds, out, err = _cli(tmp_path, "list")
    assert code == 0 and heavy == "-" and "lite0_unet.flickr8k_128" in out and err == ""
    print(f"colorizer list in-process: {seconds:.2f} s")
    code, heavy, _, out, err = _cli(tmp_path, "colorize", "photo.png", "-o", "out", "--model",
                                    "no.such_model")
    assert code == 2 and heavy == "-" and "unknown model 'no.such_model'" in err
    assert err.count("\n") == 1 and not (tmp_path / "out").exists()


def test_a_missing_input_is_reported_before_any_work(tmp_path):
    Image.fromarray(colourful_image(3)).save(tmp_path / "photo.png")
    code, heavy, _, out, err = _cli(tmp_path, "colorize", "photo.png", "missing.jpg", "-o",
                                    "out")
    assert code == 2 and heavy == "-"
    assert err == "colorizer colorize: error: no such file or folder: missing.jpg\n"
    assert "colorizing" not in err and not (tmp_path / "out").exists()


@pytest.mark.slow  # a fresh process loading TensorFlow
def test_colorizing_prints_no_tensorflow_start_up_lines(tmp_path, model_folder):
    import re

    Image.fromarray(colourful_image(3)).save(tmp_path / "photo.png")
    code, heavy, _, out, err = _cli(tmp_path, "colorize", "photo.png", "-o", "out", "--model",
                                    str(model_folder), "--quiet")
    assert code == 0 and "tensorflow" in heavy and (tmp_path / "out" / "photo.png").is_file()
    assert "absl::InitializeLog" not in err and not re.search(r"^[IWE]\d{4} ", err, re.M), err


def test_noise_filter_keeps_what_is_not_start_up_logging():
    from colorizer._quiet import is_noise

    absl = ("I0000 00:00:1795791186.370916   16896 cudart_stub.cc:31] Could not find cuda "
            "drivers on your machine, GPU will not be used.\n")
    cuinit = ("E0000 00:00:1758131045.203198 3722035 cuda_platform.cc:51] failed call to "
              "cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n")
    old = "2025-09-17 14:44:05.157831: W external/local_xla/xla/tsl/cuda/cudart_stub.cc:32] x\n"
    before = "WARNING: All log messages before absl::InitializeLog() is called are written to " \
             "STDERR\n"
    for line in (absl, cuinit, old, before):
        assert is_noise(line, 3) and not is_noise(line, 0)
    assert not is_noise(cuinit, 2) and is_noise(absl, 1)
    for line in ("Traceback (most recent call last):\n", "UserWarning: something\n",
                 "F0000 00:00:1.0 1 x.cc:1] fatal\n"):
        assert not is_noise(line, 3)
