"""Model cards (the README.md of a weight folder) written with huggingface_hub's ModelCard."""

from __future__ import annotations

import json
from pathlib import Path

from colorizer.hub.folder import read_config
from colorizer.hub.folder_files import CARD_NAME, METRICS_NAME
from colorizer.hub.folder_files import HINT_CURVES_NAME, HINT_METRICS_NAME
from colorizer.io.atomic import atomic_path
from colorizer.io.figures import METRICS, evaluation_name, markdown_row
from colorizer.io.jsonfiles import read_json
from colorizer.models import ModelSpec, model_description
from colorizer.models.heads import HEAD_CARD_TEXT
from colorizer.vividness import chroma_gain

VIVIDNESS = """
Default vividness: **{vividness}** (chroma x {gain}; 0 is the network's own colour, 100 doubles
the chroma), chosen on the validation sets: the setting with the lowest realism distance (KID)
whose PSNR is not below gray's (`python tools/choose_vividness.py`). Any call can set its own:
`model.colorize(photo, vividness=...)`, `colorizer colorize --vividness`.
"""
CARD_MARK = "Part of the `colorizer` model zoo"  # a card this module wrote (and may write anew)
TEMPLATE = """---
{{ card_data }}
---

# {{ name }}

{{ description }}

Part of the `colorizer` model zoo: automatic colorization of black-and-white photos. The model sees the CIELAB lightness L of a photo at {{ image_size }}x{{ image_size }} and
{{ head_sentence }}; `model.colorize` upsamples ab and puts it back on the
photo's original full-resolution lightness, so the output has the input's size and detail.
{{ vividness }}
## Usage

```python
import colorizer

model = colorizer.from_pretrained("{{ repo }}")
model.colorize("old_photo.jpg").save("old_photo_color.png")
```

or `colorizer colorize old_photos/ -o colorized/ --model {{ repo }}`.
{{ hints_usage }}
## Evaluation

{{ evaluation }}
{{ hints_evaluation }}

## Training data

{{ data }}

## Training

{{ training }}

## Limitations

- Learned from the training photographs above, under research terms: the images themselves are
  not redistributed; these weights are shared for research and demonstration.
- {{ head_limitation }} Old photographs differ from modern photos in grain, contrast and subject
  matter.
- Predicts at {{ image_size }} px: colour edges are soft on large images, and small objects may
  take the colour of their surroundings.
"""


def _evaluations(metrics: dict) -> list[dict]:
    """A weight folder's evaluations: the main one, then each further one (e.g. a second
    validation set); none when it has no main one."""
    main = metrics.get("evaluation")
    return [main, *metrics.get("more_evaluations", [])] if main else []


def _evaluation_section(metrics: dict) -> str:
    if not _evaluations(metrics):
        return "Not evaluated yet."
    from colorizer.io.figures import evaluation_table

    sections = []
    for summary in _evaluations(metrics):
        split = f"{summary['split']} split, " if summary.get("split") else ""
        sections.append(
            f"### {evaluation_name(summary)}\n\n`colorizer evaluate` on {summary['data']} "
            f"({split}{summary['images']} images, ab MSE at {summary['image_size']} px in Lab "
            "units; PSNR, SSIM and colourfulness CF on the full-resolution result). `gray` "
            "predicts a = b = 0, `mean` the mean colour of the evaluated images.\n\n"
            + evaluation_table(summary))
    return "\n\n".join(sections)


def _data_section(metrics: dict) -> str:
    """The training photos: each set's source, count and terms (a run on a prepared folder of
    ``training/prepare_photos.py``), or the one data set's name."""
    sets = metrics.get("data_sources")
    if not sets:
        return (f"{metrics.get('dataset', 'flickr8k').capitalize()} photographs (research-only "
                "terms).")
    rows = [markdown_row(["set", "source", "training photos", "terms"]),
            "| --- | --- | ---: | --- |"]
    for item in sets:
        source = item["repository"] + (f" @ `{item['commit']}`" if item.get("commit") else "")
        count = f"{item['train_photos']:,}" if item.get("train_photos") is not None else "-"
        rows.append(markdown_row([item["title"], source, count, item["terms"]]))
    total = sum(item.get("train_photos") or 0 for item in sets)
    limit = metrics.get("training", {}).get("config", {}).get("limit")
    used = (f" This run used the first {limit:,} of them in the prepared folder's seeded random "
            "order (`limit`)." if limit and limit < total else "")
    return (f"{total:,} colour photographs from {len(sets)} public sets, prepared (decoded, "
            "near-gray photos and exact or near duplicates dropped, none of the validation photos "
            f"kept for training) by the repository's `training/prepare_photos.py`.{used} The "
            "photos are not redistributed here; each set keeps its own terms.\n\n"
            + "\n".join(rows))


