"""A quiet TensorFlow start-up, set up once by ``import colorizer`` (before TensorFlow loads).

TensorFlow logs through absl from C++; ``TF_CPP_MIN_LOG_LEVEL`` (default here 3: fatal only)
filters its messages, but not those written before absl is initialised, during ``import
tensorflow`` itself ("WARNING: All log messages before absl::InitializeLog() ...", "Could not
find cuda drivers on your machine", a CPU machine's "failed call to cuInit": lines that read
as failures). No environment variable reaches those, so the first ``import tensorflow`` (by
Keras or by us) runs with file descriptor 2 sent to a temporary file, and everything written
there is passed on afterwards except absl/TensorFlow log lines below the chosen level.
``TF_CPP_MIN_LOG_LEVEL=0`` shows everything, unfiltered.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import os
import re
import sys
import tempfile

ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "3"}  # defaults; a value already set wins

_BEFORE_ABSL = "All log messages before absl::InitializeLog() is called are written to STDERR"
# "I0000 00:00:1795791186.370916   16896 cudart_stub.cc:31] ..." (absl) and
# "2025-09-17 14:44:05.157831: I external/.../cudart_stub.cc:32] ..." (older TensorFlow)
_LOG_LINE = re.compile(r"^(?:([IWEF])\d{4} [\d:.]+ +\d+ |"
                       r"\d{4}-\d\d-\d\d [\d:.]+: ([IWEF]) )\S+:\d+\]")
_LEVELS = "IWEF"


def _min_level() -> int:
    try:
        return int(os.environ.get("TF_CPP_MIN_LOG_LEVEL", "0"))
    except ValueError:
        return 0


def is_noise(line: str, min_level: int) -> bool:
    """Whether ``line`` is absl/TensorFlow start-up logging below ``min_level`` (0..3)."""
    if _BEFORE_ABSL in line:
        return min_level > 0
    match = _LOG_LINE.match(line)
    return bool(match) and _LEVELS.index(match.group(1) or match.group(2)) < min_level


@contextlib.contextmanager
def filtered_stderr():
    """Send file descriptor 2 to a temporary file; on exit pass on what is not noise."""
    min_level = _min_level()
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable stderr: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            text = capture.read().decode("utf-8", errors="replace")
            kept = "".join(line for line in text.splitlines(keepends=True)
                           if not is_noise(line, min_level))
            if kept:
                os.write(2, kept.encode("utf-8"))


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        try:
            with filtered_stderr():
                self.loader.exec_module(module)
        finally:  # the module keeps its own loader
            module.__loader__ = self.loader
            if module.__spec__ is not None:
                module.__spec__.loader = self.loader


class _QuietFinder(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once, with a loader that runs its import under filtered_stderr."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        if spec is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _QuietLoader(spec.loader)
        return spec


def _not_retracing(record) -> bool:
    """False for TensorFlow's "N out of the last M calls ... triggered tf.function retracing".

    Keras traces a model's predict function once per input shape, on purpose: each render size
    of a fully convolutional model, a last partial batch, a hint model's inputs. TensorFlow's
    heuristic then warns of "expensive" retracing on every demo or evaluation run; it is
    expected here, and read as a fault by whoever reads the log."""
    return "triggered tf.function retracing" not in record.getMessage()


def install() -> None:
    """Set the logging defaults and filter the first ``import tensorflow`` (idempotent)."""
    for key, value in ENVIRONMENT.items():
        os.environ.setdefault(key, value)
    import logging

    tf_logger = logging.getLogger("tensorflow")  # (TensorFlow's Python logger, made lazily)
    if _not_retracing not in tf_logger.filters:
        tf_logger.addFilter(_not_retracing)
    if "tensorflow" in sys.modules or _min_level() <= 0:
        return
    if not any(isinstance(finder, _QuietFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())
