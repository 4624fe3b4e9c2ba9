"""The Gradio demo, started for real on 127.0.0.1: gradio_client calls and a headless browser."""

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import colorizer
from colorizer.evaluation.metrics import colourfulness

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "1909Chicago.jpg"
EXAMPLES = sorted(path.stem for path in (ROOT / "examples").glob("*.jpg"))  # the page's order
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.slow  # the demo runs as a real server: tens of seconds to start


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _start_app(env: dict, log: Path, args=()) -> subprocess.Popen:
    with log.open("w") as handle:
        return subprocess.Popen([sys.executable, str(ROOT / "app.py"), *args], cwd=ROOT,
                                env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **env},
                                stdout=handle, stderr=subprocess.STDOUT, text=True)


def _wait_for(process: subprocess.Popen, url: str, log: Path, timeout: float = 180) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"app.py exited early:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except OSError:
            time.sleep(1)
    process.kill()
    pytest.fail(f"app.py did not answer within {timeout:.0f} s")


def _stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()


HINT_MODEL = "lite0_unet_hints.standin_128"  # the stand-in's folder name in a test zoo


def hint_standin(folder: Path) -> Path:
    """A stand-in hint model (until a trained one ships): lite0_unet with hint inputs, started
    from the shipped ``lite0_unet.flickr8k_128`` (so without hints it colours as that one), its
    last hint layer set by hand to add the hints' inverse-distance fill to the ab output (so the
    colour follows the hints). Saved as a weight folder; returns it."""
    from colorizer.models.lite0 import HINT_GAIN

    model = colorizer.create_model("lite0_unet", image_size=128, hints=True, weights=None,
                                   encoder_scale=2)
    model.warm_start(ROOT / "weights" / "lite0_unet.flickr8k_128")
    layer = model.network.get_layer("ab_hints")  # input channels 3, 4: the fill's a, b
    kernel = np.zeros_like(layer.get_weights()[0])
    kernel[0, 0, 3, 0] = kernel[0, 0, 4, 1] = 1.5 / HINT_GAIN
    layer.set_weights([kernel])
    return model.save_pretrained(folder)


def hint_zoo(root: Path) -> Path:
    """A weights folder: the stand-in hint model beside links to the shipped folders."""
    root.mkdir(parents=True, exist_ok=True)
    for shipped in (ROOT / "weights").iterdir():
        (root / shipped.name).symlink_to(shipped)
    hint_standin(root / HINT_MODEL)
    return root


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """app.py started as a Hugging Face Space starts it: no --host / --port, the Space's
    variables (GRADIO_SERVER_NAME=0.0.0.0, GRADIO_SERVER_PORT, SPACE_ID) instead."""
    port = _free_port()
    log = tmp_path_factory.mktemp("app") / "server.log"
    process = _start_app({"GRADIO_SERVER_NAME": "0.0.0.0", "GRADIO_SERVER_PORT": str(port),
                          "SPACE_ID": "someone/colorizer"}, log)
    url = f"http://127.0.0.1:{port}/"
    _wait_for(process, url, log)
    yield {"url": url, "port": port, "log": log}
    _stop(process)


@pytest.fixture(scope="module")
def app_url(app):
    return app["url"]


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def test_the_zoo_is_shipped():
    assert colorizer.list_pretrained(), "weights/ holds no model: the demo would have nothing"


@pytest.mark.parametrize("name", [entry.name for entry in colorizer.list_pretrained()])
def test_every_zoo_model_colorizes_at_full_resolution(client, name):
    from gradio_client import handle_file

    (before, after), download = client.predict(handle_file(str(EXAMPLE)), name,
                                               api_name="/colorize")
    result = Image.open(download)
    assert result.size == Image.open(EXAMPLE).size
    assert Image.open(after).size == result.size and Image.open(before).size == result.size
    assert Path(download).suffix == ".png"
    assert colourfulness(np.asarray(result.convert("RGB"))) > 3.0  # real colour, not gray
    # Hints are an edit of any model's result: none is that result, pixel for pixel.
    _, no_hints = client.predict(handle_file(str(EXAMPLE)), name, hints="[]",
                                 api_name="/colorize")
    np.testing.assert_array_equal(_pixels(no_hints), _pixels(download))


