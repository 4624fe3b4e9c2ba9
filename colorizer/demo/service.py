"""The demo's service code: everything of app.py but its page. The zoo's models, loaded once
each on first use (downloaded first where their weights are not here); the pixel budget that
the photos being checked or colorized together share; the result files (a folder inside
Gradio's upload/cache folder, made on first use, pruned by age and size, removed at exit); the
checks of a photo (the API never hands out a server file) and of a raw API call's arguments;
the hints' JSON; and the colorize event itself.

Importing it loads no TensorFlow (a model's first load does) and makes no folder. Its messages
for the web user are one-line ``gr.Error``s that name no server path.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import gc
import os
import shutil
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

from colorizer.hints.user import parse_colour, read_hints_json  # noqa: E402
from colorizer.io.limits import LRUCache, PixelBudget  # noqa: E402
from colorizer.hub import HubError, resolve  # noqa: E402  (light: TensorFlow loads with a model)
from colorizer.io.images import (  # noqa: E402
    DEFAULT_MAX_PIXELS,
    PNG_COMPRESS_LEVEL,
    ImageError,
    check_image,
    read_pixels,
)
from colorizer.hub.zoo import list_pretrained  # noqa: E402
from colorizer.io.figures import short  # noqa: E402

# The repository's examples/ (beside app.py): photos the API takes by their server path.
EXAMPLES_DIR = Path(__file__).resolve().parent.parent.parent / "examples"

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

PREVIEW_SIDE = 1024  # the hint panel shows the photo at most this large (clicks are mapped back)
PALETTE_SIZE = 8  # swatches offered at a clicked point: distinct hues
SWATCH_LIGHTNESS, SWATCH_CHROMA = 62.0, 42.0  # (a hint's lightness is the photo's own)

_models: dict = {}  # zoo name -> loaded Colorizer
_checked: LRUCache[bool] = LRUCache(256)  # server paths of photos that passed check_photo
_inputs: LRUCache[Path] = LRUCache(64)  # (photo path, name, hour) -> its "before" PNG
_loading: dict[str, threading.Lock] = {}  # zoo name -> the lock of its (one) load
_loading_guard = threading.Lock()  # held only to find or make a model's lock

# photo or result path -> (RGB preview, the original's (width, height))
_previews: LRUCache = LRUCache(16)


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
            _models[name] = load_folder(folder)
            keep_out_of_collections()
    return _models[name]


def load_folder(folder: str | Path):
    """The model in a local model folder (``resolve`` found it); imports TensorFlow."""
    from colorizer.model import Colorizer

    return Colorizer.from_pretrained(folder)


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


def swatches(suggested=()) -> list[str]:
    """PALETTE_SIZE distinct hues at a readable lightness (only a hint's chroma counts): the
    suggested colours first (a vivid model's likely colours at the point, those with a hue),
    then a hue wheel, no two hues within 30 degrees."""
    from colorizer.io import color

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


def likely_colours(path: str, hint: dict, palette_model: str | None) -> list:
    """The RGB colours ``palette_model`` finds likely at the hint's point, most likely first
    (PALETTE_SIZE; none without a palette model), decoded within the pixel budget."""
    if palette_model is None:
        return []
    model = load_model(palette_model)
    try:
        with PIXEL_BUDGET.hold(header_pixels(path)):
            return [rgb for rgb, _ in model.likely_colours(
                path, hint["x"], hint["y"], PALETTE_SIZE, max_pixels=MAX_PIXELS)]
    except TimeoutError:
        raise busy() from None


# --- the page's words and the server's port ---------------------------------------------------

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


