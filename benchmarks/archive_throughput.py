"""Photos per second of ``colorizer colorize --engine ray`` with 1 and 2 local workers.

    python benchmarks/archive_throughput.py --data data/flickr8k --limit 200
    python benchmarks/archive_throughput.py --data DIR --limit 500 --workers 1 2 4 --model NAME

The first --limit photos of --data (sorted, recursively) are named in a list file, and the CLI
itself colorizes them in a fresh process for each worker count (Ray started on this machine,
each worker loading the model once), and once with ``--engine local`` for comparison. Each is
run twice, on all the photos and on the first --small of them, so two figures come out:
end to end (start-up, Ray and model loading included) and past start-up ((limit - small)
photos over the difference of the two times). The machine (system, cores, memory, load
average) is printed first. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def machine() -> str:
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return (f"{platform.node()}: {platform.system()} {platform.machine()}, "
            f"{os.cpu_count()} CPU cores, {memory:.0f} GiB, Python {platform.python_version()}, "
            f"load average {load}")


def run(listing: Path, output: Path, engine: str, workers: int | None, model: str | None
        ) -> tuple[float, int]:
    """Seconds the CLI took, and the PNGs it wrote."""
    command = [sys.executable, "-m", "colorizer.cli", "colorize", str(listing), "-o",
               str(output), "--quiet", "--engine", engine,
               *(["--workers", str(workers)] if workers else []),
               *(["--model", model] if model else [])]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return seconds, len(list(output.rglob("*.png")))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="a folder of photos (recursive)")
    parser.add_argument("--limit", type=int, default=200, help="photos to colorize")
    parser.add_argument("--small", type=int, default=20,
                        help="photos of the short run whose time is taken off (start-up)")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--model", help="zoo name or model folder (default: the zoo's default)")
    args = parser.parse_args()
    from colorizer.io.photo_files import list_images

    photos = list_images(args.data)[:args.limit]
    small = min(args.small, len(photos) - 1)
    print(machine())
    if args.model is None:
        from colorizer.hub.zoo import default_pretrained

        args.model = default_pretrained().name
    print(f"{len(photos)} photos of {args.data} ({small} in the short run), model {args.model}",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        lists = {}
        for count in (len(photos), small):
            lists[count] = Path(tmp) / f"photos_{count}.txt"
            lists[count].write_text("".join(f"{Path(p).resolve()}\n" for p in photos[:count]))
        for engine, workers in [("local", None)] + [("ray", n) for n in args.workers]:
            times = {}
            for count, listing in lists.items():
                output = Path(tmp) / f"out_{engine}_{workers}_{count}"
                listing_arg = listing if engine == "ray" else _folder_of(listing, output)
                times[count], written = run(listing_arg, output, engine, workers, args.model)
                if written != count:
                    print(f"  (wrote {written} of {count}: some photos are unreadable)")
            name = "--engine local" if engine == "local" else f"--engine ray --workers {workers}"
            whole, extra = times[len(photos)], times[len(photos)] - times[small]
            past = (f"{(len(photos) - small) / extra:6.2f} photos/s past start-up" if extra > 0
                    else "too few photos to tell past start-up")
            print(f"{name:<28} {len(photos) / whole:6.2f} photos/s end to end ({whole:.1f} s; "
                  f"{times[small]:.1f} s for {small}), {past}", flush=True)


def _folder_of(listing: Path, output: Path) -> Path:
    """--engine local reads no list file: the listed photos, linked into one folder."""
    folder = output.with_name(output.name + "_in")
    folder.mkdir()
    for line in listing.read_text().splitlines():
        (folder / Path(line).name).symlink_to(line)
    return folder


if __name__ == "__main__":
    main()
