import keras
import numpy as np
import pytest

from colorizer import create_model
from colorizer.models import list_models

# The founding report's tables (section 5.2 and 5.3): (output shape, params) per layer.
AUTOENCODER_TABLE = [
    ((64, 64, 32), 320), ((32, 32, 64), 18496), ((16, 16, 128), 73856), ((8, 8, 256), 295168),
    ((16384,), 0), ((256,), 4194560), ((16384,), 4210688), ((8, 8, 256), 0),
    ((16, 16, 256), 590080), ((32, 32, 128), 295040), ((64, 64, 64), 73792),
    ((128, 128, 2), 1154),
]
XCEPTION_TABLE = [
    ((128, 128, 3), 30), ((4, 4, 2048), 20861480), ((8, 8, 512), 9437696),
    ((16, 16, 128), 589952), ((32, 32, 64), 73792), ((64, 64, 32), 18464), ((128, 128, 2), 578),
]


def _count(weights):
    return sum(int(np.prod(w.shape)) for w in weights)


def _table(model):
    return [(tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers]


def test_registry_lists_the_report_models():
    assert {"autoencoder", "cnn", "xception_decoder"} <= set(list_models())


def test_autoencoder_matches_report_table():
    model = create_model("autoencoder").network
    assert _table(model) == AUTOENCODER_TABLE
    assert model.count_params() == 9_753_154
    assert _count(model.non_trainable_weights) == 0


@pytest.mark.slow
def test_xception_decoder_matches_report_table():
    model = create_model("xception_decoder", weights=None).network
    assert _table(model) == XCEPTION_TABLE
    assert model.count_params() == 30_981_992
    assert _count(model.non_trainable_weights) == 20_861_480
    assert _count(model.trainable_weights) == 10_120_512


def test_cnn_structure_and_width():
    full = create_model("cnn").network
    names = [layer.name for layer in full.layers]
    assert sum(name.endswith("_norm") for name in names) == 8  # BatchNorm ends every block
    assert full.get_layer("conv5_1").dilation_rate == (2, 2)
    assert full.get_layer("ab_quarter").output.shape[1:] == (32, 32, 2)
    assert full.output_shape == (None, 128, 128, 2)
    assert 30e6 < full.count_params() < 33e6  # Zhang ECCV16 is 32.2M with its 313-way head
    half = create_model("cnn", width=0.5)
    assert half.count_params() < full.count_params() / 3.5


def test_spec_records_resolved_arguments():
    spec = create_model("cnn", image_size=32, width=0.25).spec
    assert spec.architecture == "cnn"
    assert spec.args == {"image_size": 32, "width": 0.25, "head": "regression"}


def test_bad_names_and_arguments_are_explained():
    with pytest.raises(ValueError, match="registered models: autoencoder"):
        create_model("resnet")
    with pytest.raises(TypeError, match="accepts"):
        create_model("autoencoder", width=2)
    with pytest.raises(ValueError, match="divisible by 16"):
        create_model("autoencoder", image_size=100)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lite0_decoder", "lite0_unet"])
def test_lite0_colorizers_use_the_frozen_pretrained_encoder(name):
    colorizer = create_model(name, image_size=64)
    model = colorizer.network
    encoder = model.get_layer("efficientnet_lite0")
    assert not encoder.trainable
    assert _count(model.non_trainable_weights) >= 3_400_000  # the Lite0 backbone
    assert model.output_shape == (None, 64, 64, 2)
    # The pretrained weights are in place: the stem matches the shipped ImageNet weights.
    from colorizer.models import efficientnet_lite as lite

    reference = lite.efficientnet_lite0((64, 64, 3), include_top=False)
    np.testing.assert_array_equal(encoder.get_layer("stem_conv").get_weights()[0],
                                  reference.get_layer("stem_conv").get_weights()[0])
    before = _count(model.trainable_weights)
    colorizer.set_encoder_trainable(True)
    # The whole encoder joins, but for the BatchNorm statistics (about 3.4M of Lite0's weights).
    assert _count(model.trainable_weights) - before > 3_300_000
    assert not encoder.get_layer("stem_bn").trainable  # BatchNorm statistics stay frozen


def test_flop_counts_match_known_figures():
    from colorizer.models.flops import model_flops

    # Zhang et al. (ECCV16) report 83.6 GFLOPs at 256 px including their 313-way head.
    assert 80e9 < model_flops(create_model("cnn", image_size=256).network) < 84e9
    # A 3x3 conv from 1 to 32 channels at stride 2 on 128 px: 2 * 9 * 32 * 64 * 64.
    assert model_flops(create_model("autoencoder").network) > 2 * 9 * 32 * 64 * 64


@pytest.mark.slow
def test_lite0_unet_can_show_the_encoder_a_twice_larger_photo():
    model = create_model("lite0_unet", image_size=64, encoder_scale=2, weights=None).network
    assert model.get_layer("efficientnet_lite0").input_shape == (None, 128, 128, 3)
    assert model.output_shape == (None, 64, 64, 2)
    # One decoder level less: its deepest input is at 1/16, and the gray input joins at full size.
    assert [layer.name for layer in model.layers if layer.name.endswith("_skip")] == [
        "up0_skip", "up1_skip", "up2_skip", "up3_skip"]
    assert model.get_layer("up3_skip").input[2].name == model.input.name
    classifier = create_model("lite0_unet", image_size=64, encoder_scale=2, weights=None,
                              head="classification").network
    assert classifier.output_shape[1:3] == (32, 32)
    with pytest.raises(ValueError, match="encoder_scale must be 1 or 2"):
        create_model("lite0_unet", encoder_scale=3, weights=None)
    with pytest.raises(ValueError, match="needs 4 entries at encoder_scale 2"):
        create_model("lite0_unet", encoder_scale=2, decoder_channels=(8,) * 5, weights=None)



def test_lite0_unet_takes_a_larger_efficientnet_lite_encoder():
    model = create_model("lite0_unet", image_size=64, encoder_scale=2, weights=None,
                         encoder="lite2").network
    encoder = model.get_layer("efficientnet_lite2")
    # Lite2's wider skips (48 and 120 channels at strides 8 and 16 of its input) reach the decoder.
    assert [output.shape[-1] for output in encoder.outputs] == [16, 24, 48, 120, 1280]
    assert model.output_shape == (None, 64, 64, 2)
    assert create_model("lite0_unet", weights=None).spec.args["encoder"] == "lite0"
    with pytest.raises(ValueError, match="unknown EfficientNet-Lite variant 'b0'"):
        create_model("lite0_unet", encoder="b0", weights=None)

def test_lite0_decoder_can_show_the_encoder_a_twice_larger_photo():
    model = create_model("lite0_decoder", image_size=64, encoder_scale=2, weights=None).network
    assert model.get_layer("efficientnet_lite0").input_shape == (None, 128, 128, 3)
    assert model.output_shape == (None, 64, 64, 2)
    # Features at 1/16 of the input: four transposed convolutions, the widest one left out.
    transposed = [layer for layer in model.layers
                  if isinstance(layer, keras.layers.Conv2DTranspose)]
    assert [layer.filters for layer in transposed] == [128, 64, 32, 2]
    classifier = create_model("lite0_decoder", image_size=64, encoder_scale=2, weights=None,
                              head="classification").network
    assert classifier.output_shape[1:3] == (32, 32)
    with pytest.raises(ValueError, match="encoder_scale must be 1 or 2"):
        create_model("lite0_decoder", encoder_scale=3, weights=None)
