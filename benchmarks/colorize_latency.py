"""End-to-end colorization latency of the shipped models, and the CLI's folder throughput.

    python benchmarks/colorize_latency.py                       # every zoo model, 256/1024/2048 px
    python benchmarks/colorize_latency.py --model lite0_unet.flickr8k_128 --sizes 1024
    python benchmarks/colorize_latency.py --folder data/flickr8k --images 200

Latency: one photo (examples/1909Chicago.jpg, resized so its longer side is N px, saved as JPEG)
goes file -> decode -> colorize at full resolution -> PNG file (zlib level PNG_COMPRESS_LEVEL),
the way ``colorizer colorize`` does it; after --warmup runs, the median and the spread of --runs
runs are printed. Each model runs in a fresh process, whose peak RSS (the largest resident
memory it ever had, model loading included) is printed too.

Folder throughput: ``colorizer colorize`` itself on the first --images photos of --folder
(start-up and model loading included), images/s and the command's peak RSS.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "examples" / "1909Chicago.jpg"


def test_photo(side: int, folder: Path) -> Path:
    """The benchmark photo with its longer side resized to ``side`` px, as a JPEG."""
    from PIL import Image

    image = Image.open(PHOTO).convert("L")
    scale = side / max(image.size)
    resized = image.resize((round(image.width * scale), round(image.height * scale)),
                           Image.Resampling.LANCZOS)
    path = folder / f"photo_{side}.jpg"
    resized.save(path, quality=92)
    return path


def worker(model_name: str, sizes: list[int], runs: int, warmup: int) -> dict:
    """Runs in its own process: load the model, time every size, report peak RSS."""
    import colorizer
    from colorizer.io.images import PNG_COMPRESS_LEVEL

    started = time.perf_counter()
    model = colorizer.from_pretrained(model_name)
    result = {"model": model_name, "load_s": time.perf_counter() - started, "sizes": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for side in sizes:
            photo = test_photo(side, folder)
            times = []
            for index in range(warmup + runs):
                start = time.perf_counter()
                model.colorize(photo).save(folder / "out.png",
                                                      compress_level=PNG_COMPRESS_LEVEL)
                if index >= warmup:
                    times.append(time.perf_counter() - start)
            result["sizes"][side] = {"median_s": statistics.median(times), "min_s": min(times),
                                     "max_s": max(times), "runs": runs}
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def latency(models: list[str], sizes: list[int], runs: int, warmup: int) -> None:
    print(f"end to end (JPEG file -> full-resolution PNG file), median of {runs} runs after "
          f"{warmup} warm-up; one process per model")
    header = " ".join(f"{f'{side} px':>18}" for side in sizes)
    print(f"{'model':<40} {header} {'peak RSS':>10} {'load':>7}")
    for name in models:
        output = subprocess.run(
            [sys.executable, __file__, "--worker", name, "--sizes", *map(str, sizes),
             "--runs", str(runs), "--warmup", str(warmup)],
            capture_output=True, text=True, check=True).stdout
        result = json.loads(output.strip().splitlines()[-1])
        cells = " ".join(
            f"{r['median_s']:>7.3f} s ({r['min_s']:.2f}-{r['max_s']:.2f})"
            for r in (result["sizes"][str(side)] for side in sizes))
        print(f"{name:<40} {cells} {result['peak_rss_mb']:>7.0f} MB {result['load_s']:>5.1f} s",
              flush=True)


def folder_throughput(folder: str, images: int, model: str | None) -> None:
    from colorizer.training import data

    paths = data.list_images(folder, "val")[:images]
    with tempfile.TemporaryDirectory() as tmp:
        inputs = Path(tmp) / "in"
        inputs.mkdir()
        for path in paths:
            shutil.copy2(path, inputs / Path(path).name)
        command = [sys.executable, "-m", "colorizer.cli", "colorize", str(inputs), "-o",
                   str(Path(tmp) / "out"), "--quiet", *(["--model", model] if model else [])]
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        seconds = time.perf_counter() - start
        written = len(list((Path(tmp) / "out").rglob("*.png")))
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"colorizer colorize on {len(paths)} photos of {folder} ({model or 'default model'}): "
          f"{written} written in {seconds:.1f} s = {written / seconds:.2f} images/s "
          f"(start-up and model loading included); peak RSS {peak:.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", help="zoo name (repeatable; default: all)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 1024, 2048])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--folder", help="also time `colorizer colorize` on photos of this folder")
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.sizes, args.runs, args.warmup)))
        return
    if args.folder:  # first, so that the CLI is the only child whose peak RSS is read
        folder_throughput(args.folder, args.images, (args.model or [None])[0])
    from colorizer.hub.zoo import list_pretrained

    latency(args.model or [entry.name for entry in list_pretrained()], args.sizes, args.runs,
            args.warmup)


if __name__ == "__main__":
    main()
