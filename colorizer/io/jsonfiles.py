"""Reading JSON that anyone may have written (a downloaded model folder, a hints file, the web
API): the size is checked before anything is read, and every problem is a one-line ValueError
naming the file (plain Python, no TensorFlow).

``json.loads`` on its own takes about 12 times a file's size in memory (a 96 MB prior.json took
1.16 GB before it was refused) and raises RecursionError, with a traceback, for deeply nested
input; :func:`read_json` and :func:`parse_json` bound the first and turn the second into a
ValueError like any other malformed file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# The default bound. The package's own files are far smaller: config.json about 1 kB (a run's
# 3 kB), metrics.json 10 kB, prior.json 14 kB, 256 hints about 13 kB.
MAX_JSON_BYTES = 1_000_000


def _size(data: str | bytes, max_bytes: int) -> int:
    if isinstance(data, str) and len(data) <= max_bytes:  # characters <= bytes: measure them
        return len(data.encode("utf-8", "surrogatepass"))
    return len(data)


def parse_json(data: str | bytes, name: str, *, max_bytes: int = MAX_JSON_BYTES,
               plural: bool = False) -> Any:
    """``json.loads(data)``, refusing more than ``max_bytes``; a one-line ValueError naming
    ``name`` (``plural``: "hints are ...") for data too large, nested too deeply or not JSON."""
    verb = "are" if plural else "is"
    size = _size(data, max_bytes)
    if size > max_bytes:
        raise ValueError(f"{name} {verb} {size:,} bytes or more, over the limit of {max_bytes:,}")
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError(f"{name} {verb} not valid JSON: nested too deeply") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(f"{name} {verb} not valid JSON: {error}") from None


def read_json(path: str | Path, *, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """The JSON in the file ``path``, checked as :func:`parse_json` does: its size is looked at
    before it is read (and no more than ``max_bytes`` + 1 bytes are ever read). OSError (e.g.
    FileNotFoundError) for a file that cannot be read."""
    path = Path(path)
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"{path} is {size:,} bytes, over the limit of {max_bytes:,} for this "
                         "file")
    with path.open("rb") as handle:
        data = handle.read(max_bytes + 1)  # it may have grown since
    return parse_json(data, str(path), max_bytes=max_bytes)
