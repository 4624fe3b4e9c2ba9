"""colorizer demo: colorize black-and-white photos in the browser with any model of the zoo.

    python app.py                 # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / _PORT when set)
    python app.py --share         # also a public *.gradio.live link (needs internet)

The menu lists the zoo manifest's models (colorizer/zoo.json); a model whose weights are not in
weights/ is downloaded from the Hugging Face Hub on first use, at the revision the manifest pins.
On a Hugging Face Space (which sets GRADIO_SERVER_NAME=0.0.0.0 and GRADIO_SERVER_PORT) it serves
as it is. The colorize event is also an API (``api_name="colorize"``) for gradio_client; its
last, optional parameter ``hints`` takes the CLI's hints JSON (a list of {"x", "y", "color"}).

With a model that takes colour hints, a hint panel shows the photo: a click adds a hint there
in the colour picker's colour, and the result re-renders after each change. Where the zoo has a
classification model, its most likely colours at the clicked point are offered as a palette.
"""

from __future__ import annotations

import argparse
import atexit
import ctypes
import ctypes.util
import gc
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image, ImageColor, ImageDraw  # noqa: E402

from colorizer.bounded import LRUCache, PixelBudget  # noqa: E402
from colorizer.hints import parse_colour, read_hints_json  # noqa: E402
from colorizer.hub import HubError, resolve  # noqa: E402  (light: TensorFlow loads in build_demo)
from colorizer.images import (  # noqa: E402
    DEFAULT_MAX_PIXELS,
    PNG_COMPRESS_LEVEL,
    ImageError,
    check_image,
    read_pixels,
)
from colorizer.schema import short  # noqa: E402
from colorizer.zoo import list_pretrained, recommended  # noqa: E402

EXAMPLES_DIR = Path(__file__).parent / "examples"
RENDER_SIZES = (64, 512)  # slider range for models that accept other render sizes
CONCURRENCY = 2  # colorizations at once (2-core CPU: more only queues inside TensorFlow)
QUEUE_SIZE = 64  # waiting requests beyond which new ones are refused
KEEP_RESULTS_S = 3600  # results (ours and Gradio's cached copies) are deleted after an hour
# Disk: the results written hold at most this much (oldest removed first), beyond those of the
# last FRESH_RESULTS_S, which requests in progress may still be handing out.
MAX_DISK_MB = float(os.environ.get("COLORIZER_APP_MAX_DISK_MB", 2048))
FRESH_RESULTS_S = 30
MAX_PIXELS = int(os.environ.get("COLORIZER_APP_MAX_PIXELS", DEFAULT_MAX_PIXELS))  # per photo
MIN_SIDE = 8  # smallest photo side (pixels) the demo takes
MAX_FILE_SIZE = os.environ.get("COLORIZER_APP_MAX_FILE_SIZE", "50mb")  # uploads, checked by Gradio
# Memory. Colorizing a photo needs at most about REQUEST_BYTES_PER_PIXEL bytes a pixel of it on
# top of the loaded models (benchmarks/memory.py demo); the photos being checked or colorized
# together hold PIXEL_BUDGET pixels at most (CONCURRENCY photos of MAX_PIXELS), so the server
# needs at most about server_budget_mb() on top of its models. A photo that does not fit waits.
REQUEST_BYTES_PER_PIXEL = 20  # measured: 14.9 (two 40 MP requests at once: +1195 MB)
PIXEL_BUDGET = PixelBudget(CONCURRENCY * MAX_PIXELS)
FORMATS = "JPEG, PNG, TIFF, BMP, GIF or WebP"

_models: dict = {}  # zoo name -> loaded Colorizer
_checked: LRUCache[bool] = LRUCache(256)  # server paths of photos that passed check_photo
_inputs: LRUCache[Path] = LRUCache(64)  # (photo path, name, hour) -> its "before" PNG
_loading: dict[str, threading.Lock] = {}  # zoo name -> the lock of its (one) load
_loading_guard = threading.Lock()  # held only to find or make a model's lock


def log(line: str) -> None:
    """One line on the server's stderr."""
    print(f"colorizer app: {line}", file=sys.stderr, flush=True)


# --- plain words for web users ----------------------------------------------------------------

def _megapixels(pixels: float, up: bool) -> str:
    tenths = pixels / 1e5
    value = (np.ceil(tenths) if up else np.floor(tenths)) / 10
    return f"{value:g} MP"


def plain_message(error: ImageError) -> str:
    """What went wrong with an uploaded file, for the person who uploaded it (no paths)."""
    width, height = error.size or (0, 0)
    limit = _megapixels(MAX_PIXELS, up=False)
    return {
        "too_large": f"This photo has {_megapixels(width * height, up=True)} ({width} x {height} "
                     f"pixels); the demo takes up to {limit}: shrink it and try again.",
        "bomb": f"This photo is too large to open safely; the demo takes up to {limit}: shrink "
                "it and try again.",
        "too_small": f"This picture is only {width} x {height} pixels; the demo needs at least "
                     f"{MIN_SIDE} pixels a side.",
        "empty": f"This file is empty: upload a photo ({FORMATS}).",
        "damaged": "This photo's file is damaged or cut short (an interrupted download?): "
                   "upload a complete copy.",
        "missing": "The upload did not arrive: please try again.",
    }.get(error.reason, f"This file is not a photo the demo can read: upload a {FORMATS} file.")


