"""The demo's model cache without a server: loads of different models do not wait for each
other; a second request for the model being loaded waits for that load (or its failure) only."""

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
