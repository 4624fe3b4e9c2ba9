"""``Colorizer``: the one model object of the package (keras-hub's Task, huggingface_hub's
ModelHubMixin are its models).

A ``Colorizer`` holds the Keras network (``.network``, what ``fit`` trains) and its
:class:`~colorizer.models.ModelSpec` (``.spec``: architecture, build arguments, head, training
size, the render sizes it accepts, the colour prior). Everything that depends on the head or on
how the network's input and output are scaled lives here, so no caller asks either:

- inference: :meth:`colorize` (full resolution), :meth:`predict_ab` (batches of L at model size),
  :meth:`at_size` (a copy rendering at another square size);
- persistence: :meth:`save_pretrained`, :meth:`from_pretrained`, :meth:`push_to_hub`;
- training: :meth:`training_pair` (Lab batch -> network input and target), :meth:`objective`
  (loss and metrics of its head), :meth:`set_encoder_trainable`, :meth:`warm_start`.

This module imports no TensorFlow: a ``Colorizer`` trains under Keras on JAX too; only
:meth:`colorize` needs TensorFlow (its full-resolution compose).
"""

from __future__ import annotations

import dataclasses
import numbers
import sys
from pathlib import Path
from typing import Any

import keras
import numpy as np

from colorizer.hub import push_folder, resolve
from colorizer.hub.folder import load_folder, read_config, save_folder
from colorizer.hub.folder_files import WEIGHTS_NAME
from colorizer.io import color
from colorizer.io.limits import LRUCache
from colorizer.models import quantization
from colorizer.models.hint_input import HINT_CHANNELS
from colorizer.models.registry import ModelSpec, build_network, model_defaults, resolve_args
from colorizer.vividness import chroma_gain

# Resized copies (render sizes) kept per model; each holds a full copy of the weights.
RESIZED_CACHE = 4
# The largest render size (``size=``) of a fully convolutional model. The network takes far
# more memory for each pixel it sees than the photo does (size=4096, 16.8 million render pixels,
# peaked at 15 GB: about 900 bytes a pixel), so the render size's square has its own bound:
# 1024 px (about 1 GB, as much as a photo at the 40 MP default max_pixels takes).
MAX_RENDER_SIZE = 1024


