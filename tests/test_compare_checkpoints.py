"""tools/compare_checkpoints.py: the NoGAN issue's test of a checkpoint against a reference."""

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "compare_checkpoints", Path(__file__).parent.parent / "tools" / "compare_checkpoints.py")
compare_checkpoints = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(compare_checkpoints)

SETS = ("flickr8k val", "miniplaces val")


def _entry(rows: dict, default: int, gray_psnr: float = 22.0) -> dict:
    """A sweep record: rows = {setting: (cf, kid, content, psnr)}, the same on both sets."""
    table = {"gray": {"psnr": gray_psnr}}
    for v, (cf, kid, content, psnr) in rows.items():
        table[str(v)] = {"cf": cf, "kid": kid, "content": content, "psnr": psnr}
    return {"default": default, "settings": sorted(rows), "sets": {name: table for name in SETS}}


REFERENCE = _entry({0: (20.0, 9.0, 50.0, 24.0), 100: (40.0, 7.0, 50.0, 23.0)}, 100)


def test_the_reference_is_read_at_the_same_colourfulness():
    at = compare_checkpoints.matched(REFERENCE, "flickr8k val", 30.0)
    assert at["kid"] == pytest.approx(8.0) and at["psnr"] == pytest.approx(23.5)
    assert not at["outside"] and compare_checkpoints.matched(REFERENCE, SETS[0], 45.0)["outside"]


def test_a_default_below_the_colour_floor_moves_to_the_best_setting_that_reaches_it():
    entry = _entry({0: (25.0, 4.0, 50.0, 24.0), 20: (31.0, 5.0, 50.0, 23.6),
                    40: (35.0, 4.5, 50.0, 21.0)}, default=0)  # 40: PSNR below gray's
    assert compare_checkpoints.default_with_floor(entry) == 20


def test_a_win_needs_lower_kid_by_15_percent_and_no_loss_of_psnr_or_content():
    better = _entry({0: (30.0, 6.0, 50.0, 23.5)}, 0)
    assert compare_checkpoints.compare(REFERENCE, better)["wins"]
    for worse in ((30.0, 7.0, 50.0, 23.5),    # KID only -12.5 %
                  (30.0, 6.0, 49.0, 23.5),    # content lower
                  (30.0, 6.0, 50.0, 23.4),    # PSNR lower
                  (29.0, 5.0, 50.0, 23.6)):   # CF below 30 on Flickr8k
        assert not compare_checkpoints.compare(REFERENCE, _entry({0: worse}, 0))["wins"]
