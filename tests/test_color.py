import numpy as np
import pytest
import tensorflow as tf
from skimage import color as skcolor
from skimage import data as skdata

from colorizer import color


def test_rgb_to_lab_matches_skimage_on_random_pixels():
    rgb = np.random.default_rng(0).uniform(0, 1, (64, 64, 3)).astype(np.float32)
    ours = color.rgb_to_lab(tf.constant(rgb)).numpy()
    assert np.abs(ours - skcolor.rgb2lab(rgb)).mean() < 0.05


def test_rgb_to_lab_matches_skimage_on_a_real_photo():
    rgb = skdata.astronaut().astype(np.float32) / 255.0
    ours = color.rgb_to_lab(tf.constant(rgb)).numpy()
    assert np.abs(ours - skcolor.rgb2lab(rgb)).mean() < 0.05


def test_lab_to_rgb_matches_skimage_including_out_of_gamut_values():
    rng = np.random.default_rng(1)
    lab = np.stack([rng.uniform(0, 100, 4096), rng.uniform(-110, 110, 4096),
                    rng.uniform(-110, 110, 4096)], -1).reshape(64, 64, 3).astype(np.float32)
    ours = color.lab_to_rgb(tf.constant(lab)).numpy()
    theirs = skcolor.lab2rgb(lab.astype(np.float64))
    assert np.abs(ours - theirs).mean() * 100 < 0.05
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
