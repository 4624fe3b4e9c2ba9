"""The demo's service code (colorizer.demo.service) without a server and without TensorFlow:
stand-in models, photos the tests make. Loads of different models do not wait for each other, a
second request for the model being loaded waits for that load (or its failure) only; the pixel
budget queues a photo that does not fit and refuses it after a while; the results on disk are
bounded in age and size, their folder made on first use and removed at exit; a raw API call's
bad arguments and hints get one line; no path that a client did not upload is ever read or
handed out."""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from conftest import colourful_image
from PIL import Image

from colorizer.demo import service
from colorizer.hints.user import parse_hints
from colorizer.io.limits import LRUCache, PixelBudget

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "1909Chicago.jpg"
MISSING = "The upload did not arrive: please try again."


@pytest.fixture
def zoo(monkeypatch):
    """Two models whose 'downloads' take as long as the test says."""
    gates = {"slow": threading.Event(), "quick": threading.Event()}
    calls = []

    def resolve(name):
        calls.append(name)
        if not gates[name].wait(20):
            raise service.HubError(f"{name}: the test's Hub did not answer")
        return f"/folders/{name}"

    entries = {name: SimpleNamespace(name=name, local=True, label=name) for name in gates}
    monkeypatch.setattr(service, "available_models", lambda: entries)
    monkeypatch.setattr(service, "resolve", resolve)
    monkeypatch.setattr(service, "load_folder", lambda folder: f"model {folder}")
    monkeypatch.setattr(service, "keep_out_of_collections", lambda: None)
    monkeypatch.setattr(service, "_models", {})
    monkeypatch.setattr(service, "_loading", {})
    yield gates, calls
    for gate in gates.values():
        gate.set()


def _in_thread(name, results):
    def run():
        try:
            results[name] = service.load_model(name)
        except gr.Error as error:
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
    assert service.load_model("quick") == "model /folders/quick"
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
    with pytest.raises(gr.Error, match="cannot be downloaded right now"):
        service.load_model("slow")
    with pytest.raises(gr.Error, match="There is no model called 'other' here"):
        service.load_model("other")
    with pytest.raises(gr.Error, match="There is no model called"):
        service.load_model(["slow"])
    assert set(service._loading) == {"slow"}


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
    service.prune_results(tmp_path, budget=1000, keep_s=3600, fresh_s=30)
    assert not old.exists() and not a.exists() and not b.exists()  # 1,600 -> 800 bytes
    assert c.exists() and fresh.exists()
    service.prune_results(tmp_path, budget=100, keep_s=3600, fresh_s=30)
    assert not c.exists() and fresh.exists()  # over budget, but too fresh to remove


# --- a server's state, fresh, with Gradio's upload folder in tmp_path ----------------------------

@pytest.fixture
def server(tmp_path, monkeypatch):
    """The service as a server starts it: Gradio's upload/cache folder (GRADIO_TEMP_DIR) not
    made yet, no result folder, no photo checked, no model loaded; its upload folder's path."""
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(tmp_path / "gradio"))
    for name, empty in (("_output_dir", []), ("_models", {}), ("_loading", {}),
                        ("_checked", LRUCache(256)), ("_inputs", LRUCache(64)),
                        ("_previews", LRUCache(16))):
        monkeypatch.setattr(service, name, empty)
    return tmp_path / "gradio"


def _upload(folder: Path, name: str = "photo.png", pixels=None) -> Path:
    """A photo where Gradio puts an upload (a folder of its own in the upload folder)."""
    path = folder / f"upload-{name}" / name
    path.parent.mkdir(parents=True)
    Image.fromarray(colourful_image(1) if pixels is None else pixels).save(path)
    return path


class StandIn:
    """A model's stand-in: colours a photo in one colour (checking hints as a model does, against
    the photo's size); counts its calls."""

    spec = SimpleNamespace(resizable=False)
    image_size = 32

    def __init__(self, colour=(200, 40, 60)):
        self.colour, self.calls = colour, []

    def colorize(self, pixels, size=None, vividness=None, max_pixels=None, hints=None):
        height, width = np.asarray(pixels).shape[:2]
        if hints:
            parse_hints(hints, width, height)
        self.calls.append((width, height, hints))
        return Image.new("RGB", (width, height), self.colour)


@pytest.fixture
def standin(server, monkeypatch):
    """A stand-in model, loaded under the name "stand-in"; the calls of release_freed_memory."""
    model, released = StandIn(), []
    monkeypatch.setattr(service, "_models", {"stand-in": model})
    monkeypatch.setattr(service, "release_freed_memory", lambda: released.append(1))
    model.released = released
    return model


