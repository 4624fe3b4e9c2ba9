"""The Gradio demo, started for real on 127.0.0.1: gradio_client calls and a headless browser."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import colorizer
from colorizer.metrics import colourfulness

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "1909Chicago.jpg"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.slow  # the demo runs as a real server: tens of seconds to start


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def app_url():
    port = _free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    process = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port)],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 180
    while time.time() < deadline:
        if process.poll() is not None:
            pytest.fail(f"app.py exited early:\n{process.stdout.read()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            time.sleep(1)
    else:
        process.kill()
        pytest.fail("app.py did not answer within 180 s")
    yield url
    process.terminate()
    process.wait(timeout=30)


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


def test_vividness_of_a_classification_model(client):
    from gradio_client import handle_file

    names = [e.name for e in colorizer.list_pretrained() if e.head == "classification"]
    assert names, "the zoo ships no classification model"
    cf = {}
    for vividness in (0, 100):
        _, download = client.predict(handle_file(str(EXAMPLE)), names[0], 128, vividness,
                                     api_name="/colorize")
        cf[vividness] = colourfulness(np.asarray(Image.open(download).convert("RGB")))
    assert cf[100] > cf[0] + 2.0  # the mode is bolder than the mean of the colour classes


def test_bad_input_gets_a_readable_error_and_the_server_keeps_going(client, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    name = colorizer.list_pretrained()[0].name
    not_an_image = tmp_path / "notes.jpg"
    not_an_image.write_text("not a photo")
    with pytest.raises(AppError, match="cannot identify image file"):
        client.predict(handle_file(str(not_an_image)), name, api_name="/colorize")
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(EXAMPLE.read_bytes()[:4000])
    with pytest.raises(AppError, match="truncated.jpg: the image data is damaged or truncated"):
        client.predict(handle_file(str(truncated)), name, api_name="/colorize")
    assert client.predict(None, name, api_name="/colorize") == (None, None)
    (_, after), _ = client.predict(handle_file(str(EXAMPLE)), name, api_name="/colorize")
    assert Image.open(after).size == Image.open(EXAMPLE).size


@pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"),
                    reason="Debian's chromium is not installed (CI installs it)")
def test_browser_example_to_result(app_url, tmp_path):
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    assert CHROMIUM, "chromium is missing: .ci/run installs it with apt-get"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        # Not "networkidle": that wait once timed out after 30 s in a CI run (cause not found);
        # the page's own elements say when it is ready.
        page.goto(app_url, wait_until="domcontentloaded", timeout=120_000)
        example = page.locator(".gallery-item").nth(2)
        example.wait_for(state="visible", timeout=120_000)  # once Gradio's scripts have run
        for _ in range(10):  # a click before the page is wired up is lost: click until it loads
            example.click()
            try:
                page.locator("#photo img").first.wait_for(state="visible", timeout=5_000)
                break
            except PlaywrightTimeout:
                continue
        else:
            pytest.fail("clicking the example never loaded it into the photo input")
        page.locator("#colorize").click()
        page.locator("#result img").first.wait_for(state="visible", timeout=120_000)
        page.screenshot(path=str(tmp_path / "demo.png"), full_page=True)
        if os.environ.get("COLORIZER_TEST_ARTIFACTS"):  # e.g. for CI to keep the screenshot
            artifacts = Path(os.environ["COLORIZER_TEST_ARTIFACTS"])
            artifacts.mkdir(parents=True, exist_ok=True)
            shutil.copy(tmp_path / "demo.png", artifacts / "demo.png")
        assert page.locator("#result img").count() >= 1
        browser.close()
