"""from_pretrained against a local stand-in for the Hub, through huggingface_hub's real client.

huggingface_hub reads HF_ENDPOINT / HF_HUB_OFFLINE when it is imported, so each download runs in
a fresh Python process pointed at the stand-in server.
"""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from PIL import Image

from colorizer import create_model
from hub_server import FakeHub, folder_files

LOAD_SCRIPT = textwrap.dedent("""
    import json, sys, warnings
    import numpy as np
    warnings.simplefilter("always")
    import colorizer
    name, revision = sys.argv[1], (sys.argv[2] or None)
    try:
        with warnings.catch_warnings(record=True) as caught:
            model = colorizer.from_pretrained(name, revision=revision)
        x = np.linspace(-0.5, 0.5, 32 * 32, dtype=np.float32).reshape(1, 32, 32, 1)
        print(json.dumps({"prediction": float(np.asarray(model.network(x)).sum()),
                          "warnings": [str(w.message) for w in caught]}))
    except colorizer.HubError as error:
        print(json.dumps({"error": str(error)}))
""")


def _model_folder(tmp_path, name, seed):
    import keras

    keras.utils.set_random_seed(seed)
    model = create_model("autoencoder", image_size=32)
    folder = model.save_pretrained(tmp_path / name)
    (folder / "metrics.json").write_text("{}")
    x = np.linspace(-0.5, 0.5, 32 * 32, dtype=np.float32).reshape(1, 32, 32, 1)
    return folder, float(np.asarray(model.network(x)).sum())