def test_the_result_folder_is_made_on_first_use_inside_gradio_s_folder(server):
    assert not server.exists()
    folder = service.new_output_folder()
    assert folder.parent.parent == server and folder.is_dir()
    assert folder.parent.name.startswith("colorizer-app-")
    assert service.served_file(folder / "x.png") is False  # (no such file yet)
    (folder / "x.png").write_bytes(b"x")
    assert service.served_file(folder / "x.png")
    # A request's folder older than KEEP_RESULTS_S goes when the next request makes its own.
    os.utime(folder, (time.time() - service.KEEP_RESULTS_S - 10,) * 2)
    second = service.new_output_folder()
    assert not folder.exists() and second.is_dir() and second.parent == folder.parent


def test_importing_the_app_and_service_makes_no_folder_and_the_results_go_at_exit(tmp_path):
    """In a process of its own: `import app` loads no Gradio, importing the service makes no
    folder; the result folder is made on first use and removed when the process exits."""
    upload = tmp_path / "gradio"
    script = ("import sys, os, app; assert 'gradio' not in sys.modules, 'app imports gradio'\n"
              "from colorizer.demo import service\n"
              "assert not os.path.exists(os.environ['GRADIO_TEMP_DIR']), 'a folder at import'\n"
              "folder = service.new_output_folder(); (folder / 'x_color.png').write_bytes(b'x')\n"
              "print(folder)\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120,
                          env={**os.environ, "GRADIO_TEMP_DIR": str(upload)})
    assert done.returncode == 0, done.stderr
    made = Path(done.stdout.strip().splitlines()[-1])
    assert made.parent.parent == upload  # it was there, inside Gradio's folder
    assert upload.is_dir() and not list(upload.glob("colorizer-app-*"))  # and is gone


