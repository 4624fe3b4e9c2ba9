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
