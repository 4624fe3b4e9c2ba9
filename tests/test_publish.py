"""`colorizer publish` and pulling the zoo, through huggingface_hub's real client and the local
stand-in for the Hub (tests/hub_server.py).

huggingface_hub reads HF_ENDPOINT / HF_HUB_OFFLINE when it is imported, so publishing and each
pull run in a fresh Python process: the pull with an empty HF cache and COLORIZER_WEIGHTS
pointing at an empty folder, as a wheel install or a Space without weights/ would.
"""

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorizer import create_model
from colorizer.hub.zoo import read_manifest, write_manifest
from hub_server import FakeHub, folder_files

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "1909Chicago.jpg"
NAME = "cnn.tiny_32"
REPO = "team/colorizer-cnn.tiny_32"

PULL_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    import colorizer
    try:
        model = colorizer.from_pretrained(sys.argv[1])
    except colorizer.HubError as error:
        print(json.dumps({"error": str(error)}))
        raise SystemExit(0)
    x = np.linspace(-0.5, 0.5, 32 * 32, dtype=np.float32).reshape(1, 32, 32, 1)
    result = model.colorize(sys.argv[2])
    entry = next(e for e in colorizer.list_pretrained() if e.name == sys.argv[1])
    print(json.dumps({"prediction": float(np.asarray(model.network(x)).sum()),
                      "size": list(result.size), "local": entry.local,
                      "revision": entry.revision}))
""")


def _evaluation(ab_mse):
    scores = {"ab_mse": ab_mse, "psnr": 24.0, "ssim": 0.93, "colourfulness": 20.0,
              "delta_cf": 15.0, "auc": 90.0}
    return {"data": "flickr8k", "split": "val", "images": 10, "image_size": 32,
            "original_colourfulness": 35.0,
            "results": {"model": scores, "gray": dict(scores, ab_mse=232.0),
                        "mean": dict(scores, ab_mse=209.0)}}


def _weight_folder(weights: Path, seed: int, secret: Path) -> tuple[Path, float]:
    """A zoo weight folder whose config.json also records local paths (as a run's does)."""
    import keras

    keras.utils.set_random_seed(seed)
    model = create_model("cnn", image_size=32, width=0.125)
    folder = model.save_pretrained(weights / NAME, extra={
        "name": NAME, "description": "tiny cnn", "params": model.count_params(),
        "training": {"data": str(secret / "photos"), "output": str(secret / "run")}})
    (folder / "metrics.json").write_text(json.dumps({"dataset": "flickr8k",
                                                     "evaluation": _evaluation(150.0)}))
    x = np.linspace(-0.5, 0.5, 32 * 32, dtype=np.float32).reshape(1, 32, 32, 1)
    return folder, float(np.asarray(model.network(x)).sum())


def _run(args, env, timeout=300):
    done = subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT)
    return done


def _env(hub, home, zoo, weights, offline=False):
    env = {key: value for key, value in os.environ.items()
           if key not in ("HF_HUB_OFFLINE", "HF_TOKEN", "TF_CPP_MIN_LOG_LEVEL")}
    env.update({"HF_ENDPOINT": hub.endpoint, "HF_HOME": str(home), "COLORIZER_ZOO": str(zoo),
                "COLORIZER_WEIGHTS": str(weights), "HF_HUB_DISABLE_TELEMETRY": "1",
                "HF_HUB_ETAG_TIMEOUT": "2", "HF_HUB_DOWNLOAD_TIMEOUT": "5",
                "PYTHONPATH": os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])})
    if offline:
        env["HF_HUB_OFFLINE"] = "1"
    return env


def _pull(env, name=NAME):
    done = _run(["-c", PULL_SCRIPT, name, str(EXAMPLE)], env)
    assert done.returncode == 0, done.stderr[-3000:]
    # No TensorFlow/absl start-up lines (the environment leaves TF_CPP_MIN_LOG_LEVEL unset).
    assert "absl::InitializeLog" not in done.stderr
    assert not re.search(r"^[IWE]\d{4} |cudart_stub|cuInit", done.stderr, re.M), done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def hub():
    server = FakeHub().start()
    yield server
    server.stop()


