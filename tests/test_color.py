import numpy as np
import pytest
import tensorflow as tf
from skimage import color as skcolor
from skimage import data as skdata

from colorizer.io import color


def test_rgb_to_lab_matches_skimage_on_random_pixels():
    rgb = np.random.default_rng(0).uniform(0, 1, (64, 64, 3)).astype(np.float32)
    ours = color.rgb_to_lab(tf.constant(rgb)).numpy()
    assert np.abs(ours - skcolor.rgb2lab(rgb)).max() < 1e-3  # every pixel (float32 vs float64)


def test_rgb_to_lab_matches_skimage_on_a_real_photo():
    rgb = skdata.astronaut().astype(np.float32) / 255.0
    ours = color.rgb_to_lab(tf.constant(rgb)).numpy()
    assert np.abs(ours - skcolor.rgb2lab(rgb)).max() < 1e-3


def test_lab_to_rgb_matches_skimage_including_out_of_gamut_values():
    rng = np.random.default_rng(1)
    lab = np.stack([rng.uniform(0, 100, 4096), rng.uniform(-110, 110, 4096),
                    rng.uniform(-110, 110, 4096)], -1).reshape(64, 64, 3).astype(np.float32)
    ours = color.lab_to_rgb(tf.constant(lab)).numpy()
    with pytest.warns(UserWarning, match="negative Z values"):  # skimage clips them as we do
        theirs = skcolor.lab2rgb(lab.astype(np.float64))
    assert np.abs(ours - theirs).max() < 1e-4
    assert ours.min() >= 0.0 and ours.max() <= 1.0


def test_round_trip_and_reference_values():
    rgb = skdata.chelsea().astype(np.float32) / 255.0
    back = color.lab_to_rgb(color.rgb_to_lab(tf.constant(rgb))).numpy()
    assert np.abs(back - rgb).max() < 1e-3
    white, black = color.rgb_to_lab(tf.constant([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])).numpy()
    np.testing.assert_allclose(white, [100.0, 0.0, 0.0], atol=0.01)
    np.testing.assert_allclose(black, [0.0, 0.0, 0.0], atol=0.01)


def test_works_on_batches_and_in_graph_mode():
    rgb = tf.random.uniform((2, 8, 8, 3), seed=0)
    assert tf.function(color.rgb_to_lab)(rgb).shape == (2, 8, 8, 3)


def test_normalisation_is_inverted():
    ab = tf.constant([[-86.0, 98.0]])
    np.testing.assert_allclose(color.denormalize_ab(color.normalize_ab(ab)), ab, rtol=1e-6)
    assert float(color.normalize_l(tf.constant(50.0))) == 0.0


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="3 channels"):
        color.rgb_to_lab(tf.zeros((4, 4, 2)))
    with pytest.raises(TypeError, match="float"):
        color.rgb_to_lab(tf.zeros((4, 4, 3), tf.uint8))


def test_the_lightness_lookup_equals_rgb_to_lab_for_8_and_16_bit_codes():
    """inference.lightness_of (a 16-bit lookup of the sRGB curve, luminance only) is the L of
    rgb_to_lab and of skimage, on every 8-bit level of one channel and on random 16-bit codes."""
    from colorizer.inference import lightness_of

    levels = np.arange(256, dtype=np.float32) / 255.0
    grid = np.stack(np.meshgrid(levels, levels[::5], levels[::5], indexing="ij"), -1)
    sixteen = np.random.default_rng(2).integers(0, 65536, (64, 64, 3)) / 65535.0
    for rgb in (grid.reshape(-1, 1, 3), sixteen.astype(np.float32)):
        ours = lightness_of(rgb)[..., 0]
        assert np.abs(ours - color.rgb_to_lab(tf.constant(rgb)).numpy()[..., 0]).max() < 1e-3
        assert np.abs(ours - skcolor.rgb2lab(rgb.astype(np.float64))[..., 0]).max() < 1e-3
