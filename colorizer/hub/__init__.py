"""The Hub side of model folders: a zoo name, local folder or Hub repo -> a local folder
(:func:`resolve`), and folders -> Hub commits (:func:`push_folder`, :func:`commit_folder`).
It never builds a model: :meth:`colorizer.Colorizer.from_pretrained` and ``push_to_hub`` do.

Offline first: a zoo name loads its weight folder when there is one (``weights/``), else the
revision the zoo manifest pins; a Hub repo id downloads through
``huggingface_hub.snapshot_download`` into the normal cache (revision pinning, ``HF_HUB_OFFLINE``,
tokens from the argument or the environment), and a cached copy is used with a warning when the
Hub cannot be reached. Only config.json and model.weights.h5 are read from a download; no code or
pickle from it is executed. Finding a model's folder (:func:`resolve`) imports no TensorFlow.

Every wait of a Hub request (to connect, for the next bytes) times out after
``COLORIZER_HUB_TIMEOUT`` seconds (default 30), so a stalled Hub is a :class:`HubError`, not a
hang; and every whole Hub call (a download with its metadata requests, a push) ends within
``COLORIZER_HUB_DEADLINE`` seconds (default 600), however slowly a server drips its answer. A
download cut off so falls back on the cached copy where there is one. ``hf://user/name`` always
means the Hub, even where a local folder ``user/name`` exists.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from colorizer.hub.folder_files import (
    CARD_NAME,
    FOLDER_FILES,
    WEIGHTS_NAME,
    resolve_model_folder,
)
from colorizer.hub.zoo import find_pretrained, list_pretrained, manifest_path, weights_dir

if TYPE_CHECKING:
    from huggingface_hub import CommitInfo


class HubError(OSError):
    """The Hub could not give a model: repo or revision missing, or unreachable and not cached."""


class HubDeadlineError(HubError, TimeoutError):
    """A Hub call that did not finish within ``COLORIZER_HUB_DEADLINE`` seconds."""


DEFAULT_HUB_TIMEOUT_S = 30.0
DEFAULT_HUB_DEADLINE_S = 600.0
_TIMEOUT_KEYS = ("connect", "read", "write", "pool")
_bounded = False
_call = threading.local()  # .cancelled: the Event of the deadline-bound call on this thread


def _seconds(variable: str, default: float) -> float:
    value = os.environ.get(variable, "")
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds < float("inf"):
        raise ValueError(f"{variable} must be a positive number of seconds, got {value!r}")
    return seconds


def hub_timeout() -> float:
    """Seconds a Hub request may wait to connect or for data: ``COLORIZER_HUB_TIMEOUT``, or 30."""
    return _seconds("COLORIZER_HUB_TIMEOUT", DEFAULT_HUB_TIMEOUT_S)


def hub_deadline() -> float:
    """Seconds a whole Hub call may take: ``COLORIZER_HUB_DEADLINE``, or 600."""
    return _seconds("COLORIZER_HUB_DEADLINE", DEFAULT_HUB_DEADLINE_S)


def within_deadline(call, what: str):
    """``call()`` bounded by hub_deadline() in wall-clock time.

    httpx's timeouts bound each wait, not a whole request: a server that sends a byte every few
    seconds never trips them. So the call runs on a worker thread and the caller stops waiting
    at the deadline (a :class:`HubDeadlineError`); the worker's next request, or next chunk of a
    response it is reading, then fails (:func:`_bound_timeouts`, :func:`_cut_off_when_cancelled`),
    so it does not go on downloading for nobody. Every Hub request of huggingface_hub made on
    the worker is covered, its own metadata requests included.
    """
    seconds = hub_deadline()
    cancelled = threading.Event()
    outcome: dict = {}

    def work():
        _call.cancelled = cancelled
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the caller
            outcome["error"] = error

    worker = threading.Thread(target=work, name="colorizer-hub-call", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        cancelled.set()
        raise HubDeadlineError(f"{what} did not finish within {seconds:g} s "
                               "(COLORIZER_HUB_DEADLINE sets the limit)")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def _cancelled() -> bool:
    event = getattr(_call, "cancelled", None)
    return event is not None and event.is_set()


def _bound_timeouts(request) -> None:
    """httpx request hook: every timeout the caller left unset (None) becomes hub_timeout(), and
    a request of a call past its deadline is not sent.

    huggingface_hub passes ``timeout=None`` for its API calls (repo_info, the first step of a
    download), which overrides any client default, so the bound is set on each request.
    """
    if _cancelled():
        raise _http_module(request).TimeoutException("the Hub call's deadline has passed",
                                                     request=request)
    timeouts = dict(request.extensions.get("timeout") or {})
    request.extensions["timeout"] = {
        key: hub_timeout() if timeouts.get(key) is None else timeouts[key] for key in _TIMEOUT_KEYS}


def _http_module(message):
    """The HTTP library of a request or response (huggingface_hub 1.x uses httpx, 2.x httpx2,
    which have the same API)."""
    return sys.modules[type(message).__module__.split(".")[0]]


def _cut_off_when_cancelled(response) -> None:
    """httpx response hook: the body of a deadline-bound call's response is cut off at its next
    chunk once the deadline has passed (see within_deadline)."""
    cancelled = getattr(_call, "cancelled", None)
    http = _http_module(response)
    if cancelled is None or not isinstance(response.stream, http.SyncByteStream):
        return
    stream = response.stream

    class CutOff(http.SyncByteStream):
        def __iter__(self):
            for chunk in stream:
                if cancelled.is_set():
                    raise http.ReadTimeout("the Hub call's deadline has passed")
                yield chunk

        def close(self) -> None:
            stream.close()

    response.stream = CutOff()


def bound_hub_timeouts() -> None:
    """Make huggingface_hub's shared HTTP client time out (done once, before any Hub call).

    The client factory in place (huggingface_hub's own, or one the user set) is kept; its
    clients get one more request hook, :func:`_bound_timeouts`.
    """
    global _bounded
    if _bounded:
        return
    from huggingface_hub import set_client_factory
    from huggingface_hub.utils import _http

    previous = getattr(_http, "_GLOBAL_CLIENT_FACTORY", _http.default_client_factory)

    def factory():
        client = previous()
        hooks = client.event_hooks
        hooks["request"] = [*hooks.get("request", []), _bound_timeouts]
        hooks["response"] = [*hooks.get("response", []), _cut_off_when_cancelled]
        client.event_hooks = hooks
        return client

    set_client_factory(factory)
    _bounded = True


def _is_timeout(error: BaseException) -> bool:
    return "timeout" in f"{type(error).__name__} {error}".lower().replace(" ", "")


def _looks_like_repo_id(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not name.startswith((".", "/", "~"))


def download(repo_id: str, revision: str | None = None, cache_dir: str | Path | None = None,
             token: str | None = None) -> Path:
    """Download (or find in the cache) a weight folder from the Hub; return its local path."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    bound_hub_timeouts()
    where = f"{repo_id}@{revision or 'main'}"
    timeout = hub_timeout()
    kwargs = dict(repo_id=repo_id, revision=revision, cache_dir=cache_dir, token=token,
                  allow_patterns=list(FOLDER_FILES), etag_timeout=timeout)
    try:
        return Path(within_deadline(lambda: snapshot_download(**kwargs), f"downloading {where}"))
    except RepositoryNotFoundError:
        raise HubError(
            f"Hub repo {repo_id!r} does not exist or is private (pass token=... or set HF_TOKEN "
            "for a private repo)"
        ) from None
    except RevisionNotFoundError:
        raise HubError(f"Hub repo {repo_id!r} has no revision {revision!r}") from None
    except LocalEntryNotFoundError as error:
        offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")
        reason = "HF_HUB_OFFLINE is set" if offline else "the Hub cannot be reached"
        if not offline and _is_timeout(error):
            reason = (f"the Hub did not answer within {timeout:g} s (COLORIZER_HUB_TIMEOUT sets "
                      "the limit)")
        raise HubError(f"{reason} and {where} is not in the local cache") from None
    except Exception as error:  # network trouble that snapshot_download did not handle itself
        # (OSError, or an httpx error such as a read timeout in the middle of a file)
        if not isinstance(error, OSError) and not type(error).__module__.startswith("httpx"):
            raise
        why = (f"not done within {hub_deadline():g} s, COLORIZER_HUB_DEADLINE"
               if isinstance(error, HubDeadlineError)
               else f"no answer within {timeout:g} s, COLORIZER_HUB_TIMEOUT" if _is_timeout(error)
               else (str(error).splitlines() or [type(error).__name__])[0])
        try:
            path = Path(snapshot_download(**kwargs, local_files_only=True))
        except LocalEntryNotFoundError:
            raise HubError(f"cannot download {where} ({why}) and it is not cached") from None
        warnings.warn(f"cannot reach the Hub ({why}); using the cached copy of {where}",
                      stacklevel=2)
        return path


def resolve(name_or_repo_or_path: str | Path, revision: str | None = None,
            cache_dir: str | Path | None = None, token: str | None = None) -> Path:
    """The local model folder for a zoo name, a local folder or a Hub repo id."""
    name = str(name_or_repo_or_path)
    if name.startswith("hf://"):  # always the Hub, whatever local folder has the same name
        repo_id = name[len("hf://"):]
        if not _looks_like_repo_id(repo_id):
            raise ValueError(f"{name}: hf:// must be followed by a Hub repo id (user/name)")
        return download(repo_id, revision, cache_dir, token)
    local = Path(name).expanduser()
    if local.is_dir():
        return resolve_model_folder(local)
    entry = find_pretrained(name)
    if entry is not None:
        if entry.local and revision is None:
            return entry.path
        if entry.hub_repo and (revision or entry.revision):  # one asked for, or the pinned one
            try:
                return download(entry.hub_repo, revision or entry.revision, cache_dir, token)
            except HubError as error:
                if not entry.local:
                    raise
                warnings.warn(f"{error}; using the shipped copy of {name}", stacklevel=2)
        if entry.local:
            return entry.path
        raise HubError(
            f"{name} is not published on the Hub yet ({manifest_path()} pins no revision of it) "
            f"and its weights are not here ({weights_dir() / name}): use a source checkout "
            "with weights/ or set COLORIZER_WEIGHTS")
    if _looks_like_repo_id(name):
        return download(name, revision, cache_dir, token)
    known = ", ".join(entry.name for entry in list_pretrained()) or "none shipped"
    raise ValueError(
        f"unknown model {name!r}: not a zoo name ({known}), a model folder or a Hub repo id "
        "(user/name)"
    )


def push_folder(source: str | Path, repo_id: str, *, private: bool = False,
                token: str | None = None, commit_message: str = "Upload colorizer model") -> str:
    """Publish a saved model folder (or a run folder's best model) to ``repo_id`` in one commit;
    return its URL. (A model object: :meth:`colorizer.Colorizer.push_to_hub`.)

    The repo is created if needed. The commit holds the whole weight folder (config.json,
    model.weights.h5 and, when present, prior.json, metrics.json and curves.png) and a model card.
    """
    # (cards, the config check and the public check import TensorFlow: only when pushing)
    from colorizer.hub.card import CARD_MARK, write_model_card
    from colorizer.hub.folder import read_config
    from colorizer.hub.public import check_public, make_public

    source = resolve_model_folder(source)
    read_config(source)
    if not (source / WEIGHTS_NAME).is_file():
        raise FileNotFoundError(f"{source / WEIGHTS_NAME} is missing; nothing to push")
    with tempfile.TemporaryDirectory() as staging:
        folder = Path(staging) / "model"
        folder.mkdir()
        for name in FOLDER_FILES:
            if (source / name).is_file():
                shutil.copy2(source / name, folder / name)
        make_public(folder)  # no local paths of this machine go public
        card = folder / CARD_NAME
        if not card.is_file() or CARD_MARK in card.read_text(encoding="utf-8", errors="replace"):
            write_model_card(folder, repo_id=repo_id)  # ours: anew, from the public records
        check_public(folder)  # a hand-written card, or a path outside the path fields
        return commit_folder(folder, repo_id, private=private, token=token,
                             commit_message=commit_message).commit_url


def commit_folder(folder: Path, repo_id: str, *, private: bool = False, token: str | None = None,
                  commit_message: str) -> CommitInfo:
    """Every file of ``folder`` to the model repo ``repo_id`` (created if needed) in one commit.

    Files that are already there unchanged are left out; with no change at all there is no new
    commit and the returned ``oid`` is the current one.
    """
    from huggingface_hub import CommitOperationAdd, HfApi

    bound_hub_timeouts()
    api = HfApi(token=token)

    def commit() -> CommitInfo:
        api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
        operations = [CommitOperationAdd(path_in_repo=path.name, path_or_fileobj=str(path))
                      for path in sorted(Path(folder).iterdir()) if path.is_file()]
        return api.create_commit(repo_id=repo_id, operations=operations, repo_type="model",
                                 commit_message=commit_message)

    try:
        return within_deadline(commit, f"pushing to {repo_id}")
    except HubDeadlineError as error:
        raise HubError(f"cannot push to {repo_id} ({error})") from None
    except Exception as error:  # an httpx timeout or network error is not an OSError
        if isinstance(error, OSError) or not type(error).__module__.startswith("httpx"):
            raise
        why = (f"no answer within {hub_timeout():g} s, COLORIZER_HUB_TIMEOUT"
               if _is_timeout(error) else f"{type(error).__name__}: {error}")
        raise HubError(f"cannot push to {repo_id} ({why})") from None
