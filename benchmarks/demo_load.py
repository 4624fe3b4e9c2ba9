"""Load test of the Gradio demo: concurrent gradio_client users on 512 px photos.

    python benchmarks/demo_load.py                      # 8 clients x 10 requests, default model
    python benchmarks/demo_load.py --clients 4 --requests 5 --model autoencoder.flickr8k_128

Starts ``app.py`` on 127.0.0.1, waits for it, measures the time to the first answer, then runs the
clients; prints success count, p50/p95 latency and the server's peak RSS. Prints figures; asserts
nothing.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent


def peak_rss_mb(pid: int) -> float:
    """VmHWM (peak resident set) of a process and its children, in MB (Linux)."""
    total = 0
    for task in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{task}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        except FileNotFoundError:
            pass
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=10, help="per client")
    parser.add_argument("--size", type=int, default=512, help="longer side of the test photo")
    parser.add_argument("--model", help="zoo name (default: the app's default)")
    parser.add_argument("--vividness", type=float, help="0..100 (default: the model's own "
                        "default, where the page's slider starts)")
    args = parser.parse_args()

    from gradio_client import Client, handle_file

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    photo = Path(tempfile.mkdtemp()) / "photo.jpg"
    source = Image.open(ROOT / "examples" / "1909Chicago.jpg").convert("L")
    source.thumbnail((args.size, args.size))
    source.save(photo, quality=95)

    start = time.perf_counter()
    server = subprocess.Popen([sys.executable, str(ROOT / "app.py"), "--port", str(port)],
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"})
    try:
        url = f"http://127.0.0.1:{port}/"
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.perf_counter() - start > 300:
                    raise SystemExit("app.py did not start")
                time.sleep(0.5)
        client = Client(url, verbose=False)
        extra = [args.model] if args.model else []
        client.predict(handle_file(str(photo)), *extra, vividness=args.vividness,
                       api_name="/colorize")
        first_answer = time.perf_counter() - start
        print(f"start-up to first answer: {first_answer:.1f} s")

        errors: list[str] = []

        def user(_: int) -> list[tuple[bool, float]]:
            own = Client(url, verbose=False)
            results = []
            for _ in range(args.requests):
                began = time.perf_counter()
                try:
                    own.predict(handle_file(str(photo)), *extra, vividness=args.vividness,
                                api_name="/colorize")
                    results.append((True, time.perf_counter() - began))
                except Exception as error:  # noqa: BLE001  (count failures, keep going)
                    results.append((False, time.perf_counter() - began))
                    errors.append(f"{type(error).__name__}: {error}")
            return results

        began = time.perf_counter()
        with ThreadPoolExecutor(args.clients) as pool:
            outcomes = [r for rs in pool.map(user, range(args.clients)) for r in rs]
        wall = time.perf_counter() - began
        latencies = sorted(t for ok, t in outcomes if ok)
        ok = sum(1 for success, _ in outcomes if success)
        print(f"{args.clients} clients x {args.requests} requests on a {source.size[0]}x"
              f"{source.size[1]} photo: {ok}/{len(outcomes)} succeeded in {wall:.1f} s "
              f"({ok / wall:.2f} requests/s)")
        if latencies:
            p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
            print(f"latency p50 {statistics.median(latencies):.2f} s, p95 {p95:.2f} s")
        print(f"server peak RSS: {peak_rss_mb(server.pid):.0f} MB")
        for message in sorted(set(errors)):
            print(f"failure: {message[:300]}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