@pytest.mark.parametrize("head", ["regression", "classification"])
def test_vividness_raises_the_colour_of_every_model(client, head):
    """0 is the model's own colour (the result of a call without it); each step up is more
    colourful; out of range is one line."""
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    name = next(e.name for e in colorizer.list_pretrained() if e.head == head)
    _, own = client.predict(handle_file(str(EXAMPLE)), name, api_name="/colorize")
    cf = []
    for vividness in (0, 50, 100):
        _, download = client.predict(handle_file(str(EXAMPLE)), name, vividness=vividness,
                                     api_name="/colorize")
        cf.append(colourfulness(_pixels(download)))
        if vividness == 0:
            np.testing.assert_array_equal(_pixels(download), _pixels(own))
    assert cf[0] + 3 < cf[1] < cf[2] - 3, cf
    with pytest.raises(AppError, match="vividness must be a number from 0 to 100, got 150"):
        client.predict(handle_file(str(EXAMPLE)), name, vividness=150, api_name="/colorize")


def _listening(port: int) -> set[str]:
    """Local addresses (hex, as /proc/net/tcp* write them) with a socket listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, hex_port = fields[1].rsplit(":", 1)
            if int(hex_port, 16) == port and fields[3] == "0A":  # 0A: LISTEN
                found.add(address)
    return found


@pytest.mark.skipif(not Path("/proc/net/tcp").is_file(), reason="reads Linux's /proc/net/tcp")
def test_space_variables_make_it_listen_on_all_interfaces(app):
    assert _listening(app["port"]) & {"00000000", "00000000000000000000000000000000"}


def test_a_busy_port_is_reported_at_once_naming_the_flag(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.time()
        done = subprocess.run([sys.executable, str(ROOT / "app.py"), "--port", str(port)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert f"cannot serve on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
    assert "Traceback" not in done.stderr and done.stderr.count("\n") == 1
    print(f"busy port reported after {time.time() - started:.1f} s")


def test_the_menu_speaks_plainly(app_url):
    config = json.loads(urllib.request.urlopen(app_url + "config", timeout=30).read())
    (menu,) = [c["props"] for c in config["components"] if c["props"].get("elem_id") == "model"]
    from colorizer.hub.zoo import list_pretrained, recommended
    from colorizer.io.figures import short

    labels = [label for label, _ in menu["choices"]]
    default = next(name for label, name in menu["choices"] if label.endswith("(recommended)"))
    zoo = {entry.name: entry for entry in list_pretrained()}
    best = recommended(list(zoo.values()))  # the most realistic colour at its default vividness
    assert default == best.name == menu["value"] and labels[0] == best.label + " (recommended)"
    assert "Vivid colour (bolder, may mis-colour)" in labels
    assert any("uniform sepia" in label for label in labels)  # the report's autoencoder
    assert f"colour error {short('ab_mse', best.metrics['val_ab_mse'])}" in menu["info"]
    assert f"colourfulness {short('colourfulness', best.metrics['colourfulness'])}" in menu["info"]
    # One vividness slider for every model: configured at 0, the API's default (the network's
    # own colour, as before), moved to the model's default when the page loads (browser test).
    (vivid,) = [c["props"] for c in config["components"] if c["props"].get("label") == "Vividness"]
    assert vivid["value"] == 0 and vivid.get("interactive") is not False
    assert f"this model's default: {best.vividness:g}" in vivid["info"]
    # Every model of the zoo is in the menu: hints edit the colour of each, hint models too.
    assert sorted(name for _, name in menu["choices"]) == sorted(zoo)


BAD_UPLOADS = {
    "notes.jpg": "This file is not a photo the demo can read",
    "truncated.jpg": "This photo's file is damaged or cut short",
    "empty.png": "This file is empty",
    "bomb.png": "This photo is too large to open safely; the demo takes up to 40 MP: shrink it",
    "large.png": "This photo has 50 MP (10000 x 5000 pixels); the demo takes up to 40 MP: "
                 "shrink it",
    "tiny.png": "This picture is only 4 x 6 pixels; the demo needs at least 8 pixels a side",
}


def _bad_uploads(folder: Path) -> dict[str, Path]:
    (folder / "notes.jpg").write_text("not a photo")
    (folder / "truncated.jpg").write_bytes(EXAMPLE.read_bytes()[:4000])
    (folder / "empty.png").write_bytes(b"")
    Image.new("1", (20000, 20000)).save(folder / "bomb.png")  # 400 MP in a 50 kB file
    Image.new("L", (10000, 5000)).save(folder / "large.png")
    Image.new("L", (4, 6)).save(folder / "tiny.png")
    return {name: folder / name for name in BAD_UPLOADS}


def test_bad_uploads_get_plain_one_line_messages_and_the_server_keeps_going(app, client,
                                                                               tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    name = colorizer.list_pretrained()[0].name
    before = app["log"].read_text()
    for filename, path in _bad_uploads(tmp_path).items():
        with pytest.raises(AppError) as caught:
            client.predict(handle_file(str(path)), name, api_name="/colorize")
        message = str(caught.value)
        assert message.startswith(BAD_UPLOADS[filename]), message
        assert "/" not in message and "\n" not in message
    assert client.predict(None, name, api_name="/colorize") == (None, None)
    (_, after), _ = client.predict(handle_file(str(EXAMPLE)), name, api_name="/colorize")
    assert Image.open(after).size == Image.open(EXAMPLE).size
    logged = app["log"].read_text()[len(before):]
    refusals = [line for line in logged.splitlines() if line.startswith("colorizer app: refused")]
    assert len(refusals) == len(BAD_UPLOADS), logged
    assert "Traceback" not in logged and "UnidentifiedImageError" not in logged


def _raw_call(url: str, data: list) -> str:
    """The /colorize API called as curl would, with a payload Gradio's client would never send;
    the text of its event stream."""
    request = urllib.request.Request(url + "gradio_api/call/colorize", method="POST",
                                     data=json.dumps({"data": data}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        event = json.load(answer)["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/colorize/{event}", timeout=120) as answer:
        return answer.read().decode()


MISSING = "The upload did not arrive: please try again."


def test_the_api_hands_out_no_server_file(app, tmp_path):
    """A path the client did not upload is refused with the message of an upload that did not
    arrive, whether it exists or not: a server photo, one in the temp folder Gradio serves
    from, one reached by a symlink in Gradio's upload folder or by '..', a URL, a file= path,
    a payload dressed as Gradio's own FileData."""
    import tempfile

    url, name = app["url"], colorizer.list_pretrained()[0].name
    secret = tmp_path / "secret.jpg"
    shutil.copy(EXAMPLE, secret)
    upload = Path(tempfile.gettempdir()) / "gradio"  # the server's upload folder
    (upload / f"test-{os.getpid()}").mkdir(parents=True, exist_ok=True)
    link = upload / f"test-{os.getpid()}" / "link.jpg"
    link.unlink(missing_ok=True)
    link.symlink_to(secret)
    try:
        paths = [str(secret), str(tmp_path / "absent.jpg"), str(ROOT / "README.md"),
                 str(link), str(upload / ".." / secret.relative_to(tempfile.gettempdir())),
                 str(ROOT / "examples" / ".." / "docs" / "heads_examples.png"),
                 f"{url}gradio_api/file={EXAMPLE}", f"file={secret}", "/etc/passwd"]
        events = _raw_call(url, [str(secret), name, 128, 40, None])  # not even a FileData
        assert "event: error" in events and ".png" not in events, events
        for payload in [{"path": path} for path in paths]:
            events = _raw_call(url, [payload, name, 128, 40, None])
            assert "event: error" in events, (payload, events)
            assert MISSING in events and str(secret) not in events and "Traceback" not in events
            assert ".png" not in events.replace(MISSING, ""), events
        # Dressed as Gradio's FileData, Gradio itself refuses it (a path it did not receive);
        # its answer is the same for a file that exists and one that does not.
        dressed = [_raw_call(url, [{"path": str(path), "meta": {"_type": "gradio.FileData"},
                                    "orig_name": "photo.jpg"}, name, 128, 40, None])
                   for path in (secret, tmp_path / "absent.jpg")]
        assert "event: error" in dressed[0] and ".png" not in dressed[0], dressed[0]
        assert dressed[0].replace("secret.jpg", "absent.jpg") == dressed[1]
        # The same request on an example (the page's examples) still colorizes.
        events = _raw_call(url, [{"path": str(EXAMPLE)}, name, 128, 40, None])
        assert "event: complete" in events and "_color.png" in events, events
    finally:
        link.unlink(missing_ok=True)


