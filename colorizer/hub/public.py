"""What may leave this machine: weight folders made fit for the Hub, and checked.

A run's records (config.json, metrics.json) name the folders it read and wrote on the machine
that trained it. Before a push or a publish, :func:`make_public` reduces every path field to its
last part (``/home/me/photos`` -> ``photos``) in every JSON file of the staged folder, and then
:func:`check_public` reads every text file there (JSON, the model card) and refuses the folder
with one line naming the file when it still holds an absolute path of a local file system, this
machine's home or working folder, or a Hugging Face token. Zoo names and Hub repo ids are kept.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

# Fields of a training record (TrainConfig, export's record, an evaluation) that hold paths.
PATH_FIELDS = ("data", "output", "init_from", "prior", "run")
TEXT_SUFFIXES = (".json", ".md", ".txt", ".yaml", ".yml", ".csv")
MAX_TEXT_BYTES = 16 * 2**20  # larger text files are not what a weight folder holds
# An absolute path under one of the usual top folders of a POSIX or macOS system, a Windows
# drive path, a home-relative path, a token of the Hub.
_LEAKS = (
    re.compile(r"(?<![\w.:/-])/(?:tmp|home|root|work|Users|mnt|media|var|private|opt|srv|data|"
               r"scratch|content|workspace|run)/[^\s\"'`)]*"),
    re.compile(r"(?<![\w])[A-Za-z]:\\[^\s\"'`)]+"),
    re.compile(r"(?<![\w/])~/[^\s\"'`)]+"),
    re.compile(r"\bhf_[A-Za-z0-9]{20,}\b"),
)


def public_path(value: str) -> str:
    """A path of this machine reduced to its last part (``/home/me/photos`` -> ``photos``);
    zoo names and Hub repo ids are kept."""
    from colorizer.hub.zoo import find_pretrained

    if not value or find_pretrained(value) is not None:
        return value
    path = Path(value)
    if path.is_absolute() or value.startswith((".", "~")) or path.expanduser().exists():
        return path.name
    parts = value.split("/")
    if (len(parts) == 2 and all(parts)) or os.sep not in value:  # a repo id, or a bare name
        return value
    return path.name


def public_record(record):
    """A copy of a config.json / metrics.json with every path field reduced by public_path."""
    if isinstance(record, dict):
        return {key: public_path(value) if key in PATH_FIELDS and isinstance(value, str)
                else public_record(value) for key, value in record.items()}
    if isinstance(record, list):
        return [public_record(value) for value in record]
    return record


def find_leak(text: str) -> str | None:
    """The first local path or token in ``text`` (a token shown only by its start), or None."""
    found = [match for pattern in _LEAKS for match in [pattern.search(text)] if match]
    for where in (os.path.expanduser("~"), os.getcwd()):
        if len(where) > 1 and where in text:
            found.append(re.search(re.escape(where), text))
    if not found:
        return None
    leak = min(found, key=lambda match: match.start()).group(0)
    return leak[:7] + "..." if leak.startswith("hf_") else leak[:120]


def make_public(folder: str | Path) -> Path:
    """Reduce the path fields of every JSON record in ``folder`` (a staged copy) in place."""
    folder = Path(folder)
    for path in sorted(folder.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        cleaned = public_record(record)
        if cleaned != record:
            path.write_text(json.dumps(cleaned, indent=2, sort_keys=True) + "\n",
                            encoding="utf-8")
    return folder


def check_public(folder: str | Path) -> Path:
    """Refuse (ValueError, one line) a folder about to leave the machine whose text files hold
    a local path or a token."""
    folder = Path(folder)
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.suffix.lower() not in TEXT_SUFFIXES:
            continue
        if path.stat().st_size > MAX_TEXT_BYTES:
            raise ValueError(f"{path.name} is larger than {MAX_TEXT_BYTES // 2**20} MB; "
                             "a weight folder's text files are not: nothing was sent")
        leak = find_leak(path.read_text(encoding="utf-8", errors="replace"))
        if leak is not None:
            raise ValueError(f"{path.name} holds a local path or a token ({leak!r}); nothing was "
                             "sent: remove it from that file (or write the card anew) and retry")
    return folder
