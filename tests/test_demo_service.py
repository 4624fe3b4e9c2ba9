"""The demo's service code without a server: loads of different models do not wait for each
other, a second request for the model being loaded waits for that load (or its failure) only;
the results on disk are bounded in age and size."""

import os
import threading
import time
from types import SimpleNamespace

import pytest

app = pytest.importorskip("app")


@pytest.fixture
def zoo(monkeypatch):
    """Two models whose 'downloads' take as long as the test says."""
    gates = {"slow": threading.Event(), "quick": threading.Event()}
    calls = []

    def resolve(name):
        calls.append(name)
        if not gates[name].wait(20):
            raise app.HubError(f"{name}: the test's Hub did not answer")
        return f"/folders/{name}"

    entries = {name: SimpleNamespace(name=name, local=True, label=name) for name in gates}
    monkeypatch.setattr(app, "available_models", lambda: entries)
    monkeypatch.setattr(app, "resolve", resolve)
    monkeypatch.setattr("colorizer.pretrained.load_pretrained", lambda folder: f"model {folder}")
    monkeypatch.setattr(app, "keep_out_of_collections", lambda: None)
    monkeypatch.setattr(app, "_models", {})
    monkeypatch.setattr(app, "_loading", {})
    yield gates, calls
    for gate in gates.values():
        gate.set()


def _in_thread(name, results):
    def run():
        try:
            results[name] = app.load_model(name)
        except app.gr.Error as error:
            results[name] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_stalled_load_does_not_hold_up_another_model(zoo):
    gates, _ = zoo
    results = {}
    slow = _in_thread("slow", results)
    time.sleep(0.2)
    gates["quick"].set()
    began = time.perf_counter()
    assert app.load_model("quick") == "model /folders/quick"
    assert time.perf_counter() - began < 2 and slow.is_alive()
    gates["slow"].set()
    slow.join(5)
    assert results["slow"] == "model /folders/slow"


def test_a_second_request_for_a_loading_model_waits_for_that_load_only(zoo):
    gates, calls = zoo
    results = {}
    first, second = _in_thread("slow", results), None
    time.sleep(0.2)
    second = _in_thread("slow", {})
    time.sleep(0.2)
    assert first.is_alive() and second.is_alive() and calls == ["slow"]
    gates["slow"].set()
    first.join(5), second.join(5)
    assert calls == ["slow"] and results["slow"] == "model /folders/slow"


def test_a_failed_load_lets_the_waiting_request_try_again(zoo, monkeypatch):
    gates, calls = zoo
    monkeypatch.setattr(gates["slow"], "wait", lambda timeout: False)  # the Hub never answers
    with pytest.raises(app.gr.Error, match="cannot be downloaded right now"):
        app.load_model("slow")
    with pytest.raises(app.gr.Error, match="There is no model called 'other' here"):
        app.load_model("other")
    with pytest.raises(app.gr.Error, match="There is no model called"):
        app.load_model(["slow"])
    assert set(app._loading) == {"slow"}


def _result(root, name, size, age):
    folder = root / name
    folder.mkdir()
    (folder / "r_color.png").write_bytes(b"x" * size)
    os.utime(folder, (time.time() - age,) * 2)
    return folder


def test_results_are_pruned_by_age_then_by_size_oldest_first(tmp_path):
    old = _result(tmp_path, "old", 10, age=4000)
    a = _result(tmp_path, "a", 400, age=300)
    b = _result(tmp_path, "b", 400, age=200)
    c = _result(tmp_path, "c", 400, age=100)
    fresh = _result(tmp_path, "fresh", 400, age=5)  # a request may still be handing it out
    app.prune_results(tmp_path, budget=1000, keep_s=3600, fresh_s=30)
    assert not old.exists() and not a.exists() and not b.exists()  # 1,600 -> 800 bytes
    assert c.exists() and fresh.exists()
    app.prune_results(tmp_path, budget=100, keep_s=3600, fresh_s=30)
    assert not c.exists() and fresh.exists()  # over budget, but too fresh to remove


def test_the_result_folder_is_made_on_first_use_inside_gradio_s_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    monkeypatch.setattr(app, "_output_dir", [])
    assert not (tmp_path / "gradio").exists()
    folder = app.new_output_folder()
    assert folder.parent.parent == tmp_path / "gradio" and folder.is_dir()
    assert app.served_file(folder / "x.png") is False  # (no such file yet)
    (folder / "x.png").write_bytes(b"x")
    assert app.served_file(folder / "x.png")
