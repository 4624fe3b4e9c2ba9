"""Peak memory of full-resolution colorization: the library, the demo server, render sizes.

    python benchmarks/memory.py library                  # colorize() at 10, 20 and 40 MP
    python benchmarks/memory.py library --sizes 40 --mode L
    python benchmarks/memory.py demo                     # two concurrent 40 MP demo requests
    python benchmarks/memory.py sweep                    # demo render sizes 64..512, step 8
    python benchmarks/memory.py cycle                    # every model through render sizes, twice

``library``: each size runs in a fresh process, which loads the model, colorizes a small photo
(so the traced functions and allocator pools exist), then resets its peak-RSS counter (Linux
``/proc/self/clear_refs``) and colorizes one photo of that many megapixels read from a JPEG
file (the benchmark photo upscaled; ``--mode RGB`` by default, the usual scan of a print).
Printed: the RSS before, the peak during the call, the process's lifetime peak
(``resource.getrusage``) and (peak - before) / pixels.

``demo``: starts app.py on 127.0.0.1 and sends two 40 MP requests at once through
gradio_client; prints the server's RSS before, its peak (VmHWM) and its RSS afterwards, next to
the budget app.py documents. ``sweep``: one request per render size (a cnn model, whose size
only needs to be a multiple of 8) on a small photo; prints the server's RSS at the start and
the end. ``cycle``: every model of the zoo, each through the render sizes 64, 128, 256 and 512
(a model that has one size at its own), and all of that twice; prints the server's RSS after
each round: the second round adds nothing once every model and its render-size copies are held.

Prints figures; asserts nothing. Heavy: run it with ``nice``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "examples" / "1909Chicago.jpg"
MB = 1024 * 1024


def status_kb(pid: int | str, field: str) -> int:
    """A field of /proc/PID/status in kB (VmRSS: resident now, VmHWM: peak resident)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def test_photo(megapixels: float, mode: str, folder: Path) -> Path:
    """The benchmark photo upscaled to about ``megapixels`` MP, as a JPEG in ``mode``."""
    from PIL import Image

    path = folder / f"photo_{megapixels:g}mp_{mode}.jpg"
    if not path.exists():
        with Image.open(PHOTO) as source:
            image = source.convert(mode)
        scale = (megapixels * 1e6 / (image.width * image.height)) ** 0.5
        # Rounded down, so that a "40 MP" photo fits a 40,000,000-pixel limit.
        image = image.resize((int(image.width * scale), int(image.height * scale)),
                             Image.BICUBIC)
        image.save(path, quality=92)
    return path


CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
import colorizer
from colorizer.io.images import ImageError

def status_kb(field):
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])