def test_raw_api_arguments_of_the_wrong_type_get_one_line(app):
    url, name = app["url"], colorizer.list_pretrained()[0].name
    for data, message in (([{"path": str(EXAMPLE)}, [name], 128, 40, None], "model must be text"),
                          ([{"path": str(EXAMPLE)}, name, "big", 40, None], "render_size must be"),
                          ([{"path": str(EXAMPLE)}, name, 128, {}, None], "vividness must be"),
                          ([{"path": str(EXAMPLE)}, name, 128, 40, 5], "hints must be text")):
        events = _raw_call(url, data)
        assert "event: error" in events and message in events, events
        assert "unhashable" not in events and "Traceback" not in events


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                    reason="Debian's chromium is not installed (CI installs it)")
def test_browser_bad_upload_then_example_to_result(app_url, tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser, page = _open_page(playwright, app_url)

        # A text file named .jpg: the project's own message at once, with no server path.
        not_a_photo = tmp_path / "holiday.jpg"
        not_a_photo.write_text("not a photo")
        message = page.get_by_text(BAD_UPLOADS["notes.jpg"])
        for _ in range(10):  # an upload before the page is wired up is lost: upload until told
            page.locator("#photo input[type=file]").set_input_files(str(not_a_photo))
            try:
                message.first.wait_for(state="visible", timeout=10_000)
                break
            except PlaywrightTimeout:
                continue
        else:
            pytest.fail("uploading a text file named .jpg never showed the project's message")
        text = page.locator("body").inner_text()
        assert "/tmp" not in text and "preprocess" not in text and "Unidentified" not in text
        page.screenshot(path=str(tmp_path / "bad_upload.png"), full_page=True)

        # Then a good photo: the server answers it.
        _load_example(page, "1909Chicago")
        page.locator("#colorize").click()
        page.locator("#result img").first.wait_for(state="visible", timeout=120_000)
        page.screenshot(path=str(tmp_path / "demo.png"), full_page=True)
        _keep_artifacts(tmp_path, "demo.png", "bad_upload.png")
        assert page.locator("#result img").count() >= 1
        browser.close()


def _open_page(playwright, url: str, height: int = 1000):
    """(browser, page) of the demo in headless Debian chromium, once Gradio's scripts have run."""
    assert CHROMIUM, "chromium is missing: .ci/run installs it with apt-get"
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run"])
    page = browser.new_page(viewport={"width": 1280, "height": height})
    # Not "networkidle": that wait once timed out after 30 s in a CI run (cause not found);
    # the page's own elements say when it is ready.
    page.goto(url, wait_until="domcontentloaded", timeout=120_000)
    page.locator("#examples .gallery-item").first.wait_for(state="visible", timeout=120_000)
    return browser, page


def _load_example(page, stem: str) -> None:
    """Click the example photo ``stem`` until it is in the photo input."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    example = page.locator("#examples .gallery-item").nth(EXAMPLES.index(stem))
    loaded = page.locator(f"#hint_photo img[src*='{stem}']")  # the photo to click, drawn
    for _ in range(10):  # a click before the page is wired up is lost: click until it loads
        example.click()
        try:
            loaded.first.wait_for(state="visible", timeout=5_000)
            return
        except PlaywrightTimeout:
            continue
    pytest.fail(f"clicking the example {stem} never loaded it into the photo input")


def _keep_artifacts(folder: Path, *names: str) -> None:
    """Copy screenshots to COLORIZER_TEST_ARTIFACTS when set (e.g. for CI to keep them)."""
    if os.environ.get("COLORIZER_TEST_ARTIFACTS"):
        artifacts = Path(os.environ["COLORIZER_TEST_ARTIFACTS"])
        artifacts.mkdir(parents=True, exist_ok=True)
        for name in names:
            shutil.copy(folder / name, artifacts / name)


def test_a_space_without_weights_pulls_a_published_model_on_first_use(tmp_path):
    """The Space recipe: the app's code without weights/, an empty HF cache, the zoo manifest
    pinning a revision on the (stand-in) Hub; the download shows its progress."""
    from gradio_client import Client, handle_file
    from hub_server import FakeHub, folder_files

    from colorizer import create_model
    from colorizer.hub.zoo import write_manifest

    model = create_model("cnn", image_size=32, width=0.125)
    folder = model.save_pretrained(tmp_path / "published" / "cnn.tiny_32")
    hub = FakeHub().start()
    try:
        revision = hub.add_commit("team/colorizer-cnn.tiny_32", folder_files(folder))
        hub.file_delay_s = 2.0
        entry = {"architecture": "cnn", "head": "regression", "image_size": 32,
                 "metrics": {"val_ab_mse": 150.0, "gray_ab_mse": 232.0}}
        zoo = write_manifest({"owner": "team", "models": [
            {"name": "cnn.tiny_32", "repo": "colorizer-cnn.tiny_32", "revision": revision,
             "label": "Tiny", "description": "a tiny model", **entry},
            {"name": "cnn.unpublished", "repo": "colorizer-cnn.unpublished", "revision": None,
             "label": "Not here", **entry}]}, tmp_path / "zoo.json")
        (tmp_path / "no-weights").mkdir()
        port = _free_port()
        log = tmp_path / "server.log"
        process = _start_app({"GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
                              "COLORIZER_ZOO": str(zoo),
                              "COLORIZER_WEIGHTS": str(tmp_path / "no-weights"),
                              "HF_ENDPOINT": hub.endpoint, "HF_HOME": str(tmp_path / "hf-home"),
                              "HF_HUB_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "0"}, log)
        url = f"http://127.0.0.1:{port}/"
        try:
            _wait_for(process, url, log)
            config = json.loads(urllib.request.urlopen(url + "config", timeout=30).read())
            (menu,) = [c["props"] for c in config["components"]
                       if c["props"].get("elem_id") == "model"]
            assert menu["choices"] == [["Tiny (recommended)", "cnn.tiny_32"]]
            assert "downloaded on first use" in menu["info"]
            assert not any("/resolve/" in request for request in hub.requests)  # nothing yet

            job = Client(url, verbose=False).submit(handle_file(str(EXAMPLE)), "cnn.tiny_32",
                                                    api_name="/colorize")
            shown = set()
            while not job.done():
                status = job.status()
                shown.update(unit.desc for unit in status.progress_data or [] if unit.desc)
                time.sleep(0.05)
            (_, after), _ = job.result()
            assert Image.open(after).size == Image.open(EXAMPLE).size
            assert any(desc.startswith("Downloading \u201cTiny\u201d from the Hugging Face Hub")
                       for desc in shown), shown
            assert any(f"/resolve/{revision}/model.weights.h5" in r for r in hub.requests)
        finally:
            _stop(process)
    finally:
        hub.stop()


def test_the_demo_bounds_memory_and_cleans_up_at_exit(tmp_path):
    """A server with small limits (COLORIZER_APP_MAX_PIXELS, COLORIZER_APP_MAX_FILE_SIZE):
    a photo or an upload over them is refused, a render size off the slider too; its result
    folders are gone once it is stopped with SIGTERM."""
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    temp = tmp_path / "server-tmp"  # the server's temp dir, checked after it stops
    temp.mkdir()
    port = _free_port()
    log = tmp_path / "server.log"
    process = _start_app({"GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
                          "TMPDIR": str(temp), "COLORIZER_APP_MAX_PIXELS": "2000000",
                          "COLORIZER_APP_MAX_FILE_SIZE": "1mb"}, log)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_for(process, url, log)
        client = Client(url, verbose=False)
        name = colorizer.list_pretrained()[0].name
        large = tmp_path / "large.png"
        Image.new("L", (1500, 1500), 128).save(large)  # 2.25 MP in a small file
        with pytest.raises(AppError, match=r"This photo has 2.3 MP \(1500 x 1500 pixels\); the "
                                           r"demo takes up to 2 MP"):
            client.predict(handle_file(str(large)), name, api_name="/colorize")
        junk = tmp_path / "junk.jpg"
        junk.write_bytes(np.random.default_rng(0).bytes(1024 * 1024 + 1000))
        with pytest.raises(Exception, match="(?i)exceeds the maximum|too large|413"):
            client.predict(handle_file(str(junk)), name, api_name="/colorize")
        resizable = next(e.name for e in colorizer.list_pretrained()
                         if e.architecture != "autoencoder")
        with pytest.raises(AppError, match="render size must be from 64 to 512 px, not 100000"):
            client.predict(handle_file(str(EXAMPLE)), resizable, 100000, api_name="/colorize")
        (_, after), _ = client.predict(handle_file(str(EXAMPLE)), name, api_name="/colorize")
        assert Image.open(after).size == Image.open(EXAMPLE).size
        assert list(temp.glob("gradio/colorizer-app-*/*/*_color.png"))
        # Written once, where Gradio serves it from: no second copy in Gradio's cache.
        assert len(list(temp.rglob(f"{EXAMPLE.stem}_color.png"))) == 1
    finally:
        _stop(process)  # SIGTERM, as a service manager stops it
    assert process.returncode is not None and not list(temp.rglob("colorizer-app-*"))


# --- colour hints, against the stand-in hint model -----------------------------------------------

@pytest.fixture(scope="module")
def hint_app(tmp_path_factory):
    """app.py serving the shipped zoo and the stand-in hint model (COLORIZER_WEIGHTS)."""
    root = tmp_path_factory.mktemp("hint-app")
    port = _free_port()
    log = root / "server.log"
    process = _start_app({"GRADIO_SERVER_NAME": "127.0.0.1", "GRADIO_SERVER_PORT": str(port),
                          "COLORIZER_WEIGHTS": str(hint_zoo(root / "weights"))}, log)
    url = f"http://127.0.0.1:{port}/"
    _wait_for(process, url, log)
    yield {"url": url, "log": log}
    _stop(process)


@pytest.fixture(scope="module")
def hint_client(hint_app):
    from gradio_client import Client

    return Client(hint_app["url"], verbose=False)


def _pixels(path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), float)


def _lean(rgb: np.ndarray, x: int, y: int, towards: int, away: int, radius: int = 4) -> float:
    """How much channel ``towards`` exceeds channel ``away`` around (x, y) (0 R, 1 G, 2 B)."""
    patch = rgb[y - radius:y + radius + 1, x - radius:x + radius + 1]
    return float((patch[..., towards] - patch[..., away]).mean())


def test_api_hints_move_the_colour_towards_them_and_calls_without_them_still_work(hint_client):
    from gradio_client import handle_file

    photo = handle_file(str(EXAMPLE))
    _, plain = hint_client.predict(photo, HINT_MODEL, api_name="/colorize")  # no hints argument
    _, none = hint_client.predict(photo, HINT_MODEL, 128, 0, None, api_name="/colorize")
    np.testing.assert_array_equal(_pixels(none), _pixels(plain))
    (green_x, green_y), (red_x, red_y) = (100, 120), (500, 380)
    hints = [{"x": green_x, "y": green_y, "color": "#20b020"},
             {"x": red_x, "y": red_y, "color": "#d02020"}]
    (_, after), hinted = hint_client.predict(photo, HINT_MODEL, 128, 0, json.dumps(hints),
                                             api_name="/colorize")
    assert Image.open(hinted).size == Image.open(EXAMPLE).size
    before, after = _pixels(plain), _pixels(hinted)
    assert _lean(after, green_x, green_y, 1, 0) > _lean(before, green_x, green_y, 1, 0) + 20
    assert _lean(after, red_x, red_y, 0, 1) > _lean(before, red_x, red_y, 0, 1) + 20


BAD_HINTS = {
    "[{": "hints are not valid JSON",
    '{"x": 1, "y": 1}': 'hints must be a JSON list of {"x": .., "y": .., "color": "#rrggbb"}',
    '[{"x": 640, "y": 1, "color": "#00ff00"}]': "hint 0: x = 640 is outside the photo "
                                                "(0 <= x < 640)",
    '[{"x": 1, "y": 1, "color": "green"}]': "hint 0: a hint colour must be '#rrggbb', got "
                                            "'green'",
    '[[1, 2]]': "hint 0 must be (x, y, colour), got [1, 2]",
}


def test_bad_hints_get_one_line_errors_and_the_server_keeps_going(hint_app, hint_client):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    photo = handle_file(str(EXAMPLE))
    before = hint_app["log"].read_text()
    cases = [(model, text, message) for text, message in BAD_HINTS.items()
             for model in (HINT_MODEL, "lite0_unet.flickr8k_128")]  # hints go to every model
    for model, text, message in cases:
        with pytest.raises(AppError) as caught:
            hint_client.predict(photo, model, 128, 0, text, api_name="/colorize")
        assert str(caught.value).startswith(message), str(caught.value)
        assert "\n" not in str(caught.value)
    (_, after), _ = hint_client.predict(photo, HINT_MODEL, 128, 0, "[]", api_name="/colorize")
    assert Image.open(after).size == Image.open(EXAMPLE).size
    assert "Traceback" not in hint_app["log"].read_text()[len(before):]


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                    reason="Debian's chromium is not installed (CI installs it)")
def test_browser_a_click_colours_the_sky_and_nothing_across_its_edge(app_url, tmp_path):
    """On the recommended model: load the dust-bowl photo, colorize, click its sky (a hint in
    the result's own colour: nothing re-renders), pick a blue: the sky turns blue and the
    ground below the horizon keeps its colour, on the result's pixels; Undo gives back the
    result without hints, pixel for pixel; Vividness 100 re-renders it with more colour."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser, page = _open_page(playwright, app_url, height=800)
        from colorizer.hub.zoo import list_pretrained, recommended

        best = recommended(list_pretrained())  # the page's slider starts at its default
        vivid = page.locator("#vividness input[type=number]")
        page.wait_for_function(f"(document.querySelector('#vividness input[type=number]') || {{}})"
                               f".value == '{best.vividness:g}'", timeout=30_000)
        _load_example(page, "dustbowl_sd")
        preview = page.locator("#hint_photo img").first
        assert not page.locator("#photo").is_visible()  # the photo to click replaces the upload
        page.locator("#colorize").click()
        results = [_next_result(page, None)]
        page.evaluate("window.scrollTo(0, 0)")
        box, result_box = preview.bounding_box(), page.locator("#result").bounding_box()
        for shown in (box, result_box):  # side by side, in view without scrolling at 1280x800
            assert shown["y"] >= 0 and shown["y"] + shown["height"] <= 800
        assert box["x"] + box["width"] <= result_box["x"]
        sky, ground = (0.5, 0.12), (0.3, 0.85)
        preview.click(position={"x": sky[0] * box["width"], "y": sky[1] * box["height"]})
        page.locator("#palette .gallery-item").first.wait_for(state="visible", timeout=60_000)
        assert page.locator("#palette .gallery-item").count() == 8  # distinct hues to pick
        [(number, x, y, own, _)] = _hint_rows(page)
        picker = page.locator("#hint_colour .dialog-button").get_attribute("style")
        red, green, blue = (int(own[i:i + 2], 16) for i in (1, 3, 5))
        assert f"rgb({red}, {green}, {blue})" in picker  # the picker starts at the result's own
        assert _download_url(page) == results[0]  # a click alone re-renders nothing

        _pick_colour(page, "#2060e0")
        results.append(_next_result(page, results[-1]))
        assert [(row[0], row[3]) for row in _hint_rows(page)] == [("1", "#2060e0")]
        before, after = (_pixels(io.BytesIO(urllib.request.urlopen(url, timeout=30).read()))
                         for url in results)
        height, width = after.shape[:2]
        assert abs(int(x) - sky[0] * width) < 3 and abs(int(y) - sky[1] * height) < 3  # mapped
        assert _lean(after, int(x), int(y), 2, 0) > _lean(before, int(x), int(y), 2, 0) + 40
        far = (int(ground[0] * width), int(ground[1] * height))
        change = np.abs(after - before)[far[1] - 20:far[1] + 21, far[0] - 20:far[0] + 21]
        assert change.mean() < 1.5, change.mean()  # beyond the horizon: unchanged
        page.screenshot(path=str(tmp_path / "hints.png"))

        page.locator("#undo_hint").click()
        results.append(_next_result(page, results[-1]))
        assert _hint_rows(page) == []
        undone = _pixels(io.BytesIO(urllib.request.urlopen(results[-1], timeout=30).read()))
        np.testing.assert_array_equal(undone, before)

        vivid.fill("100")  # more colour: a re-render
        vivid.press("Enter")
        results.append(_next_result(page, results[-1]))
        bolder = _pixels(io.BytesIO(urllib.request.urlopen(results[-1], timeout=30).read()))
        assert colourfulness(bolder) > colourfulness(before) + 3

        page.locator("#another_photo").click()  # back to the upload
        page.locator("#photo").wait_for(state="visible", timeout=30_000)
        _keep_artifacts(tmp_path, "hints.png")
        browser.close()


def _hint_rows(page) -> list[list[str]]:
    """The hint list's rows as shown: #, x, y, colour, remove (its accordion opened)."""
    if not page.locator("#hints").is_visible():
        page.get_by_text("Hints: list and JSON").click()
        page.locator("#hints").wait_for(state="visible", timeout=10_000)
    cells = page.locator("#hints [role=gridcell]").all_inner_texts()
    return [cells[i:i + 5] for i in range(0, len(cells), 5)]


def _pick_colour(page, colour: str) -> None:
    """Type ``colour`` into the hint colour picker, as a person would, and close it."""
    page.locator("#hint_colour .dialog-button").click()
    field = page.locator("#hint_colour input[type=text]")
    field.fill(colour)
    field.press("Enter")
    page.locator("#hint_note").click()  # closes the picker


def _download_url(page) -> str | None:
    link = page.locator("#download a[href]").first
    return urllib.parse.urljoin(page.url, link.get_attribute("href")) if link.count() else None


def _next_result(page, previous: str | None) -> str:
    """The URL of the full-resolution result once it is not ``previous``."""
    deadline = time.time() + 120
    while time.time() < deadline:
        url = _download_url(page)
        if url and url != previous:
            return url
        time.sleep(0.2)
    pytest.fail("the result did not re-render")
