"""Shared fixtures: small images the tests make themselves (no dataset needed)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402


def colourful_image(seed: int, size: tuple[int, int] = (48, 40)) -> np.ndarray:
    """A smooth, saturated uint8 RGB test image (width, height) = size."""
    rng = np.random.default_rng(seed)
    width, height = size
    y, x = np.mgrid[0:height, 0:width] / max(width, height)
    phases = rng.uniform(0, 2 * np.pi, 3)
    freq = rng.uniform(2, 6, 3)
    channels = [0.5 + 0.5 * np.sin(freq[c] * (x + y * (c + 1)) * np.pi + phases[c]) for c in range(3)]
    return np.round(np.stack(channels, -1) * 255).astype(np.uint8)


@pytest.fixture
def image_folder(tmp_path):
    """A folder of 12 colour JPEGs/PNGs plus one unreadable, one truncated and one gray file."""
    folder = tmp_path / "images"
    folder.mkdir()
    for i in range(12):
        suffix = ".png" if i % 3 == 0 else ".jpg"
        Image.fromarray(colourful_image(i)).save(folder / f"colour_{i:02d}{suffix}")
    (folder / "not_an_image.jpg").write_bytes(b"this is text, not a JPEG")
    full = folder / "colour_01.jpg"
    (folder / "truncated.jpg").write_bytes(full.read_bytes()[:200])
    gray = colourful_image(99).mean(axis=-1).astype(np.uint8)
    Image.fromarray(gray).convert("RGB").save(folder / "gray.png")
    return folder
