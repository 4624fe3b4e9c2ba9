"""Vividness: one colour setting for every model, 0..100, as a chroma gain.

0 is the network's own colour; higher scales the chroma (Lab a, b) up to MAX_GAIN times, colours
then outside sRGB brought back by reducing their chroma so hues hold
(:func:`colorizer.inference.compose`). Each zoo model has a default setting, chosen on the
validation sets (``tools/choose_vividness.py``) and kept in its config.json. No TensorFlow here:
folders, cards and menus read it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MAX_GAIN = 2.0  # the chroma gain at vividness 100 (0: the network's own colour, gain 1)


def is_vividness(value: Any) -> bool:
    """Whether ``value`` is a vividness setting: a number from 0 to 100."""
    return (isinstance(value, (int, float, np.number)) and not isinstance(value, bool)
            and 0.0 <= float(value) <= 100.0)


def chroma_gain(vividness: float | None) -> float:
    """The chroma gain of a vividness setting (0..100, None: 0): 1 + vividness / 100 x
    (MAX_GAIN - 1); a bad one is a ValueError."""
    if vividness is None:
        return 1.0
    if not is_vividness(vividness):
        raise ValueError(f"vividness must be a number from 0 to 100, got {vividness!r}")
    return 1.0 + float(vividness) / 100.0 * (MAX_GAIN - 1.0)