def _load(hub_endpoint, home, name, revision="", offline=False):
    env = {**os.environ, "HF_ENDPOINT": hub_endpoint, "HF_HOME": str(home),
           "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_ETAG_TIMEOUT": "2",
           "HF_HUB_DOWNLOAD_TIMEOUT": "5"}
    env.pop("HF_HUB_OFFLINE", None)
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    done = subprocess.run([sys.executable, "-c", LOAD_SCRIPT, name, revision], env=env,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def hub():
    server = FakeHub().start()
    yield server
    server.stop()


@pytest.mark.slow
def test_download_pin_cache_offline_and_missing_repo(hub, tmp_path):
    first, first_prediction = _model_folder(tmp_path, "v1", seed=1)
    second, second_prediction = _model_folder(tmp_path, "v2", seed=2)
    assert first_prediction != second_prediction
    old_sha = hub.add_commit("team/tiny-colorizer", folder_files(first))
    hub.add_commit("team/tiny-colorizer", folder_files(second))  # main moves on
    home = tmp_path / "hf-home"

    latest = _load(hub.endpoint, home, "team/tiny-colorizer")
    assert latest["prediction"] == pytest.approx(second_prediction, rel=1e-6)
    pinned = _load(hub.endpoint, home, "team/tiny-colorizer", old_sha)
    assert pinned["prediction"] == pytest.approx(first_prediction, rel=1e-6)
    assert any("/resolve/" in request for request in hub.requests)

    missing = _load(hub.endpoint, home, "team/does-not-exist")
    assert "does not exist" in missing["error"]
    bad_revision = _load(hub.endpoint, home, "team/tiny-colorizer", "f" * 40)
    assert "no revision" in bad_revision["error"]

    hub.stop()
    offline = _load(hub.endpoint, home, "team/tiny-colorizer", old_sha, offline=True)
    assert offline["prediction"] == pytest.approx(first_prediction, rel=1e-6)
    unreachable = _load(hub.endpoint, home, "team/tiny-colorizer")  # server down: cache is used
    assert unreachable["prediction"] == pytest.approx(second_prediction, rel=1e-6)
    never_cached = _load(hub.endpoint, tmp_path / "empty-home", "team/tiny-colorizer",
                         offline=True)
    assert "HF_HUB_OFFLINE is set" in never_cached["error"]


@pytest.mark.slow
def test_a_stalled_hub_fails_within_the_timeout(tmp_path):
    """An endpoint that accepts the connection and never answers: a HubError after the
    timeout (COLORIZER_HUB_TIMEOUT, 2 s here), from the library and from the command line."""
    import time

    from hub_server import StalledHub

    stalled = StalledHub().start()
    env = {**os.environ, "HF_ENDPOINT": stalled.endpoint, "HF_HOME": str(tmp_path / "hf-home"),
           "HF_HUB_DISABLE_TELEMETRY": "1", "COLORIZER_HUB_TIMEOUT": "2"}
    env.pop("HF_HUB_OFFLINE", None)
    Image.new("L", (8, 8)).save(tmp_path / "photo.png")
    cli = [sys.executable, "-m", "colorizer.cli"]
    try:
        for command in ([sys.executable, "-c", LOAD_SCRIPT, "team/stalled", ""],
                        [*cli, "pull", "team/stalled"],
                        [*cli, "colorize", str(tmp_path / "photo.png"), "-o",
                         str(tmp_path / "out"), "--model", "team/stalled"]):
            began = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
            took = time.perf_counter() - began
            if command[1] == "-c":
                message = json.loads(done.stdout.strip().splitlines()[-1])["error"]
            else:  # the CLI: exit 2 and a one-line message, no traceback
                assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
                lines = [line for line in done.stderr.splitlines()
                         if line.startswith("colorizer ")]
                assert len(lines) == 1 and ": error: " in lines[0]
                message = lines[0]
            assert "the Hub did not answer within 2 s" in message, message
            assert "team/stalled@main is not in the local cache" in message
            assert took < 60  # TensorFlow's import included; it waited for ever before
    finally:
        stalled.stop()


@pytest.mark.slow
def test_a_dripping_hub_is_cut_off_at_the_whole_call_s_deadline(tmp_path):
    """An endpoint that answers one byte a second never trips a per-read timeout
    (COLORIZER_HUB_TIMEOUT 5 s): the whole call ends at COLORIZER_HUB_DEADLINE (4 s here), from
    the library and the command line, huggingface_hub's own first request included."""
    import time

    from hub_server import DripHub

    drip = DripHub(interval=1.0).start()
    env = {**os.environ, "HF_ENDPOINT": drip.endpoint, "HF_HOME": str(tmp_path / "hf-home"),
           "HF_HUB_DISABLE_TELEMETRY": "1", "COLORIZER_HUB_TIMEOUT": "5",
           "COLORIZER_HUB_DEADLINE": "4"}
    env.pop("HF_HUB_OFFLINE", None)
    cli = [sys.executable, "-m", "colorizer.cli"]
    try:
        for command in ([sys.executable, "-c", LOAD_SCRIPT, "team/drip", ""],
                        [*cli, "pull", "team/drip"]):
            began = time.perf_counter()
            done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
            took = time.perf_counter() - began
            if command[1] == "-c":
                message = json.loads(done.stdout.strip().splitlines()[-1])["error"]
            else:
                assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
                message = done.stderr.strip().splitlines()[-1]
            assert "not done within 4 s, COLORIZER_HUB_DEADLINE" in message, message
            assert "team/drip@main" in message and "not cached" in message, message
            assert took < 40, took  # the import of TensorFlow included; it took 149 s before
        folder, _ = _model_folder(tmp_path, "to-push", seed=3)
        push = ("import sys, colorizer, colorizer.hub\ntry:\n"
                "    colorizer.hub.push_folder(sys.argv[1], 'team/drip')"
                "\nexcept colorizer.HubError as error:\n    print(error)")
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", push, str(folder)], env=env,
                              capture_output=True, text=True, timeout=120)
        assert time.perf_counter() - began < 40 and done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == ("cannot push to team/drip (pushing to team/drip did not "
                                       "finish within 4 s (COLORIZER_HUB_DEADLINE sets the "
                                       "limit))"), done.stdout
        assert drip.connections >= 1
    finally:
        drip.stop()


def test_within_deadline_returns_raises_and_cuts_off(monkeypatch):
    import threading
    import time

    from colorizer.hub import HubDeadlineError, HubError, within_deadline

    monkeypatch.setenv("COLORIZER_HUB_DEADLINE", "0.5")
    assert within_deadline(lambda: 42, "answering") == 42
    with pytest.raises(KeyError):
        within_deadline(lambda: {}["x"], "failing")
    release = threading.Event()
    began = time.perf_counter()
    with pytest.raises(HubDeadlineError, match="waiting did not finish within 0.5 s") as caught:
        within_deadline(lambda: release.wait(30), "waiting")
    assert time.perf_counter() - began < 5 and isinstance(caught.value, HubError)
    release.set()
    monkeypatch.setenv("COLORIZER_HUB_DEADLINE", "soon")
    with pytest.raises(ValueError, match="COLORIZER_HUB_DEADLINE must be a positive number"):
        within_deadline(lambda: 1, "x")