class Colorizer:
    """A colorization model: ``network`` (Keras) + ``spec`` (:class:`ModelSpec`).

    >>> model = Colorizer.from_pretrained("lite0_unet.flickr8k_128")  # doctest: +SKIP
    >>> model.colorize("old_photo.jpg").save("old_photo_color.png")  # doctest: +SKIP
    """

    def __init__(self, network: keras.Model, spec: ModelSpec):
        self.network = network
        self.spec = spec
        self._resized: LRUCache[Colorizer] = LRUCache(RESIZED_CACHE)

    # --- what it is -------------------------------------------------------------------------

    @property
    def architecture(self) -> str:
        return self.spec.architecture

    @property
    def head(self) -> str:
        return self.spec.head

    @property
    def image_size(self) -> int:
        return self.spec.image_size

    @property
    def has_hints(self) -> bool:
        """Whether the network takes colour hints besides L (built with ``hints=True``)."""
        return bool(self.spec.args.get("hints", False))

    @property
    def encoder_name(self) -> str | None:
        """Name of the nested pretrained encoder (e.g. "efficientnet_lite0"), or None."""
        encoder = self._encoder()
        return encoder.name if encoder is not None else None

    def count_params(self) -> int:
        return self.network.count_params()

    def __repr__(self) -> str:
        return (f"Colorizer({self.architecture}, head={self.head}, image_size={self.image_size}, "
                f"params={self.count_params():,})")

    # --- creation and persistence -----------------------------------------------------------

    @classmethod
    def from_pretrained(cls, name_or_path_or_repo: str | Path, revision: str | None = None, *,
                        cache_dir: str | Path | None = None, token: str | None = None
                        ) -> "Colorizer":
        """A zoo name, a local model or training run folder, or a Hub repo id (``user/name``,
        ``hf://user/name``; ``revision`` pins a commit). ``colorizer.from_pretrained`` is this.

        >>> model = colorizer.from_pretrained("autoencoder.flickr8k_128")  # doctest: +SKIP
        """
        return cls(*load_folder(resolve(name_or_path_or_repo, revision, cache_dir, token)))

    def save_pretrained(self, folder: str | Path, *, extra: dict[str, Any] | None = None) -> Path:
        """Write a model folder (config.json, model.weights.h5, prior.json for a classification
        head); ``extra`` entries are added to config.json."""
        return save_folder(self.network, self.spec, folder, extra=extra)

    def push_to_hub(self, repo_id: str, *, private: bool = False, token: str | None = None,
                    commit_message: str = "Upload colorizer model") -> str:
        """Publish to the Hub repo ``repo_id`` (created if needed) in one commit, with a model
        card; returns the commit's URL. (A saved folder: ``colorizer push FOLDER REPO``.)"""
        import tempfile

        with tempfile.TemporaryDirectory() as staging:
            folder = self.save_pretrained(Path(staging) / "model")
            return push_folder(folder, repo_id, private=private, token=token,
                               commit_message=commit_message)

    def with_prior(self, prior: np.ndarray | None) -> "Colorizer":
        """Set the colour prior of the training set (classification head); returns self."""
        if prior is not None and not self.spec.needs_prior:
            raise ValueError(f"a colour prior is only used by a classification head; this "
                             f"{self.architecture} has a {self.head} head")
        self.spec = dataclasses.replace(self.spec, prior=prior)
        return self

    def with_temperature(self, temperature: float | None) -> "Colorizer":
        """Set a classification model's own annealed-mean temperature, its default from now on
        and in its saved folder (None: the paper's 0.38); returns self."""
        if temperature is not None:
            temperature = self.check_temperature(temperature)  # a classification head, 0..1
        self.spec = dataclasses.replace(self.spec, temperature=temperature)
        return self

    def with_vividness(self, vividness: float) -> "Colorizer":
        """Set the model's own default vividness (0..100, 0: its network's colour), used when a
        call gives none and kept in its saved folder; returns self."""
        chroma_gain(vividness)  # checked: a number from 0 to 100
        self.spec = dataclasses.replace(self.spec, vividness=float(vividness))
        return self

    # --- inference --------------------------------------------------------------------------

    @property
    def default_vividness(self) -> float:
        """The vividness used when none is given (chosen on the validation sets for the zoo's
        models: ``tools/choose_vividness.py``)."""
        return self.spec.vividness

    @property
    def default_temperature(self) -> float | None:
        """The annealed-mean temperature used when none is given; None when the model has no
        temperature to set (a regression head)."""
        return self.check_temperature(None)

    def check_temperature(self, temperature: float | None) -> float | None:
        """The annealed-mean temperature to decode with: by default the model's own (chosen on
        validation, saved in its folder) or else the paper's 0.38 for a classification head;
        None for a regression head (for which passing one is an error)."""
        if self.head == "regression":
            if temperature is not None:
                raise ValueError(f"temperature applies to classification models; "
                                 f"{self.architecture} has a regression head")
            return None
        temperature = float(self.spec.default_temperature if temperature is None else temperature)
        if not 0.0 <= temperature <= 1.0:
            raise ValueError(f"temperature must be between 0 and 1, got {temperature}")
        return temperature

    def at_size(self, size: int | None) -> "Colorizer":
        """This model rendering at a square input of ``size`` px, sharing its weights' values.

        Fully convolutional models (``spec.resizable``) work at multiples of
        ``spec.size_multiple`` up to :data:`MAX_RENDER_SIZE` (its memory grows with the size's
        square); the others only at their training size (ValueError otherwise). The last few
        copies are kept (each holds a copy of the weights).
        """
        if size is None:
            return self
        if self.spec.resizable and not isinstance(size, bool) and isinstance(size, numbers.Real) \
                and size != self.image_size and not 0 < size <= MAX_RENDER_SIZE:
            multiple = self.spec.size_multiple
            raise ValueError(f"size={size} is outside the render sizes of this "
                             f"{self.architecture}: {multiple} to {MAX_RENDER_SIZE} px, a "
                             f"multiple of {multiple} "
                             f"(its square, {MAX_RENDER_SIZE ** 2:,} pixels at most, bounds "
                             "the memory the network takes)")
        size = self.spec.check_size(size)
        if size == self.image_size:
            return self

        def rebuild() -> Colorizer:
            spec = dataclasses.replace(self.spec, args={**self.spec.offline_args,
                                                         "image_size": size})
            try:
                network = build_network(spec)
            except ValueError as error:
                raise ValueError(f"{self.architecture} cannot render at {size} px ({error})"
                                 ) from None
            network.set_weights(self.network.get_weights())
            return Colorizer(network, spec)

        return self._resized.get(size, rebuild)

    def predict_ab(self, lightness, temperature: float | None = None, *, hints=None
                   ) -> np.ndarray:
        """Batch of L (N, S, S, 1) in 0..100 at the model's size -> ab (N, S, S, 2) in Lab units.

        ``hints``: a hint model's hint maps (N, S, S, 5) (:func:`colorizer.models.hint_input.hint_maps`;
        default none).

        A classification head's distribution is decoded with the annealed mean at
        ``temperature`` (default 0.38; lower is more vivid) and upsampled to the input size.
        """
        temperature = self.check_temperature(temperature)
        lightness = np.asarray(lightness, np.float32)
        output = self._predict(lightness, hints)
        if temperature is None:
            return np.asarray(color.denormalize_ab(output))
        return np.asarray(quantization.decode(output, lightness.shape[1], temperature))

    def _predict(self, lightness: np.ndarray, hints=None) -> np.ndarray:
        """The network's raw output for a batch of L (N, S, S, 1) in 0..100."""
        inputs = color.normalize_l(lightness)
        if self.has_hints:  # no hint maps: zeros, the model's colour without hints
            inputs = {"lightness": inputs, "hints": np.zeros(lightness.shape[:3] + (
                HINT_CHANNELS,), np.float32) if hints is None else np.asarray(hints, np.float32)}
        elif hints is not None:
            raise ValueError(f"this model ({self.architecture}, {self.head}) takes no hint maps as "
                             "input: give hints to colorize() instead, where every model edits "
                             "its colour with them, or load a hint model such as "
                             "lite0_unet_hints.mixed150k_128")
        # predict_on_batch runs Keras' compiled predict function (traced once per input shape):
        # an eager call walks the layers in Python, which costs more than the network at 128 px.
        return self.network.predict_on_batch(inputs)

    def likely_colours(self, image, x, y, k: int = 6, *, size: int | None = None,
                       max_pixels: int | None = None) -> list[tuple[tuple[int, int, int], float]]:
        """The ``k`` most likely colours of a classification model at pixel (x, y) of ``image``
        (x to the right, y down, 0-based, in the original's pixels), most likely first: the
        paper's suggestion palette for colour hints (Zhang et al. 2017).

        Each is (8-bit sRGB, probability): the centre of one of the ``k`` most probable ab bins
        of the predicted distribution at that pixel, shown with the pixel's own lightness (and
        clipped to sRGB). ``size`` is the render size (see :meth:`at_size`). ValueError for a
        regression model, a point outside the photo or ``k`` < 1; ImageError as
        :meth:`colorize`.
        """
        from colorizer.hints.user import check_point
        from colorizer.io.images import DEFAULT_MAX_PIXELS, read_pixels
        from colorizer.inference import photo_input

        if self.head != "classification":
            raise ValueError(f"likely colours need a classification model; this "
                             f"{self.architecture} has a {self.head} head")
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        model = self.at_size(size)
        pixels, _ = read_pixels(image, max_pixels=max_pixels or DEFAULT_MAX_PIXELS)
        height, width = pixels.shape[:2]
        x, y = check_point(x, y, width, height)
        lightness, network_input = photo_input(pixels, model.image_size)
        del pixels
        distribution = np.asarray(model._predict(network_input[None]))[0]  # (h, w, Q)
        row = min(int(y * distribution.shape[0] / height), distribution.shape[0] - 1)
        column = min(int(x * distribution.shape[1] / width), distribution.shape[1] - 1)
        probabilities = distribution[row, column]
        top = np.argsort(-probabilities, kind="stable")[:k]
        bins = quantization.ab_bins()[top]
        lab = np.concatenate([np.full((len(top), 1), lightness[int(y), int(x), 0]), bins], axis=1)
        rgb = np.rint(np.asarray(color.lab_to_rgb(lab.astype(np.float32))) * 255).astype(int)
        return [(tuple(int(v) for v in colour), float(probabilities[index]))
                for colour, index in zip(rgb, top)]

    def colorize(self, image, *, size: int | None = None, temperature: float | None = None,
                 max_pixels: int | None = None, hints=None, vividness: float | None = None,
                 hints_as_input: bool = False):
        """Colorize ``image`` (path, PIL image or array, any common mode) at its original
        resolution; returns a PIL image.

        The input is reduced to its luminance first, so tinted or sepia photos work too; an alpha
        channel is kept. ``size`` is the render size: the square resolution the model sees
        (default its training size; see :meth:`at_size`). ``temperature`` is the annealed-mean
        temperature of a classification model (0..1, default 0.38; lower gives more vivid
        colour). ``hints`` (every model): ``[(x, y, (r, g, b)), ...]`` with
        x, y in pixels of the original (x to the right, y down, 0-based) and an 8-bit sRGB colour
        (or "#rrggbb"), of which only the chroma is used: the photo keeps its own lightness. Each
        hint recolours the region its point belongs to and nothing else, a local edit of this
        model's colour (:mod:`colorizer.hints.spread`), hint models included; with
        ``hints_as_input`` a hint model (:attr:`has_hints`) takes them as its network's input
        instead (less local: measured in benchmarks/hint_locality.py). No hints (None or []):
        the model's own colour. ``vividness`` (every model, 0..100; 0: the network's own
        colour; None: the model's default, :attr:`default_vividness`) scales the chroma by up
        to 2x, colours outside sRGB brought back by their chroma so hues hold; a hint still
        comes out in the colour given.
        Raises :class:`colorizer.ImageError` for unreadable, truncated, empty or over-large input
        (more than ``max_pixels`` pixels, default ``colorizer.io.images.DEFAULT_MAX_PIXELS``) and
        ValueError for a bad argument (a hint outside the photo, a bad colour).
        """
        from PIL import Image

        from colorizer.io.images import DEFAULT_MAX_PIXELS, read_pixels
        from colorizer.inference import compose_image, photo_input

        # Resolved here, before any work: a render-size copy decodes at this model's own default.
        temperature = self.check_temperature(temperature)
        gain = chroma_gain(self.spec.vividness if vividness is None else vividness)
        model = self.at_size(size)
        # Memory: the photo as decoded (uint8 or uint16), its L in float32, the result image;
        # the Lab maths goes a band of rows at a time (about 12 bytes a pixel in all).
        pixels, alpha = read_pixels(image, max_pixels=max_pixels or DEFAULT_MAX_PIXELS)
        if hints is not None:  # checked before any work
            from colorizer.hints.user import parse_hints

            parse_hints(hints, pixels.shape[1], pixels.shape[0])
        if hints_as_input and not self.has_hints:
            raise ValueError(f"hints_as_input needs a hint model (built with hints=True); this "
                             f"{self.architecture} takes hints as a local edit only")
        hint_maps = None
        if hints is not None and hints_as_input:
            from colorizer.models.hint_input import hint_maps as to_maps
            from colorizer.hints.user import user_points

            height, width = pixels.shape[:2]
            points = user_points(hints, width, height, model.image_size)
            hint_maps = np.asarray(to_maps(points, model.image_size))[None]
        lightness, network_input = photo_input(pixels, model.image_size)
        del pixels  # (a caller's array stays theirs)
        ab_small = model.predict_ab(network_input[None], temperature, hints=hint_maps)[0]
        if hints and not hints_as_input:  # a local edit of this model's colour
            from colorizer.hints.spread import edit

            ab_small = edit(lightness, ab_small, hints, gain)
        result = compose_image(lightness, ab_small, gain)
        del lightness
        if alpha is not None:
            result.putalpha(Image.fromarray(alpha, mode="L"))
        return result

    # --- training ---------------------------------------------------------------------------

    @staticmethod
    def training_pair(lightness, ab, hints=None):
        """A Lab batch (L in 0..100, ab in Lab units) -> (network input, network target).

        A hint model's batches carry a third item, the hint maps (already the network's scale,
        :func:`colorizer.models.hint_input.hint_maps`); its input is then ``{"lightness", "hints"}``.
        Written with plain arithmetic on the inputs, so it runs inside tf.data maps and on NumPy.
        """
        if hints is None:
            return color.normalize_l(lightness), color.normalize_ab(ab)
        return {"lightness": color.normalize_l(lightness), "hints": hints}, color.normalize_ab(ab)

    def objective(self, rebalance_lambda: float = quantization.REBALANCE_LAMBDA):
        """(loss, metrics) to compile the network with for its head; a classification head
        needs the colour prior of its training set (:meth:`with_prior`)."""
        from colorizer.models.losses import objective

        return objective(self.head, self.spec.prior, rebalance_lambda,
                         temperature=self.spec.default_temperature)

    def _encoder(self) -> keras.Model | None:
        return next((layer for layer in self.network.layers if isinstance(layer, keras.Model)),
                    None)

    def set_encoder_trainable(self, trainable: bool) -> None:
        """Freeze or unfreeze the pretrained encoder (its nested Keras model).

        BatchNorm layers of the encoder stay frozen (inference mode) either way, the usual choice
        when fine-tuning on a small dataset.
        """
        encoder = self._encoder()
        if encoder is None:
            raise ValueError(f"{self.architecture} has no pretrained encoder to fine-tune")
        encoder.trainable = trainable
        for layer in encoder.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.trainable = False

    def warm_start(self, name_or_path: str | Path) -> None:
        """Copy the weights of a trained model of the same architecture (zoo name, model or run
        folder, Hub repo id) into this one.

        The source may be built differently (e.g. the other head, or without an input this one
        has): then every layer the two share (same name and weight shapes) is copied and the
        others keep their initialisation (a hint model's hint layers: zero).
        """
        folder = resolve(name_or_path)
        config = read_config(folder)
        if config["architecture"] != self.architecture:
            raise ValueError(f"cannot start a {self.architecture} from {name_or_path}, a "
                             f"{config['architecture']}")
        source = ModelSpec(self.architecture, {**model_defaults(self.architecture),
                                               **config["args"]})
        ignored = ("weights", "image_size")
        differs = sorted(key for key in {*source.args, *self.spec.args} - set(ignored)
                         if source.args.get(key) != self.spec.args.get(key))
        if not differs:
            self.network.load_weights(folder / WEIGHTS_NAME)
            print(f"starting from the weights of {name_or_path}", file=sys.stderr)
            return
        # Keras weight files address layers by class and position, not name: with layers added
        # or left out, a file load would put weights in the wrong layers. Copy by name instead.
        copied, skipped = copy_shared_layers(load_folder(folder)[0], self.network)
        print(f"starting from the {copied} layers shared with {name_or_path}, which differs in "
              f"{', '.join(differs)}; the other layers start from their initialisation"
              + (f" (not copied: {', '.join(skipped)})" if skipped else ""), file=sys.stderr)