def refuse(error: ImageError, name: str | None) -> gr.Error:
    """The web user's one-line message for a bad photo; the server logs one line too."""
    message = plain_message(error)
    log(f"refused {name or 'an upload'!r} ({error.reason}): {message}")
    return gr.Error(message, print_exception=False)


def photo_of(payload) -> tuple[str | None, str | None]:
    """(server path, original file name) of an uploaded photo: the events take the image
    unprocessed, so that Gradio never decodes a file before the project's own check. A path
    that Gradio did not receive from a client (its upload/cache folder) and that is not one of
    the app's examples is refused with the message of an upload that did not arrive, so that a
    crafted API call learns nothing about the server's files."""
    if payload is None or payload == "":
        return None, None
    if isinstance(payload, dict):
        path, name = payload.get("path"), payload.get("orig_name")
        if path is None:
            return None, None
    else:
        path, name = payload, None
    if not isinstance(path, (str, Path)) or not served_file(path):
        log(f"refused a path that no client uploaded: {str(path)[:200]!r}")
        raise gr.Error(plain_message(ImageError("not uploaded", "missing")),
                       print_exception=False)
    return str(path), (name if isinstance(name, str) else Path(path).name)


def served_file(path: str | Path) -> bool:
    """Whether ``path`` is a regular file inside Gradio's upload/cache folder (where it puts
    what clients upload and the app's results) or inside examples/, after following every
    symlink and ``..``. URLs, ``file=`` paths and relative names resolve elsewhere and fail."""
    try:
        real = Path(os.path.realpath(os.fspath(path)))
        if not real.is_file():
            return False
    except (OSError, ValueError):  # a NUL byte, a name too long
        return False
    roots = (os.path.realpath(gr.utils.get_upload_folder()), os.path.realpath(EXAMPLES_DIR))
    return any(real.is_relative_to(root) for root in roots)


def check_photo(payload) -> str | None:
    """The photo's server path, or the web user's message as a ``gr.Error``. A path that passed
    is not checked again (Gradio names an upload by its content), so re-renders decode it once."""
    path, name = photo_of(payload)
    if path:
        _checked.get(path, lambda: _check(path, name))
    return path


def _check(path: str, name: str | None) -> bool:
    try:
        with PIXEL_BUDGET.hold(header_pixels(path)):  # the check decodes it
            check_image(path, MAX_PIXELS, min_side=MIN_SIDE)
    except ImageError as error:
        raise refuse(error, name) from None
    except TimeoutError:
        raise busy() from None
    return True


def header_pixels(path: str) -> int:
    """The pixels the file's header announces (nothing decoded), for the budget: 0 where the
    header is unreadable or over MAX_PIXELS (the check then refuses it before decoding)."""
    try:
        with Image.open(path) as image:
            pixels = image.size[0] * image.size[1]
    except (OSError, ValueError, Image.DecompressionBombError):
        return 0
    return pixels if pixels <= MAX_PIXELS else 0


def busy() -> gr.Error:
    log(f"busy: {PIXEL_BUDGET.in_use:,} of {PIXEL_BUDGET.total:,} pixels held for too long")
    return gr.Error("The demo is busy with other large photos; try again in a minute.",
                    print_exception=False)


def server_budget_mb() -> float:
    """The documented memory bound of the photos being colorized together, in MB (on top of
    Python, Gradio, TensorFlow and the models loaded)."""
    return REQUEST_BYTES_PER_PIXEL * PIXEL_BUDGET.total / 2**20


def release_freed_memory() -> None:
    """Free what a request left and hand it back to the system: a dropped model copy (see
    RESIZED_CACHE in colorizer.model) is freed by the cycle collector, and glibc keeps freed
    blocks in its arenas unless asked, so the server's RSS would stay near its peak."""
    gc.collect()
    libc = ctypes.util.find_library("c")
    if libc:
        try:
            ctypes.CDLL(libc).malloc_trim(0)
        except (OSError, AttributeError):  # not glibc
            pass


# --- the models -------------------------------------------------------------------------------

def available_models() -> dict:
    """The zoo's models that this server can use (weights here or published), by name."""
    return {entry.name: entry for entry in list_pretrained() if entry.local or entry.published}


def load_model(name: str, progress=None):
    """A zoo model, loaded once, on first use; downloaded first when its weights are not here.
    Loads of different models go on side by side (a slow download of one does not hold up
    another); a second request for a model being loaded waits for that load, or its failure."""
    if isinstance(name, str) and name in _models:
        return _models[name]
    entry = available_models().get(name) if isinstance(name, str) else None
    if entry is None:  # (so the locks below are only ever made for the zoo's names)
        raise gr.Error(f"There is no model called {str(name)[:100]!r} here.",
                       print_exception=False)
    with _loading_guard:
        lock = _loading.setdefault(name, threading.Lock())
    with lock:
        if name not in _models:
            from colorizer.pretrained import load_pretrained

            if progress is not None and not entry.local:
                progress(0.05, desc=f"Downloading \u201c{entry.label}\u201d from the Hugging Face "
                         "Hub (first use only)")
            try:
                folder = resolve(name)
            except (HubError, ValueError) as error:
                log(f"cannot get {name}: {error}")
                raise gr.Error("This model cannot be downloaded right now; try again later or "
                               "pick another model.", print_exception=False) from None
            if progress is not None:
                progress(0.6, desc="Loading the model")
            _models[name] = load_pretrained(folder)
            keep_out_of_collections()
    return _models[name]


