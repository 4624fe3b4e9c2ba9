"""colorizer: automatic colorization of black-and-white photos (Keras 3, TensorFlow 2).

>>> import colorizer
>>> colorizer.list_pretrained()                      # the shipped zoo
>>> model = colorizer.from_pretrained("lite0_unet.flickr8k_128")   # a colorizer.Colorizer
>>> model.colorize("old_photo.jpg").save("old_photo_color.png")
>>> model.save_pretrained("my_model"); model.push_to_hub("you/my-colorizer")
>>> colorizer.create_model("lite0_unet")             # a new one, to train (colorizer train)

One door per capability: these names; everything else is the package's inside.

The public names are imported on first use, so ``import colorizer`` stays quick and
``colorizer.models`` can be used on machines without TensorFlow (Keras on JAX or PyTorch).
"""

from __future__ import annotations

import importlib

from colorizer import _quiet

__version__ = "0.1.0"

_quiet.install()  # before anything imports TensorFlow: no start-up noise on stderr

# public name -> module that defines it
_EXPORTS = {
    "HubError": "colorizer.hub",
    "Colorizer": "colorizer.model",
    "ImageError": "colorizer.io.images",
    "create_model": "colorizer.model",
    "from_pretrained": "colorizer.model",
    "list_models": "colorizer.models",
    "list_pretrained": "colorizer.hub.zoo",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'colorizer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
