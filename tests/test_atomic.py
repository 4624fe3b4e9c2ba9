"""Nothing lost: kills at the wrong moment (checkpoints, model folders, CLI outputs), moved runs.

A kill is real here: the code under test runs in a subprocess whose write is cut short (the file
being written truncated, as a kill in the middle of writing leaves it) and which then SIGKILLs
itself, so no ``finally`` or ``atexit`` of ours runs.
"""

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorizer import create_model, from_pretrained
from colorizer.cli import main
from colorizer.io.atomic import atomic_folder, atomic_path, is_partial, remove_partial_files, write_text
from conftest import colourful_image

ROOT = Path(__file__).resolve().parent.parent

# Runs ``colorizer`` with ``TARGET`` (a method) patched: its N-th call (argv[1]) does its work,
# truncates the file it wrote to argv[2] bytes and kills the process. argv[3:] is the CLI.
KILLER = textwrap.dedent("""
    import os, signal, sys
    import keras
    from PIL import Image
    calls, kill_at, keep = 0, int(sys.argv[1]), int(sys.argv[2])
    owner, name = TARGET
    original = getattr(owner, name)

    def cut(self, *args, **kwargs):
        global calls
        calls += 1
        original(self, *args, **kwargs)
        path = kwargs.get("filepath", kwargs.get("fp", args[0] if args else None))
        if calls == kill_at:
            with open(path, "r+b") as handle:
                handle.truncate(keep)
            os.kill(os.getpid(), signal.SIGKILL)

    setattr(owner, name, cut)
    from colorizer.cli import main
    sys.exit(main(sys.argv[3:]))
""")


def _run_killed(target: str, kill_at: int, keep: int, *cli: str) -> subprocess.CompletedProcess:
    script = KILLER.replace("TARGET", target)
    done = subprocess.run([sys.executable, "-c", script, str(kill_at), str(keep), *cli],
                          capture_output=True, text=True, timeout=600, cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]
    return done


def _epochs(run):
    with (run / "history.csv").open() as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


def _train_args(image_folder, run, epochs):
    return ["train", "--model", "autoencoder", "--data", str(image_folder), "--image-size", "32",
            "--batch-size", "4", "--epochs", str(epochs), "--output", str(run)]


# --- the primitives ---------------------------------------------------------------------------

