"""The ``colorizer`` command line: a thin layer over the library.

    colorizer models                         the registered architectures
    colorizer list                           the pretrained zoo (shipped weight folders)
    colorizer train --model NAME --data DIR  train (``--resume RUN`` continues a run)
    colorizer evaluate --model MODEL --data DIR
    colorizer prior --data DIR -o prior.json the colour prior of a training set (classification)
    colorizer colorize INPUT... -o OUTDIR [--model MODEL] [--engine ray]
    colorizer export RUN weights/ARCH.TAG --evaluation metrics.json
    colorizer pull NAME_OR_REPO [--revision REV]
    colorizer push FOLDER REPO_ID
    colorizer publish [NAME ...] --owner OWNER  the zoo to the Hub, revisions pinned in zoo.json

MODEL is a zoo name (``colorizer list``), a model or training run folder, or a Hub repo id.
``--help``, ``list`` and a bad ``--model`` answer without loading TensorFlow: that is why each
command imports the package's modules inside itself (most of them load Keras or TensorFlow).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def _model_args(pairs: list[str], flag: str = "--model-arg") -> dict:
    """--model-arg (or ``flag``) key=value pairs; values are parsed as JSON when they can be."""
    args = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"{flag} expects key=value, got {pair!r}")
        try:
            args[key] = json.loads(value)
        except json.JSONDecodeError:
            args[key] = value
    return args


def cmd_models(args: argparse.Namespace) -> int:
    from colorizer.model import create_model
    from colorizer.models import ModelSpec, list_models, model_defaults
    from colorizer.models.flops import model_flops

    print("| name | params | trainable | frozen | GFLOPs 128 px | GFLOPs 256 px | pretrained backbone |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | --- |")
    for name in list_models():
        offline = ModelSpec(name, model_defaults(name)).offline_args
        model = create_model(name, **offline)
        trainable = sum(int(w.numpy().size) for w in model.network.trainable_weights)
        gflops = [f"{model_flops(model.network) / 1e9:.2f}"]  # built at its default 128 px
        gflops.append(f"{model_flops(model.at_size(256).network) / 1e9:.2f}"
                      if model.spec.resizable else "n/a")
        encoder = model.encoder_name
        backbone = f"{encoder} (ImageNet)" if encoder else "none"
        print(f"| {name} | {model.count_params():,} | {trainable:,} | "
              f"{model.count_params() - trainable:,} | {gflops[0]} | {gflops[1]} | {backbone} |")
    print("\nEach architecture at its builder's defaults. The zoo's models were trained in other "
          "configurations (e.g. a narrower cnn); as shipped:")
    from colorizer.hub.zoo import list_pretrained

    for entry in list_pretrained():
        params = f"{entry.params:,} params" if entry.params else "params not recorded"
        print(f"  {entry.name}: {params}")
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """A run's config: the --resume run's or --config file's (else the defaults), then every flag
    given on the command line on top; the run folder records the result."""
    import dataclasses

    from colorizer.training.config import TrainConfig
    from colorizer.training.loop import train

    overrides = {field.name: getattr(args, field.name) for field in dataclasses.fields(TrainConfig)
                 if getattr(args, field.name, None) is not None}
    model_args = _model_args(overrides.pop("model_args", []))
    model_args |= {"width": args.width} if args.width is not None else {}
    model_args |= {"head": args.head} if args.head else {}
    hint_sampler = _model_args(overrides.pop("hint_sampler", []), "--hint-sampler")
    if args.resume:
        run = Path(args.resume)
        if not (run / "config.json").is_file():
            raise FileNotFoundError(f"cannot resume: {run / 'config.json'} does not exist (not a "
                                    "run folder)")
        changed = sorted({"model", "image_size", "data", "output"} & set(overrides))
        if changed or model_args:
            raise ValueError(f"--resume continues a run as it was built and fed; it cannot change "
                             f"{changed + (['model_args'] if model_args else [])}")
        config = TrainConfig.load(run / "config.json")
        overrides["output"] = str(run)  # the run folder given, wherever it is now
    elif args.config:
        config = TrainConfig.load(Path(args.config))
    else:
        config = TrainConfig()
    config = dataclasses.replace(config, **overrides,
                                 model_args={**config.model_args, **model_args},
                                 hint_sampler={**config.hint_sampler, **hint_sampler})
    if not config.model or not config.data:
        raise SystemExit("train needs --model and --data (or --config FILE, or --resume RUN)")
    run = train(config, resume=bool(args.resume))
    print(f"run folder: {run}  (best model in {run / 'model'})")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from colorizer.evaluation.evaluate import evaluate
    from colorizer.io.figures import evaluation_table
    from colorizer.model import from_pretrained

    if args.hints is not None:
        from colorizer.evaluation.hints import parse_counts

        counts = parse_counts(args.hints)  # a bad list fails before the model loads
        if args.record_in:
            raise ValueError("--record-in records the evaluation without hints; drop --hints")
    if args.record_in and args.vividness is not None:
        raise ValueError("--record-in records the model at its own default vividness; drop "
                         "--vividness")
    if args.record_in:
        from colorizer.hub.folder_files import resolve_model_folder

        resolve_model_folder(args.record_in)  # a wrong folder fails now, not after evaluating
    model = from_pretrained(args.model)
    # A timestamped default folder, so an earlier evaluation of the same model is kept.
    output = args.output or (Path("runs") / f"evaluate-{Path(args.model).name}-{args.split}-"
                             f"{time.strftime('%Y%m%d-%H%M%S')}")
    if args.hints is not None:
        return _evaluate_hints(args, model, counts, output)
    summary = evaluate(model, args.data, split=args.split, batch_size=args.batch_size,
                       limit=args.limit, grid_images=args.grid, output=output,
                       temperature=args.temperature, name=args.name, vividness=args.vividness,
                       realism=not args.no_realism)
    print(f"{summary['model']} on {summary['data']} ({summary['split']}, {summary['images']} "
          f"images, {summary['image_size']} px)")
    print(evaluation_table(summary))
    print(f"wrote {Path(output) / 'metrics.json'} and {Path(output) / 'grid.png'}")
    if args.record_in:
        from colorizer.training.export import record_evaluation

        metrics_file, place = record_evaluation(args.record_in, summary)
        print(f"recorded in {metrics_file} as {place}, and in its model card")
    return 0


def _evaluate_hints(args: argparse.Namespace, model, counts: list[int], output) -> int:
    from colorizer.evaluation.hints import CURVES_NAME, METRICS_NAME, evaluate_hints
    from colorizer.io.figures import hint_table

    summary = evaluate_hints(model, args.data, counts, split=args.split,
                             batch_size=args.batch_size, limit=args.limit, output=output)
    print(f"{summary['model']} on {summary['data']} ({summary['split']}, {summary['images']} "
          f"images, {summary['image_size']} px), hints sampled from the ground truth (seed "
          f"{summary['hint_seed']})")
    print(hint_table(summary))
    print(f"wrote {Path(output) / METRICS_NAME} and {Path(output) / CURVES_NAME}")
    return 0


def cmd_prior(args: argparse.Namespace) -> int:
    from colorizer.training import data
    from colorizer.models import quantization

    output = Path(args.output)
    if output.exists() and not args.overwrite:
        raise FileExistsError(f"{output} exists; pass --overwrite to replace it")
    paths = data.list_images(args.data, args.split)
    if args.limit:
        paths = paths[:args.limit]
    pixels, kept, _ = data.load_images(paths, args.image_size)  # skips near-gray images
    if not kept:
        raise ValueError(f"no usable colour images in {args.data} ({args.split})")
    prior = quantization.prior_from_images(pixels)
    quantization.save_prior(prior, output, source=f"{len(kept)} {args.split} images of "
                            f"{args.data} at {args.image_size} px")
    print(f"colour prior of {len(kept)} images: {quantization.describe_prior(prior)}")
    print(f"wrote {output} (train with --head classification --prior {output})")
    return 0


def cmd_colorize(args: argparse.Namespace) -> int:
    from colorizer.io.folder_job import plan_outputs
    from colorizer.hub import resolve

    missing = [item for item in args.inputs if not Path(item).exists()]
    if missing:
        raise FileNotFoundError(f"no such file or folder: {', '.join(missing)}")
    if Path(args.output).exists() and not Path(args.output).is_dir():
        raise ValueError(f"-o must be a folder, and {args.output} is a file (results are "
                         f"written into a folder, as NAME.png)")
    if args.workers is not None and (args.engine == "local" or args.workers < 1):
        raise ValueError("--workers is a positive number of workers of --engine ray")
    hints = _read_hints(args) if args.hints else None  # a bad file fails before any work
    if args.engine == "local":
        plan = plan_outputs(args.inputs, Path(args.output), overwrite=args.overwrite)
    else:  # an engine that is not installed fails here, before any work
        from colorizer import archive

        archive.check_engine(args.engine)
        plan = archive.plan_archive(args.inputs, Path(args.output), overwrite=args.overwrite)
    # Which model, and is it there: before TensorFlow loads and before the progress bar.
    name = args.model or _default_model()
    folder = resolve(name) if plan.jobs else None
    options = dict(temperature=args.temperature, max_pixels=args.max_pixels, hints=hints,
                   vividness=args.vividness)
    existed = 0
    if folder is None:
        written, failed = 0, list(plan.failed)
    elif args.engine == "local":
        written, failed = _colorize_here(plan, folder, options, args.quiet)
    else:
        if args.temperature is not None:  # a bad one fails here, not in every worker
            from colorizer.model import Colorizer

            Colorizer.from_pretrained(folder).check_temperature(args.temperature)
        written, job_failures, existed = archive.colorize_jobs(
            plan.jobs, name, options=options, overwrite=args.overwrite, workers=args.workers,
            quiet=args.quiet)
        failed = plan.failed + job_failures
    print(f"wrote {written} image(s) to {args.output}")
    if plan.done or existed:
        print(f"left {len(plan.done) + existed} whose output exists (use --overwrite to replace "
              f"them)")
    if plan.ignored:
        names = ", ".join(str(path) for path in plan.ignored[:5])
        more = f" and {len(plan.ignored) - 5} more" if len(plan.ignored) > 5 else ""
        print(f"ignored {len(plan.ignored)} file(s) that are not images: {names}{more}")
    if failed:
        total = len(plan.jobs) + len(plan.done) + len(plan.failed)
        print(f"failed {len(failed)} of {total} input(s):")
        for source, why in failed:
            print(f"  {why}" if why.startswith(str(source)) else f"  {source}: {why}")
    return 1 if failed else 0


def _colorize_here(plan, folder: Path, options: dict, quiet: bool) -> tuple[int, list]:
    """--engine local: the plan's jobs one after another in this process."""
    from tqdm import tqdm

    from colorizer.io.folder_job import colorize_job
    from colorizer.model import Colorizer

    model = Colorizer.from_pretrained(folder)
    model.check_temperature(options["temperature"])
    failed = list(plan.failed)
    written = 0
    for source, target in tqdm(plan.jobs, desc="colorizing", unit="image", disable=quiet):
        why = colorize_job(model, source, target, **options)
        if why is None:
            written += 1
        else:
            failed.append((source, why))
    return written, failed


