import json
from pathlib import Path

import numpy as np
import pytest

from colorizer import create_model
from colorizer.evaluation import metrics
from colorizer.evaluation.evaluate import evaluate
from colorizer.io.figures import evaluation_table


@pytest.mark.slow
def test_evaluate_reports_model_and_both_baselines(image_folder, tmp_path):
    model = create_model("autoencoder", image_size=32)
    with pytest.warns(UserWarning, match="2 unreadable"):
        summary = evaluate(model, image_folder, split=None, output=tmp_path / "eval", grid_images=3)
    assert summary["images"] == 13  # the gray image is kept for evaluation
    assert summary["name"] == image_folder.name  # what cards and tables call it
    results = summary["results"]
    assert set(results) == {"model", "gray", "mean"}
    for scores in results.values():
        assert set(scores) == {"ab_mse", "psnr", "ssim", "colourfulness", "delta_cf", "auc",
                               "auc_rebalanced", "kid", "kid_error", "content"}
        assert scores["kid"] > -5 and 0 <= scores["content"] <= 100
    # Gray photos are further from real colour photos than the originals are from themselves.
    assert results["gray"]["kid"] > 0 and summary["judge"] == "EfficientNet-Lite2 (ImageNet, 260 px)"
    # The mean colour is the best constant: it beats gray on ab MSE.
    assert results["mean"]["ab_mse"] < results["gray"]["ab_mse"]
    assert results["gray"]["colourfulness"] < 1.0
    saved = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert saved["results"]["gray"]["ab_mse"] == pytest.approx(results["gray"]["ab_mse"])
    assert (tmp_path / "eval" / "grid.png").stat().st_size > 1000
    named = evaluate(model, image_folder, split=None, grid_images=0, limit=2, name="tiny set",
                     realism=False, vividness=100)
    assert named["name"] == "tiny set" and named["images"] == 2 and named["vividness"] == 100
    assert "kid" not in named["results"]["model"]
    table = evaluation_table(summary)
    assert "| gray |" in table and "| mean |" in table and "ab MSE" in table


def test_evaluate_scores_what_colorize_returns(image_folder):
    """One input path: evaluate's PSNR and colourfulness are those of Colorizer.colorize's
    full-resolution results, photo for photo, also with a vividness."""
    from PIL import Image

    from colorizer.training.data import list_images

    model = create_model("lite0_unet", image_size=32, weights=None)
    paths = [p for p in list_images(image_folder, None) if p.endswith(("colour_00.png",
                                                                        "colour_01.jpg"))]
    folder = image_folder.parent / "two"
    folder.mkdir()
    for path in paths:
        (folder / Path(path).name).write_bytes(Path(path).read_bytes())
    summary = evaluate(model, folder, split=None, grid_images=0, realism=False, vividness=40)
    psnrs, cfs = [], []
    for path in sorted(folder.iterdir()):
        original = np.asarray(Image.open(path).convert("RGB"))
        result = np.asarray(model.colorize(path, vividness=40))
        psnrs.append(metrics.psnr(result, original))
        cfs.append(metrics.colourfulness(result))
    assert summary["results"]["model"]["psnr"] == pytest.approx(np.mean(psnrs), abs=1e-9)
    assert summary["results"]["model"]["colourfulness"] == pytest.approx(np.mean(cfs), abs=1e-9)


def test_kid_is_near_zero_for_one_distribution_and_grows_with_a_shift():
    from colorizer.evaluation.realism import content_agreement, kid

    rng = np.random.default_rng(0)
    real, same = rng.normal(size=(300, 16)), rng.normal(size=(300, 16))
    near, error = kid(real, same, subsets=20, subset_size=100)
    far, _ = kid(real, same + 1.0, subsets=20, subset_size=100)
    assert abs(near) < 3 * error + 1 and far > near + 10 * error and error > 0
    with pytest.raises(ValueError, match="at least 2"):
        kid(real[:1], same[:1])
    assert content_agreement([1, 2, 3, 4], [1, 2, 0, 4]) == 75.0


def test_colourfulness():
    gray = np.full((10, 10, 3), 128, np.uint8)
    assert metrics.colourfulness(gray) == 0.0
    red = np.zeros((10, 10, 3), np.uint8)
    red[..., 0] = 255
    # rg = 255, yb = 127.5, no spread: 0.3 * sqrt(255^2 + 127.5^2)
    assert metrics.colourfulness(red) == pytest.approx(0.3 * np.hypot(255, 127.5))


def test_accuracy_curve_and_auc():
    truth = np.zeros((4, 4, 2))
    assert metrics.auc(metrics.accuracy_curve(truth, truth)) == pytest.approx(1.0)
    far = np.full((4, 4, 2), 200.0)
    assert metrics.auc(metrics.accuracy_curve(far, truth)) == 0.0
    shifted = np.zeros((4, 4, 2))
    shifted[..., 0] = 75.0  # error 75 everywhere: within thresholds 75..150 (76 of 151)
    assert metrics.accuracy_curve(shifted, truth)[74] == 0.0
    assert metrics.accuracy_curve(shifted, truth)[75] == 1.0
    assert metrics.auc(metrics.accuracy_curve(shifted, truth)) == pytest.approx(0.5, abs=0.01)


def test_ab_mse_and_psnr():
    assert metrics.ab_mse(np.ones((2, 2, 2)) * 3, np.zeros((2, 2, 2))) == 9.0
    image = np.random.default_rng(0).integers(0, 255, (16, 16, 3), dtype=np.uint8)
    assert metrics.ssim(image, image) == pytest.approx(1.0)
    noisy = np.clip(image.astype(int) + 5, 0, 255).astype(np.uint8)
    assert 30 < metrics.psnr(noisy, image) < 40


def test_ssim_is_tensorflows_ssim():
    import tensorflow as tf

    rng = np.random.default_rng(1)
    for shape in ((64, 48, 3), (300, 411, 3)):
        original = rng.integers(0, 256, shape, dtype=np.uint8)
        result = np.clip(original.astype(int) + rng.integers(-40, 40, shape), 0, 255).astype(np.uint8)
        expected = float(tf.image.ssim(tf.constant(result), tf.constant(original), max_val=255))
        assert metrics.ssim(result, original) == pytest.approx(expected, abs=2e-4)