def test_atomic_path_replaces_or_leaves_the_old_file(tmp_path):
    target = write_text(tmp_path / "a.json", "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temp:
            assert temp.name.endswith(".json") and is_partial(temp)
            temp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["a.json"]
    with atomic_path(tmp_path / "model.weights.h5") as temp:
        assert temp.name.endswith(".weights.h5")  # Keras needs the whole suffix
        temp.write_bytes(b"x")
    (tmp_path / ".a.partial-dead.json").write_text("left by a kill")
    (tmp_path / ".b.partial-dead.png").write_text("left by a kill")
    assert [p.name for p in remove_partial_files(tmp_path, "a.json")] == [".a.partial-dead.json"]
    assert [p.name for p in remove_partial_files(tmp_path)] == [".b.partial-dead.png"]


def test_temp_names_stay_within_the_name_limit(tmp_path):
    """A 254-character name: the temp name's 18 more characters must not pass the 255-byte
    limit (ENAMETOOLONG); the stem is shortened, the suffixes kept for Pillow and Keras."""
    for name in ("x" * 250 + ".png", "é" * 120 + ".weights.h5", "z" + ".a" * 125 + ".png"):
        assert len(name.encode()) >= 250
        with atomic_path(tmp_path / name) as temp:
            assert len(temp.name.encode()) <= 255 and is_partial(temp)
            assert temp.name.endswith(".weights.h5" if "weights" in name else ".png")
            temp.write_bytes(b"x")
        assert (tmp_path / name).read_bytes() == b"x"
    assert sorted(p.name for p in tmp_path.iterdir() if is_partial(p)) == []
    with atomic_path(tmp_path / "short.tar.gz") as temp:  # short names as before
        assert temp.name.startswith(".short.partial-") and temp.name.endswith(".tar.gz")
        temp.write_bytes(b"y")


def test_atomic_folder(tmp_path):
    with atomic_folder(tmp_path / "w") as staging:
        (staging / "x").write_text("1")
    with pytest.raises(FileExistsError):
        with atomic_folder(tmp_path / "w"):
            pass
    with pytest.raises(RuntimeError):
        with atomic_folder(tmp_path / "w", overwrite=True) as staging:
            (staging / "x").write_text("2")
            raise RuntimeError("failed half-way")
    assert (tmp_path / "w" / "x").read_text() == "1"
    with atomic_folder(tmp_path / "w", overwrite=True) as staging:
        (staging / "y").write_text("3")
    assert [p.name for p in (tmp_path / "w").iterdir()] == ["y"]
    assert [p.name for p in tmp_path.iterdir()] == ["w"]
    assert oct((tmp_path / "w").stat().st_mode & 0o777) != oct(0o700)  # not mkdtemp's


def _watch_the_name(monkeypatch, path):
    """Record, after each rename and removal, whether ``path`` (a folder with x) is there."""
    seen = []
    for owner, name in ((os, "replace"), (os, "rename"), (shutil, "rmtree")):
        def wrapped(*args, _original=getattr(owner, name), **kwargs):
            result = _original(*args, **kwargs)
            seen.append((path / "x").is_file())
            return result
        monkeypatch.setattr(owner, name, wrapped)
    return seen


def test_atomic_folder_replaces_with_no_moment_missing(tmp_path, monkeypatch):
    target = tmp_path / "w"
    with atomic_folder(target) as staging:
        (staging / "x").write_text("1")
    seen = _watch_the_name(monkeypatch, target)
    with atomic_folder(target, overwrite=True) as staging:
        (staging / "x").write_text("2")
    assert (target / "x").read_text() == "2" and seen and all(seen)  # swapped in one step
    assert [p.name for p in tmp_path.iterdir()] == ["w"]


def test_atomic_folder_without_a_swap_puts_a_folder_left_aside_back(tmp_path, monkeypatch):
    import colorizer.io.atomic

    monkeypatch.setattr(colorizer.io.atomic, "_exchange", lambda a, b: False,  # e.g. Windows
                        raising=False)
    target = tmp_path / "w"
    with atomic_folder(target) as staging:
        (staging / "x").write_text("1")
    with atomic_folder(target, overwrite=True) as staging:
        (staging / "x").write_text("2")
    assert (target / "x").read_text() == "2" and [p.name for p in tmp_path.iterdir()] == ["w"]
    # A kill between the two renames: the old folder aside, the new one still under its temp name.
    target.rename(tmp_path / ".w.partial-old-dead")
    (tmp_path / ".w.partial-beef").mkdir()
    with pytest.raises(RuntimeError):
        with atomic_folder(target, overwrite=True):
            raise RuntimeError("failed half-way")
    assert (target / "x").read_text() == "2" and [p.name for p in tmp_path.iterdir()] == ["w"]


def _kill_when_config_is_written(folder, model_code):
    """Save ``model_code``'s model over ``folder`` in a subprocess killed as config.json is to be
    written, i.e. after the weights."""
    script = textwrap.dedent(f"""
        import os, signal
        import colorizer.hub.folder as pretrained
        from colorizer import create_model
        original = pretrained.write_text
        def killed(path, text):
            if str(path).endswith("config.json"):
                os.kill(os.getpid(), signal.SIGKILL)
            return original(path, text)
        pretrained.write_text = killed
        {model_code}.save_pretrained({str(folder)!r})
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]


@pytest.mark.slow
def test_save_pretrained_over_a_different_model_leaves_the_old_or_the_new(tmp_path):
    old = create_model("autoencoder", image_size=32)
    folder = old.save_pretrained(tmp_path / "model")
    (folder / "metrics.json").write_text("{}")  # the old model's evaluation
    (folder / "notes.txt").write_text("mine")  # not a model file
    x = np.linspace(-0.5, 0.5, 32 * 32, dtype=np.float32).reshape(1, 32, 32, 1)
    expected = np.asarray(old.network(x))
    _kill_when_config_is_written(folder, 'create_model("cnn", image_size=32, width=0.125)')
    loaded = from_pretrained(folder)  # before: the cnn's weights under the autoencoder's config
    assert loaded.architecture == "autoencoder"
    np.testing.assert_array_equal(np.asarray(loaded.network(x)), expected)

    new = create_model("cnn", image_size=32, width=0.125)
    new.save_pretrained(folder)  # and the next save removes what the killed one left
    assert from_pretrained(folder).architecture == "cnn"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.weights.h5",
                                                        "notes.txt"]  # not the old metrics
    new.save_pretrained(folder, extra={"epoch": 2})  # the same model: its other files stay
    (folder / "metrics.json").write_text("{}")
    new.save_pretrained(folder, extra={"epoch": 3})
    assert (folder / "metrics.json").is_file() and (folder / "notes.txt").read_text() == "mine"


# --- case 1: a kill while a checkpoint or the best model is written ---------------------------

@pytest.mark.slow
def test_kill_while_the_model_folder_is_written_keeps_the_previous_model(tmp_path):
    import keras

    keras.utils.set_random_seed(1)
    first = create_model("autoencoder", image_size=32)
    folder = first.save_pretrained(tmp_path / "model", extra={"epoch": 1})
    x = np.linspace(-0.5, 0.5, 32 * 32, dtype=np.float32).reshape(1, 32, 32, 1)
    expected = np.asarray(first.network(x))
    script = textwrap.dedent(f"""
        import os, signal, keras
        from colorizer import create_model
        original = keras.Model.save_weights
        def cut(self, path, *args, **kwargs):
            original(self, path, *args, **kwargs)
            with open(path, "r+b") as handle:
                handle.truncate(10_000)
            os.kill(os.getpid(), signal.SIGKILL)
        keras.Model.save_weights = cut
        keras.utils.set_random_seed(2)
        create_model("autoencoder", image_size=32).save_pretrained({str(folder)!r},
                        extra={{"epoch": 2}})
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]
    assert any(is_partial(p) for p in tmp_path.iterdir())  # the killed write's temp folder
    assert json.loads((folder / "config.json").read_text())["epoch"] == 1
    np.testing.assert_array_equal(np.asarray(from_pretrained(folder).network(x)), expected)
    first.save_pretrained(folder, extra={"epoch": 3})  # the next save cleans up
    assert sorted(p.name for p in folder.iterdir()) == ["config.json", "model.weights.h5"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]


@pytest.mark.slow
def test_kill_while_the_checkpoint_is_written_resumes_from_the_epoch_before(image_folder,
                                                                            tmp_path):
    run = tmp_path / "run"
    # save_weights calls: epoch 1 backup, epoch 1 best model, epoch 2 backup <- killed there.
    _run_killed("(keras.Model, 'save_weights')", 3, 10_000, *_train_args(image_folder, run, 3))
    backup = run / "backup"
    assert any(is_partial(p) for p in backup.iterdir())  # the cut write went to a temp file
    assert json.loads((backup / "training_metadata.json").read_text())["epoch"] == 1
    assert _epochs(run) == [0, 1]  # epoch 2's row, written before its checkpoint
    assert main(["train", "--resume", str(run)]) == 0
    assert _epochs(run) == [0, 1, 2]  # epoch 2 ran again and replaced its row
    assert not any(is_partial(p) for p in backup.iterdir())
    from_pretrained(run)


@pytest.mark.slow
def test_kill_during_the_first_checkpoint_write_starts_the_run_cleanly(image_folder, tmp_path):
    run = tmp_path / "run"
    # save_weights call 1: the first checkpoint (epoch 1), cut short and killed.
    _run_killed("(keras.Model, 'save_weights')", 1, 10_000, *_train_args(image_folder, run, 2))
    assert main(["train", "--resume", str(run)]) == 0  # the issue: exit 2, "bad object header"
    assert _epochs(run) == [0, 1]
    assert json.loads((run / "backup" / "training_metadata.json").read_text())["epoch"] == 2
    from_pretrained(run)


@pytest.mark.slow
def test_damaged_state_files_without_an_epoch_before_name_the_file_and_the_fix(
        image_folder, tmp_path, capsys):
    """What an older version's in-place write, cut by a kill during the first checkpoint, left."""
    run = tmp_path / "run"
    assert main(_train_args(image_folder, run, 1)) == 0
    backup = run / "backup"
    assert not (backup / "latest.weights.h5.bkp").exists()  # one checkpoint: no epoch before
    weights = (backup / "latest.weights.h5").read_bytes()
    capsys.readouterr()
    for name, damaged in (("latest.weights.h5", weights[:10_000]),
                          ("training_metadata.json", b"")):
        (backup / "latest.weights.h5").write_bytes(weights)
        (backup / name).write_bytes(damaged)
        assert main(["train", "--resume", str(run), "--epochs", "2"]) == 2
        printed = capsys.readouterr().err  # "training on N images" first, then the error
        error = printed.splitlines()[-1]
        assert error.startswith("colorizer train: error: ") and "Traceback" not in printed
        assert f"{backup / name} is damaged" in error
        assert f"delete {backup} and run `colorizer train --resume {run}` again" in error
    shutil.rmtree(backup)  # the fix the message gives: the run starts again, history kept whole
    assert main(["train", "--resume", str(run), "--epochs", "2"]) == 0
    assert _epochs(run) == [0, 1]


# Runs ``colorizer`` (argv[1:]) and kills it while history.csv gets the row of epoch 2: the
# row is written and flushed, cut 10 bytes short, and the process killed.
HISTORY_KILLER = textwrap.dedent("""
    import csv, os, signal, sys
    init, writerow = csv.DictWriter.__init__, csv.DictWriter.writerow

    def remember(self, handle, *args, **kwargs):
        init(self, handle, *args, **kwargs)
        self.handle = handle

    def cut(self, row):
        result = writerow(self, row)
        if str(row.get("epoch")) == "1" and str(getattr(self.handle, "name", "")).endswith(".csv"):
            self.handle.flush()
            os.truncate(self.handle.name, os.path.getsize(self.handle.name) - 10)
            os.kill(os.getpid(), signal.SIGKILL)
        return result

    csv.DictWriter.__init__, csv.DictWriter.writerow = remember, cut
    from colorizer.cli import main
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.slow
def test_kill_while_the_history_is_written_leaves_whole_rows(image_folder, tmp_path):
    run = tmp_path / "run"
    done = subprocess.run([sys.executable, "-c", HISTORY_KILLER,
                           *_train_args(image_folder, run, 3)], capture_output=True, text=True,
                          timeout=600, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]
    assert main(["train", "--resume", str(run)]) == 0
    with (run / "history.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    # Appended in place, the cut row of epoch 2 and the next one merged into one line.
    assert [row[0] for row in rows] == ["epoch", "0", "1", "2"]
    assert all(len(row) == len(rows[0]) and all(row) for row in rows)


@pytest.mark.slow
def test_damaged_checkpoint_files_fall_back_to_the_previous_epoch(image_folder, tmp_path):
    run = tmp_path / "run"
    assert main(_train_args(image_folder, run, 2)) == 0
    backup = run / "backup"
    assert (backup / "latest.weights.h5.bkp").is_file()  # double checkpointing
    data = (backup / "latest.weights.h5").read_bytes()
    (backup / "latest.weights.h5").write_bytes(data[:10_000])  # as a kill mid-write leaves it
    assert main(["train", "--resume", str(run), "--epochs", "3"]) == 0
    assert _epochs(run) == [0, 1, 2]  # epoch 1 ran again (its checkpoint was lost), listed once

    (backup / "training_metadata.json").write_text('{"epo')  # cut short
    assert main(["train", "--resume", str(run), "--epochs", "4"]) == 0
    assert _epochs(run) == [0, 1, 2, 3]


# --- case 2: --resume RUN resumes RUN, wherever it is -----------------------------------------

@pytest.mark.slow
def test_resume_a_moved_and_a_copied_run(image_folder, tmp_path):
    original = tmp_path / "original"
    assert main(_train_args(image_folder, original, 1)) == 0
    moved = tmp_path / "elsewhere" / "moved"
    moved.parent.mkdir()
    shutil.move(original, moved)
    assert main(["train", "--resume", str(moved), "--epochs", "2"]) == 0
    assert not original.exists() and _epochs(moved) == [0, 1]
    assert json.loads((moved / "config.json").read_text())["output"] == str(moved)

    copy = tmp_path / "copy"
    shutil.copytree(moved, copy)
    assert main(["train", "--resume", str(copy), "--epochs", "3"]) == 0
    assert _epochs(copy) == [0, 1, 2] and _epochs(moved) == [0, 1]  # the copy, not its source


# --- case 3: a kill while the CLI writes a result ---------------------------------------------

@pytest.mark.slow
def test_interrupted_cli_output_is_redone_on_the_next_run(tmp_path):
    model = create_model("autoencoder", image_size=32).save_pretrained(tmp_path / "model")
    photos = tmp_path / "photos"
    photos.mkdir()
    for name in ("a", "b"):
        Image.fromarray(colourful_image(ord(name))).save(photos / f"{name}.jpg")
    out = tmp_path / "out"
    cli = ["colorize", str(photos), "-o", str(out), "--model", str(model), "--quiet"]
    _run_killed("(Image.Image, 'save')", 2, 100, *cli)  # a.png written, b.png cut and killed
    assert (out / "a.png").is_file() and not (out / "b.png").exists()
    assert any(is_partial(p) for p in out.iterdir())
    assert main(cli) == 0  # b is colorized now; a is left as it is (done)
    assert Image.open(out / "b.png").size == (48, 40)
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png"]


def test_temp_files_of_a_long_name_are_removed_at_its_next_write(tmp_path):
    from colorizer.io.atomic import _temp_name, remove_partial_files

    long = "x" * 250 + ".png"
    left = tmp_path / _temp_name(tmp_path / long)  # as a killed writer leaves it
    left.write_bytes(b"half")
    other = tmp_path / _temp_name(tmp_path / "x.png")
    other.write_bytes(b"another file's")
    assert left.name != other.name and len(left.name) <= 255
    assert remove_partial_files(tmp_path, long) == [left]
    assert other.exists()
    assert remove_partial_files(tmp_path, "x.png") == [other]
