"""The page's colour-hint panel (app.py lays it out): the photo to click, the colour picker and
palette, Undo, "Clear hints", the list of hints and their JSON, and the events between them. What
they compute (the preview, the clicked colour, the palette's hues) is in the service module."""

from __future__ import annotations

import json
from pathlib import Path

import gradio as gr
from PIL import ImageColor

from colorizer.demo.service import (
    check_photo,
    colorize,
    draw_hints,
    hex_colour,
    hints_of,
    likely_colours,
    original_point,
    own_colour,
    photo_of,
    photo_preview,
    swatches,
)
from colorizer.io.images import ImageError

PHOTO_HEIGHT = 380  # px: the photo to click and the result side by side, in view at 1280x800
HINT_COLOUR = "#808080"  # the colour picker before the first click (a click sets it)
HINT_COLUMNS = ["#", "x", "y", "colour", "remove"]
# Raised by a hint event with nothing to change: the events after it (a re-render) do not run,
# and the page shows nothing.
NO_CHANGE = gr.Error("no change", visible=False, print_exception=False)


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


def palette_at(photo, hints_text: str, palette_model: str | None):
    """The palette for the last hint: the vivid model's likely colours there (where the zoo has
    one) topped up with a hue wheel, as swatches of distinct hues."""
    hints = hints_of(hints_text)
    path = check_photo(photo)
    if not hints or not path:
        return palette_of([])
    return palette_of(swatches(likely_colours(path, hints[-1], palette_model)))


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
