import csv
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from colorizer import from_pretrained
from colorizer.training.config import stages
from colorizer.training.loop import TrainConfig, train
from conftest import colourful_image


def _config(image_folder, output, **overrides):
    settings = dict(model="autoencoder", data=str(image_folder), output=str(output),
                    image_size=32, batch_size=4)
    return TrainConfig(**{**settings, **overrides})


def _epochs(run):
    with (run / "history.csv").open() as handle:
        return [int(row["epoch"]) for row in csv.DictReader(handle)]


@pytest.mark.slow
def test_train_writes_a_complete_run_folder_and_resumes(image_folder, tmp_path):
    with pytest.warns(UserWarning, match="skipped 3"):
        run = train(_config(image_folder, tmp_path / "run", epochs=2, augment=["flip", "crop"]))
    assert _epochs(run) == [0, 1]
    saved = json.loads((run / "config.json").read_text())
    assert saved["optimizer"] == "rmsprop" and saved["epochs"] == 2  # the report's choice
    assert (run / "curves.png").stat().st_size > 1000
    assert (run / "backup").is_dir()
    model_config = json.loads((run / "model" / "config.json").read_text())
    assert model_config["epoch"] in (1, 2) and np.isfinite(model_config["val_ab_mse"])
    from_pretrained(run / "model")

    # A killed or finished run continues from its last finished epoch, keeping its history.
    config = TrainConfig.load(run / "config.json")
    config.epochs = 3
    train(config, resume=True)
    assert _epochs(run) == [0, 1, 2]


@pytest.mark.slow
def test_a_finished_run_is_not_overwritten(image_folder, tmp_path):
    train(_config(image_folder, tmp_path / "run", epochs=1, limit=4))
    with pytest.raises(FileExistsError, match="--resume"):
        train(_config(image_folder, tmp_path / "run", epochs=1))


def test_bad_settings_are_refused(image_folder, tmp_path):
    with pytest.raises(ValueError, match="strategy"):
        train(_config(image_folder, tmp_path / "r", strategy="tpu"))
    with pytest.raises(ValueError, match="epochs must be positive"):
        train(_config(image_folder, tmp_path / "r", epochs=0))
    with pytest.raises(ValueError, match="unknown model"):
        TrainConfig(model="nope", data="x").resolved()
    with pytest.raises(ValueError, match="ema must be"):
        TrainConfig(model="autoencoder", data="x", ema=1.0).resolved()


def test_a_bad_model_argument_fails_before_the_run_folder_is_made(image_folder, tmp_path):
    run = tmp_path / "run"
    with pytest.raises(TypeError, match="depth"):
        train(_config(image_folder, run, epochs=1, model_args={"depth": 3}))
    with pytest.raises(ValueError, match="unknown model"):
        train(_config(image_folder, run, epochs=1, init_from="no-such-model"))
    assert not run.exists()  # so the corrected command can use the same --output


def test_a_missing_data_folder_fails_before_the_run_folder_is_made(tmp_path, capsys):
    from colorizer.cli import main

    run = tmp_path / "runs" / "x"
    args = ["train", "--model", "autoencoder", "--data", str(tmp_path / "missing"),
            "--output", str(run), "--epochs", "1", "--image-size", "32"]
    for _ in range(2):  # the same command says the same, not "already holds a run"
        assert main(args) == 2
        assert capsys.readouterr().err == ("colorizer train: error: data folder or list file "
                                           f"not found: {tmp_path / 'missing'}\n")
    assert not (tmp_path / "runs").exists()