def keep_out_of_collections() -> None:
    """Move the objects alive now (the loaded models, Gradio, TensorFlow: half a million) out of
    the cycle collector's sight, so that each request's collection (release_freed_memory) takes
    milliseconds, not the 0.3 s a full pass over them took. What is garbage now is collected
    first. A render-size copy alive now (at most RESIZED_CACHE a model) is frozen too: dropped
    later, it stays until the next model load."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()


_output_dir: list[Path] = []  # the server's result folder, made on first use
_output_lock = threading.Lock()


def output_dir() -> Path:
    """The folder of this server's results, inside Gradio's upload/cache folder: Gradio serves
    a file from there as it is, where it would copy one from elsewhere (a second copy on disk
    for an hour). Made on first use, removed at exit."""
    with _output_lock:
        if not _output_dir:
            root = Path(gr.utils.get_upload_folder())
            root.mkdir(parents=True, exist_ok=True)
            _output_dir.append(Path(tempfile.mkdtemp(prefix="colorizer-app-", dir=root)))
            atexit.register(shutil.rmtree, _output_dir[0], ignore_errors=True)
    return _output_dir[0]


def new_output_folder() -> Path:
    """A fresh folder for one request's files, after pruning the older ones (prune_results)."""
    prune_results(output_dir(), int(MAX_DISK_MB * 2**20), KEEP_RESULTS_S, FRESH_RESULTS_S)
    return Path(tempfile.mkdtemp(dir=output_dir()))


def prune_results(root: Path, budget: int, keep_s: float, fresh_s: float) -> None:
    """Remove the result folders in ``root`` older than ``keep_s``, then the oldest of the
    others until they hold at most ``budget`` bytes; folders younger than ``fresh_s`` stay (a
    request may be handing them out)."""
    now, folders = time.time(), []
    for folder in root.iterdir():
        try:
            age = now - folder.stat().st_mtime
            size = sum(path.stat().st_size for path in folder.iterdir())
        except OSError:  # removed by a concurrent request
            continue
        folders.append((age, size, folder))
    total = sum(size for _, size, _ in folders)
    for age, size, folder in sorted(folders, key=lambda item: -item[0]):  # oldest first
        if age > keep_s or (total > budget and age > fresh_s):
            shutil.rmtree(folder, ignore_errors=True)
            total -= size


def colorize(photo, model_name: str, render_size: float | None = None,
             vividness: float | None = None, hints: str | None = None, progress=gr.Progress()):
    """Colorize one upload; returns the before/after pair and the full-resolution PNG.

    ``render_size`` is used by models that accept other sizes (the others ignore it);
    ``vividness`` (0..100, every model; 0: the network's own colour; None: the model's
    default) scales the chroma.
    ``hints``: the CLI's hints JSON, for every model (empty or "[]": none).
    """
    check_arguments(model=(model_name, str), render_size=(render_size, (int, float, type(None))),
                    vividness=(vividness, (int, float, type(None))),
                    hints=(hints, (str, type(None))))
    hint_list = hints_of(hints)
    image_path = check_photo(photo)  # before a model is loaded (or downloaded) for it
    if not image_path:
        gr.Warning("Upload, paste or capture a photo first.")
        return None, None
    stem = Path(photo_of(photo)[1] or image_path).stem
    model = load_model(model_name, progress)
    size = int(render_size) if render_size and model.spec.resizable else None
    if size is not None and size != model.image_size \
            and not RENDER_SIZES[0] <= size <= RENDER_SIZES[1]:  # its own size is always fine
        raise gr.Error(f"The render size must be from {RENDER_SIZES[0]} to {RENDER_SIZES[1]} "
                       f"px, not {size}.", print_exception=False)
    try:
        with PIXEL_BUDGET.hold(header_pixels(image_path)):
            try:
                return colorize_file(image_path, stem, model, size,
                                     vividness, hint_list or None)
            finally:
                release_freed_memory()
    except ImageError as error:
        raise refuse(error, stem) from None
    except TimeoutError:
        raise busy() from None
    except ValueError as error:  # a setting the model does not take, a hint off the photo
        raise gr.Error(str(error), print_exception=False) from None


def rerender(photo, model_name: str, render_size, vividness, hints: str | None,
             progress=gr.Progress()):
    """A setting moved: the photo colorized again with it (nothing while there is no photo)."""
    if photo is None or photo == "":
        return gr.skip(), gr.skip()
    return colorize(photo, model_name, render_size, vividness, hints, progress)


