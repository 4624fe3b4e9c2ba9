"""Hints a person gives: points on the original photo with an sRGB colour.

Read from the CLI's JSON file, the demo's JSON or the library's ``hints=`` list, checked (a point
outside the photo, a bad colour, too many hints are one-line ValueErrors), and brought to the
hint points of :mod:`colorizer.models.hint_input` at a model's size (:func:`user_points`).
"""

from __future__ import annotations

import numpy as np
from keras import ops

from colorizer.io import color
from colorizer.models.hint_input import POINT_FIELDS

# A person's hint covers a square of this side (model pixels) around the point: the simulated
# hints of training cover 1..9 px, and a click names the colour of a region, not of one pixel.
USER_PATCH = 3
# The most hints a photo takes: the hint maps hold a model-size plane per hint while they are
# made (256 x 128 x 128 floats: 16 MB), so an API call with millions of points cannot exhaust
# memory. Training simulates at most HintSampler.max_points (64).
MAX_HINTS = 256
# The most bytes of hints JSON read (256 hints take about 13 kB).
MAX_HINTS_BYTES = 1_000_000


def parse_colour(colour) -> tuple[int, int, int]:
    """An 8-bit sRGB colour from (r, g, b) or "#rrggbb"; ValueError otherwise."""
    if isinstance(colour, str):
        text = colour.strip()
        if len(text) != 7 or text[0] != "#":
            raise ValueError(f"a hint colour must be '#rrggbb', got {colour!r}")
        try:
            return tuple(int(text[i:i + 2], 16) for i in (1, 3, 5))
        except ValueError:
            raise ValueError(f"a hint colour must be '#rrggbb', got {colour!r}") from None
    try:
        values = tuple(colour)
    except TypeError:
        raise ValueError(f"a hint colour must be (r, g, b) or '#rrggbb', got {colour!r}") from None
    if len(values) != 3 or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool)
                                   and 0 <= v <= 255 for v in values):
        raise ValueError(f"a hint colour must be three integers 0..255, got {colour!r}")
    return tuple(int(v) for v in values)


def parse_hints(hints, width: int, height: int) -> list[tuple[float, float, tuple[int, int, int]]]:
    """Check hints ``[(x, y, colour), ...]`` (or dicts with "x", "y", "color") against a photo of
    ``width`` x ``height`` pixels: x, y in its pixels (x to the right, y down, 0-based), colour
    (r, g, b) 0..255 or "#rrggbb". ValueError names the first bad hint; more than
    :data:`MAX_HINTS` hints are refused (the hint maps take memory per hint)."""
    if not isinstance(hints, (list, tuple)):
        raise ValueError(f"hints must be a list of (x, y, colour), got {type(hints).__name__}")
    if len(hints) > MAX_HINTS:
        raise ValueError(f"at most {MAX_HINTS} hints, got {len(hints)}")
    parsed = []
    for index, hint in enumerate(hints):
        if isinstance(hint, dict):
            unknown = sorted(set(hint) - {"x", "y", "color"})
            if unknown or not {"x", "y", "color"} <= set(hint):
                raise ValueError(f"hint {index} must have the keys x, y and color, got "
                                 f"{sorted(hint)}")
            hint = (hint["x"], hint["y"], hint["color"])
        try:
            x, y, colour = hint
        except (TypeError, ValueError):
            raise ValueError(f"hint {index} must be (x, y, colour), got {hint!r}") from None
        try:
            parsed.append((*check_point(x, y, width, height), parse_colour(colour)))
        except ValueError as error:
            raise ValueError(f"hint {index}: {error}") from None
    return parsed


def check_point(x, y, width: int, height: int) -> tuple[float, float]:
    """(x, y) as floats when the point lies on a ``width`` x ``height`` photo (x to the right,
    y down, 0-based); ValueError otherwise."""
    for name, value, limit in (("x", x, width), ("y", y, height)):
        if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
            raise ValueError(f"{name} must be a number of pixels, got {value!r} "
                             f"({type(value).__name__})")
        if not 0 <= value < limit:
            raise ValueError(f"{name} = {value!r} is outside the photo (0 <= {name} < {limit})")
    return float(x), float(y)


def read_hints_json(text: str | bytes) -> list[dict]:
    """Hints as the CLI and the web API take them: a JSON list of {"x", "y", "color"}, at most
    :data:`MAX_HINTS_BYTES` (ValueError otherwise, one line)."""
    from colorizer.io.jsonfiles import parse_json

    return _hint_list(parse_json(text, "hints", max_bytes=MAX_HINTS_BYTES, plural=True),
                      "hints")


def read_hints_file(path) -> list[dict]:
    """:func:`read_hints_json` of a file, its size checked before it is read; errors name it."""
    from colorizer.io.jsonfiles import read_json

    return _hint_list(read_json(path, max_bytes=MAX_HINTS_BYTES), f"{path}: hints")


def _hint_list(hints, name: str) -> list[dict]:
    if not isinstance(hints, list):
        raise ValueError(f'{name} must be a JSON list of {{"x": .., "y": .., "color": '
                         '"#rrggbb"}')
    return hints


def user_points(hints, width: int, height: int, size: int) -> np.ndarray:
    """Checked hints on a ``width`` x ``height`` photo -> hint points (K, 5) at model size
    ``size``: the point's model pixel, the colour's a, b (its lightness is not used: the photo
    keeps its own) and the patch side :data:`USER_PATCH`."""
    parsed = parse_hints(hints, width, height)
    if not parsed:
        return np.zeros((0, POINT_FIELDS), np.float32)
    xy = np.array([(x, y) for x, y, _ in parsed], np.float64)
    scale = np.array([size / width, size / height])
    model_xy = np.clip(np.floor((xy + 0.5) * scale), 0, size - 1)  # the model pixel holding it
    rgb = np.array([colour for _, _, colour in parsed], np.float32)[:, None, :] / 255.0
    ab = np.asarray(color.rgb_to_lab(ops.convert_to_tensor(rgb)))[:, 0, 1:]
    patch = np.full((len(parsed), 1), USER_PATCH, np.float64)
    return np.concatenate([model_xy, ab, patch], axis=1).astype(np.float32)
