"""Compare checkpoints with a reference model at matching colourfulness (the NoGAN issue's test).

    python tools/choose_vividness.py weights/lite0_unet_hints.mixed150k_128 --limit 300 \\
        --settings 0,10,20,30,40,50,60,70,80,90,100 --json runs/scores/baseline.json
    python tools/choose_vividness.py runs/NAME/epochs/* --limit 300 --settings 0,40,70,100 \\
        --json runs/scores/NAME.json
    python tools/compare_checkpoints.py runs/scores/baseline.json runs/scores/NAME.json \\
        --figure runs/scores/curve.png

The first file's (first) model is the reference. For every other model, at its default
vividness (the sweep's choice; where that leaves Flickr8k CF below 30, the lowest-KID setting
that reaches 30 with PSNR above gray's: :func:`default_with_floor`), and on each validation set: its CF, KID x 1000, content
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


def label(model: str) -> str:
    """A short name: "TAG epoch NNN" for a run's epochs/NNN (TAG: after the run name's last
    dot), else the folder's name."""
    folder = Path(model)
    if folder.parent.name == "epochs":
        return f"{folder.parts[-3].rsplit('.', 1)[-1]} epoch {folder.name}"
    return folder.name


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


def default_with_floor(entry: dict) -> int:
    """The sweep's choice if its Flickr8k CF reaches :data:`CF_FLOOR`, else the setting of lowest
    summed KID among those that reach it with PSNR not below gray's on any set (the issue's
    floor: a default with life in it); the sweep's choice when none does."""
    tables = entry["sets"]
    flickr = next(name for name in tables if name.startswith("flickr8k"))

    def allowed(v):
        return (tables[flickr][str(v)]["cf"] >= CF_FLOOR and
                all(t[str(v)]["psnr"] >= t["gray"]["psnr"] for t in tables.values()))

    if allowed(entry["default"]):
        return entry["default"]
    settings = [v for v in entry["settings"] if allowed(v)]
    return min(settings, key=lambda v: sum(t[str(v)]["kid"] for t in tables.values()),
               default=entry["default"])


def compare(reference: dict, entry: dict) -> dict:
    rows = {"default": default_with_floor(entry)}
    for name in entry["sets"]:
        mine = entry["sets"][name][str(rows["default"])]
        theirs = matched(reference, name, mine["cf"])
        rows[name] = {"mine": mine, "reference": theirs,
                      "kid_change": mine["kid"] / theirs["kid"] - 1.0}
    flickr = next(name for name in rows if name.startswith("flickr8k"))
    rows["wins"] = (all(row["kid_change"] <= -KID_GAIN
                        and row["mine"]["content"] >= row["reference"]["content"]
                        and row["mine"]["psnr"] >= row["reference"]["psnr"]
                        for name, row in rows.items() if name in entry["sets"])
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
    print(f"reference: {reference_name}; each model at its "
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
        print(f"| {label(model)} | {rows['default']} | " + " | ".join(cells)
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

    rows = (("kid", "KID x 1000 (lower: more real)"), ("psnr", "PSNR dB (higher: more exact)"))
    figure, axes = plt.subplots(len(rows), len(sets), figsize=(6 * len(sets), 4 * len(rows)),
                                squeeze=False)
    colours = plt.cm.viridis(np.linspace(0.0, 0.9, max(1, len(record))))
    for (key, title), axis_row in zip(rows, axes):
        for axis, name in zip(axis_row, sets):
            settings, values = curve(reference, name)
            axis.plot(values["cf"], values[key], "k-o", ms=3, label=f"{Path(reference_name).name}"
                      f" (vividness {settings[0]}..{settings[-1]})")
            for colour, (model, entry) in zip(colours, record.items()):
                _, mine = curve(entry, name)
                axis.plot(mine["cf"], mine[key], "-", color=colour, lw=1, label=label(model))
                default = entry["sets"][name][str(default_with_floor(entry))]
                axis.plot(default["cf"], default[key], "o", color=colour)
            axis.set_xlabel("colourfulness CF (higher: more colour)")
            axis.set_ylabel(title)
            axis.set_title(name)
            axis.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7)
    figure.suptitle("Each curve: one model over vividness 0..100; dot: its default", fontsize=10)
    figure.tight_layout()
    save_figure(figure, output, dpi=100)
    print(f"figure: {output}")


if __name__ == "__main__":
    main()