def check_arguments(**arguments) -> None:
    """A raw API call's arguments of the wrong type get one line naming the argument (the page
    always sends the right types)."""
    for name, (value, kinds) in arguments.items():
        if not isinstance(value, kinds) or isinstance(value, bool):
            wanted = " or ".join(kind.__name__.replace("NoneType", "null").replace("str", "text")
                                 .replace("float", "number").replace("int", "number")
                                 for kind in (kinds if isinstance(kinds, tuple) else (kinds,)))
            wanted = " or ".join(dict.fromkeys(wanted.split(" or ")))
            raise gr.Error(f"{name} must be {wanted}, not {type(value).__name__}.",
                           print_exception=False)


def hints_of(text: str | None) -> list:
    """The hints JSON of the API and the hint panel as a list (none for empty text); a bad one
    is the web user's one-line ``gr.Error``."""
    if not text or not text.strip():
        return []
    try:
        return read_hints_json(text)
    except ValueError as error:
        raise gr.Error(str(error), print_exception=False) from None


def eight_bit(pixels: np.ndarray) -> np.ndarray:
    """Pixels of ``read_pixels`` (uint8 or uint16) as uint8."""
    return pixels if pixels.dtype == np.uint8 else (
        (pixels.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)


def input_png(image_path: str, stem: str, pixels: np.ndarray) -> Path:
    """The photo as the slider's 8-bit "before" PNG, written once per photo and hour: the
    re-renders that follow each hint reuse it. Keyed by the hour, it is never used after its
    folder's cleanup (an hour after it was written)."""
    def write() -> Path:
        before = new_output_folder() / f"{stem}_input.png"
        Image.fromarray(eight_bit(pixels)).save(before, compress_level=PNG_COMPRESS_LEVEL)
        return before

    before = _inputs.get((image_path, stem, int(time.time() // KEEP_RESULTS_S)), write)
    return before if before.is_file() else write()  # (pruned for disk: written anew)


def colorize_file(image_path: str, stem: str, model, size: int | None,
                  vividness: float | None, hints: list | None = None):
    """The before/after PNGs of one photo (uint8 or uint16 pixels: no float copy of it)."""
    pixels, _ = read_pixels(image_path, max_pixels=MAX_PIXELS)
    # Files, not PIL images: Gradio copies files into its cache atomically, while it rewrites a
    # PIL image's cache file in place, which truncates a download of the same picture that a
    # concurrent request is still reading (seen under load with identical uploads).
    before = input_png(image_path, stem, pixels)
    result = model.colorize(pixels, size=size, vividness=vividness, max_pixels=MAX_PIXELS,
                            hints=hints)
    del pixels
    after = new_output_folder() / f"{stem}_color.png"
    result.save(after, compress_level=PNG_COMPRESS_LEVEL)
    return (str(before), str(after)), str(after)


def check_upload(payload):
    """Runs as soon as a file is uploaded: a bad one is refused with the project's message and
    taken out of the input; a good one is left as it is."""
    try:
        check_photo(payload)
    except gr.Error as error:
        gr.Warning(error.message)
        return None
    return gr.skip()


# --- colour hints -----------------------------------------------------------------------------

PHOTO_HEIGHT = 380  # px: the photo to click and the result side by side, in view at 1280x800
PREVIEW_SIDE = 1024  # the hint panel shows the photo at most this large (clicks are mapped back)
HINT_COLOUR = "#808080"  # the colour picker before the first click (a click sets it)
PALETTE_SIZE = 8  # swatches offered at a clicked point: distinct hues
SWATCH_LIGHTNESS, SWATCH_CHROMA = 62.0, 42.0  # (a hint's lightness is the photo's own)
HINT_COLUMNS = ["#", "x", "y", "colour", "remove"]
# Raised by a hint event with nothing to change: the events after it (a re-render) do not run,
# and the page shows nothing.
NO_CHANGE = gr.Error("no change", visible=False, print_exception=False)
# photo or result path -> (RGB preview, the original's (width, height))
_previews: LRUCache = LRUCache(16)


def photo_preview(path: str) -> tuple[Image.Image, tuple[int, int]]:
    """The photo at most PREVIEW_SIDE px a side, decoded as the library decodes it (within the
    pixel limit and budget; its EXIF orientation is the one hints refer to), and the original's
    size. The previews of the last few photos are kept (16 of at most 3 MB)."""
    def make():
        with PIXEL_BUDGET.hold(header_pixels(path)):
            pixels, _ = read_pixels(path, max_pixels=MAX_PIXELS)
            image = Image.fromarray(eight_bit(pixels))
            del pixels
            size = image.size
            image.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.BILINEAR)
        return image.convert("RGB"), size

    return _previews.get(path, make)


def original_point(index, preview: tuple[int, int], original: tuple[int, int]) -> tuple[int, int]:
    """A clicked pixel of the preview (Gradio's ``SelectData.index``) -> the original's pixel
    under its centre."""
    return tuple(min(int((i + 0.5) * whole / shown), whole - 1)
                 for i, shown, whole in zip(index, preview, original))


def hex_colour(colour) -> str:
    """"#rrggbb" of the colour picker's value (hex, or rgb(...) / hsl(...) in its other modes);
    a bad one is a ``gr.Error``."""
    try:
        if isinstance(colour, str) and not colour.startswith("#"):
            colour = ImageColor.getrgb(colour)[:3]
        return "#{:02x}{:02x}{:02x}".format(*parse_colour(colour))
    except ValueError as error:
        raise gr.Error(str(error), print_exception=False) from None


def draw_hints(path: str, hints: list, stem: str = "photo") -> str:
    """The preview with the hints drawn as numbered dots in their colours; its PNG's path."""
    preview, (width, height) = photo_preview(path)
    image = preview.copy()
    draw = ImageDraw.Draw(image)
    radius = max(4, max(image.size) // 90)
    for number, hint in enumerate(hints, 1):
        x = (hint["x"] + 0.5) * image.width / width - 0.5
        y = (hint["y"] + 0.5) * image.height / height - 0.5
        draw.ellipse((x - radius - 2, y - radius - 2, x + radius + 2, y + radius + 2), fill="black")
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=hint["color"],
                     outline="white", width=2)
        draw.text((x + radius + 3, y - radius - 3), str(number), fill="white", stroke_width=2,
                  stroke_fill="black", font_size=2 * radius + 2)
    shown = new_output_folder() / f"{stem}_hints.png"
    image.save(shown, compress_level=PNG_COMPRESS_LEVEL)
    return str(shown)


def show_hints(photo, hints_text: str):
    """The hint panel for the photo: the preview with its hints, and the list of hints."""
    hints = hints_of(hints_text)
    table = {"headers": HINT_COLUMNS,  # each colour cell painted in its colour
             "data": [[number, hint["x"], hint["y"], hint["color"], "\u2715"]
                      for number, hint in enumerate(hints, 1)],
             "metadata": {"styling": [["", "", "", swatch(hint["color"]), ""] for hint in hints]}}
    path, name = photo_of(photo)
    if not path:
        return None, table
    try:  # (read_pixels bounds the decoding as the upload check does)
        return draw_hints(path, hints, Path(name or path).stem), table
    except (ImageError, TimeoutError):  # the upload check tells the user
        return None, table


def swatch(colour: str) -> str:
    """CSS of a table cell painted in ``colour``, its text legible on it."""
    red, green, blue = ImageColor.getrgb(colour)[:3]
    text = "black" if 0.299 * red + 0.587 * green + 0.114 * blue > 140 else "white"
    return f"background-color: {colour}; color: {text}"


def add_hint(photo, hints_text: str, result, model_name: str, evt: gr.SelectData):
    """A click on the photo: a hint there in the model's own colour at that point (so a click
    alone changes nothing), the picker set to it; the colour picked next paints it."""
    path = check_photo(photo)
    if not path:
        raise gr.Error("Upload a photo first.", print_exception=False)
    preview, size = photo_preview(path)
    x, y = original_point(evt.index, preview.size, size)
    colour = own_colour(path, result, model_name, evt.index, preview.size)
    return json.dumps(hints_of(hints_text) + [{"x": x, "y": y, "color": colour}]), colour


def own_colour(path: str, result, model_name: str, index, shown: tuple[int, int]) -> str:
    """"#rrggbb" of the current result at a clicked preview pixel (the result read as a photo
    is, bounded and at preview size); without a result, the model's colour there (it colours
    the preview-size photo)."""
    after = result.get("path") if isinstance(result, dict) else result
    small = None
    if isinstance(after, str) and served_file(after):
        try:
            small, _ = photo_preview(after)
        except (ImageError, TimeoutError):  # (not a result this demo wrote: the model's colour)
            small = None
    if small is None or small.size != shown:
        model = load_model(model_name)
        preview, _ = photo_preview(path)
        small = model.colorize(preview).convert("RGB")
    column, row = (min(max(int(i), 0), side - 1) for i, side in zip(index, small.size))
    return hex_colour(small.getpixel((column, row))[:3])


def remove_hint(hints_text: str, evt: gr.SelectData) -> tuple[str, str]:
    """A click on a row of the list removes that hint."""
    hints = hints_of(hints_text)
    if evt.index[0] >= len(hints):  # (a second click on a row being removed finds it gone)
        raise NO_CHANGE
    del hints[evt.index[0]]
    return after_removal(hints)


def undo_hint(hints_text: str) -> tuple[str, str]:
    """Undo: the last hint goes (none: nothing to do)."""
    hints = hints_of(hints_text)
    if not hints:
        raise NO_CHANGE
    return after_removal(hints[:-1])


def clear_hints(hints_text: str) -> tuple[str, str]:
    if not hints_of(hints_text):
        raise NO_CHANGE
    return after_removal([])


def after_removal(hints: list) -> tuple[str, str]:
    """The hints' JSON and the picker's colour after hints went: the new last hint's, so that
    the picker never holds the colour of a hint that is gone."""
    return json.dumps(hints), (hints[-1]["color"] if hints else HINT_COLOUR)


def palette_of(colours: list[str]):
    """The palette of swatches (hidden while empty)."""
    return gr.Dataset(samples=[[colour] for colour in colours], visible=bool(colours))


def recolour_last_hint(colour, hints_text: str) -> tuple[str, str]:
    """A colour picked (the picker or a swatch): the picker's colour, given to the last hint.
    Nothing to change (no hint, or its colour already) stops the events that follow, quietly:
    closing the picker after a drag reports the same colour twice."""
    if isinstance(colour, list):  # a palette sample
        colour = colour[0]
    colour = hex_colour(colour)
    hints = hints_of(hints_text)
    if not hints or hints[-1]["color"] == colour:
        raise NO_CHANGE
    hints[-1]["color"] = colour
    return colour, json.dumps(hints)


def swatches(suggested=()) -> list[str]:
    """PALETTE_SIZE distinct hues at a readable lightness (only a hint's chroma counts): the
    suggested colours first (a vivid model's likely colours at the point, those with a hue),
    then a hue wheel, no two hues within 30 degrees."""
    from colorizer import color

    def lab(rgb):
        return np.asarray(color.rgb_to_lab(np.asarray(rgb, np.float32)[None, None] / 255.0))[0, 0]

    candidates = [ab for ab in (lab(rgb)[1:] for rgb in suggested) if np.hypot(*ab) >= 12]
    candidates += [SWATCH_CHROMA * np.array([np.cos(h), np.sin(h)])
                   for h in np.radians(np.arange(15, 375, 30))]
    hues, picked = [], []
    for a, b in candidates:
        hue = np.degrees(np.arctan2(b, a)) % 360
        if any(min(abs(hue - h), 360 - abs(hue - h)) < 30 for h in hues):
            continue
        hues.append(hue)
        chroma = max(float(np.hypot(a, b)), 30.0)
        shown = np.array([[[SWATCH_LIGHTNESS, chroma * np.cos(np.radians(hue)),
                            chroma * np.sin(np.radians(hue))]]], np.float32)
        rgb = np.clip(np.rint(np.asarray(color.lab_to_rgb(shown))[0, 0] * 255), 0, 255)
        picked.append("#{:02x}{:02x}{:02x}".format(*rgb.astype(int)))
        if len(picked) == PALETTE_SIZE:
            break
    return picked


def palette_at(photo, hints_text: str, palette_model: str | None):
    """The palette for the last hint: the vivid model's likely colours there (where the zoo has
    one) topped up with a hue wheel, as swatches of distinct hues."""
    hints = hints_of(hints_text)
    path = check_photo(photo)
    if not hints or not path:
        return palette_of([])
    suggested = []
    if palette_model is not None:
        model = load_model(palette_model)
        try:
            with PIXEL_BUDGET.hold(header_pixels(path)):
                suggested = [rgb for rgb, _ in model.likely_colours(
                    path, hints[-1]["x"], hints[-1]["y"], PALETTE_SIZE, max_pixels=MAX_PIXELS)]
        except TimeoutError:
            raise busy() from None
    return palette_of(swatches(suggested))


# --- the page ---------------------------------------------------------------------------------

class HintPanel:
    """The page's colour-hint tools, for every model: the photo to click (a hint there, in the
    result's own colour at that point, so a click alone changes nothing), the picker and the
    palette that recolour the last hint, Undo, "Clear hints", the list of hints (a click on a
    row removes one) and the hints' JSON (the /colorize API's ``hints``). ``preview`` is laid
    out by the page (beside the result); the tools where the panel is made."""

    NOTE = ("**Colour hints:** click the photo to mark a spot, then pick its colour: the "
            "colour fills the thing you clicked. A new photo clears them.")

    def __init__(self, order: list):
        self.palette_model = next((e.name for e in order if e.head == "classification"), None)
        self.preview = gr.Image(label="Your photo: click to add a colour hint", type="filepath",
                                interactive=False, elem_id="hint_photo", buttons=[],
                                height=PHOTO_HEIGHT, visible=False, render=False)

    def render_tools(self) -> None:
        with gr.Column(elem_id="hint_panel", visible=False) as self.tools:  # with a photo
            self.note_text = gr.Markdown(self.NOTE, elem_id="hint_note")
            with gr.Row():
                self.colour = gr.ColorPicker(HINT_COLOUR, label="Colour of the last hint",
                                             elem_id="hint_colour", scale=2, min_width=280)
                self.undo = gr.Button("Undo", elem_id="undo_hint", scale=1, size="sm")
                self.clear = gr.Button("Clear hints", elem_id="clear_hints", scale=1, size="sm")
            self.palette = gr.Dataset(
                components=[self.colour], samples=[], type="values", elem_id="palette",
                label="Colours for the last hint (likely ones first): pick one", visible=False)
            with gr.Accordion("Hints: list and JSON (as `colorizer colorize --hints` and the "
                              "API take them)", open=False):
                self.table = gr.Dataframe(
                    headers=HINT_COLUMNS, interactive=False, elem_id="hints",
                    label="Hints (x, y: pixels of the photo; click a row to remove it)")
                self.json = gr.Textbox("[]", label="hints", show_label=False,
                                       interactive=False, elem_id="hints_json")

    def palette_at(self, photo, hints_text: str):
        return palette_at(photo, hints_text, self.palette_model)

    def wire(self, image, model, result, colorize_inputs: list, outputs: list) -> None:
        """The events: a new photo clears the hints and redraws the preview; a click adds a
        hint (no re-render: it has the result's colour) and offers the palette; each colour
        picked, undo, removal or clear redraws and re-renders ``outputs`` with ``colorize``
        (sharing its concurrency)."""
        quiet = dict(api_name=False, show_progress="hidden")
        redraw = dict(fn=show_hints, inputs=[image, self.json],
                      outputs=[self.preview, self.table], preprocess=False, **quiet)
        image.change(lambda: ("[]", palette_of([]), HINT_COLOUR),
                     outputs=[self.json, self.palette, self.colour], **quiet).then(**redraw)
        added = self.preview.select(add_hint, inputs=[image, self.json, result, model],
                                    outputs=[self.json, self.colour], preprocess=False, **quiet)
        added.success(**redraw)
        if self.palette_model is not None:
            added.success(self.palette_at, inputs=[image, self.json], outputs=self.palette,
                          preprocess=False, **quiet)
        else:
            added.success(lambda: palette_of(swatches()), outputs=self.palette, **quiet)
        removed = (self.table.select(remove_hint, inputs=self.json,
                                     outputs=[self.json, self.colour], **quiet),
                   self.undo.click(undo_hint, inputs=self.json, outputs=[self.json, self.colour],
                                   **quiet),
                   self.clear.click(clear_hints, inputs=self.json,
                                    outputs=[self.json, self.colour], **quiet))
        for change in removed:
            change.success(lambda: palette_of([]), outputs=self.palette, **quiet)
        # Any change of the picker's colour (a drag, a typed colour, a swatch, or set by the
        # events above); one that leaves the last hint as it is stops there. During a drag only
        # the last colour waits for the render in progress.
        picked = (self.colour.change(recolour_last_hint, inputs=[self.colour, self.json],
                                     outputs=[self.colour, self.json], trigger_mode="always_last",
                                     **quiet),
                  self.palette.click(recolour_last_hint, inputs=[self.palette, self.json],
                                     outputs=[self.colour, self.json], **quiet))
        for change in removed + picked:
            change.success(**redraw)
            change.success(colorize, inputs=colorize_inputs, outputs=outputs,
                           preprocess=False, api_name=False, concurrency_id="colorize",
                           show_progress="minimal")


def model_info(entry) -> str:
    """The menu's info line: what the model does and its figures, in plain words."""
    figures = entry.metrics
    parts = [entry.description]
    if "val_ab_mse" in figures:
        parts.append(f"colour error {short('ab_mse', figures['val_ab_mse'])} (lower is better; "
                     f"a gray photo scores {short('ab_mse', figures['gray_ab_mse'])})")
    if "colourfulness" in figures:
        real = figures.get("original_colourfulness")
        parts.append(f"colourfulness {short('colourfulness', figures['colourfulness'])}"
                     + (f" (real photos {short('colourfulness', real)})" if real else ""))
    if not entry.local:
        parts.append("downloaded on first use")
    return " \u00b7 ".join(parts)


def vividness_info(entry) -> str:
    """The vividness slider's info line, naming the model's default."""
    return (f"0 = the network's own colour; higher = more colour (up to twice the chroma); "
            f"this model's default: {entry.vividness:g}")


def build_demo() -> gr.Blocks:
    from colorizer.models import ModelSpec  # the registry: which models render at other sizes

    entries = available_models()
    if not entries:
        raise SystemExit("app.py: error: no model to serve: weights/ holds none and the zoo "
                         "manifest pins no published revision (see `colorizer publish`)")
    # Models with hint inputs stay loadable by name (the API, the CLI) but out of the menu:
    # every model takes hints as an edit of its colour.
    menu = [entry for entry in entries.values() if not entry.hints] or list(entries.values())
    default = recommended(menu).name
    # The recommended model first, then the most colourful.
    order = sorted(menu, key=lambda e: (e.name != default, -e.metrics.get("colourfulness", 0.0)))
    choices = [(e.label + (" (recommended)" if e.name == default else ""), e.name) for e in order]

    def model_update(model_name: str):
        return gr.update(info=model_info(entries[model_name]))

    def vividness_update(model_name: str, current):
        entry = entries[model_name]
        if current == entry.vividness:
            return gr.update(info=vividness_info(entry))
        return gr.update(info=vividness_info(entry), value=entry.vividness)

    def rerender_if_kept(photo, model_name: str, render_size, current, hints, progress=gr.Progress()):
        if current != entries[model_name].vividness:
            return gr.skip(), gr.skip()  # the slider moves: its change re-renders
        return rerender(photo, model_name, render_size, current, hints, progress)

    def render_size_update(model_name: str):
        """The render-size slider: free for fully convolutional models, fixed otherwise."""
        entry = entries[model_name]
        flexible = ModelSpec(entry.architecture, {"image_size": entry.image_size}).resizable
        return gr.update(value=entry.image_size, interactive=flexible,
                         info=("the square size the model sees; larger = finer colour, slower"
                               if flexible else f"this model works only at {entry.image_size} px"))

    with gr.Blocks(title="colorizer", delete_cache=(KEEP_RESULTS_S, KEEP_RESULTS_S)) as demo:
        gr.Markdown(
            "# colorizer\nColorize black-and-white photos at full resolution. Tinted and sepia "
            "prints are reduced to their luminance first."
        )
        panel = HintPanel(order)
        with gr.Row():
            with gr.Column():  # the upload while empty, then the photo to click for hints
                image = gr.Image(label="Black-and-white photo", type="filepath", image_mode=None,
                                 sources=["upload", "clipboard", "webcam"], elem_id="photo",
                                 height=PHOTO_HEIGHT)
                panel.preview.render()
                with gr.Row():
                    button = gr.Button("Colorize", variant="primary", elem_id="colorize",
                                       scale=2)
                    another = gr.Button("Another photo", visible=False, elem_id="another_photo",
                                        scale=1)
                vividness = gr.Slider(0, 100, step=1, value=entries[default].vividness,
                                      label="Vividness", elem_id="vividness",
                                      info=vividness_info(entries[default]))
                examples = sorted(str(p) for p in EXAMPLES_DIR.glob("*.jpg"))
                gr.Examples(examples=examples, inputs=image, label="Public-domain photographs",
                            elem_id="examples", examples_per_page=12)
            with gr.Column():
                slider = gr.ImageSlider(label="Before / after", format="png", type="filepath",
                                        elem_id="result", max_height=PHOTO_HEIGHT)
                panel.render_tools()
        with gr.Row():
            with gr.Column():
                model = gr.Dropdown(choices=choices, value=default, label="Model",
                                    info=model_info(entries[default]), elem_id="model")
                sizes = [entry.image_size for entry in entries.values()]
                render_size = gr.Slider(min(RENDER_SIZES[0], *sizes), max(RENDER_SIZES[1], *sizes),
                                        step=32, value=entries[default].image_size,
                                        label="Render size (px)", interactive=False)
            with gr.Column():
                download = gr.File(label="Full-resolution result (PNG)", elem_id="download",
                                   interactive=False)
        image.upload(check_upload, inputs=image, outputs=image, preprocess=False,
                     api_name=False, show_progress="hidden")
        # A photo in: it replaces the upload, to be clicked; the last photo's result goes.
        image.change(lambda photo: (gr.update(visible=photo is None),
                                    *[gr.update(visible=photo is not None)] * 3, None, None),
                     inputs=image,
                     outputs=[image, panel.preview, another, panel.tools, slider, download],
                     preprocess=False, api_name=False, show_progress="hidden")
        another.click(lambda: None, outputs=image, api_name=False, show_progress="hidden")
        for update, target in ((model_update, model), (render_size_update, render_size)):
            model.change(update, inputs=model, outputs=target, api_name=False)
            demo.load(update, inputs=model, outputs=target, api_name=False)
        # preprocess=False: the photo reaches the handler as Gradio's upload record (its server
        # path), unopened, so a bad file gets the project's message, not Gradio's decoding error.
        colorize_inputs = [image, model, render_size, vividness, panel.json]
        button.click(colorize, inputs=colorize_inputs, outputs=[slider, download],
                     api_name="colorize", preprocess=False, concurrency_id="colorize")
        # (not at each step of a drag: the last value waits for the render in progress)
        vividness.change(rerender, inputs=colorize_inputs, outputs=[slider, download],
                         preprocess=False, api_name=False, concurrency_id="colorize",
                         trigger_mode="always_last")
        # Another model: the slider moves to its default vividness, which re-renders; where it
        # already stands there, the model's change re-renders (one render either way).
        model.change(vividness_update, inputs=[model, vividness], outputs=vividness,
                     api_name=False, show_progress="hidden")
        model.change(rerender_if_kept, inputs=colorize_inputs, outputs=[slider, download],
                     preprocess=False, api_name=False, concurrency_id="colorize",
                     trigger_mode="always_last")
        panel.wire(image, model, download, colorize_inputs, [slider, download])
    return demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)


def check_port(host: str, port: int) -> None:
    """Refuse a port that is taken, at once (before the models and TensorFlow load)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself binds
        try:
            sock.bind((host, port))
        except OSError as error:
            raise SystemExit(f"app.py: error: cannot serve on {host}:{port} "
                             f"({error.strerror or error}); pick a free port with --port") from None


def main() -> None:
    parser = argparse.ArgumentParser(description="colorizer Gradio demo")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="address to serve on: 0.0.0.0 for the network (default: "
                        "GRADIO_SERVER_NAME, else 127.0.0.1)")
    parser.add_argument("--port", type=int, default=os.environ.get("GRADIO_SERVER_PORT", 7860),
                        help="default: GRADIO_SERVER_PORT, else 7860")
    parser.add_argument("--share", action="store_true", help="create a public gradio.live link")
    args = parser.parse_args()
    check_port(args.host, args.port)
    # SIGTERM (how servers are stopped) as Ctrl-C: Gradio then closes, and the atexit clean-up
    # of the result folders runs (Python's default for SIGTERM skips it).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    # Gradio's "Running on local URL" at once in a log file too (a file is block-buffered).
    sys.stdout.reconfigure(line_buffering=True)
    build_demo().launch(server_name=args.host, server_port=args.port, share=args.share,
                        show_error=True, allowed_paths=[str(EXAMPLES_DIR)],
                        max_file_size=MAX_FILE_SIZE)


if __name__ == "__main__":
    main()