def _read_hints(args: argparse.Namespace) -> list:
    """The --hints file: a JSON list of {"x": .., "y": .., "color": "#rrggbb"} for one photo."""
    from colorizer.hints.user import read_hints_file

    if len(args.inputs) != 1 or Path(args.inputs[0]).is_dir():
        raise ValueError("--hints gives points on one photo: pass exactly one input file")
    path = Path(args.hints)
    if not path.is_file():
        raise FileNotFoundError(f"--hints: {path} does not exist")
    return read_hints_file(path)  # size-checked before it is read; a bad file is one line


def _default_model() -> str:
    from colorizer.hub.zoo import default_pretrained

    return default_pretrained().name


def cmd_list(args: argparse.Namespace) -> int:
    from colorizer.io.figures import replace_table
    from colorizer.hub.zoo import list_pretrained

    entries = list_pretrained()
    if not entries:
        print("the zoo is empty: the manifest (COLORIZER_ZOO) lists no model and weights/ "
              "(COLORIZER_WEIGHTS) holds none")
    if args.update:
        if not entries:
            raise ValueError(f"{args.update} left unchanged: no zoo to write into it")
        path = Path(args.update)
        text = path.read_text(encoding="utf-8")
        updated = replace_table(text, results_table(entries))
        if updated == text:
            print(f"{path}: the zoo table is up to date")
        else:
            _write_atomically(path, updated)
            print(f"{path}: wrote the zoo table of {len(entries)} model(s)")
        return 0
    if args.markdown:
        print(results_table(entries))
        return 0
    for entry in entries:
        print(f"{entry.summary()} [{_where(entry)}]")
    return 0