@pytest.mark.slow  # four fresh processes, each loading TensorFlow
def test_publish_then_a_fresh_install_pulls_the_pinned_revision(hub, tmp_path):
    weights, empty = tmp_path / "weights", tmp_path / "no-weights"
    weights.mkdir()
    empty.mkdir()
    folder, prediction = _weight_folder(weights, seed=1, secret=tmp_path)
    zoo = write_manifest({"owner": None, "models": []}, tmp_path / "zoo.json")

    publisher = _env(hub, tmp_path / "publisher-home", zoo, weights)
    done = _run(["-m", "colorizer.cli", "publish", NAME, "--owner", "team"], publisher)
    assert done.returncode == 0, done.stderr[-3000:]
    revision = hub.repos[REPO]["refs"]["main"]
    assert f"{NAME}: {REPO}@{revision}" in done.stdout
    assert hub.repos[REPO]["log"] == [revision]  # one commit
    manifest = read_manifest(zoo)
    assert manifest["owner"] == "team"
    (entry,) = manifest["models"]
    assert entry["name"] == NAME and entry["repo"] == "colorizer-cnn.tiny_32"
    assert entry["revision"] == revision
    assert entry["metrics"]["val_ab_mse"] == 150.0 and entry["architecture"] == "cnn"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".zoo")) == []

    pushed = hub.repos[REPO]["commits"][revision]
    assert set(pushed) == {"config.json", "model.weights.h5", "metrics.json", "README.md"}
    assert pushed["model.weights.h5"] == (folder / "model.weights.h5").read_bytes()
    config = json.loads(pushed["config.json"])
    assert str(tmp_path) not in pushed["config.json"].decode() and "training" not in config
    assert config["hub_repo"] == REPO and config["architecture"] == "cnn"
    assert f'from_pretrained("{REPO}")' in pushed["README.md"].decode()

    # Publishing the same folder again changes nothing on the Hub or in the manifest.
    again = _run(["-m", "colorizer.cli", "publish", NAME], publisher)
    assert again.returncode == 0, again.stderr[-3000:]
    assert hub.repos[REPO]["log"] == [revision] and read_manifest(zoo) == manifest

    # The repo's main moves on; the zoo keeps its pinned revision.
    _, other = _weight_folder(tmp_path / "other", seed=2, secret=tmp_path)
    hub.add_commit(REPO, folder_files(tmp_path / "other" / NAME), parent=revision)
    assert other != prediction

    home = tmp_path / "fresh-home"
    pulled = _pull(_env(hub, home, zoo, empty))
    assert pulled["prediction"] == pytest.approx(prediction, rel=1e-6)
    assert pulled["size"] == list(Image.open(EXAMPLE).size)
    assert pulled["local"] is False and pulled["revision"] == revision
    assert any(f"/{REPO}/resolve/{revision}/model.weights.h5" in r for r in hub.requests)

    hub.stop()
    offline = _pull(_env(hub, home, zoo, empty, offline=True))  # from the cache
    assert offline["prediction"] == pytest.approx(prediction, rel=1e-6)
    never = _pull(_env(hub, tmp_path / "empty-home", zoo, empty, offline=True))
    assert REPO in never["error"] and "HF_HUB_OFFLINE" in never["error"]
    assert "\n" not in never["error"]


def test_an_unpublished_model_without_weights_says_so(tmp_path, monkeypatch):
    from colorizer.hub import HubError, resolve

    zoo = write_manifest({"owner": "team", "models": [
        {"name": "cnn.unpublished", "repo": "colorizer-cnn.unpublished", "revision": None,
         "label": "x", "architecture": "cnn", "head": "regression", "image_size": 32}]},
        tmp_path / "zoo.json")
    monkeypatch.setenv("COLORIZER_ZOO", str(zoo))
    monkeypatch.setenv("COLORIZER_WEIGHTS", str(tmp_path / "nothing"))
    with pytest.raises(HubError, match="cnn.unpublished is not published on the Hub yet"):
        resolve("cnn.unpublished")