@pytest.mark.slow
def test_mirrored_strategy_on_two_logical_cpus(image_folder, tmp_path):
    script = textwrap.dedent(f"""
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
        from colorizer.training.data import make_strategy
        from colorizer.training.loop import TrainConfig, train
        assert make_strategy("mirrored").num_replicas_in_sync == 2
        train(TrainConfig(model="cnn", data={str(image_folder)!r}, output={str(tmp_path / 'm')!r},
                          image_size=32, batch_size=2, epochs=1, strategy="mirrored",
                          model_args={{"width": 0.125}}))
        print("REPLICAS", make_strategy("mirrored").num_replicas_in_sync)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "REPLICAS 2" in done.stdout
    assert _epochs(tmp_path / "m") == [0]


@pytest.mark.slow
def test_two_stage_fine_tuning_unfreezes_the_encoder(image_folder, tmp_path):
    config = TrainConfig(model="lite0_unet", data=str(image_folder), output=str(tmp_path / "ft"),
                         image_size=32, batch_size=4, epochs=1, fine_tune_epochs=1,
                         fine_tune_lr=1e-5, lr_schedule="cosine", model_args={"weights": None})
    run = train(config)
    assert _epochs(run) == [0, 1]
    assert (run / "backup").is_dir() and (run / "backup-fine-tune").is_dir()
    with pytest.raises(ValueError, match="no pretrained encoder"):
        TrainConfig(model="cnn", data="x", fine_tune_epochs=2).resolved()
    # epochs 0: fine-tune a warm-started model straight away, without the frozen stage.
    only = stages(TrainConfig(model="lite0_unet", data="x", epochs=0, fine_tune_epochs=2,
                              fine_tune_lr=1e-5).resolved())
    assert [(s.first_epoch, s.last_epoch, s.lr, s.fine_tune) for s in only] == [(0, 2, 1e-5, True)]


@pytest.mark.slow
def test_warm_start_from_a_trained_model(image_folder, tmp_path):
    first = train(_config(image_folder, tmp_path / "first", epochs=1))
    second = train(_config(image_folder, tmp_path / "second", epochs=1, lr=1e-12,
                           init_from=str(first)))
    import numpy as np

    x = np.zeros((1, 32, 32, 1), np.float32)
    # With a negligible learning rate the warm-started model keeps the first run's weights.
    np.testing.assert_allclose(np.asarray(from_pretrained(second).network(x)),
                               np.asarray(from_pretrained(first).network(x)), atol=1e-5)


@pytest.mark.slow
def test_ema_validates_and_saves_the_averaged_weights(image_folder, tmp_path):
    x = np.random.default_rng(0).uniform(-0.5, 0.5, (2, 32, 32, 1)).astype(np.float32)
    first = str(train(_config(image_folder, tmp_path / "first", epochs=1)))

    def run(name, epochs, **overrides):
        return train(_config(image_folder, tmp_path / name, epochs=epochs, lr=1e-2, limit=4,
                             augment=[], init_from=first, **overrides))  # one step an epoch

    def output(folder):
        return np.asarray(from_pretrained(folder).network(x))

    one_step, three_steps = output(run("one", 1)), output(run("three", 3))
    assert np.abs(three_steps - one_step).max() > 1e-2  # the raw weights move on
    # Keras starts the average at the first step's weights; with a momentum next to 1 it
    # stays there, and the saved model is the average, not the raw weights.
    averaged = run("ema", 3, ema=0.999999)
    np.testing.assert_allclose(output(averaged), one_step, atol=1e-4)
    config = TrainConfig.load(averaged / "config.json")
    config.epochs = 4
    train(config, resume=True)
    assert _epochs(averaged) == [0, 1, 2, 3]
    np.testing.assert_allclose(output(averaged), one_step, atol=1e-4)


@pytest.mark.slow
def test_the_best_epoch_can_be_picked_by_validation_ab_mse(image_folder, tmp_path):
    run = train(_config(image_folder, tmp_path / "run", epochs=3, lr=3e-3, monitor="val_ab_mse"))
    with (run / "history.csv").open() as handle:
        scores = [float(row["val_ab_mse"]) for row in csv.DictReader(handle)]
    saved = json.loads((run / "model" / "config.json").read_text())
    assert saved["monitor"] == "val_ab_mse" and saved["epoch"] == 1 + int(np.argmin(scores))
    assert saved["val_ab_mse"] == pytest.approx(min(scores), rel=1e-6)
    with pytest.raises(ValueError, match="monitor must be one of"):
        TrainConfig(model="autoencoder", data="x", monitor="accuracy").resolved()


# --- one loop, several sources: TensorFlow-free training and the GPU runner -------------------

NO_TENSORFLOW = textwrap.dedent("""
    import os, sys
    os.environ["KERAS_BACKEND"] = "jax"

    class NoTensorFlow:  # an import hook: TensorFlow is not installed, as on a JAX GPU machine
        def find_spec(self, name, path=None, target=None):
            if name == "tensorflow" or name.startswith("tensorflow."):
                raise ImportError("TensorFlow is unimportable in this test")

    sys.meta_path.insert(0, NoTensorFlow())
""")


def _run_without_tensorflow(script: str, tmp_path) -> subprocess.CompletedProcess:
    pytest.importorskip("jax")
    done = subprocess.run([sys.executable, "-c", NO_TENSORFLOW + textwrap.dedent(script)],
                          capture_output=True, text=True, timeout=400, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    return done


@pytest.mark.slow
def test_the_loop_trains_on_jax_without_tensorflow(image_folder, tmp_path):
    done = _run_without_tensorflow(f"""
        import json
        import numpy as np
        from colorizer.training.config import TrainConfig
        from colorizer import from_pretrained
        from colorizer.training.loop import train

        config = TrainConfig(model="cnn", data={str(image_folder)!r}, output="run", epochs=1,
                             image_size=32, batch_size=4, model_args={{"width": 0.125}})
        run = train(config)
        model = from_pretrained(run)
        ab = model.predict_ab(np.full((1, 32, 32, 1), 50.0, np.float32))
        try:
            train(TrainConfig(model="cnn", data={str(image_folder)!r}, output="crop",
                              image_size=32, augment=["crop"]))
        except ValueError as error:
            refused = str(error)
        print(json.dumps({{"shape": list(ab.shape), "refused": refused,
                          "tensorflow": "tensorflow" in sys.modules}}))
    """, tmp_path)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"shape": [1, 32, 32, 2], "tensorflow": False,
                      "refused": result["refused"]}
    assert "crop" in result["refused"] and "tf.data" in result["refused"]
    assert not (tmp_path / "crop").exists()  # refused before the run folder is made
    assert _epochs(tmp_path / "run") == [0] and (tmp_path / "run" / "model").is_dir()
    assert "on jax" in json.loads((tmp_path / "run" / "model" / "config.json").read_text()
                                  )["machine"]


@pytest.mark.slow
def test_the_gpu_runner_shares_the_loop(image_folder, tmp_path):
    """training/train_device.py on a JPEG bundle, under JAX without TensorFlow: the run folder
    is the same as `colorizer train` writes, init_from and limit are honoured."""
    import tarfile

    from PIL import Image

    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for split, seeds in (("train", range(6)), ("val", range(6, 9))):
        with tarfile.open(bundle / f"{split}.tar", "w") as tar:
            for seed in seeds:
                path = tmp_path / f"{split}_{seed}.jpg"
                Image.fromarray(colourful_image(seed, (32, 32))).save(path, quality=90)
                tar.add(path, arcname=path.name)
    first = train(_config(image_folder, tmp_path / "first", epochs=1))
    config_file = tmp_path / "tiny.json"  # no BatchNorm: a negligible rate keeps every weight
    _config(image_folder, "", epochs=1, init_from=str(first), lr=1e-12).save(config_file)
    root = Path(__file__).resolve().parent.parent
    done = _run_without_tensorflow(f"""
        sys.argv = ["train_device.py", {str(config_file)!r}, "--bundle", {str(bundle)!r},
                    "--runs", "runs", "--limit", "4", "--time-limit", "300"]
        sys.path.insert(0, {str(root / "training")!r})
        import train_device
        train_device.main()
        print("TF", "tensorflow" in sys.modules)
    """, tmp_path)
    assert "TF False" in done.stdout
    run = tmp_path / "runs" / "tiny"
    assert _epochs(run) == [0] and (run / "model" / "model.weights.h5").is_file()
    assert "starting from the weights of" in done.stderr  # init_from honoured
    assert "training on 4 images, validating on 3" in done.stderr  # limit honoured
    x = np.zeros((1, 32, 32, 1), np.float32)
    np.testing.assert_allclose(np.asarray(from_pretrained(run).network(x)),
                               np.asarray(from_pretrained(first).network(x)), atol=1e-5)


@pytest.mark.slow
def test_train_flags_override_the_config_file_and_the_run_records_them(image_folder, tmp_path):
    from colorizer.cli import main

    config_file = tmp_path / "recipe.json"
    _config(image_folder, tmp_path / "unused", epochs=3, lr=1e-3, limit=4).save(config_file)
    run = tmp_path / "run"
    assert main(["train", "--config", str(config_file), "--lr", "1e-4", "--epochs", "1",
                 "--output", str(run), "--augment", "", "--model-arg", "head=classification"]
                ) == 0
    saved = TrainConfig.load(run / "config.json")
    assert (saved.lr, saved.epochs, saved.augment, saved.limit) == (1e-4, 1, [], 4)
    assert saved.model_args == {"head": "classification"}
    # A resumed run may train longer, but not change what it trains.
    moved = tmp_path / "moved"
    run.rename(moved)
    assert main(["train", "--resume", str(moved), "--epochs", "2"]) == 0
    assert _epochs(moved) == [0, 1]
    assert TrainConfig.load(moved / "config.json").output == str(moved)
    assert main(["train", "--resume", str(moved), "--model", "cnn"]) == 2


def test_config_files_with_unknown_fields_are_refused(tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps({"model": "cnn", "data": "x", "epoch": 3}))
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['epoch'\]"):
        TrainConfig.load(tmp_path / "bad.json")
