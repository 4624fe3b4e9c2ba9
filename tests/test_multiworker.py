"""Multi-worker training (``--strategy multiworker``: TensorFlow's MultiWorkerMirroredStrategy)
with real worker processes on 127.0.0.1, on the CPU, and the per-worker data shares it uses.

The cluster tests run ``python -m colorizer.cli train`` as each worker would on its machine,
with its own TF_CONFIG (free ports picked at run time) and its own TMPDIR: autoencoder at 32 px,
global batch 4, on 8 training and 4 validation photos of the image_folder fixture (the
comparison with a one-worker cluster) or 40 and 4 generated ones (the kill and restart).
"""

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from colorizer.training import data
from conftest import colourful_image
from test_shards import numbered, write_shards

# The two-worker run's history.csv against the one-worker run's (same global batch and seed):
# relative tolerance. The two runs see the same photos in each step (the workers' shares make
# up the one worker's batch) from the same initial weights, so what differs is the order of
# float32 additions: a step's gradient is the sum of two half-batch means scaled by 1/2 instead
# of one full-batch mean, and a metric is the mean of two replicas' means. Measured here (2
# epochs of 2 steps): at most 1.1e-7 relative, about one float32 ulp, on every metric. RMSprop
# divides by sqrt(v) and so amplifies such noise only in weights whose gradient is near its
# epsilon (1e-7), and over a few steps it stays far below 1e-5. A sharing error is far larger:
# the two half-batches of a step differ in loss by ~1 %, so a photo seen twice or left out of
# a step moves an epoch's loss by ~1e-3 relative. 1e-5 is ~100x the noise and ~100x below that.
RTOL = 1e-5
METRICS = ("loss", "ab_mse", "val_loss", "val_ab_mse")
TIMEOUT = 240  # seconds for one worker process; a hung collective fails instead of stalling


def _shares(images, batch_size: int, workers: int, **kwargs) -> list[list[list[np.ndarray]]]:
    """Per worker, per step: the L channel of each worker's batches of one epoch pass."""
    result = []
    for index in range(workers):
        dataset = data.make_dataset(images, 32, batch_size, shuffle=True, seed=3,
                                    drop_remainder=True, shard=(index, workers), **kwargs)
        result.append([[np.asarray(part) for part in batch] for batch in dataset])
    return result


@pytest.mark.parametrize("kind", ["array", "shards"])
def test_the_workers_shares_make_up_the_one_workers_batches(kind, tmp_path):
    photos = numbered(0, 13)  # flat photos 0-12, each its own lightness
    if kind == "shards":
        write_shards(tmp_path / "shards", {"train": [numbered(0, 5), numbered(5, 5),
                                                     numbered(10, 3)], "val": [numbered(99, 1)]})
        folder = tmp_path / "shards"
        photos = data.shards.open_split(folder, data.shards.read_index(folder), "train")
    one, = _shares(photos, 4, 1)
    two = _shares(photos, 4, 2)
    assert [len(steps) for steps in two] == [3, 3]  # 12 of 13 photos: whole global batches
    for step, batch in enumerate(one):
        lightness = batch[0][:, 0, 0, 0]
        assert len(set(np.round(lightness, 3))) == 4
        shares = [worker[step][0][:, 0, 0, 0] for worker in two]
        assert [len(share) for share in shares] == [2, 2]
        np.testing.assert_array_equal(np.concatenate(shares), lightness)
    seen = np.concatenate([batch[0][:, 0, 0, 0] for batch in one])
    assert len(set(np.round(seen, 3))) == 12  # none twice in an epoch


def test_each_photo_keeps_its_hint_key_in_a_workers_share():
    from colorizer.hints.simulator import HintSampler

    photos = np.stack([colourful_image(i, (32, 32)) for i in range(8)])
    one, = _shares(photos, 4, 1, hints=HintSampler(seed=5))
    two = _shares(photos, 4, 2, hints=HintSampler(seed=5))
    for step, batch in enumerate(one):
        np.testing.assert_array_equal(
            np.concatenate([worker[step][2] for worker in two]), batch[2])


def test_the_global_batch_must_split_evenly():
    with pytest.raises(ValueError, match="multiple of the workers"):
        data.make_dataset(numbered(0, 8), 32, 5, drop_remainder=True, shard=(0, 2))


# --- real worker processes ---------------------------------------------------------------