def test_app_help_answers_without_loading_gradio_or_tensorflow():
    done = subprocess.run([sys.executable, "-X", "importtime", "app.py", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "--share" in done.stdout and "--port" in done.stdout
    imported = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")]
    assert imported and not [name for name in imported
                             if name.split(".")[0] in ("gradio", "tensorflow", "keras")]


# --- the pixel budget -------------------------------------------------------------------------

def _colorize_in_thread(photo, results):
    def run():
        try:
            results["answer"] = service.colorize(photo, "stand-in", progress=None)
        except gr.Error as error:
            results["answer"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_a_photo_that_does_not_fit_the_pixel_budget_waits_then_is_colorized(standin, server,
                                                                            monkeypatch):
    path = _upload(server)
    pixels = 48 * 40
    budget = PixelBudget(pixels * 3 // 2, wait_s=30)  # one such photo at a time
    monkeypatch.setattr(service, "PIXEL_BUDGET", budget)
    results = {}
    with budget.hold(pixels):  # another request's photo
        thread = _colorize_in_thread({"path": str(path), "orig_name": "old.png"}, results)
        time.sleep(0.5)
        assert thread.is_alive() and not results and not standin.calls  # queued, not refused
    thread.join(10)
    (before, after), download = results["answer"]
    assert standin.calls == [(48, 40, None)] and budget.in_use == 0 and standin.released
    assert Path(after).name == "old_color.png" and download == after
    assert Path(before).name == "old_input.png"
    assert Image.open(after).size == Image.open(before).size == (48, 40)
    assert service.served_file(after) and Path(after).parent.parent.parent == server
    # The "before" PNG is written once per photo: a re-render (a hint, a setting) reuses it.
    (again, _), _ = service.colorize({"path": str(path), "orig_name": "old.png"}, "stand-in",
                                     vividness=50, progress=None)
    assert again == before


def test_a_photo_kept_waiting_for_the_pixel_budget_is_refused_in_one_line(standin, server,
                                                                          monkeypatch):
    path = _upload(server)
    pixels = 48 * 40
    budget = PixelBudget(pixels * 3 // 2, wait_s=0.3)
    monkeypatch.setattr(service, "PIXEL_BUDGET", budget)
    with budget.hold(pixels):
        with pytest.raises(gr.Error) as caught:
            service.colorize(str(path), "stand-in", progress=None)
    assert caught.value.message == ("The demo is busy with other large photos; try again in a "
                                    "minute.")
    assert not standin.calls and budget.in_use == 0
    (_, after), _ = service.colorize(str(path), "stand-in", progress=None)  # free again
    assert Image.open(after).size == (48, 40)


def test_a_photo_over_the_pixel_limit_is_refused_before_decoding(standin, server, monkeypatch):
    monkeypatch.setattr(service, "MAX_PIXELS", 1000)
    path = _upload(server)
    with pytest.raises(gr.Error) as caught:
        service.colorize(str(path), "stand-in", progress=None)
    assert caught.value.message.startswith("This photo has 0.1 MP (48 x 40 pixels); the demo "
                                           "takes up to ")
    assert service.header_pixels(str(path)) == 0  # (over the limit: not counted, refused)
    assert not standin.calls and service.PIXEL_BUDGET.in_use == 0


def test_the_pixel_budget_bounds_the_server_s_memory():
    assert service.PIXEL_BUDGET.total == service.CONCURRENCY * service.MAX_PIXELS
    assert service.server_budget_mb() == pytest.approx(
        service.REQUEST_BYTES_PER_PIXEL * service.PIXEL_BUDGET.total / 2**20)


# --- a raw API call's arguments -----------------------------------------------------------------

@pytest.mark.parametrize("arguments, message", [
    ((None, ["stand-in"]), "model must be text, not list."),
    ((None, "stand-in", "big"), "render_size must be number or null, not str."),
    ((None, "stand-in", True), "render_size must be number or null, not bool."),
    ((None, "stand-in", 128, {}), "vividness must be number or null, not dict."),
    ((None, "stand-in", 128, 40, 5), "hints must be text or null, not int."),
])
def test_arguments_of_the_wrong_type_get_one_line_naming_the_argument(standin, arguments,
                                                                      message):
    with pytest.raises(gr.Error) as caught:
        service.colorize(*arguments, progress=None)
    assert caught.value.message == message and not standin.calls


def test_check_arguments_takes_the_right_types():
    service.check_arguments(model=("m", str), size=(128, (int, float, type(None))),
                            vividness=(None, (int, float, type(None))), hints=("[]", str))
    with pytest.raises(gr.Error) as caught:
        service.check_arguments(size=(False, (int, float, type(None))))
    assert caught.value.message == "size must be number or null, not bool."


@pytest.mark.parametrize("text, message", [
    ("[{", "hints are not valid JSON"),
    ('{"x": 1, "y": 1}', 'hints must be a JSON list of {"x": .., "y": .., "color": "#rrggbb"}'),
    ("5", 'hints must be a JSON list of {"x": .., "y": .., "color": "#rrggbb"}'),
])
def test_bad_hints_json_is_one_line_before_any_photo_or_model(standin, server, text, message,
                                                               monkeypatch):
    with pytest.raises(gr.Error) as caught:
        service.hints_of(text)
    assert caught.value.message.startswith(message) and "\n" not in caught.value.message
    monkeypatch.setattr(service, "check_photo", lambda photo: pytest.fail("photo checked"))
    with pytest.raises(gr.Error) as caught:
        service.colorize({"path": "/etc/passwd"}, "stand-in", hints=text, progress=None)
    assert caught.value.message.startswith(message) and not standin.calls


@pytest.mark.parametrize("hints, message", [
    ('[{"x": 48, "y": 1, "color": "#00ff00"}]',
     "hint 0: x = 48 is outside the photo (0 <= x < 48)"),
    ('[{"x": 1, "y": 1, "color": "green"}]',
     "hint 0: a hint colour must be '#rrggbb', got 'green'"),
    ("[[1, 2]]", "hint 0 must be (x, y, colour), got [1, 2]"),
])
def test_hints_the_model_refuses_are_one_line(standin, server, hints, message):
    path = _upload(server)
    with pytest.raises(gr.Error) as caught:
        service.colorize(str(path), "stand-in", hints=hints, progress=None)
    assert caught.value.message == message


def test_empty_hints_are_none_and_good_ones_reach_the_model(standin, server):
    assert service.hints_of(None) == service.hints_of("") == service.hints_of("  ") == []
    hints = [{"x": 3, "y": 4, "color": "#20b020"}]
    assert service.hints_of('[{"x": 3, "y": 4, "color": "#20b020"}]') == hints
    path = _upload(server)
    service.colorize(str(path), "stand-in", hints="[]", progress=None)
    service.colorize(str(path), "stand-in", hints='[{"x": 3, "y": 4, "color": "#20b020"}]',
                     progress=None)
    assert [calls[2] for calls in standin.calls] == [None, hints]


# --- no server file handed out --------------------------------------------------------------------

def test_check_photo_refuses_every_path_that_no_client_uploaded(standin, server, tmp_path,
                                                                monkeypatch):
    """A photo outside Gradio's upload/cache folder and examples/ is refused with the message of
    an upload that did not arrive (naming no path), whether it exists or not, and never decoded;
    so is one reached by a symlink or '..' from the upload folder, a folder, a URL."""
    decoded = []
    real_check = service.check_image
    monkeypatch.setattr(service, "check_image",
                        lambda path, *a, **k: decoded.append(path) or real_check(path, *a, **k))
    secret = tmp_path / "secret.png"
    Image.fromarray(colourful_image(2)).save(secret)
    good = _upload(server)
    link = good.parent / "link.png"
    link.symlink_to(secret)
    outside = [str(secret), str(tmp_path / "absent.png"), str(ROOT / "README.md"), str(link),
               str(server / ".." / "secret.png"), str(good.parent), "/etc/passwd",
               str(ROOT / "examples" / ".." / "docs" / "heads_examples.png"),
               f"http://127.0.0.1:7860/gradio_api/file={EXAMPLE}", f"file={secret}",
               "secret.png", "photo.png", str(secret) + "\0.png", "x" * 5000]
    payloads = [*outside, *({"path": path, "orig_name": "photo.jpg"} for path in outside),
                {"path": 5}, {"path": [str(good)]}, 7, [str(good)]]
    for payload in payloads:
        with pytest.raises(gr.Error) as caught:
            service.check_photo(payload)
        assert caught.value.message == MISSING, payload
        with pytest.raises(gr.Error, match=MISSING):
            service.colorize(payload, "stand-in", progress=None)
        with pytest.warns(UserWarning, match=MISSING):  # the upload event: a warning, no photo
            assert service.check_upload(payload) is None
    assert not decoded and not standin.calls
    assert not list(server.glob("colorizer-app-*"))  # no result folder even made
    # What a client uploaded, or one of the page's examples, is taken (and decoded once).
    assert service.check_photo({"path": str(good), "orig_name": "photo.jpg"}) == str(good)
    assert service.check_photo(str(good)) == str(good) and decoded == [str(good)]
    assert service.check_photo(str(EXAMPLE)) == str(EXAMPLE)
    assert service.check_photo(None) is None and service.check_photo("") is None
    assert service.check_photo({"path": None}) is None
    assert service.check_upload(str(good)) is not None  # (gr.skip(): the photo stays)


def test_a_clicked_colour_is_never_read_from_a_file_no_client_uploaded(standin, server,
                                                                       tmp_path):
    """own_colour reads the current result only where the demo could have written it; a path
    elsewhere (sent by a crafted event) gets the model's colour at the point instead."""
    photo = _upload(server)
    foreign = tmp_path / "foreign.png"
    Image.new("RGB", (48, 40), (0, 0, 255)).save(foreign)
    (_, after), _ = service.colorize(str(photo), "stand-in", progress=None)
    served = Path(after)
    Image.new("RGB", (48, 40), (0, 255, 0)).save(served)  # (a result: read as it is)
    assert service.own_colour(str(photo), str(served), "stand-in", (5, 5), (48, 40)) == "#00ff00"
    assert service.own_colour(str(photo), {"path": str(foreign)}, "stand-in", (5, 5),
                              (48, 40)) == "#c8283c"  # the stand-in's colour, not blue
    assert service.own_colour(str(photo), None, "stand-in", (5, 5), (48, 40)) == "#c8283c"


def test_clicks_on_a_reduced_preview_land_on_the_original_s_pixels(server, tmp_path):
    """A photo larger than the preview, stored sideways with an EXIF rotation: a click on the
    preview's picture of a mark gives the mark's pixel in the photo as the library reads it."""
    upright = np.full((3000, 2000), 90, np.uint8)  # 2000 x 3000 as seen, 3000 x 2000 stored
    upright[2400:2460, 300:360] = 255  # a mark at x 300..359, y 2400..2459
    stored = Image.fromarray(upright).transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 clockwise to view"
    path = tmp_path / "sideways.jpg"
    stored.save(path, exif=exif, quality=95)
    preview, size = service.photo_preview(str(path))
    assert size == (2000, 3000) and max(preview.size) == service.PREVIEW_SIDE
    shown = np.asarray(preview.convert("L"))
    rows, columns = np.nonzero(shown > 200)
    click = (int(columns.mean()), int(rows.mean()))
    x, y = service.original_point(click, preview.size, size)
    assert 300 <= x < 360 and 2400 <= y < 2460
    scale = size[0] / preview.width  # ~2.9 original pixels a preview pixel: its centre's
    assert max(service.original_point((0, 0), preview.size, size)) < scale
    last = service.original_point((preview.width - 1, preview.height - 1), preview.size, size)
    assert 2000 - scale < last[0] < 2000 and 3000 - scale < last[1] < 3000