def _where(entry) -> str:
    """Where a zoo model's weights come from, in a few words."""
    places = ["weights/ folder"] if entry.local else []
    if entry.published:
        places.append(f"Hub {entry.hub_repo}@{entry.revision[:12]}")
    return ", ".join(places) or "not published yet, no local weights"


def _write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` in one step, so that an interrupted write leaves the old file."""
    import tempfile

    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False,
                                     prefix=f".{path.name}.", suffix=".tmp") as handle:
        handle.write(text)
    os.replace(handle.name, path)


def results_table(entries) -> str:
    """The zoo as the README's Markdown tables: one per validation set (the weight folders' main
    evaluation first, then each further one), a row per model with the metrics of
    ``figures.ZOO_TABLE`` at the model's default vividness; under each, its photos, baselines
    and judge."""
    from colorizer.hub.zoo import default_pretrained
    from colorizer.io.figures import BY_KEY, ZOO_TABLE, evaluation_name, markdown_row, short
    from colorizer.io.jsonfiles import read_json

    default = default_pretrained().name if entries else None
    tables: dict[str, list[tuple]] = {}  # evaluation name -> (entry, summary), in order
    for entry in entries:
        metrics_file = entry.path / "metrics.json" if entry.path is not None else None
        metrics = (read_json(metrics_file)
                   if metrics_file is not None and metrics_file.is_file() else {})
        for summary in (metrics.get("evaluation"), *metrics.get("more_evaluations", [])):
            if summary and "model" in summary.get("results", {}):
                tables.setdefault(evaluation_name(summary), []).append((entry, summary))
    blocks = []
    for name, rows in tables.items():
        lines = [f"**{name}**", "",
                 markdown_row(["model", "vividness", *(BY_KEY[key].label for key in ZOO_TABLE)]),
                 "| --- |" + " ---: |" * (1 + len(ZOO_TABLE))]
        for entry, summary in rows:
            model = summary["results"]["model"]
            label = f"**{entry.name}** (default)" if entry.name == default else entry.name
            if summary.get("temperature") is not None:
                label += f" (T {summary['temperature']:g})"
            lines.append(markdown_row([label, f"{summary.get('vividness', 0.0):g}", *(
                short(key, model[key]) if key in model else "-" for key in ZOO_TABLE)]))
        notes = {}
        for entry, summary in rows:
            gray = summary["results"]["gray"]
            note = (f"{summary['images']:,} photos; gray: " + ", ".join(
                f"{BY_KEY[key].label} {short(key, gray[key])}" for key in ZOO_TABLE
                if key in gray and key not in ("colourfulness", "delta_cf"))
                + f"; originals' CF {short('colourfulness', summary['original_colourfulness'])}"
                + (f"; judge {summary['judge'].split(' (')[0]}" if summary.get("judge") else "")
                + ".")
            notes.setdefault(note, []).append(entry.name)
        for note, names in notes.items():
            lines.append("")
            lines.append(("" if len(names) == len(rows) else f"({', '.join(names)}) ") + note)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def cmd_export(args: argparse.Namespace) -> int:
    from colorizer.training.export import export_weights

    folder = export_weights(args.run, args.output, evaluation=args.evaluation,
                            hint_evaluation=args.hint_evaluation, description=args.description,
                            hub_repo=args.hub_repo, dataset=args.dataset, note=args.note,
                            command=args.training_command, overwrite=args.overwrite,
                            sources=args.sources, temperature=args.temperature)
    print(f"wrote weight folder {folder}")
    return 0


def cmd_pull(args: argparse.Namespace) -> int:
    from colorizer.hub import resolve
    from colorizer.model import Colorizer

    folder = resolve(args.name, revision=args.revision, cache_dir=args.cache_dir)
    Colorizer.from_pretrained(folder)  # check that it loads
    print(folder)
    return 0


def cmd_publish(args: argparse.Namespace) -> int:
    from colorizer.hub.publish import publish
    from colorizer.hub.zoo import manifest_path

    publish(args.names, owner=args.owner, push=not args.no_push, private=args.private)
    print(f"wrote {manifest_path()}")
    return 0


def cmd_push(args: argparse.Namespace) -> int:
    from colorizer.hub import push_folder

    url = push_folder(args.folder, args.repo_id, private=args.private,
                      commit_message=args.message)
    print(url)
    return 0


def _vividness(text: str) -> float:
    """--vividness: a number from 0 to 100 (checked before any work)."""
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0.0 <= value <= 100.0:
        raise argparse.ArgumentTypeError(f"must be a number from 0 to 100, got {text!r}")
    return value


TEMPERATURE_HELP = ("classification models: annealed-mean temperature, 0..1 (default: the "
                    "model's own, else 0.38; lower = more vivid, 1 = the mean colour)")


_FIELD_TYPES = {"int": int, "float": float, "str": str}


def _add_config_flags(parser: argparse.ArgumentParser, *, with_choices: bool) -> None:
    """One flag per TrainConfig field, help and choices from the field (default None: a flag
    that is not given leaves the config's value). The choices of registries are listed only
    when ``with_choices`` (building the model registry imports Keras)."""
    import dataclasses

    from colorizer.training.config import TrainConfig

    for field in dataclasses.fields(TrainConfig):
        default = field.default_factory() if callable(field.default_factory) else field.default
        help = f"{field.metadata['help']} (default: {default!r})"
        choices = field.metadata["choices"]
        if field.name == "model_args":
            parser.add_argument("--model-arg", dest="model_args", action="append",
                                metavar="KEY=VALUE", help=help + "; repeatable, JSON values")
        elif field.name == "hint_sampler":
            parser.add_argument("--hint-sampler", dest="hint_sampler", action="append",
                                metavar="KEY=VALUE", help=help + "; repeatable, JSON values")
        elif field.name == "augment":
            parser.add_argument("--augment", type=lambda text: [a for a in text.split(",") if a],
                                help=help)
        elif field.type == "bool":
            parser.add_argument("--" + field.name.replace("_", "-"),
                                action=argparse.BooleanOptionalAction, default=None, help=help)
        else:
            parser.add_argument("--" + field.name.replace("_", "-"),
                                type=_FIELD_TYPES[field.type],
                                choices=list(choices()) if choices and with_choices else None,
                                help=help)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The CLI; ``command`` (the first argument) lets the train parser list the registries'
    choices only when training."""
    from colorizer import __version__
    from colorizer.io.images import DEFAULT_MAX_PIXELS

    parser = argparse.ArgumentParser(prog="colorizer", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"colorizer {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    models = commands.add_parser("models", help="list the registered architectures")
    models.set_defaults(func=cmd_models)

    listing = commands.add_parser("list", help="list the pretrained zoo with its metrics")
    listing.add_argument("--markdown", action="store_true", help="as the README's zoo table")
    listing.add_argument("--update", metavar="FILE", help="write the Markdown table into FILE "
                         "(e.g. README.md) between its zoo-table:start and zoo-table:end lines")
    listing.set_defaults(func=cmd_list)

    train = commands.add_parser(
        "train", help="train a model",
        description="Train a model. Every setting is a flag; with --config FILE or --resume RUN "
        "those values are the defaults and the flags given override them.")
    train.add_argument("--config", help="a TrainConfig JSON, e.g. training/configs/NAME.json")
    train.add_argument("--resume", metavar="RUN", help="continue the run in this folder")
    _add_config_flags(train, with_choices=command == "train")
    train.add_argument("--head", choices=["regression", "classification"],
                       help="shortcut for --model-arg head=...: regression (MSE) or "
                       "classification (Zhang et al. 2016 colour classes)")
    train.add_argument("--width", type=float, help="shortcut for --model-arg width=... (cnn)")
    train.set_defaults(func=cmd_train)

    evaluate = commands.add_parser("evaluate", help="evaluate a model against baselines")
    evaluate.add_argument("--model", required=True,
                          help="zoo name, model or run folder, or Hub repo id")
    evaluate.add_argument("--data", required=True)
    evaluate.add_argument("--split", default="val", choices=["train", "val"])
    evaluate.add_argument("--batch-size", type=int, default=32)
    evaluate.add_argument("--limit", type=int, default=0, help="evaluate the first N images")
    evaluate.add_argument("--grid", type=int, default=8, help="images in grid.png")
    evaluate.add_argument("--output", help="folder for metrics.json and grid.png (default "
                          "runs/evaluate-<model>-<split>-<time>)")
    evaluate.add_argument("--temperature", type=float, help=TEMPERATURE_HELP)
    evaluate.add_argument("--vividness", type=_vividness, default=None,
                          help="0..100: evaluate the model's colour with this chroma gain, as "
                          "colorize --vividness gives it (default: the model's own default)")
    evaluate.add_argument("--no-realism", action="store_true",
                          help="skip KID and content agreement (an ImageNet classifier judging "
                          "every result; about a third of the time)")
    evaluate.add_argument("--name", help="what cards and tables call this evaluation (default: "
                          "the list file's stem, or the data folder's name and the split, e.g. "
                          "'flickr8k val')")
    evaluate.add_argument("--record-in", metavar="WEIGHT_FOLDER",
                          help="also store this evaluation in a weight folder's metrics.json "
                          "and model card (its training record is kept): as its main evaluation "
                          "when of the same --name, else beside it (a second validation set)")
    evaluate.add_argument("--hints", metavar="N,N,...",
                          help="evaluate a hint model with N hints per photo sampled from the "
                          "ground truth (fixed seed), beside their inverse-distance fill, e.g. "
                          "0,10 or 0,1,2,5,10,20,50 (curves in hint_curves.png)")
    evaluate.set_defaults(func=cmd_evaluate)

    prior = commands.add_parser("prior", help="compute the colour prior of a training set")
    prior.add_argument("--data", required=True, help="image folder (train.txt optional) or list")
    prior.add_argument("--split", default="train", choices=["train", "val"])
    prior.add_argument("--image-size", type=int, default=128)
    prior.add_argument("--limit", type=int, default=0, help="use the first N images")
    prior.add_argument("-o", "--output", default="prior.json")
    prior.add_argument("--overwrite", action="store_true")
    prior.set_defaults(func=cmd_prior)

    colorize = commands.add_parser(
        "colorize", help="colorize images at full resolution",
        epilog="Exit status: 0 when every input was colorized or left because its output exists; "
        "1 when some failed (unreadable, a format this does not read, or an output that cannot "
        "be written): each failure is skipped, the others are done, and the summary lists the "
        "failures; 2 for an error before any work (a missing input, a bad --model or --hints "
        "file), or a Ray job (--engine ray) that stopped. Each PNG is written under a "
        "temporary name and renamed, so an interrupted run never leaves a partial one, and a "
        "rerun of the same command does only what is missing.")
    colorize.add_argument("inputs", nargs="+", help="image files and/or folders (recursive)")
    colorize.add_argument("-o", "--output", required=True, help="output folder (PNG files)")
    colorize.add_argument("--model", help="zoo name, model or run folder, or Hub repo id "
                          "(default: the zoo's best model)")
    colorize.add_argument("--overwrite", action="store_true",
                          help="replace existing outputs (inputs are never replaced)")
    colorize.add_argument("--temperature", type=float, help=TEMPERATURE_HELP)
    colorize.add_argument("--vividness", type=_vividness, default=None,
                          help="0..100: 0 is the network's own colour, higher is more colour "
                          "(chroma up to 2x, kept within sRGB by chroma so hues hold); default: "
                          "the model's default vividness (colorizer list shows it)")
    colorize.add_argument("--max-pixels", type=int, default=DEFAULT_MAX_PIXELS)
    colorize.add_argument("--hints", metavar="HINTS.json",
                          help='every model: colour hints for the one input photo, a JSON list '
                          'of {"x": 10, "y": 20, "color": "#rrggbb"} (pixels of the photo, x to '
                          'the right, y down, from 0); only their chroma is used')
    colorize.add_argument("--quiet", action="store_true", help="no progress bar")
    colorize.add_argument("--engine", choices=["local", "ray"], default="local",
                          help="local (default): one process here; ray: a pool of Ray workers, "
                          "each loading the model once (pip install 'bw-colorizer[ray]'), on "
                          "this machine or the cluster RAY_ADDRESS names, with the same "
                          "results; there an input ending in .txt lists paths or URIs "
                          "(s3://, gs://, file://), one a line")
    colorize.add_argument("--workers", type=int, help="--engine ray: how many workers "
                          "(default: one a CPU of the Ray cluster)")
    colorize.set_defaults(func=cmd_colorize)

    export = commands.add_parser("export", help="make a zoo weight folder from a training run")
    export.add_argument("run", help="training run folder")
    export.add_argument("output", help="weight folder to write, e.g. weights/ARCH.TAG")
    export.add_argument("--evaluation", required=True, help="metrics.json of `colorizer evaluate`")
    export.add_argument("--hint-evaluation", metavar="HINT_METRICS_JSON",
                        help="a hint model's hint_metrics.json of `colorizer evaluate --hints` "
                        "(copied with its curves; the card shows the table)")
    export.add_argument("--description", help="one line for menus and the card")
    export.add_argument("--hub-repo", help="Hub repo id the folder is published under")
    export.add_argument("--dataset", default="flickr8k", help="the training data's name")
    export.add_argument("--sources", metavar="SOURCES_JSON",
                        help="the sources file the run's data folder was prepared from "
                        "(training/prepare_photos.py), e.g. training/sources/mixed150k.json: "
                        "the card lists each set's origin, photos and terms")
    export.add_argument("--temperature", type=float,
                        help="a classification model's own annealed-mean temperature, used when "
                        "none is given (default: the paper's 0.38); --evaluation must be "
                        "measured at it")
    export.add_argument("--note", help="a paragraph for the card's Training section")
    export.add_argument("--command", dest="training_command",
                        help="the training command(s) to record (default: colorizer train "
                        "--config training/configs/<output name>.json)")
    export.add_argument("--overwrite", action="store_true")
    export.set_defaults(func=cmd_export)

    pull = commands.add_parser("pull", help="download a model from the Hub (or find it)")
    pull.add_argument("name", help="zoo name or Hub repo id")
    pull.add_argument("--revision", help="branch, tag or commit to pin")
    pull.add_argument("--cache-dir", help="Hugging Face cache folder (default: the normal one)")
    pull.set_defaults(func=cmd_pull)

    push = commands.add_parser("push", help="publish a weight folder to the Hub (one commit)")
    push.add_argument("folder", help="weight folder or training run folder")
    push.add_argument("repo_id", help="user/name on the Hub")
    push.add_argument("--private", action="store_true")
    push.add_argument("--message", default="Upload colorizer model", help="commit message")
    push.set_defaults(func=cmd_push)

    publish = commands.add_parser(
        "publish", help="push the zoo's weight folders to the Hub, revisions pinned in zoo.json",
        description="Push each weight folder of weights/ to OWNER/<its repo> (one commit each, "
        "model card included) and pin the new revisions in the zoo manifest (colorizer/hub/zoo.json, "
        "or COLORIZER_ZOO), from which list_pretrained, from_pretrained and the demo work.")
    publish.add_argument("names", nargs="*", metavar="NAME",
                         help="weight folders to publish (default: every one in weights/)")
    publish.add_argument("--owner", help="Hub user or organisation of the zoo's repos (default: "
                         "the manifest's owner)")
    publish.add_argument("--private", action="store_true", help="create new repos private")
    publish.add_argument("--no-push", action="store_true",
                         help="send nothing: only copy each folder's figures into the manifest "
                         "(e.g. after `colorizer evaluate --record-in`)")
    publish.set_defaults(func=cmd_publish)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv[0] if argv else None).parse_args(argv)
    try:
        return args.func(args)
    except (OSError, ValueError, TypeError) as error:
        print(f"colorizer {args.command}: error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
