"""The realism losses and the NoGAN phases of the one training loop (issue 29)."""

import json

import keras
import numpy as np
import pytest

from colorizer import from_pretrained
from colorizer.evaluation import metrics
from colorizer.training.loop import TrainConfig, train
from colorizer.training.realism_losses import (CRITIC_NAME, colourfulness, feature_distance,
                                               feature_network, patch_critic, to_rgb)


def _config(image_folder, output, **overrides):
    settings = dict(model="lite0_unet", data=str(image_folder), output=str(output),
                    image_size=32, batch_size=4, model_args={"weights": None})
    return TrainConfig(**{**settings, **overrides})


def test_colourfulness_term_matches_the_evaluation_metric():
    rng = np.random.default_rng(0)
    rgb = rng.uniform(0, 1, (2, 16, 16, 3)).astype(np.float32)
    ours = keras.ops.convert_to_numpy(colourfulness(rgb))
    expected = [metrics.colourfulness(np.round(image * 255.0)) for image in rgb]
    np.testing.assert_allclose(ours, expected, rtol=0.02)


def test_feature_distance_is_zero_for_the_photo_and_grows_with_wrong_colour():
    net = feature_network("lite0", 64)
    rng = np.random.default_rng(0)
    lightness = rng.uniform(-0.3, 0.3, (2, 64, 64, 1)).astype(np.float32)
    ab = rng.uniform(-0.3, 0.3, (2, 64, 64, 2)).astype(np.float32)
    real = net(to_rgb(lightness, ab))
    same = float(feature_distance(net(to_rgb(lightness, ab)), real))
    gray = float(feature_distance(net(to_rgb(lightness, 0 * ab)), real))
    assert same == pytest.approx(0.0, abs=1e-6) and gray > 0.05
    assert not net.trainable_weights  # frozen


def test_the_realism_judge_is_refused_as_feature_network(image_folder, tmp_path):
    with pytest.raises(ValueError, match="judge"):
        train(_config(image_folder, tmp_path / "r", feature_loss=0.1, feature_net="lite2"))
    with pytest.raises(ValueError, match="critic must be one of"):
        train(_config(image_folder, tmp_path / "r", critic="always"))
    with pytest.raises(ValueError, match="regression head"):
        train(_config(image_folder, tmp_path / "r", critic="gan",
                      model_args={"weights": None, "head": "classification"}))
    with pytest.raises(ValueError, match="epoch_photos"):
        train(_config(image_folder, tmp_path / "r", epoch_photos=2))
    with pytest.raises(ValueError, match="epoch_photos needs one worker"):
        _config(image_folder, tmp_path / "r", epoch_photos=8, strategy="multiworker").resolved()
    assert not (tmp_path / "r").exists()
    # A damaged critic in init_from's run: one line naming it, and no run folder made.
    from colorizer import create_model

    create_model("lite0_unet", image_size=32, weights=None).save_pretrained(
        tmp_path / "earlier" / "model")
    (tmp_path / "earlier" / CRITIC_NAME).write_text("not weights")
    with pytest.raises(ValueError, match="cannot read the critic's weights .*critic.weights.h5"):
        train(_config(image_folder, tmp_path / "r", critic="gan",
                      init_from=str(tmp_path / "earlier")))
    assert not (tmp_path / "r").exists()
    from colorizer.training.sources import ArraySource  # Keras on JAX: no TensorFlow step

    with pytest.raises(ValueError, match="written for TensorFlow"):
        ArraySource().check(_config(image_folder, tmp_path / "r", critic="gan"))


def test_patch_critic_judges_patches_with_spectral_normalisation():
    critic = patch_critic(128)
    assert critic.output_shape == (None, 16, 16, 1)
    convolutions = [layer for layer in critic.layers if "conv" in layer.name or "logits" in
                    layer.name]
    assert convolutions and all(isinstance(layer, keras.layers.SpectralNormalization)
                                for layer in convolutions)


def _weights(folder):
    return from_pretrained(folder).network.get_weights()


@pytest.mark.slow
def test_nogan_phases_chain_through_the_one_loop(image_folder, tmp_path):
    # 1. The generator with the feature loss; a model kept every epoch.
    first = train(_config(image_folder, tmp_path / "feature", epochs=2, feature_loss=0.1,
                          keep_epochs=True, ema=0.9))
    assert sorted(p.name for p in (first / "epochs").iterdir()) == ["001", "002"]
    history = (first / "history.csv").read_text().splitlines()[0]
    assert "feature" in history and "val_ab_mse" in history
    assert not (first / CRITIC_NAME).exists()

    # 2. The critic alone: the generator does not change, the critic is kept.
    second = train(_config(image_folder, tmp_path / "critic", epochs=1, critic="pretrain",
                           init_from=str(first / "epochs" / "002"), ema=0.9))
    assert (second / CRITIC_NAME).is_file()
    for before, after in zip(_weights(first / "epochs" / "002"), _weights(second / "model")):
        np.testing.assert_array_equal(before, after)

    # 3. Both, from the pretrained critic, a checkpoint every 8 photos; resumable.
    config = _config(image_folder, tmp_path / "gan", epochs=2, critic="gan", feature_loss=0.1,
                     init_from=str(second), epoch_photos=8, keep_epochs=True)
    third = train(config)
    rows = (third / "history.csv").read_text().splitlines()
    assert len(rows) == 3 and "adversarial" in rows[0] and "critic_loss" in rows[0]
    assert any(np.abs(a - b).max() > 0 for a, b in
               zip(_weights(second / "model"), _weights(third / "epochs" / "002")))
    saved = json.loads((third / "config.json").read_text())
    assert saved["critic"] == "gan" and saved["epoch_photos"] == 8
    train(TrainConfig(**{**saved, "epochs": 3}), resume=True)
    assert len((third / "history.csv").read_text().splitlines()) == 4
    assert (third / "epochs" / "003" / "config.json").is_file()
