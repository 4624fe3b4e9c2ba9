"""Nothing that leaves the machine carries a local path or a token: the records and the card of
a push or a publish are reduced to relative names and then checked; the shipped folders too."""

import json
from pathlib import Path

import pytest

from colorizer import create_model
from colorizer.hub import push_folder
from colorizer.hub.public import check_public, find_leak, make_public
from test_hub import _evaluation, _recording_api

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("text, leak", [
    ('"output": "/tmp/runs/cnn.flickr8k_128"', "/tmp/runs/cnn.flickr8k_128"),
    ("trained from `/home/ann/photos/`", "/home/ann/photos/"),
    ("on C:\\Users\\ann\\photos", "C:\\Users\\ann\\photos"),
    ("see ~/runs/x", "~/runs/x"),
    ("token hf_abcdefghijklmnopqrstuvwxyz1234", "hf_abcd..."),
])
def test_local_paths_and_tokens_are_found(text, leak):
    assert find_leak(text) == leak


@pytest.mark.parametrize("text", [
    "colorizer evaluate on data/flickr8k (1,617 photos)", "https://huggingface.co/team/x",
    "lite0_unet.flickr8k_128", "ab MSE 148.5 / 24.21 dB", "http://127.0.0.1:7860/tmp/x",
])
def test_ordinary_card_text_is_not_a_leak(text):
    assert find_leak(text) is None


def _run_folder(tmp_path: Path) -> Path:
    """A saved model whose records and card name this machine's folders, as an export's do."""
    folder = create_model("autoencoder", image_size=32).save_pretrained(
        tmp_path / "runs" / "mine" / "model",
        extra={"training": {"data": str(tmp_path / "private" / "photos"), "output": "/tmp/runs/x"}})
    (folder / "metrics.json").write_text(json.dumps({
        "evaluation": {**_evaluation(), "data": str(tmp_path / "private" / "photos")},
        "training": {"config": {"output": "/tmp/runs/mine", "data": "/home/ann/photos"}}}))
    from colorizer.hub.card import write_model_card

    write_model_card(folder)
    assert find_leak((folder / "README.md").read_text())  # the local card names them
    return folder


def test_push_sends_records_and_card_without_local_paths(tmp_path, monkeypatch):
    folder = _run_folder(tmp_path)
    api, _ = _recording_api(monkeypatch)
    push_folder(folder, "team/mine")
    files = api.uploaded[0]
    for name, data in files.items():
        if name.endswith((".json", ".md")):
            assert find_leak(data.decode()) is None, (name, find_leak(data.decode()))
            assert str(tmp_path) not in data.decode()
    assert "team/mine" in files["README.md"].decode()  # the card was written anew for the repo
    assert json.loads(files["metrics.json"])["evaluation"]["data"] == "photos"
    assert "/tmp/runs/x" in (folder / "config.json").read_text()  # the folder keeps its record


def test_a_hand_written_card_with_a_path_is_refused_and_nothing_is_sent(tmp_path, monkeypatch):
    folder = _run_folder(tmp_path)
    (folder / "README.md").write_text("# My model\n\nTrained on /home/ann/photos with "
                                      "hf_abcdefghijklmnopqrstuvwxyz1234.\n")
    api, _ = _recording_api(monkeypatch)
    with pytest.raises(ValueError, match=r"README.md holds a local path or a token "
                                         r"\('/home/ann/photos'\); nothing was sent"):
        push_folder(folder, "team/mine")
    api.create_commit.assert_not_called()
    (folder / "README.md").write_text("# My model\n\nToken hf_abcdefghijklmnopqrstuvwxyz1234.\n")
    with pytest.raises(ValueError, match=r"\('hf_abcd\.\.\.'\)") as caught:
        push_folder(folder, "team/mine")
    assert "qrstuv" not in str(caught.value)


def test_publish_stages_public_records(tmp_path):
    from colorizer.hub.publish import stage

    folder = _run_folder(tmp_path)
    staged = stage(folder, tmp_path / "staging", "team/colorizer-mine")
    for path in staged.iterdir():
        if path.suffix in (".json", ".md"):
            assert find_leak(path.read_text()) is None, path.name
    assert json.loads((staged / "metrics.json").read_text())["training"]["config"] == {
        "output": "mine", "data": "photos"}


def test_make_public_then_check_public(tmp_path):
    (tmp_path / "metrics.json").write_text(json.dumps({"run": "/work/runs/a", "note": "kept"}))
    check_public(make_public(tmp_path))
    assert json.loads((tmp_path / "metrics.json").read_text()) == {"note": "kept", "run": "a"}
    (tmp_path / "notes.txt").write_text("copied from /mnt/photos/a.jpg")
    with pytest.raises(ValueError, match="notes.txt holds a local path"):
        check_public(tmp_path)


def test_the_shipped_folders_carry_no_local_path():
    for path in sorted((ROOT / "weights").glob("*/*")):
        if path.suffix in (".json", ".md"):
            assert find_leak(path.read_text()) is None, (path, find_leak(path.read_text()))
