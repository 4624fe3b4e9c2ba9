import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from colorizer import ImageError, create_model
from colorizer.io.color import rgb_to_lab
from conftest import colourful_image


@pytest.fixture(scope="module")
def model():
    return create_model("autoencoder", image_size=32)


def _lightness(image: Image.Image) -> np.ndarray:
    rgb = np.asarray(image.convert("RGB"), np.float32) / 255.0
    return rgb_to_lab(tf.constant(rgb))[..., 0].numpy()


def test_result_keeps_full_resolution_and_original_lightness(model):
    source = Image.fromarray(colourful_image(0, (301, 157)))
    result = model.colorize(source)
    assert result.size == (301, 157) and result.mode == "RGB"
    # Full-resolution detail comes from the input's own L (up to gamut clipping and rounding).
    assert np.median(np.abs(_lightness(result) - _lightness(source))) < 1.0


def test_sepia_photo_is_reduced_to_luminance(model):
    gray = colourful_image(3, (64, 48)).mean(-1)
    sepia = np.stack([gray * 1.0, gray * 0.85, gray * 0.6], -1).astype(np.uint8)
    plain = model.colorize(Image.fromarray(sepia).convert("L").convert("RGB"))
    tinted = model.colorize(Image.fromarray(sepia))
    # The tint is not carried over: both go through the same luminance.
    assert np.abs(_lightness(tinted) - _lightness(Image.fromarray(sepia))).mean() < 1.0
    assert np.abs(np.asarray(plain, float) - np.asarray(tinted, float)).mean() < 3.0


@pytest.mark.parametrize("mode", ["L", "RGB", "P", "CMYK", "1", "I;16", "I", "F", "YCbCr"])
def test_any_common_mode(model, mode):
    source = Image.fromarray(colourful_image(1, (40, 30)))
    if mode in ("I;16", "I"):
        source = Image.fromarray((np.asarray(source.convert("L"), np.uint16) * 257))
        source = source if mode == "I;16" else source.convert("I")
    elif mode == "F":
        source = Image.fromarray(np.asarray(source.convert("L"), np.float32) / 255.0)
    else:
        source = source.convert(mode)
    result = model.colorize(source)
    assert result.size == (40, 30) and result.mode == "RGB"


@pytest.mark.parametrize("mode", ["LA", "RGBA", "PA"])
def test_alpha_is_kept(model, mode):
    rgba = np.dstack([colourful_image(2, (40, 30)), np.linspace(0, 255, 1200).reshape(30, 40)])
    source = Image.fromarray(rgba.astype(np.uint8), "RGBA").convert(mode)
    result = model.colorize(source)
    assert result.mode == "RGBA"
    np.testing.assert_array_equal(np.asarray(result)[..., 3], np.asarray(source.convert("RGBA"))[..., 3])


def test_exif_rotation_is_applied(model, tmp_path):
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise for display
    Image.fromarray(colourful_image(4, (60, 20))).save(path, exif=exif)
    assert model.colorize(path).size == (20, 60)


@pytest.mark.parametrize("array", [
    colourful_image(5, (33, 21)),
    colourful_image(5, (33, 21)).mean(-1),
    colourful_image(5, (33, 21))[..., :1],
    colourful_image(5, (33, 21)).astype(np.uint16) * 257,
    colourful_image(5, (33, 21)).astype(np.float32) / 255,
])
def test_numpy_arrays(model, array):
    assert model.colorize(array).size == (33, 21)


def test_paths_are_accepted(model, tmp_path):
    path = tmp_path / "photo.png"
    Image.fromarray(colourful_image(6)).save(path)
    assert model.colorize(str(path)).size == (48, 40)
    assert model.colorize(path).size == (48, 40)


def test_bad_input_raises_one_clear_error(model, tmp_path, image_folder):
    with pytest.raises(ImageError, match="not a readable image"):
        model.colorize(image_folder / "not_an_image.jpg")
    with pytest.raises(ImageError, match="truncated"):
        model.colorize(image_folder / "truncated.jpg")
    with pytest.raises(ImageError, match="no such file"):
        model.colorize(tmp_path / "missing.jpg")
    with pytest.raises(ImageError, match="empty"):
        model.colorize(np.zeros((0, 10, 3), np.uint8))
    with pytest.raises(ImageError, match="more than the limit"):
        model.colorize(np.zeros((100, 100, 3), np.uint8), max_pixels=5000)
    with pytest.raises(ImageError, match="file path, PIL.Image or numpy array"):
        model.colorize(12)
    with pytest.raises(ImageError, match="NaN"):
        model.colorize(np.full((8, 8), np.nan, np.float32))