def test_publish_refuses_to_move_a_published_zoo_in_part(tmp_path, monkeypatch):
    from colorizer.hub.publish import publish

    weights = tmp_path / "weights"
    _weight_folder(weights, seed=3, secret=tmp_path)
    manifest = {"owner": "team", "models": [
        {"name": "a.b", "repo": "colorizer-a.b", "revision": "1" * 40, "label": "a"}]}
    zoo = write_manifest(manifest, tmp_path / "zoo.json")
    monkeypatch.setenv("COLORIZER_ZOO", str(zoo))
    monkeypatch.setenv("COLORIZER_WEIGHTS", str(weights))
    with pytest.raises(ValueError, match="moving it to other means publishing every published "
                                         "model there too \\(a.b\\)"):
        publish([NAME], owner="other")
    with pytest.raises(FileNotFoundError, match="nothing to publish for missing.name"):
        publish(["missing.name"], owner="team")
    assert read_manifest(zoo) == manifest  # untouched


def test_no_push_records_the_figures_only(tmp_path, monkeypatch):
    from colorizer.hub.publish import publish

    weights = tmp_path / "weights"
    _weight_folder(weights, seed=4, secret=tmp_path)
    zoo = write_manifest({"owner": None, "models": [
        {"name": NAME, "repo": "colorizer-cnn.tiny_32", "revision": None, "label": "Tiny",
         "description": "a tiny test model", "metrics": {"val_ab_mse": 999.0}}]},
        tmp_path / "zoo.json")
    monkeypatch.setenv("COLORIZER_ZOO", str(zoo))
    monkeypatch.setenv("COLORIZER_WEIGHTS", str(weights))
    publish(push=False, log=lambda line: None)
    (entry,) = read_manifest(zoo)["models"]
    assert entry["metrics"]["val_ab_mse"] == 150.0 and entry["revision"] is None
    assert entry["label"] == "Tiny" and entry["description"] == "a tiny test model"
    assert entry["params"] > 0 and entry["image_size"] == 32 and entry["hints"] is False


def test_partial_folders_are_not_models(tmp_path, monkeypatch, capsys):
    """A killed export or save leaves its folder half-done under a hidden temp name: `colorizer
    list` (and so the demo's menu) and `colorizer publish` leave it out; the next write of
    that name removes it."""
    import shutil

    from colorizer.io.atomic import atomic_folder
    from colorizer.cli import main
    from colorizer.hub.publish import publish
    from colorizer.hub.zoo import list_pretrained

    weights = tmp_path / "weights"
    folder, _ = _weight_folder(weights, seed=5, secret=tmp_path)
    for partial in (f".{NAME}.partial-dead", f".{NAME}.partial-old-beef"):
        shutil.copytree(folder, weights / partial)  # as complete as a kill can leave it
    zoo = write_manifest({"owner": None, "models": []}, tmp_path / "zoo.json")
    monkeypatch.setenv("COLORIZER_ZOO", str(zoo))
    monkeypatch.setenv("COLORIZER_WEIGHTS", str(weights))
    assert [entry.name for entry in list_pretrained()] == [NAME]
    assert main(["list"]) == 0
    assert ".partial-" not in capsys.readouterr().out
    publish(push=False, log=lambda line: None)
    assert [model["name"] for model in read_manifest(zoo)["models"]] == [NAME]
    with pytest.raises(ValueError, match="temp folder"):
        publish([f".{NAME}.partial-dead"], push=False)
    with atomic_folder(folder, overwrite=True) as staging:  # an export's next write
        shutil.copytree(folder, staging, dirs_exist_ok=True)
    assert sorted(p.name for p in weights.iterdir()) == [NAME]
