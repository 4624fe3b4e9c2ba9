"""Compare checkpoints with a reference model at matching colourfulness (the NoGAN issue's test).

    python tools/choose_vividness.py weights/lite0_unet_hints.mixed150k_128 --limit 300 \\
        --settings 0,10,20,30,40,50,60,70,80,90,100 --json runs/scores/baseline.json
    python tools/choose_vividness.py runs/NAME/epochs/* --limit 300 --settings 0,40,70,100 \\
        --json runs/scores/NAME.json
    python tools/compare_checkpoints.py runs/scores/baseline.json runs/scores/NAME.json \\
        --figure runs/scores/curve.png

The first file's (first) model is the reference. For every other model, at its default
vividness (the sweep's choice), and on each validation set: its CF, KID x 1000, content
agreement and PSNR, beside the reference's at the vividness that gives the same CF on that set
(linear between the reference's settings; a CF beyond the reference's range is marked and
compared at its end). A model wins when, on both sets, KID is at least 15 % lower, content
agreement and PSNR are not lower, and its CF on Flickr8k val is at least 30. The figure draws
KID against CF on each set: the reference's curve over its settings, each model's curve over
its own, its default marked.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

KID_GAIN = 0.15  # the issue's margin
CF_FLOOR = 30.0  # on Flickr8k val
METRICS = ("kid", "content", "psnr")


def load(paths: list[Path]) -> dict:
    record = {}
    for path in paths:
        record.update(json.loads(Path(path).read_text()))
    return record


def curve(entry: dict, name: str) -> tuple[list[int], dict[str, np.ndarray]]:
    table = entry["sets"][name]
    settings = entry["settings"]
    return settings, {key: np.array([table[str(v)][key] for v in settings])
                      for key in ("cf", *METRICS)}


def matched(reference: dict, name: str, cf: float) -> dict:
    """The reference's figures at colourfulness ``cf`` on set ``name`` (linear in CF)."""
    _, values = curve(reference, name)
    order = np.argsort(values["cf"])
    cfs = values["cf"][order]
    result = {key: float(np.interp(cf, cfs, values[key][order])) for key in METRICS}
    result["cf"] = cf
    result["outside"] = not cfs[0] <= cf <= cfs[-1]
    return result


def compare(reference: dict, entry: dict) -> dict:
    rows = {}
    for name in entry["sets"]:
        mine = entry["sets"][name][str(entry["default"])]
        theirs = matched(reference, name, mine["cf"])
        rows[name] = {"mine": mine, "reference": theirs,
                      "kid_change": mine["kid"] / theirs["kid"] - 1.0}
    flickr = next(name for name in rows if name.startswith("flickr8k"))
    rows["wins"] = (all(row["kid_change"] <= -KID_GAIN
                        and row["mine"]["content"] >= row["reference"]["content"]
                        and row["mine"]["psnr"] >= row["reference"]["psnr"]
                        for row in rows.values() if isinstance(row, dict))
                    and rows[flickr]["mine"]["cf"] >= CF_FLOOR)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scores", nargs="+", type=Path,
                        help="JSON files of tools/choose_vividness.py --json; the first "
                             "file's first model is the reference")
    parser.add_argument("--figure", type=Path, help="draw KID against CF here (PNG)")
    args = parser.parse_args()
    record = load(args.scores)
    reference_name = next(iter(json.loads(args.scores[0].read_text())))
    reference = record.pop(reference_name)
    sets = list(reference["sets"])
    print(f"reference: {reference_name} (default {reference['default']}); each model at its "
          "default vividness, the reference at the vividness of the same CF")
    print("| model | vividness | " + " | ".join(
        f"{name}: CF | KID x1000 (ref.) | content % (ref.) | PSNR (ref.)" for name in sets)
        + " | wins |")
    print("| --- | ---: |" + " ---: | ---: | ---: | ---: |" * len(sets) + " :---: |")
    for model, entry in record.items():
        rows = compare(reference, entry)
        cells = []
        for name in sets:
            mine, theirs = rows[name]["mine"], rows[name]["reference"]
            mark = "*" if theirs["outside"] else ""
            cells.append(f"{mine['cf']:.1f} | {mine['kid']:.2f} ({theirs['kid']:.2f}{mark}, "
                         f"{rows[name]['kid_change']:+.0%}) | {mine['content']:.1f} "
                         f"({theirs['content']:.1f}) | {mine['psnr']:.2f} ({theirs['psnr']:.2f})")
        label = "/".join(Path(model).parts[-3:]) if "epochs" in model else Path(model).name
        print(f"| {label} | {entry['default']} | " + " | ".join(cells)
              + f" | {'yes' if rows['wins'] else 'no'} |")
    print("(* CF beyond the reference's range: compared at its nearest end)")
    if args.figure:
        draw(reference_name, reference, record, sets, args.figure)


def draw(reference_name: str, reference: dict, record: dict, sets: list[str],
         output: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from colorizer.io.atomic import save_figure

    figure, axes = plt.subplots(1, len(sets), figsize=(6 * len(sets), 4.5))
    colours = plt.cm.viridis(np.linspace(0.0, 0.9, max(1, len(record))))
    for axis, name in zip(np.atleast_1d(axes), sets):
        settings, values = curve(reference, name)
        axis.plot(values["cf"], values["kid"], "k-o", ms=3,
                  label=f"{Path(reference_name).name} (vividness {settings[0]}..{settings[-1]})")
        for colour, (model, entry) in zip(colours, record.items()):
            _, mine = curve(entry, name)
            label = "/".join(Path(model).parts[-2:])
            axis.plot(mine["cf"], mine["kid"], "-", color=colour, lw=1, label=label)
            default = entry["sets"][name][str(entry["default"])]
            axis.plot(default["cf"], default["kid"], "o", color=colour)
        axis.set_xlabel("colourfulness CF (higher: more colour)")
        axis.set_ylabel("KID x 1000 (lower: more real)")
        axis.set_title(name)
        axis.grid(alpha=0.3)
    np.atleast_1d(axes)[0].legend(fontsize=7)
    figure.tight_layout()
    save_figure(figure, output, dpi=100)
    print(f"figure: {output}")


if __name__ == "__main__":
    main()
