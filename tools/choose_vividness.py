"""Choose each zoo model's default vividness on the validation sets, and store it.

    python tools/choose_vividness.py --limit 400                  # print the sweep and the choice
    python tools/choose_vividness.py --limit 400 --write          # ... and store it in config.json
    python tools/choose_vividness.py runs/X/epochs/* --json runs/X/scores.json   # keep the sweep

For each model (default: the zoo's shipped folders under weights/) and each validation set
(Flickr8k val and MiniPlaces val, the zoo table's two), the network runs once per photo, through
the path ``Colorizer.colorize`` takes (:func:`colorizer.evaluation.evaluate.photos_at_model_size`); its
full-resolution result is then composed at each vividness setting (the chroma gain of
:func:`colorizer.vividness.chroma_gain`) and scored: PSNR, colourfulness CF, KID x 1000 and
content agreement (:mod:`colorizer.evaluation.realism`'s judge, the same as ``colorizer evaluate``'s).

The rule (the vividness issue): the default is the setting with the lowest realism distance
(KID, summed over the two sets) among those whose PSNR is not below gray's on either set. With
``--write`` it goes into the folder's config.json as ``"vividness"`` (the model card shows it,
``Colorizer.colorize`` uses it when no vividness is given, the demo's slider starts there).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SETTINGS = (0, 20, 40, 60, 80, 100)
SETS = (("flickr8k val", "data/flickr8k", "val"),
        ("miniplaces val", "data/mixed150k/val_miniplaces.txt", "val"))


def sweep(model, data_path: str, split: str, limit: int, settings) -> dict:
    """{"gray": {"psnr"}, setting: {"psnr", "cf", "kid", "kid_error", "content"}} on the first
    ``limit`` photos of a validation set."""
    from colorizer.training import data
    from colorizer.evaluation import metrics
    from colorizer.evaluation.evaluate import full_resolution, photos_at_model_size
    from colorizer.inference import compose
    from colorizer.evaluation.realism import Judge, content_agreement, kid
    from colorizer.vividness import chroma_gain

    paths = data.list_images(data_path, split)[:limit or None]
    lightness_small, _, kept, _ = photos_at_model_size(paths, model.image_size)
    ab = np.concatenate([model.predict_ab(lightness_small[i:i + 32])
                         for i in range(0, len(kept), 32)])
    judge = Judge()
    scores = {"gray": {"psnr": []}, **{v: {"psnr": [], "cf": []} for v in settings}}
    for index, path in enumerate(kept):
        lightness, original = full_resolution(path)
        judge.add("original", original)
        scores["gray"]["psnr"].append(metrics.psnr(compose(lightness, np.zeros_like(ab[index])),
                                                   original))
        for v in settings:
            result = compose(lightness, ab[index], chroma_gain(v))
            judge.add(str(v), result)
            scores[v]["psnr"].append(metrics.psnr(result, original))
            scores[v]["cf"].append(metrics.colourfulness(result))
    table = {"gray": {"psnr": float(np.mean(scores["gray"]["psnr"]))}, "photos": len(kept),
             "judge": judge.name}
    for v in settings:
        table[v] = {"psnr": float(np.mean(scores[v]["psnr"])),
                    "cf": float(np.mean(scores[v]["cf"])),
                    "content": content_agreement(judge.top1(str(v)), judge.top1("original"))}
        table[v]["kid"], table[v]["kid_error"] = kid(judge.features("original"),
                                                     judge.features(str(v)))
    return table


def choose(tables: list[dict], settings) -> int:
    """The setting of lowest summed KID among those with PSNR >= gray's on every set."""
    allowed = [v for v in settings if all(t[v]["psnr"] >= t["gray"]["psnr"] for t in tables)]
    return min(allowed or [settings[0]], key=lambda v: sum(t[v]["kid"] for t in tables))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", help="model folders (default: weights/*)")
    parser.add_argument("--limit", type=int, default=400, help="photos a set (0: all)")
    parser.add_argument("--settings", default=",".join(map(str, SETTINGS)),
                        help="vividness settings to try, comma-separated")
    parser.add_argument("--write", action="store_true",
                        help="store the choice in each folder's config.json")
    parser.add_argument("--json", type=Path,
                        help="also write every sweep and choice here (tools/compare_checkpoints.py "
                             "reads it); rewritten after each model")
    args = parser.parse_args()
    from colorizer import from_pretrained
    from colorizer.io.atomic import write_text

    settings = [int(v) for v in args.settings.split(",")]
    folders = [Path(m) for m in args.models] or sorted(
        p for p in Path("weights").iterdir() if (p / "config.json").is_file())
    record = {}
    for folder in folders:
        model = from_pretrained(str(folder))
        tables = [sweep(model, path, split, args.limit, settings) for _, path, split in SETS]
        chosen = choose(tables, settings)
        if args.json:
            record[str(folder)] = {"default": chosen, "settings": settings,
                                   "sets": {name: table for (name, _, _), table in
                                            zip(SETS, tables)}}
            write_text(args.json, json.dumps(record, indent=1) + "\n")
        print(f"\n## {folder.name} (judge: {tables[0]['judge']}; "
              + ", ".join(f"{name} {t['photos']} photos, gray PSNR {t['gray']['psnr']:.2f}"
                          for (name, _, _), t in zip(SETS, tables)) + ")")
        print("| vividness | " + " | ".join(f"{name}: PSNR | CF | KID x1000 | content %"
                                          for name, _, _ in SETS) + " |")
        print("| ---: |" + " ---: | ---: | ---: | ---: |" * len(SETS))
        for v in settings:
            mark = " **(default)**" if v == chosen else ""
            print(f"| {v}{mark} | " + " | ".join(
                f"{t[v]['psnr']:.2f} | {t[v]['cf']:.1f} | {t[v]['kid']:.2f} +- "
                f"{t[v]['kid_error']:.2f} | {t[v]['content']:.1f}" for t in tables) + " |",
                flush=True)
        if args.write:
            config_path = folder / "config.json"
            config = json.loads(config_path.read_text())
            config["vividness"] = chosen
            write_text(config_path, json.dumps(config, indent=2, sort_keys=True) + "\n")
            print(f"wrote vividness {chosen} to {config_path}")


if __name__ == "__main__":
    main()