def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def _worker(ports: list[int], index: int, args: list[str], log, tmp) -> subprocess.Popen:
    tf_config = {"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                 "task": {"type": "worker", "index": index}}
    env = {**os.environ, "TF_CONFIG": json.dumps(tf_config), "TMPDIR": str(tmp),
           "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.Popen([sys.executable, "-m", "colorizer.cli", "train", *args],
                            env=env, stdout=log, stderr=subprocess.STDOUT)


def _cluster(workers: int, args: list[str], tmp_path, name: str, ports=None):
    """Start ``workers`` worker processes; return them and their log files."""
    ports = ports or _free_ports(workers)
    tmp = tmp_path / f"tmp-{name}"
    tmp.mkdir(exist_ok=True)
    logs = [tmp_path / f"{name}-worker{i}.log" for i in range(workers)]
    processes = []
    for index, log in enumerate(logs):
        with log.open("w") as handle:
            processes.append(_worker(ports, index, args, handle, tmp))
    return processes, logs, ports


def _finish(processes, logs) -> None:
    try:
        for process, log in zip(processes, logs):
            assert process.wait(timeout=TIMEOUT) == 0, log.read_text()[-3000:]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()


def _history(run) -> list[dict[str, float]]:
    with (run / "history.csv").open() as handle:
        return [{key: float(value) for key, value in row.items()} for row in csv.DictReader(handle)]


@pytest.fixture
def split_folder(image_folder):
    """image_folder with train.txt (8 photos) and val.txt (4): whole batches for two workers."""
    names = sorted(path.name for path in image_folder.glob("colour_*"))
    (image_folder / "train.txt").write_text("".join(f"{name}\n" for name in names[:8]))
    (image_folder / "val.txt").write_text("".join(f"{name}\n" for name in names[8:12]))
    return image_folder


def _args(folder, run, epochs: int) -> list[str]:
    return ["--model", "autoencoder", "--data", str(folder), "--output", str(run),
            "--epochs", str(epochs), "--batch-size", "4", "--image-size", "32",
            "--augment", "", "--strategy", "multiworker", "--seed", "1"]


@pytest.mark.slow
def test_two_workers_train_as_one_worker_does(split_folder, tmp_path):
    one, two = tmp_path / "one-worker", tmp_path / "two-workers"
    # Same global batch (4) and seed; the one-worker run is a cluster of one.
    processes, logs, _ = _cluster(2, _args(split_folder, two, 2), tmp_path, "two")
    reference, reference_logs, _ = _cluster(1, _args(split_folder, one, 2), tmp_path, "one")
    _finish(processes + reference, logs + reference_logs)

    for log in logs:
        assert "training on 8 images, validating on 4" in log.read_text()
    expected, got = _history(one), _history(two)
    assert [row["epoch"] for row in got] == [0, 1]
    for want, row in zip(expected, got):
        for metric in METRICS:
            assert row[metric] == pytest.approx(want[metric], rel=RTOL), (metric, row, want)
    # The chief alone wrote the run folder; the other worker's temporary folder is gone.
    assert {path.name for path in two.iterdir()} >= {"config.json", "history.csv", "curves.png",
                                                      "model", "backup"}
    # The other worker's temporary run folder is gone. (TensorFlow's autograph may leave a
    # __pycache__ of its generated code in TMPDIR: not ours.)
    assert not list((tmp_path / "tmp-two").glob("colorizer-*"))
    from colorizer import from_pretrained

    from_pretrained(two / "model")


@pytest.fixture
def longer_folder(tmp_path):
    """40 training and 4 validation photos: 10 steps an epoch at global batch 4, time to kill a
    worker within epoch 2."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(44):
        Image.fromarray(colourful_image(i, (32, 32))).save(folder / f"p{i:02d}.png")
    (folder / "train.txt").write_text("".join(f"p{i:02d}.png\n" for i in range(40)))
    (folder / "val.txt").write_text("".join(f"p{i:02d}.png\n" for i in range(40, 44)))
    return folder


@pytest.mark.slow
def test_a_worker_killed_mid_epoch_and_restarted_finishes_the_run(longer_folder, tmp_path):
    run = tmp_path / "run"
    processes, logs, ports = _cluster(2, _args(longer_folder, run, 2), tmp_path, "first")
    try:
        backup = run / "backup" / "training_metadata.json"
        deadline = time.monotonic() + TIMEOUT
        while not backup.is_file():  # the end of epoch 1
            assert processes[0].poll() is None, logs[0].read_text()[-3000:]
            assert time.monotonic() < deadline, "no backup after epoch 1"
            time.sleep(0.05)
        # Epoch 1's last callbacks (curves, best model), then half-way into epoch 2: half the
        # time epoch 1 took (its tracing included, so a little later than that).
        time.sleep(min(max(0.5 * _history(run)[0]["epoch_seconds"], 0.3), 5.0))
        processes[1].send_signal(signal.SIGKILL)
        backed_up = json.loads(backup.read_text())["epoch"]  # epochs done
        # TensorFlow then stops the other worker too (its collective ops abort), which says in
        # one line what to do.
        assert processes[0].wait(timeout=TIMEOUT) == 2
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
    assert backed_up == 1, "the kill came after epoch 2's backup, not during the epoch"
    assert [row["epoch"] for row in _history(run)] == [0]
    said = logs[0].read_text()
    assert "a worker of the cluster was lost" in said and f"--resume {run}" in said

    # Restarted (both workers, as the message says) with --resume: epoch 2 from the backup.
    processes, logs, _ = _cluster(2, ["--resume", str(run)], tmp_path, "restart", ports)
    _finish(processes, logs)
    said = logs[0].read_text()
    assert "Epoch 2/2" in said and "Epoch 1/2" not in said
    assert [row["epoch"] for row in _history(run)] == [0, 1]
    # the killed worker's temporary folder too
    assert not list((tmp_path / "tmp-restart").glob("colorizer-*"))