HINTS_USAGE = """
This model also takes colour hints: points of the photo (x, y in its pixels, x to the right, y
down, 0-based) whose colour a person knows. Only the hint's chroma is used; the photo keeps its
own lightness.

```python
model.colorize("old_photo.jpg", hints=[(120, 80, (200, 30, 40)), (40, 300, "#2a6b3c")])
```

or `colorizer colorize old_photo.jpg --model {repo} --hints hints.json` with a JSON list of
`{{"x": .., "y": .., "color": "#rrggbb"}}`.
"""


def _hints_section(folder: Path) -> str:
    """The evaluation with simulated hints (``colorizer evaluate --hints``), when the folder has it."""
    path = folder / HINT_METRICS_NAME
    if not path.is_file():
        return ""
    from colorizer.io.figures import hint_table

    summary = read_json(path)
    curves = f"\n\n![hint curves]({HINT_CURVES_NAME})" if (folder / HINT_CURVES_NAME).is_file() \
        else ""
    return (
        f"\n### With colour hints\n\n`colorizer evaluate --hints` on {summary['data']} "
        f"({summary['split']} split, {summary['images']} images): each photo gets N points sampled "
        f"from its own colours (seed {summary['hint_seed']}; patches of 1-9 px holding their mean "
        "ab, as in training). `IDW fill` is the non-learned baseline: the same hints' ab spread "
        "by inverse-distance weighting over the photo's own L.\n\n" + hint_table(summary)
        + curves
    )


def _training_section(metrics: dict) -> str:
    training = metrics.get("training")
    if not training:
        return "Unknown."
    lines = [f"- {key}: `{value}`" for key, value in sorted(training.get("config", {}).items())
             if key not in ("output", "data")]
    if "command" in training:
        lines.insert(0, f"```\n{training['command']}\n```")
    for key, label in (("epochs_run", "epochs run"), ("wall_time_s", "training wall time (s)"),
                       ("machine", "machine")):
        if key in training:
            lines.append(f"- {label}: {training[key]}")
    earlier = training.get("started_from")
    while earlier:  # the warm-start chain, whose epochs and time the totals above include
        lines.append(f"- started from run `{earlier['run']}`: {earlier['epochs_run']} epochs and "
                     f"{earlier['wall_time_s']} s in all, config `{json.dumps(earlier['config'])}`")
        earlier = earlier.get("started_from")
    if training.get("note"):
        lines.append(f"\n{training['note']}")
    return "\n".join(lines)


def write_model_card(folder: str | Path, *, repo_id: str | None = None) -> Path:
    """Write ``folder/README.md`` from its config.json and metrics.json."""
    from huggingface_hub import EvalResult, ModelCard, ModelCardData

    folder = Path(folder)
    config = read_config(folder)
    metrics_file = folder / METRICS_NAME
    metrics = read_json(metrics_file) if metrics_file.is_file() else {}
    dataset = metrics.get("dataset", "flickr8k")
    eval_results = []
    for evaluation in _evaluations(metrics):
        scores = evaluation.get("results", {}).get("model", {})
        eval_name = evaluation_name(evaluation)
        eval_results += [EvalResult(
            task_type="image-to-image", task_name="Image colorization",
            dataset_type=eval_name.split()[0].lower(), dataset_name=eval_name,
            dataset_split=evaluation.get("split"), metric_type=metric.key,
            metric_name=metric.name, metric_value=round(float(scores[metric.key]), 4),
        ) for metric in METRICS if metric.key in scores]
    name = repo_id or config.get("name") or folder.name
    card_data = ModelCardData(
        library_name="keras",
        license="mit",
        tags=["image-colorization", "colorizer", "keras", config["architecture"]],
        datasets=[dataset],
        model_name=name,
        eval_results=eval_results or None,
        pipeline_tag="image-to-image",
    )
    head_sentence, head_limitation = HEAD_CARD_TEXT[config["args"].get("head", "regression")]
    spec = ModelSpec(config["architecture"], config["args"], temperature=config.get("temperature"))
    head_sentence = head_sentence.format(temperature=(
        f"{spec.default_temperature}, this model's own" if spec.temperature is not None
        else spec.default_temperature))
    hints = bool(config["args"].get("hints"))
    vividness = float(config.get("vividness", 0.0))
    card = ModelCard.from_template(
        card_data,
        template_str=TEMPLATE,
        name=name,
        repo=name,
        description=config.get("description") or model_description(config["architecture"]),
        image_size=config.get("image_size", config["args"].get("image_size")),
        evaluation=_evaluation_section(metrics),
        hints_usage=HINTS_USAGE.format(repo=name) if hints else "",
        hints_evaluation=_hints_section(folder),
        training=_training_section(metrics),
        data=_data_section(metrics),
        head_sentence=head_sentence,
        head_limitation=head_limitation,
        vividness=VIVIDNESS.format(vividness=f"{vividness:g}", gain=f"{chroma_gain(vividness):.2f}"),
    )
    path = folder / CARD_NAME
    with atomic_path(path) as temp:
        card.save(temp)
    return path

