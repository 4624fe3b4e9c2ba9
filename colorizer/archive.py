"""Colorizing an archive on a Ray cluster: ``colorizer colorize INPUT... -o OUT --engine ray``.

The same jobs, output names and PNG bytes as ``colorizer colorize`` (the plan is
:func:`colorizer.io.folder_job.plan_outputs`, and every file goes through
:func:`colorizer.io.folder_job.colorize_job`, as in the CLI's own loop), spread over a pool of
Ray actors (Ray Data ``map_batches``), each of which loads the model once. ``ray.init()`` joins
the cluster named by ``RAY_ADDRESS`` (or one started with ``ray start`` on this machine) and
otherwise starts Ray on this machine alone. On a cluster every worker must reach the model (a
zoo name or Hub repo id, which each downloads, or a folder on shared storage), the inputs and
the output folder (shared storage, e.g. NFS) at the same paths.

Resumable: an output that exists is left alone (``--overwrite`` replaces it), so rerunning the
command after an interruption colorizes only what is missing, and each PNG is written under a
temporary name and renamed, so a killed job never leaves a partial one. Unreadable or damaged
inputs, and outputs that cannot be written, are listed at the end; the others are done.

An input ending in ``.txt`` is a list: one path or URI a line (blank lines and ``#`` comments
skipped), a relative path taken from the list's folder, a folder searched recursively as on the
command line. A URI (``s3://``, ``gs://``, ``hdfs://``, ``file://``, whatever pyarrow's file
systems read: the ones Ray Data reads with) is copied to a temp file on the worker and
colorized from there; its result is named after its last path part, as a file given on the
command line is.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any, Sequence
from urllib.parse import unquote, urlsplit

from colorizer.io.folder_job import Plan, colorize_job, plan_outputs

ENGINES = ("ray",)
LIST_SUFFIX = ".txt"
ROWS_PER_BATCH = 16  # photos an actor takes at a time (one Ray Data batch)
INSTALL_HINT = "pip install 'bw-colorizer[ray]'"

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_uri(text: str) -> bool:
    """Whether ``text`` is a URI (``scheme://...``) rather than a local path."""
    return bool(_SCHEME.match(text))


def check_engine(engine: str) -> None:
    """ValueError (one line, with the install command) unless ``engine`` can be used here."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of local, {', '.join(ENGINES)}")
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError as error:
        raise ValueError(f"--engine {engine} needs Ray Data ({error}); install it with "
                         f"{INSTALL_HINT}") from None


def read_list(path: str | Path) -> list[str]:
    """The paths and URIs a list file names, one a line; relative paths from its folder."""
    path = Path(path)
    entries = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            entries.append(line if is_uri(line) or Path(line).is_absolute()
                           else str(path.parent / line))
    return entries


def uri_name(uri: str) -> str:
    """The last part of a URI's path (percent-decoded): what its result is named after."""
    return PurePosixPath(unquote(urlsplit(uri).path)).name


class _UriPath(str):
    """A URI standing where a plan has a source path: prints as itself (``Path`` would fold
    its ``//``)."""

    __slots__ = ()


def plan_archive(inputs: Sequence[str | Path], output_dir: Path, *, overwrite: bool = False
                 ) -> Plan:
    """:func:`~colorizer.io.folder_job.plan_outputs` for ``inputs``, with every list file
    (``.txt``) replaced by what it names; its URIs become jobs named like files given on the
    command line (``output_dir/<name>.png``), after the local inputs."""
    local: list[str] = []
    uris: list[str] = []
    for item in map(str, inputs):
        if item.lower().endswith(LIST_SUFFIX) and Path(item).is_file():
            for entry in read_list(item):
                (uris if is_uri(entry) else local).append(entry)
        else:
            local.append(item)
    plan = plan_outputs(local, output_dir, overwrite=overwrite)
    targets = {target.resolve() for _, target in plan.jobs}
    for uri in uris:
        name = uri_name(uri)
        if not name:
            plan.failed.append((_UriPath(uri), f"{uri}: names no file"))
            continue
        target = output_dir / Path(name).with_suffix(".png")
        if target.resolve() in targets:
            plan.failed.append((_UriPath(uri), f"another input already writes {target}"))
        elif target.exists() and not overwrite:
            plan.done.append((_UriPath(uri), f"{target} exists (use --overwrite to replace it)"))
        else:
            plan.jobs.append((_UriPath(uri), target))
            targets.add(target.resolve())
    return plan


def fetch(uri: str, folder: Path) -> Path:
    """Copy the object ``uri`` names into ``folder`` (under its own name); OSError if it cannot
    be read."""
    import pyarrow.fs

    try:
        filesystem, path = pyarrow.fs.FileSystem.from_uri(uri)
        local = folder / (PurePosixPath(path).name or "input")
        with filesystem.open_input_stream(path) as stream, open(local, "wb") as file:
            shutil.copyfileobj(stream, file, 1 << 20)
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        raise OSError(f"{uri}: cannot be read ({error})") from None
    return local


class ColorizeWorker:
    """One actor of the pool: loads the model once, then colorizes batches of jobs.

    A batch holds ``index``, ``source`` and ``target`` columns; the answer holds ``index``,
    ``status`` (``written``, ``failed``, or ``existed`` for an output that appeared meanwhile,
    e.g. when Ray retried the batch of a worker that died) and ``error`` (why it failed).
    """

    def __init__(self, model: str, options: dict[str, Any], overwrite: bool):
        _use_assigned_cpus()
        from colorizer.model import Colorizer

        self.model = Colorizer.from_pretrained(model)
        self.options = options
        self.overwrite = overwrite
        self.scratch = Path(tempfile.mkdtemp(prefix="colorizer-archive-"))

    def __call__(self, batch: dict) -> dict:
        statuses, errors = [], []
        for source, target in zip(batch["source"], batch["target"]):
            target = Path(str(target))
            if not self.overwrite and target.exists():
                statuses.append("existed")
                errors.append("")
                continue
            why = self.run(str(source), target)
            statuses.append("written" if why is None else "failed")
            errors.append(why or "")
        return {"index": batch["index"], "status": statuses, "error": errors}

    def run(self, source: str, target: Path) -> str | None:
        """:func:`~colorizer.io.folder_job.colorize_job` for a path, or for a URI's copy."""
        if not is_uri(source):
            return colorize_job(self.model, source, target, **self.options)
        try:
            local = fetch(source, self.scratch)
        except OSError as error:
            return str(error)
        try:
            why = colorize_job(self.model, local, target, **self.options)
        finally:
            local.unlink(missing_ok=True)
        return None if why is None else why.replace(str(local), source)

    def __del__(self):
        shutil.rmtree(getattr(self, "scratch", ""), ignore_errors=True)


def _use_assigned_cpus() -> None:
    """TensorFlow's thread pools sized to the CPUs Ray gave this worker (Ray sets
    OMP_NUM_THREADS so for numpy's BLAS, which TensorFlow does not read): workers sharing a
    machine then do not fight over its cores."""
    import ray

    try:
        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
    except AssertionError:  # not a Ray worker (e.g. a test calling one in its own process)
        return
    if not cpus:
        return
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        threads = max(1, int(cpus))
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # TensorFlow already running in this process: leave it
            pass


def colorize_jobs(jobs: Sequence[tuple[Any, Path]], model: str, *, options: dict[str, Any],
                  overwrite: bool = False, workers: int | None = None, quiet: bool = False
                  ) -> tuple[int, list[tuple[Any, str]], int]:
    """Run a plan's ``jobs`` on Ray: (written, [(source, why) of each failure, in plan order],
    outputs found existing when their turn came).

    ``model`` is what ``from_pretrained`` takes (a local folder is made absolute for the
    workers); ``workers`` is the number of actors (default: one a CPU of the cluster). Starts Ray
    on this machine unless it is running or ``RAY_ADDRESS`` names a cluster, and stops it again
    if it started it.
    """
    if not jobs:
        return 0, [], 0
    import ray

    started = not ray.is_initialized()
    if started:
        _init_ray(quiet)
    try:
        return _run(ray, jobs, _absolute_model(model), options, overwrite, workers, quiet)
    finally:
        if started:
            ray.shutdown()


def _init_ray(quiet: bool) -> None:
    import logging

    import ray

    # Ray's own notices (its log files keep them) would bury the summary; workers' output shows
    # unless --quiet.
    ray.init(include_dashboard=False, logging_level=logging.ERROR, log_to_driver=not quiet)


def _absolute_model(model: str) -> str:
    local = Path(model).expanduser()
    return str(local.resolve()) if local.is_dir() else model


def _absolute(path: Any) -> str:
    return str(path) if isinstance(path, _UriPath) else str(Path(path).absolute())


def _run(ray, jobs, model, options, overwrite, workers, quiet):
    import logging

    import ray.data
    from tqdm import tqdm

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # one bar of ours, not one an operator
    logging.getLogger("ray.data").setLevel(logging.ERROR)  # (it says so, and the time taken)
    cpus = int(ray.cluster_resources().get("CPU", 1))
    largest_node = max((int(node["Resources"].get("CPU", 0)) for node in ray.nodes()
                        if node.get("Alive")), default=1)
    workers = max(1, workers or cpus)
    rows = [{"index": i, "source": _absolute(source), "target": _absolute(target)}
            for i, (source, target) in enumerate(jobs)]
    # Enough blocks that every actor gets work, few enough that each is a real batch.
    blocks = min(len(rows), max(2 * workers, math.ceil(len(rows) / ROWS_PER_BATCH)))
    dataset = ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
        ColorizeWorker, batch_size=ROWS_PER_BATCH, batch_format="numpy",
        compute=ray.data.ActorPoolStrategy(size=workers),
        num_cpus=_cpus_each(cpus, workers, max(1, largest_node)),
        fn_constructor_kwargs={"model": model, "options": options, "overwrite": overwrite})
    answers: dict[int, tuple[str, str]] = {}
    try:
        with tqdm(total=len(rows), desc="colorizing", unit="image", disable=quiet) as bar:
            for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
                for index, status, error in zip(batch["index"], batch["status"], batch["error"]):
                    answers[int(index)] = (str(status), str(error))
                bar.update(len(batch["index"]))
    except ray.exceptions.RayError as error:  # a worker that cannot start, a lost cluster
        lines = [line for line in str(error).splitlines() if line.strip()]
        raise OSError(
            f"the Ray job stopped after {len(answers)} of {len(rows)} photos "
            f"({type(error).__name__}: {lines[-1] if lines else ''}); what was written stays, "
            f"and the same command goes on from there") from error
    return _tally(jobs, answers)


def _cpus_each(cpus: int, workers: int, largest_node: int) -> float:
    """The cluster's CPUs shared among the workers: whole ones, no more than one machine has,
    or a share of one where there are more workers than CPUs."""
    return float(min(cpus // workers, largest_node)) if workers <= cpus else cpus / workers


def _tally(jobs, answers: dict[int, tuple[str, str]]
           ) -> tuple[int, list[tuple[Any, str]], int]:
    """(written, failures in plan order, found existing) from each job's (status, error)."""
    statuses = [status for status, _ in answers.values()]
    written, existed = statuses.count("written"), statuses.count("existed")
    failed = []
    for index, (source, target) in enumerate(jobs):
        status, why = answers.get(index, ("failed", "no result came back from the workers"))
        if status == "failed":  # named as given, as the CLI names them
            for absolute, given in ((_absolute(source), str(source)),
                                    (_absolute(target), str(target))):
                why = why.replace(absolute, given)
            failed.append((source, why))
    return written, failed, existed