model_name, small, photo = sys.argv[1:4]
model = colorizer.from_pretrained(model_name)
model.colorize(small)            # warm-up: traced functions, allocator pools
before = status_kb("VmRSS")
Path("/proc/self/clear_refs").write_text("5")  # reset VmHWM to the current RSS
began = time.perf_counter()
result = model.colorize(photo, max_pixels=10**9)
seconds = time.perf_counter() - began
peak = status_kb("VmHWM")
print(json.dumps({"before_kb": before, "peak_kb": peak, "seconds": seconds,
                  "size": result.size,
                  "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def library(args: argparse.Namespace) -> None:
    folder = Path(tempfile.mkdtemp(prefix="colorizer-memory-"))
    small = test_photo(0.25, args.mode, folder)
    print(f"colorize() peak memory, model {args.model}, {args.mode} JPEG input "
          f"({os.uname().sysname} {os.uname().machine}, {os.cpu_count()} CPU cores)")
    print("| photo | pixels | RSS before | peak RSS | lifetime max RSS | (peak - before) / pixel "
          "| time |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for megapixels in args.sizes:
        photo = test_photo(megapixels, args.mode, folder)
        done = subprocess.run([sys.executable, "-c", CHILD, args.model, str(small), str(photo)],
                              capture_output=True, text=True, cwd=ROOT)
        if done.returncode:
            print(f"| {megapixels:g} MP | failed: {done.stderr.strip().splitlines()[-1]} |")
            continue
        result = json.loads(done.stdout.strip().splitlines()[-1])
        pixels = result["size"][0] * result["size"][1]
        per_pixel = (result["peak_kb"] - result["before_kb"]) * 1024 / pixels
        print(f"| {megapixels:g} MP | {pixels:,} | {result['before_kb'] / 1024:.0f} MB | "
              f"{result['peak_kb'] / 1024:.0f} MB | {result['maxrss_kb'] / 1024:.0f} MB | "
              f"{per_pixel:.1f} B | {result['seconds']:.1f} s |")
        photo.unlink()
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


class Server:
    """app.py on a free 127.0.0.1 port, for as long as the ``with`` block lasts."""

    def __init__(self, env: dict[str, str] | None = None):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", **(env or {})}

    def __enter__(self) -> "Server":
        self.process = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port",
                                         str(self.port)], cwd=ROOT, env=self.env,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}/"
        deadline = time.time() + 300
        while True:
            try:
                urllib.request.urlopen(self.url, timeout=2)
                return self
            except OSError:
                if self.process.poll() is not None or time.time() > deadline:
                    raise SystemExit("app.py did not start")
                time.sleep(0.5)

    def rss_mb(self, field: str = "VmRSS") -> float:
        return status_kb(self.process.pid, field) / 1024

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def demo(args: argparse.Namespace) -> None:
    from gradio_client import Client, handle_file

    from colorizer.demo import service

    folder = Path(tempfile.mkdtemp(prefix="colorizer-memory-"))
    photos = [test_photo(args.megapixels, args.mode, folder)]
    small = test_photo(0.25, args.mode, folder)
    with Server() as server:
        client = Client(server.url, verbose=False)
        client.predict(handle_file(str(small)), args.model, api_name="/colorize")  # warm-up
        before = server.rss_mb()
        Path(f"/proc/{server.process.pid}/clear_refs").write_text("5")
        results, errors = [], []

        def request() -> None:
            own = Client(server.url, verbose=False)
            began = time.perf_counter()
            try:
                own.predict(handle_file(str(photos[0])), args.model, api_name="/colorize")
                results.append(time.perf_counter() - began)
            except Exception as error:  # noqa: BLE001  (report it, keep measuring)
                errors.append(f"{type(error).__name__}: {error}")

        threads = [threading.Thread(target=request) for _ in range(args.requests)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        peak = server.rss_mb("VmHWM")
        time.sleep(2)
        after = server.rss_mb()
    print(f"demo: {args.requests} concurrent requests of a {args.megapixels:g} MP {args.mode} "
          f"JPEG, model {args.model}: {len(results)} answered "
          f"({', '.join(f'{s:.1f} s' for s in results)})")
    for error in errors:
        print(f"  failed: {error[:300]}")
    print(f"server RSS before {before:.0f} MB, peak {peak:.0f} MB (+{peak - before:.0f} MB), "
          f"after {after:.0f} MB; the documented budget of the requests on top of the loaded "
          f"models: {service.server_budget_mb():.0f} MB")
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


def sweep(args: argparse.Namespace) -> None:
    from gradio_client import Client, handle_file

    folder = Path(tempfile.mkdtemp(prefix="colorizer-memory-"))
    small = test_photo(0.25, "L", folder)
    sizes = list(range(args.first, args.last + 1, args.step))
    with Server() as server:
        client = Client(server.url, verbose=False)
        client.predict(handle_file(str(small)), args.model, 128, api_name="/colorize")
        start = server.rss_mb()
        largest = start
        for size in sizes:
            client.predict(handle_file(str(small)), args.model, size, api_name="/colorize")
            largest = max(largest, server.rss_mb())
        end = server.rss_mb()
    print(f"render-size sweep {sizes[0]}..{sizes[-1]} step {args.step} ({len(sizes)} sizes), "
          f"model {args.model}: server RSS {start:.0f} MB at the start, {largest:.0f} MB at "
          f"most between requests, {end:.0f} MB at the end ({end - start:+.0f} MB)")
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


def cycle(args: argparse.Namespace) -> None:
    from gradio_client import Client, handle_file

    sys.path.insert(0, str(ROOT))
    from colorizer.model import RESIZED_CACHE
    from colorizer.hub.zoo import list_pretrained

    entries = list_pretrained()
    folder = Path(tempfile.mkdtemp(prefix="colorizer-memory-"))
    small = test_photo(0.25, "L", folder)
    with Server() as server:
        client = Client(server.url, verbose=False)
        start = server.rss_mb()
        print(f"server RSS at start {start:.0f} MB; {len(entries)} models, render sizes "
              f"{args.sizes}, each model keeps at most {RESIZED_CACHE} render-size copies")
        for round_ in (1, 2):
            for entry in entries:
                sizes = args.sizes if entry.architecture != "autoencoder" else [entry.image_size]
                for size in sizes:
                    client.predict(handle_file(str(small)), entry.name, size,
                                   api_name="/colorize")
            print(f"after round {round_}: server RSS {server.rss_mb():.0f} MB, peak "
                  f"{server.rss_mb('VmHWM'):.0f} MB")
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    one = commands.add_parser("library", help="colorize() at several sizes")
    one.add_argument("--sizes", type=float, nargs="+", default=[10, 20, 40], help="megapixels")
    one.add_argument("--model", default="lite0_unet.flickr8k_128")
    one.add_argument("--mode", default="RGB", choices=["RGB", "L"], help="the JPEG's mode")
    one.set_defaults(func=library)
    two = commands.add_parser("demo", help="concurrent large requests to app.py")
    two.add_argument("--megapixels", type=float, default=40)
    two.add_argument("--requests", type=int, default=2)
    two.add_argument("--model", default="lite0_unet.flickr8k_128")
    two.add_argument("--mode", default="RGB", choices=["RGB", "L"])
    two.set_defaults(func=demo)
    three = commands.add_parser("sweep", help="every render size through app.py")
    four = commands.add_parser("cycle", help="every zoo model through render sizes, twice")
    four.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256, 512])
    four.set_defaults(func=cycle)
    three.add_argument("--model", default="cnn.flickr8k_128")
    three.add_argument("--first", type=int, default=64)
    three.add_argument("--last", type=int, default=512)
    three.add_argument("--step", type=int, default=8)
    three.set_defaults(func=sweep)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