def test_huge_file_is_refused_before_decoding(model, tmp_path):
    path = tmp_path / "huge.png"
    Image.new("L", (4000, 3000)).save(path)
    with pytest.raises(ImageError, match="12,000,000 pixels"):
        model.colorize(path, max_pixels=10_000_000)


def test_render_size_for_fully_convolutional_models():
    cnn = create_model("cnn", image_size=32, width=0.125)
    bigger = cnn.at_size(64)
    assert bigger.network.input_shape == (None, 64, 64, 1) and cnn.at_size(64) is bigger
    assert cnn.colorize(colourful_image(0, (50, 40)), size=64).size == (50, 40)
    # Same weights: a constant input gives the same colour at either size.
    x = np.zeros((1, 32, 32, 1), np.float32)
    big = np.zeros((1, 64, 64, 1), np.float32)
    np.testing.assert_allclose(np.asarray(cnn.network(x))[0, 16, 16],
                               np.asarray(bigger.network(big))[0, 32, 32], atol=1e-4)


def test_render_size_is_bounded_before_any_work(tmp_path):
    """size=100000 (size=4096 peaked at 15 GB) is one ValueError naming the range, raised before
    the photo is read (the path does not exist) or a network of that size is built."""
    from colorizer.model import MAX_RENDER_SIZE

    cnn = create_model("cnn", image_size=32, width=0.125)
    for size in (100000, 4096, MAX_RENDER_SIZE + 8):
        with pytest.raises(ValueError) as caught:
            cnn.colorize(tmp_path / "missing.png", size=size)
        message = str(caught.value)
        assert not isinstance(caught.value, ImageError) and len(message.splitlines()) == 1
        assert f"size={size} is outside the render sizes" in message
        assert f"8 to {MAX_RENDER_SIZE} px" in message
    assert cnn.colorize(colourful_image(0, (50, 40)), size=MAX_RENDER_SIZE // 8).size == (50, 40)


def test_render_size_is_refused_where_weights_depend_on_it(model):
    with pytest.raises(ValueError, match="only works at its training size 32"):
        model.colorize(colourful_image(0), size=64)


def test_check_image_names_each_problem(tmp_path, image_folder):
    from colorizer.io.images import check_image

    (tmp_path / "empty.png").write_bytes(b"")
    Image.new("1", (20000, 20000)).save(tmp_path / "bomb.png")  # over Pillow's safety limit
    Image.new("L", (3000, 2000)).save(tmp_path / "large.png")
    Image.new("L", (7, 30)).save(tmp_path / "thin.png")
    Image.fromarray(colourful_image(5, (300, 200))).save(tmp_path / "whole.jpg")
    whole = (tmp_path / "whole.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(whole[:len(whole) // 2])
    cases = {image_folder / "not_an_image.jpg": ("unreadable", None),
             image_folder / "truncated.jpg": ("unreadable", None),  # 200 bytes: no header
             tmp_path / "cut.jpg": ("damaged", (300, 200)),
             tmp_path / "missing.jpg": ("missing", None),
             tmp_path / "empty.png": ("empty", None),
             tmp_path / "bomb.png": ("bomb", None),
             tmp_path / "large.png": ("too_large", (3000, 2000)),
             tmp_path / "thin.png": ("too_small", (7, 30))}
    for path, (reason, size) in cases.items():
        with pytest.raises(ImageError) as caught:
            check_image(path, max_pixels=5_000_000, min_side=8)
        assert (caught.value.reason, caught.value.size) == (reason, size), path
        assert str(path) in str(caught.value)  # the library's own message names the file
    assert check_image(image_folder / "colour_00.png", min_side=8) == (48, 40)
    assert check_image(tmp_path / "thin.png") == (7, 30)  # no minimum unless asked


def test_resized_copies_are_bounded():
    from colorizer.model import RESIZED_CACHE

    cnn = create_model("cnn", image_size=32, width=0.125)
    sizes = [32 + 8 * (i + 1) for i in range(RESIZED_CACHE + 2)]
    copies = [cnn.at_size(size) for size in sizes]
    assert list(cnn._resized) == sizes[2:]  # the least recently used went
    assert cnn.at_size(sizes[-1]) is copies[-1]  # still held
    assert cnn.at_size(sizes[0]) is not copies[0]  # dropped, rebuilt


def test_lean_full_resolution_maths_matches_the_whole_image_formulas():
    """lightness_of_pixels / compose work a band of rows at a time; the results are those of
    the plain formulas on the whole image (rgb_to_lab's L, tf.image.resize + lab_to_rgb)."""
    from colorizer.io import color
    from colorizer.io.images import float_rgb, read_pixels
    from colorizer.inference import compose, lightness_of, lightness_of_pixels

    rng = np.random.default_rng(0)
    for pixels in (rng.integers(0, 256, (301, 157), dtype=np.uint8),
                   rng.integers(0, 256, (301, 157, 3), dtype=np.uint8),
                   rng.integers(0, 65536, (37, 41), dtype=np.uint16),
                   rng.integers(0, 65536, (37, 41, 3), dtype=np.uint16)):
        lightness = lightness_of_pixels(pixels)
        # The same formula, a band at a time: equal up to float32 rounding (SIMD paths differ
        # between machines; one ulp at L = 100 is 7.6e-6).
        np.testing.assert_allclose(lightness, lightness_of(float_rgb(pixels)), rtol=0, atol=2e-5)
        reference = rgb_to_lab(tf.constant(float_rgb(pixels)))[..., :1].numpy()
        np.testing.assert_allclose(lightness, reference, atol=2e-3)
    gray = Image.fromarray(rng.integers(0, 256, (30, 40), dtype=np.uint8))
    assert read_pixels(gray)[0].dtype == np.uint8 and read_pixels(gray)[0].ndim == 2  # 1 B/px

    for height, width, size in ((40, 48, 128), (1100, 300, 64), (3, 900, 32)):
        lightness = rng.uniform(0, 100, (height, width, 1)).astype(np.float32)
        ab_small = rng.uniform(-80, 80, (size, size, 2)).astype(np.float32)
        ab = tf.image.resize(ab_small, (height, width), method="bilinear")
        expected = tf.cast(tf.round(color.lab_to_rgb(tf.concat([lightness, ab], -1)) * 255.0),
                           tf.uint8).numpy()
        difference = np.abs(compose(lightness, ab_small).astype(int) - expected)
        assert difference.max() <= 1 and (difference > 0).mean() < 1e-4  # float rounding only


def test_fit_chroma_brings_colours_into_srgb_by_their_chroma_keeping_hue_and_lightness():
    from colorizer.io import color

    lab = np.array([[[50, 80, 80], [20, -60, 70], [90, 10, 10], [5, 40, -40], [60, 0, 0]]],
                   np.float32)
    fitted = np.asarray(color.fit_chroma(lab))
    linear = np.asarray(color.lab_to_linear(fitted))
    assert linear.min() >= -1e-3 and linear.max() <= 1 + 1e-3  # displayable
    np.testing.assert_array_equal(fitted[..., 0], lab[..., 0])  # lightness kept
    def hue(values):
        return np.degrees(np.arctan2(values[..., 2], values[..., 1]))[:, [0, 1, 3]]

    np.testing.assert_allclose(hue(fitted), hue(lab), atol=1e-3)  # hue kept
    np.testing.assert_array_equal(fitted[0, [2, 4]], lab[0, [2, 4]])  # in gamut: unchanged
    assert np.hypot(*fitted[0, 0, 1:]) < np.hypot(*lab[0, 0, 1:])  # out: chroma reduced


def test_vividness_zero_is_the_model_s_own_colour_and_more_adds_colour(model):
    from colorizer.evaluation.metrics import colourfulness

    photo = colourful_image(3)
    own = np.asarray(model.colorize(photo))
    np.testing.assert_array_equal(np.asarray(model.colorize(photo, vividness=0)), own)
    cf = [colourfulness(np.asarray(model.colorize(photo, vividness=v))) for v in (0, 50, 100)]
    assert cf[0] < cf[1] < cf[2], cf
    for bad in (-1, 101, "high", True):
        with pytest.raises(ValueError, match="vividness must be a number from 0 to 100"):
            model.colorize(photo, vividness=bad)
