"""The metrics schema, and the README's zoo table generated from the shipped weight folders."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from colorizer.cli import main, results_table
from colorizer.hub.zoo import list_pretrained
from colorizer.io import figures as schema
from colorizer.io.figures import evaluation_table

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"


@pytest.fixture
def shipped_zoo(monkeypatch):
    monkeypatch.delenv("COLORIZER_WEIGHTS", raising=False)
    entries = list_pretrained()
    assert entries and all(e.path.parent == ROOT / "weights" for e in entries)
    return entries


def test_readme_zoo_table_matches_the_weight_folders(shipped_zoo):
    readme = README.read_text(encoding="utf-8")
    assert readme == schema.replace_table(readme, results_table(shipped_zoo)), (
        "README.md's zoo table differs from weights/*/metrics.json: run "
        "`colorizer list --markdown --update README.md`")
    table = readme.split(schema.TABLE_START)[1].split(schema.TABLE_END)[0]
    header = next(line for line in table.splitlines() if line.startswith("| model"))
    assert header.count("|") - 1 <= 8  # columns
    for entry in shipped_zoo:
        assert entry.name in table


def test_readme_is_a_visitors_page():
    readme = README.read_text(encoding="utf-8")
    assert readme.startswith("---\n") and "\nsdk: gradio\n" in readme  # the Space's front matter
    assert len(readme.split()) <= 1800  # words, as `wc -w` counts them
    # Every file the page names by its path is in this repository: none outside it, none stale.
    assert "../" not in readme
    named = set(re.findall(r"`([\w.-]+/[\w./-]+\.(?:md|py|json|png|txt|toml))`", readme))
    named |= set(re.findall(r"\]\(([\w.-]+/[\w./-]+\.(?:md|py|json|png|txt))\)", readme))
    assert "docs/heads_examples.png" in named and "training/README.md" in named
    assert not [name for name in named if not (ROOT / name).is_file()]
    assert "python -m pytest -q -rs" in readme and "docs/heads_examples.png" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python -m pytest -q -rs" in ci


def test_update_rewrites_only_the_table(shipped_zoo, tmp_path, capsys):
    page = tmp_path / "README.md"
    page.write_text(f"# before\n\n{schema.TABLE_START}\n| stale |\n{schema.TABLE_END}\n\nafter\n")
    assert main(["list", "--markdown", "--update", str(page)]) == 0
    text = page.read_text()
    assert text.startswith("# before\n\n") and text.endswith(f"\n{schema.TABLE_END}\n\nafter\n")
    assert "| stale |" not in text and results_table(shipped_zoo) in text
    assert f"wrote the zoo table of {len(shipped_zoo)} model(s)" in capsys.readouterr().out
    assert main(["list", "--update", str(page)]) == 0
    assert "up to date" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md"]  # no temporary file left


@pytest.mark.parametrize("text", ["no markers here\n",
                                  f"{schema.TABLE_END}\nx\n{schema.TABLE_START}\n",
                                  f"{schema.TABLE_START}\n{schema.TABLE_START}\n{schema.TABLE_END}\n"])
def test_update_without_one_pair_of_markers_changes_nothing(shipped_zoo, tmp_path, capsys, text):
    page = tmp_path / "page.md"
    page.write_text(text)
    assert main(["list", "--update", str(page)]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "zoo-table:start" in error
    assert page.read_text() == text


def test_update_with_an_empty_zoo_changes_nothing(tmp_path, monkeypatch, capsys):
    from colorizer.hub.zoo import write_manifest

    monkeypatch.setenv("COLORIZER_WEIGHTS", str(tmp_path / "nothing"))
    monkeypatch.setenv("COLORIZER_ZOO", str(write_manifest({"owner": None, "models": []},
                                                           tmp_path / "zoo.json")))
    page = tmp_path / "page.md"
    page.write_text(f"{schema.TABLE_START}\n| kept |\n{schema.TABLE_END}\n")
    assert main(["list", "--update", str(page)]) == 2
    assert "left unchanged" in capsys.readouterr().err
    assert "| kept |" in page.read_text()


def test_evaluate_table_columns_come_from_the_schema():
    scores = {m.key: 1.0 + i for i, m in enumerate(schema.METRICS)}
    summary = {"results": {name: scores for name in ("model", "gray", "mean")},
               "original_colourfulness": 40.5}
    lines = evaluation_table(summary).splitlines()
    assert lines[0] == "| predictor | " + " | ".join(m.label for m in schema.METRICS) + " |"
    assert lines[2] == "| model | 1.00 | 2.00 | 3.0000 | 4.00 | 5.00 | 6.00 | 7.00 | 8.00 | 9.0 |"
    assert lines[-1] == "| original | | | | 40.50 | 0.00 | 100.00 | 100.00 | 0.00 | 100.0 |"


def test_schema_imports_neither_tensorflow_nor_keras():
    code = ("import sys, colorizer.io.figures; print(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('tensorflow', 'keras', 'jax')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"


def test_the_manifest_lists_every_shipped_folder_with_its_figures(shipped_zoo, monkeypatch):
    """colorizer/hub/zoo.json carries each weight folder's fields and figures (so the zoo can be
    listed, and the demo's menu filled, before a download); `colorizer publish --no-push`
    copies them after a re-evaluation."""
    from colorizer.hub.zoo import DEFAULT_MANIFEST, folder_fields, read_manifest

    monkeypatch.delenv("COLORIZER_ZOO", raising=False)
    manifest = read_manifest(DEFAULT_MANIFEST)
    models = {model["name"]: model for model in manifest["models"]}
    assert set(models) == {entry.name for entry in shipped_zoo}
    for entry in shipped_zoo:
        model, fields = models[entry.name], folder_fields(entry.path)
        stale = [key for key in ("architecture", "head", "image_size", "params", "metrics")
                 if model.get(key) != fields[key]]
        assert not stale, f"{entry.name}: {stale} differ from weights/: run " \
                          "`colorizer publish --no-push`"
        assert model["label"] and model["description"] and "\n" not in model["description"]
        assert model["revision"] is None or re.fullmatch("[0-9a-f]{40}", model["revision"])
        assert model["revision"] is None or manifest["owner"]  # a pinned revision has a repo
    assert len({model["repo"] for model in models.values()}) == len(models)
    labels = {model["name"]: model["label"] for model in models.values()}
    assert labels["lite0_unet.flickr8k_128"] == "Natural colour, muted (people and dogs)"
    assert labels["lite0_unet_classification.mixed150k_128"] == \
        "Vivid colour (bolder, may mis-colour)"
    assert "sepia" in labels["autoencoder.flickr8k_128"]


def test_zoo_listing_imports_neither_tensorflow_nor_keras():
    code = ("import sys, colorizer; colorizer.list_pretrained(); import colorizer.hub; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('tensorflow', 'keras', 'jax')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=ROOT).stdout
    assert out.strip() == "[]"
