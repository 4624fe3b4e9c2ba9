"""colorizer demo: colorize black-and-white photos in the browser with any model of the zoo.

    python app.py                 # http://127.0.0.1:7860, offline, on the shipped weights
    python app.py --share         # also a public *.gradio.live link (needs internet)

The colorize event is also an API (``api_name="colorize"``) for gradio_client.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import gradio as gr  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import colorizer  # noqa: E402
from colorizer.images import PNG_COMPRESS_LEVEL, read_image  # noqa: E402
from colorizer.quantization import TEMPERATURE  # noqa: E402
from colorizer.zoo import default_pretrained  # noqa: E402

EXAMPLES_DIR = Path(__file__).parent / "examples"
RENDER_SIZES = (64, 512)  # slider range for models that accept other render sizes
CONCURRENCY = 2  # colorizations at once (2-core CPU: more only queues inside TensorFlow)
QUEUE_SIZE = 64  # waiting requests beyond which new ones are refused
KEEP_RESULTS_S = 3600  # results (ours and Gradio's cached copies) are deleted after an hour
OUTPUT_DIR = Path(tempfile.mkdtemp(prefix="colorizer-app-"))
# Vividness v (0..100) of a classification model is its annealed-mean temperature T = 1 - v/100:
# 0 gives the mean of the predicted colours (muted), 100 the most likely colour; the paper's
# T = 0.38 is the default.
DEFAULT_VIVIDNESS = round(100 * (1 - TEMPERATURE))


@functools.cache
def load_model(name: str):
    """Load a zoo model once, on first use."""
    return colorizer.from_pretrained(name)


def new_output_folder() -> Path:
    """A fresh folder for one request's files; folders older than KEEP_RESULTS_S are removed."""
    now = time.time()
    for old in OUTPUT_DIR.iterdir():
        if now - old.stat().st_mtime > KEEP_RESULTS_S:
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(dir=OUTPUT_DIR))


def temperature_of(model, vividness: float | None) -> float | None:
    """The decoding temperature for a vividness setting (None for regression models)."""
    if model.default_temperature is None:  # no colour classes to decode
        return None
    vividness = DEFAULT_VIVIDNESS if vividness is None else min(max(float(vividness), 0.0), 100.0)
    return 1.0 - vividness / 100.0


def colorize(image_path: str | None, model_name: str, render_size: float = 128,
             vividness: float = DEFAULT_VIVIDNESS):
    """Colorize one upload; returns the before/after pair and the full-resolution PNG.

    ``render_size`` is used by models that accept other sizes, ``vividness`` by classification
    models; the others ignore them.
    """
    if not image_path:
        gr.Warning("Upload, paste or capture a photo first.")
        return None, None
    model = load_model(model_name)
    size = int(render_size) if render_size and model.spec.resizable else None
    try:
        rgb, _ = read_image(image_path)
        result = model.colorize(rgb, size=size, temperature=temperature_of(model, vividness))
    except (colorizer.ImageError, ValueError) as error:
        raise gr.Error(str(error).replace(image_path, Path(image_path).name)) from None
    # Files, not PIL images: Gradio copies files into its cache atomically, while it rewrites a
    # PIL image's cache file in place, which truncates a download of the same picture that a
    # concurrent request is still reading (seen under load with identical uploads).
    folder = new_output_folder()
    before = folder / f"{Path(image_path).stem}_input.png"
    Image.fromarray(np.round(rgb * 255).astype(np.uint8)).save(
        before, compress_level=PNG_COMPRESS_LEVEL)
    after = folder / f"{Path(image_path).stem}_color.png"
    result.save(after, compress_level=PNG_COMPRESS_LEVEL)
    return (str(before), str(after)), str(after)


def render_size_update(model_name: str):
    """The render-size slider for a model: free for fully convolutional ones, fixed otherwise."""
    spec = load_model(model_name).spec
    flexible = spec.resizable
    return gr.update(value=spec.image_size, interactive=flexible,
                     info=("the square size the model sees; larger = finer colour, slower"
                           if flexible else f"this model works only at {spec.image_size} px"))


def vividness_update(model_name: str):
    """The vividness slider: live for classification models, fixed for regression ones."""
    classification = load_model(model_name).default_temperature is not None
    return gr.update(interactive=classification,
                     info=("colour classes decoded with the annealed mean, T = 1 - vividness/100"
                           f" (paper: {DEFAULT_VIVIDNESS}); higher = bolder colour"
                           if classification else
                           "only for classification models (this one regresses the colour)"))


def build_demo() -> gr.Blocks:
    entries = colorizer.list_pretrained()
    default = default_pretrained().name
    with gr.Blocks(title="colorizer", delete_cache=(KEEP_RESULTS_S, KEEP_RESULTS_S)) as demo:
        gr.Markdown(
            "# colorizer\nColorize black-and-white photos at full resolution. Tinted and sepia "
            "prints are reduced to their luminance first. Everything runs on this machine."
        )
        with gr.Row():
            with gr.Column():
                image = gr.Image(label="Black-and-white photo", type="filepath", image_mode=None,
                                 sources=["upload", "clipboard", "webcam"], elem_id="photo")
                model = gr.Dropdown(choices=[(e.summary(), e.name) for e in entries],
                                    value=default, label="Model")
                render_size = gr.Slider(*RENDER_SIZES, step=32,
                                        value=load_model(default).image_size,
                                        label="Render size (px)", interactive=False)
                vividness = gr.Slider(0, 100, step=1, value=DEFAULT_VIVIDNESS, label="Vividness",
                                      interactive=False)
                button = gr.Button("Colorize", variant="primary", elem_id="colorize")
            with gr.Column():
                slider = gr.ImageSlider(label="Before / after", format="png", type="filepath",
                                        elem_id="result")
                download = gr.File(label="Full-resolution result (PNG)")
        examples = sorted(str(p) for p in EXAMPLES_DIR.glob("*.jpg"))
        gr.Examples(examples=examples, inputs=image, label="Public-domain photographs")
        for update, target in ((render_size_update, render_size), (vividness_update, vividness)):
            model.change(update, inputs=model, outputs=target, api_name=False)
            demo.load(update, inputs=model, outputs=target, api_name=False)
        button.click(colorize, inputs=[image, model, render_size, vividness],
                     outputs=[slider, download], api_name="colorize")
    return demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)


def main() -> None:
    parser = argparse.ArgumentParser(description="colorizer Gradio demo")
    parser.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to serve the network")
    parser.add_argument("--port", type=int, default=7860)
    parser.add_argument("--share", action="store_true", help="create a public gradio.live link")
    args = parser.parse_args()
    build_demo().launch(server_name=args.host, server_port=args.port, share=args.share,
                        show_error=True, allowed_paths=[str(EXAMPLES_DIR)])


if __name__ == "__main__":
    main()
