"""The Keras EfficientNet-Lite0 port with its converted ImageNet weights, checked offline."""

import numpy as np
import pytest
from PIL import Image
from skimage import data as skdata

from colorizer.models import efficientnet_lite as lite


@pytest.fixture(scope="module")
def classifier():
    return lite.efficientnet_lite0(include_top=True, weights="imagenet")


def _top5(classifier, rgb):
    x = np.asarray(Image.fromarray(rgb).resize((224, 224), Image.BICUBIC), np.float32)
    probs = np.asarray(classifier(lite.preprocess(x)[None]))[0]
    names = lite.imagenet_classes()
    return [names[i] for i in np.argsort(probs)[::-1][:5]]


@pytest.mark.slow
def test_structure_and_parameter_count(classifier):
    assert classifier.count_params() == 4_652_008 + 42_016  # PyTorch's params + BN statistics
    assert len(lite.block_settings()) == 16
    assert len(lite.imagenet_classes()) == 1000


def test_labels_a_cat_photo_as_a_cat(classifier):
    top5 = _top5(classifier, skdata.chelsea())
    assert any("cat" in name for name in top5), top5


def test_labels_coffee_as_a_cup(classifier):
    top5 = _top5(classifier, skdata.coffee())
    assert any(word in name for name in top5 for word in ("cup", "espresso", "coffee")), top5


@pytest.mark.slow
def test_backbone_without_top_gets_the_same_features(classifier):
    backbone = lite.efficientnet_lite0((96, 96, 3), include_top=False, weights="imagenet")
    x = lite.preprocess(np.random.default_rng(0).uniform(0, 255, (1, 96, 96, 3)).astype(np.float32))
    import keras

    features = keras.Model(classifier.input, classifier.get_layer("head_relu").output)
    np.testing.assert_allclose(np.asarray(backbone(x)), np.asarray(features(x)), atol=1e-5)
    assert backbone.output_shape == (None, 3, 3, 1280)


def test_larger_variants_scale_depth_and_width_as_the_reference_builder():
    # Lite0's stages as ever; Lite1 deeper (21 blocks); Lite2 deeper and wider (8-rounded).
    assert lite.feature_layers("lite0") == (
        "block0_project_bn", "block2_add", "block4_add", "block10_add", "head_relu")
    assert [len(lite.block_settings(v)) for v in ("lite0", "lite1", "lite2")] == [16, 21, 21]
    assert [stage[3] for stage in lite.stage_settings("lite2")] == [16, 24, 48, 88, 120, 208, 352]
    assert lite.feature_layers("lite2") == (
        "block0_project_bn", "block3_add", "block6_add", "block14_add", "head_relu")
    # Keras parameters (BN statistics included) of the ports checked against PyTorch's tensors.
    sizes = {"lite1": 5_470_344, "lite2": 6_150_168}
    for variant, params in sizes.items():
        model = lite.efficientnet_lite(variant, include_top=True, weights=None)
        assert model.count_params() == params and model.name == f"efficientnet_{variant}"


def test_a_variant_without_converted_weights_says_how_to_make_them(tmp_path, monkeypatch):
    monkeypatch.setattr(lite, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(FileNotFoundError, match="convert_efficientnet_lite.py --variant lite1"):
        lite.efficientnet_lite("lite1", weights="imagenet")
    with pytest.raises(ValueError, match="unknown EfficientNet-Lite variant 'lite3'"):
        lite.efficientnet_lite("lite3", weights=None)
