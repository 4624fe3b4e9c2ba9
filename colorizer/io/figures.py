"""The evaluation metrics, declared once: their keys in metrics.json, labels and formats, and
the Markdown tables of an evaluation and of a hint evaluation.

``colorizer evaluate`` writes one score per metric key for each predictor (the model and the
two baselines, see :mod:`colorizer.evaluation.evaluate`); its table, the model cards, the zoo's one-line
summaries and the README's zoo table (``colorizer list --markdown``) all read this list. Plain
Python: importing it loads neither TensorFlow nor Keras, so listing the zoo stays quick.
"""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Metric:
    key: str  # its key in metrics.json (evaluation.results.<predictor>)
    label: str  # column header and the name in one-line summaries (no "|": Markdown tables)
    name: str  # longer name, for the model card's eval_results (the Hub's metric_name)
    fmt: str  # format of ``colorizer evaluate``'s table and the model card
    short_fmt: str  # format of the zoo's table and one-line summaries
    original: float | None = None  # the originals' own score in the evaluate table; None: blank


METRICS = (
    Metric("ab_mse", "ab MSE", "ab MSE (Lab units)", "{:.2f}", "{:.1f}"),
    Metric("psnr", "PSNR dB", "PSNR (dB)", "{:.2f}", "{:.2f}"),
    Metric("ssim", "SSIM", "SSIM", "{:.4f}", "{:.3f}"),
    Metric("colourfulness", "CF", "Colourfulness", "{:.2f}", "{:.1f}"),
    Metric("delta_cf", "mean abs dCF", "mean abs dCF", "{:.2f}", "{:.1f}", original=0.0),
    Metric("auc", "AuC %", "AuC (%)", "{:.2f}", "{:.1f}", original=100.0),
    Metric("auc_rebalanced", "rebal. AuC %", "class-rebalanced AuC (%)", "{:.2f}", "{:.1f}",
           original=100.0),
    # colorizer.evaluation.realism: judged by an ImageNet classifier (EfficientNet-Lite2; the summary's "judge")
    Metric("kid", "KID x1000", "KID x 1000 (judge's pooled features; lower is more real)",
           "{:.2f}", "{:.1f}", original=0.0),
    Metric("content", "content %", "content agreement (%, judge's top-1)", "{:.1f}",
           "{:.1f}", original=100.0),
)
# The predictors of an evaluation: the model and two baselines (gray: a = b = 0; mean: the
# evaluated photos' mean colour); of a hint evaluation: the model and the hints' IDW fill.
PREDICTORS = ("model", "gray", "mean")
HINT_PREDICTORS = ("model", "idw_fill")
BY_KEY = {metric.key: metric for metric in METRICS}

# The README's zoo tables (one per validation set): these metrics of each model at its default
# vividness (ab MSE: of the network's colour, before the vividness gain).
ZOO_TABLE = ("ab_mse", "psnr", "colourfulness", "delta_cf", "kid", "content")
# The zoo's one-line summaries (menus, `colorizer list`): ab MSE against gray, then these.
SUMMARY = ("colourfulness", "delta_cf")

# The README's generated zoo table sits between these two lines.
TABLE_START = "<!-- zoo-table:start -->"
TABLE_END = "<!-- zoo-table:end -->"


def evaluation_name(summary: dict) -> str:
    """What an evaluation summary of ``colorizer evaluate`` is called in cards and tables: its
    ``name``, else a list file's stem or the data folder's name and split ("flickr8k val")."""
    if summary.get("name"):
        return summary["name"]
    data = summary["data"].replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    if data.endswith(".txt"):
        return data[:-len(".txt")]
    return f"{data} {summary['split']}" if summary.get("split") else data


def short(key: str, value: float) -> str:
    """``value`` of metric ``key`` as the zoo's table and summaries print it."""
    return BY_KEY[key].short_fmt.format(value)


def labelled(key: str, value: float) -> str:
    """``value`` of metric ``key`` after its label, e.g. "CF 23.4"."""
    return f"{BY_KEY[key].label} {short(key, value)}"


def markdown_row(cells) -> str:
    """One Markdown table row; an empty cell is written as a single space."""
    return "|" + "".join(f" {cell} |" if cell != "" else " |" for cell in cells)


def replace_table(text: str, table: str) -> str:
    """``text`` with everything between the two marker lines replaced by ``table``."""
    lines = text.split("\n")
    starts = [i for i, line in enumerate(lines) if line.strip() == TABLE_START]
    ends = [i for i, line in enumerate(lines) if line.strip() == TABLE_END]
    if len(starts) != 1 or len(ends) != 1 or ends[0] < starts[0]:
        raise ValueError(f"expected one {TABLE_START} line followed by one {TABLE_END} line")
    return "\n".join(lines[:starts[0] + 1] + table.split("\n") + lines[ends[0]:])


def evaluation_table(summary: dict[str, Any]) -> str:
    """The results of :func:`colorizer.evaluation.evaluate.evaluate` as a Markdown table."""
    lines = [markdown_row(["predictor", *(m.label for m in METRICS)]),
             "|" + " --- |" * (len(METRICS) + 1)]
    for name in PREDICTORS:
        scores = summary["results"][name]
        lines.append(markdown_row([name, *(m.fmt.format(scores[m.key]) if m.key in scores
                                          else "-" for m in METRICS)]))
    # The originals against themselves: their own CF, and the metrics' best values.
    originals = {m.key: m.original for m in METRICS if m.original is not None}
    originals["colourfulness"] = summary["original_colourfulness"]
    lines.append(markdown_row(["original", *(m.fmt.format(originals[m.key]) if m.key in originals
                                             else "" for m in METRICS)]))
    return "\n".join(lines)


def hint_table(summary: dict[str, Any]) -> str:
    """The results of :func:`colorizer.evaluation.hints.evaluate_hints` as a Markdown table, one row per number of hints."""
    lines = ["| hints | model ab MSE | model PSNR dB | IDW fill ab MSE | IDW fill PSNR dB |",
             "| --- | --- | --- | --- | --- |"]
    for count in summary["hints"]:
        model, fill = (summary["results"][name][str(count)] for name in HINT_PREDICTORS)
        lines.append(f"| {count} | {model['ab_mse']:.2f} | {model['psnr']:.2f} | "
                     f"{fill['ab_mse']:.2f} | {fill['psnr']:.2f} |")
    return "\n".join(lines)
