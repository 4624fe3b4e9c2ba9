"""The product's test fixtures (tests/conftest.py), reused by the research scripts' tests.

Run with ``python -m pytest -q research``; ``python -m pytest`` from the root collects only
``tests/`` (pyproject's testpaths), so CI does not run research code.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "colorizer_tests_conftest", Path(__file__).resolve().parents[2] / "tests" / "conftest.py")
_fixtures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixtures)

colourful_image = _fixtures.colourful_image
image_folder = _fixtures.image_folder
