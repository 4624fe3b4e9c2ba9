"""colorizer demo: colorize black-and-white photos in the browser with any model of the zoo.

    python app.py                 # http://127.0.0.1:7860 (GRADIO_SERVER_NAME / _PORT when set)
    python app.py --share         # also a public *.gradio.live link (needs internet)

The menu lists the zoo manifest's models (colorizer/hub/zoo.json); a model whose weights are not in
weights/ is downloaded from the Hugging Face Hub on first use, at the revision the manifest pins.
On a Hugging Face Space (which sets GRADIO_SERVER_NAME=0.0.0.0 and GRADIO_SERVER_PORT) it serves
as it is. The colorize event is also an API (``api_name="colorize"``) for gradio_client; its
last, optional parameter ``hints`` takes the CLI's hints JSON (a list of {"x", "y", "color"}).

With a model that takes colour hints, a hint panel shows the photo: a click adds a hint there
in the colour picker's colour, and the result re-renders after each change. Where the zoo has a
classification model, its most likely colours at the clicked point are offered as a palette.

This file is the page and its events; what they call is in colorizer/demo/: ``service`` (the
models, the pixel budget, the result files, the checks, the colorize event) and ``hint_panel``.
Importing it makes no folder and loads neither Gradio nor TensorFlow: ``main`` parses its
arguments first.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def build_demo():
    """The page and its events, on a queue (``gradio.Blocks``)."""
    import gradio as gr

    from colorizer.demo.hint_panel import PHOTO_HEIGHT, HintPanel
    from colorizer.demo.service import (
        CONCURRENCY,
        EXAMPLES_DIR,
        KEEP_RESULTS_S,
        QUEUE_SIZE,
        RENDER_SIZES,
        available_models,
        check_upload,
        colorize,
        model_info,
        rerender,
        vividness_info,
    )
    from colorizer.models import ModelSpec  # the registry: which models render at other sizes
    from colorizer.hub.zoo import recommended

    entries = available_models()
    if not entries:
        raise SystemExit("app.py: error: no model to serve: weights/ holds none and the zoo "
                         "manifest pins no published revision (see `colorizer publish`)")
    # Every model is in the menu: hints are an edit of its colour on every model, hint models
    # included (their hint input stays empty).
    menu = list(entries.values())
    default = recommended(menu).name
    # The recommended model first, then the most colourful.
    order = sorted(menu, key=lambda e: (e.name != default, -e.metrics.get("colourfulness", 0.0)))
    choices = [(e.label + (" (recommended)" if e.name == default else ""), e.name) for e in order]

    def model_update(model_name: str):
        return gr.update(info=model_info(entries[model_name]))

    def vividness_update(model_name: str):
        entry = entries[model_name]
        return gr.update(info=vividness_info(entry), value=entry.vividness)

    def switch_model(photo, model_name: str, render_size, _vividness, hints,
                     progress=gr.Progress()):
        """Another model: the slider to its default vividness, and the photo rendered so."""
        default = entries[model_name].vividness
        return (vividness_update(model_name),
                *rerender(photo, model_name, render_size, default, hints, progress))

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
                # Its configured value, 0 (the network's own colour), is the API's default, as
                # before vividness defaults existed; the page moves it to the model's default.
                vividness = gr.Slider(0, 100, step=1, value=0, label="Vividness",
                                      elem_id="vividness", info=vividness_info(entries[default]),
                                      buttons=[])  # no reset button: it would go to 0
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
        # A person moving the slider re-renders (.input: not when the page sets it; not at each
        # step of a drag: the last value waits for the render in progress).
        vividness.input(rerender, inputs=colorize_inputs, outputs=[slider, download],
                        preprocess=False, api_name=False, concurrency_id="colorize",
                        trigger_mode="always_last")
        # Another model: one render, at its default vividness, where the slider moves too.
        model.change(switch_model, inputs=colorize_inputs, outputs=[vividness, slider, download],
                     preprocess=False, api_name=False, concurrency_id="colorize",
                     trigger_mode="always_last")
        demo.load(vividness_update, inputs=model, outputs=vividness, api_name=False)
        panel.wire(image, model, download, colorize_inputs, [slider, download])
    return demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)


def main() -> None:
    parser = argparse.ArgumentParser(description="colorizer Gradio demo")
    parser.add_argument("--host", default=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                        help="address to serve on: 0.0.0.0 for the network (default: "
                        "GRADIO_SERVER_NAME, else 127.0.0.1)")
    parser.add_argument("--port", type=int, default=os.environ.get("GRADIO_SERVER_PORT", 7860),
                        help="default: GRADIO_SERVER_PORT, else 7860")
    parser.add_argument("--share", action="store_true", help="create a public gradio.live link")
    args = parser.parse_args()  # (before the imports below: --help and its errors come at once)
    from colorizer.demo.service import EXAMPLES_DIR, MAX_FILE_SIZE, check_port  # Gradio: seconds

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
