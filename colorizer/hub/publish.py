"""Publishing the zoo (``colorizer publish``): each weight folder to its own Hub repo, one commit
each, and the new revisions pinned in the zoo manifest.

The pushed folder is the weight folder with its config.json cut down to what loading and the
model card need (no local paths) and a model card naming the repo. After each push the manifest
entry of that model (repo, revision, what the folder says about itself, its headline figures) is
written in one step, so a failure half-way keeps the models already pushed.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from colorizer.hub.folder_files import CARD_NAME, CONFIG_NAME, FOLDER_FILES, WEIGHTS_NAME
from colorizer.hub.public import check_public, make_public
from colorizer.hub.zoo import (FOLDER_FIELDS, folder_fields, read_manifest, weight_folders,
                           weights_dir, write_manifest)

# The config.json keys that go to the Hub (those loading, the zoo and the model card read).
PUBLIC_CONFIG_KEYS = ("architecture", "args", "image_size", "normalization", "colorizer_version",
                      "keras_version", "name", "description", "params")


def public_config(config: dict[str, Any], repo_id: str) -> dict[str, Any]:
    """config.json as published: :data:`PUBLIC_CONFIG_KEYS` only, and the repo it lives in."""
    return {**{key: config[key] for key in PUBLIC_CONFIG_KEYS if key in config},
            "hub_repo": repo_id}


def stage(folder: Path, staging: Path, repo_id: str) -> Path:
    """Copy the publishable files of ``folder`` into ``staging``, with the public config.json
    and a model card for ``repo_id``."""
    from colorizer.hub.card import write_model_card

    staging.mkdir(parents=True, exist_ok=True)
    for name in FOLDER_FILES:
        if name not in (CONFIG_NAME, CARD_NAME) and (folder / name).is_file():
            shutil.copy2(folder / name, staging / name)
    config = json.loads((folder / CONFIG_NAME).read_text())
    (staging / CONFIG_NAME).write_text(
        json.dumps(public_config(config, repo_id), indent=2, sort_keys=True) + "\n")
    make_public(staging)  # metrics.json and the hint metrics name local folders too
    write_model_card(staging, repo_id=repo_id)
    return check_public(staging)


def _entry(manifest: dict[str, Any], name: str) -> dict[str, Any]:
    entry = next((model for model in manifest["models"] if model["name"] == name), None)
    if entry is None:  # a new model: it joins the zoo
        entry = {"name": name, "repo": f"colorizer-{name}", "revision": None, "label": name}
        manifest["models"].append(entry)
        manifest["models"].sort(key=lambda model: model["name"])
    return entry


def record(manifest: dict[str, Any], name: str, folder: Path, revision: str | None) -> None:
    """Copy what ``folder`` says about itself (and ``revision`` when given) into the manifest."""
    fields = folder_fields(folder)
    entry = _entry(manifest, name)
    if revision is not None:
        entry["revision"] = revision
    entry.setdefault("description", fields["description"])
    entry.update({key: fields[key] for key in FOLDER_FIELDS})
    entry["metrics"] = fields["metrics"]


def publish(names: list[str] | None = None, *, owner: str | None = None, push: bool = True,
            private: bool = False, token: str | None = None,
            log: Callable[[str], None] = print) -> dict[str, Any]:
    """Push the weight folders ``names`` (default: all of ``weights/``) to ``owner``'s repos and
    pin the new revisions in the manifest; returns the manifest written.

    With ``push=False`` only the figures and fields of the folders are copied into the manifest
    (e.g. after ``colorizer evaluate --record-in``); nothing is sent.
    """
    root = weights_dir()
    names = list(names or weight_folders(root))  # not the hidden temp folders of a killed write
    if not names:
        raise FileNotFoundError(f"no weight folders in {root} to publish")
    for name in names:
        if name.startswith("."):
            raise ValueError(f"{root / name} is a hidden temp folder (an export or save cut "
                             "short), not a weight folder; export again to make the folder")
        if not (root / name / WEIGHTS_NAME).is_file():
            raise FileNotFoundError(f"{root / name / WEIGHTS_NAME} is missing; nothing to publish "
                                    f"for {name}")
    manifest = read_manifest()
    if push:
        owner = owner or manifest["owner"]
        if not owner:
            raise ValueError("the zoo has no Hub owner yet: pass --owner (a user or organisation)")
        published_elsewhere = sorted(model["name"] for model in manifest["models"]
                                     if model.get("revision") and model["name"] not in names)
        if owner != manifest["owner"] and published_elsewhere:
            raise ValueError(
                f"the zoo's owner is {manifest['owner']}; moving it to {owner} means publishing "
                f"every published model there too ({', '.join(published_elsewhere)}): "
                "name them all, or none")
        manifest["owner"] = owner
    for name in names:
        folder = root / name
        revision = None
        if push:
            from colorizer.hub import commit_folder

            repo_id = f"{owner}/{_entry(manifest, name)['repo']}"
            with tempfile.TemporaryDirectory() as staging:
                commit = commit_folder(stage(folder, Path(staging) / name, repo_id), repo_id,
                                       private=private, token=token,
                                       commit_message=f"colorizer publish {name}")
            revision = commit.oid
            log(f"{name}: {repo_id}@{revision}")
        record(manifest, name, folder, revision)
        write_manifest(manifest)
    if not push:
        log(f"recorded the figures of {len(names)} weight folder(s)")
    return manifest
