"""Realism and content of colorized photos, judged by an ImageNet classifier.

Error against the original (ab MSE, PSNR) rewards a muted average colour; these two do not:

- KID (kernel inception distance, Binkowski et al. 2018): the squared MMD, with the cubic
  polynomial kernel k(x, y) = (x.y / d + 1)^3, between the classifier's pooled features of the
  results and of the original photos; unbiased, so it is fit for a few thousand photos (FID is
  biased at that size). Lower is more like real photos; reported x 1000, as the field does, with
  its standard error over random subsets.
- content agreement: the share of photos whose top-1 ImageNet class on the result is the one on
  the original (no labels needed): colour that hides or changes what the photo shows lowers it.

The judge is EfficientNet-Lite2's ImageNet classifier (:mod:`colorizer.models.efficientnet_lite`;
converted by ``tools/convert_efficientnet_lite.py --variant lite2`` and shipped, so this runs
offline), at its own input size, 260 px. It is not the encoder of any zoo model (the ``lite0_*``
models use Lite0's), so a result cannot please it by matching features the model was built on;
``variant="lite0"`` judges with Lite0 at 224 px. Each photo is resized to the judge's square
(bilinear), results and originals alike.
"""

from __future__ import annotations

import numpy as np

JUDGE = "lite2"  # the default judge
BATCH = 32
KID_SUBSETS = 50  # random subsets for KID's mean and standard error
KID_SUBSET_SIZE = 1000  # photos a subset (half of them when fewer than twice that)


class Judge:
    """Pooled features and top-1 classes of batches of photos, collected per name:
    ``judge.add("model", rgb)`` ... then ``judge.features("model")``, ``judge.top1("model")``.
    Photos are judged a batch at a time, so only features are kept."""

    def __init__(self, variant: str = JUDGE):
        import keras

        from colorizer.models.efficientnet_lite import VARIANTS, efficientnet_lite

        self.variant, self.size = variant, VARIANTS[variant][2]  # its own input size
        classifier = efficientnet_lite(variant, (self.size, self.size, 3), include_top=True)
        self.network = keras.Model(classifier.input,
                                   [classifier.get_layer("avg_pool").output, classifier.output])
        self._waiting: dict[str, list[np.ndarray]] = {}
        self._features: dict[str, list[np.ndarray]] = {}
        self._top1: dict[str, list[np.ndarray]] = {}

    def add(self, name: str, rgb: np.ndarray) -> None:
        """One uint8 RGB photo (H, W, 3) for ``name``."""
        from PIL import Image

        small = Image.fromarray(np.asarray(rgb, np.uint8)).resize(
            (self.size, self.size), Image.Resampling.BILINEAR)
        self._waiting.setdefault(name, []).append(np.asarray(small, np.float32))
        if len(self._waiting[name]) == BATCH:
            self._judge(name)

    def _judge(self, name: str) -> None:
        from colorizer.models.efficientnet_lite import preprocess

        batch = self._waiting.pop(name, [])
        if not batch:
            return
        features, probabilities = self.network.predict_on_batch(preprocess(np.stack(batch)))
        self._features.setdefault(name, []).append(np.asarray(features, np.float64))
        self._top1.setdefault(name, []).append(np.argmax(probabilities, axis=-1))

    @property
    def name(self) -> str:
        """How tables name the judge, e.g. "EfficientNet-Lite2 (ImageNet, 260 px)"."""
        return f"EfficientNet-{self.variant.capitalize()} (ImageNet, {self.size} px)"

    def features(self, name: str) -> np.ndarray:
        self._judge(name)
        return np.concatenate(self._features[name])

    def top1(self, name: str) -> np.ndarray:
        self._judge(name)
        return np.concatenate(self._top1[name])


def kid(real: np.ndarray, fake: np.ndarray, subsets: int = KID_SUBSETS,
        subset_size: int = KID_SUBSET_SIZE, seed: int = 0) -> tuple[float, float]:
    """KID x 1000 between two sets of features (N, d), and its standard error: the unbiased
    squared MMD with the cubic polynomial kernel, averaged over ``subsets`` random subsets of
    ``subset_size`` from each (of half the photos when there are fewer than twice that)."""
    count = min(len(real), len(fake))
    if count < 2:
        raise ValueError(f"KID needs at least 2 photos a set, got {count}")
    size = min(subset_size, max(2, count // 2))  # (half of a small set: subsets still vary)
    rounds = subsets if size < count else 1
    rng = np.random.default_rng(seed)
    dim = real.shape[1]
    values = []
    for _ in range(rounds):
        x = real[rng.choice(len(real), size, replace=False)] if size < len(real) else real
        y = fake[rng.choice(len(fake), size, replace=False)] if size < len(fake) else fake
        k_xx = (x @ x.T / dim + 1.0) ** 3
        k_yy = (y @ y.T / dim + 1.0) ** 3
        k_xy = (x @ y.T / dim + 1.0) ** 3
        off = size * (size - 1)
        values.append((k_xx.sum() - np.trace(k_xx)) / off + (k_yy.sum() - np.trace(k_yy)) / off
                      - 2.0 * k_xy.mean())
    values = 1000.0 * np.asarray(values)
    error = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0
    return float(values.mean()), error


def content_agreement(result_top1: np.ndarray, original_top1: np.ndarray) -> float:
    """Percent of photos whose top-1 class on the result equals that on the original."""
    return float(100.0 * np.mean(np.asarray(result_top1) == np.asarray(original_top1)))