def copy_shared_layers(source: keras.Model, target: keras.Model) -> tuple[int, list[str]]:
    """Copy the weights of ``source``'s layers into ``target``'s: a layer named in both goes to
    its namesake; the others (e.g. Keras' numbered default names, which differ between two
    builds in one process) pair up in order of appearance when their class and weight shapes
    agree. Returns how many were copied and the names of the source layers left out."""

    def shapes(layer):
        return [tuple(w.shape) for w in layer.weights]

    sources = [layer for layer in source.layers if layer.weights]
    targets = [layer for layer in target.layers if layer.weights]
    target_names = {layer.name: layer for layer in targets}
    source_names = {layer.name for layer in sources}
    pairs, skipped = [], []
    for layer in sources:  # by name
        match = target_names.get(layer.name)
        if match is not None and shapes(match) == shapes(layer):
            pairs.append((layer, match))
    named = {id(layer) for pair in pairs for layer in pair}
    rest = [layer for layer in targets if id(layer) not in named
            and layer.name not in source_names]
    for layer in sources:  # the rest in order, same class and shapes
        if id(layer) in named:
            continue
        match = None if layer.name in target_names else next(  # a namesake of other shapes: no
            (t for t in rest if type(t) is type(layer) and shapes(t) == shapes(layer)), None)
        if match is None:
            skipped.append(layer.name)
            continue
        pairs.append((layer, match))
        rest = rest[rest.index(match) + 1:]  # later source layers pair with later target ones
    for layer, match in pairs:
        match.set_weights(layer.get_weights())
    return len(pairs), skipped


def create_model(name: str, **args: Any) -> Colorizer:
    """A new, untrained model of the registered architecture ``name`` (builder arguments as
    keywords; ``colorizer.list_models()`` names them).

    >>> model = create_model("autoencoder")
    >>> model.network.output_shape
    (None, 128, 128, 2)
    """
    spec = ModelSpec(name, resolve_args(name, args))
    return Colorizer(build_network(spec), spec)


# The public door for loading (README: ``colorizer.from_pretrained``).
from_pretrained = Colorizer.from_pretrained
