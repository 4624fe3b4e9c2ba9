"""A minimal stand-in for the Hugging Face Hub's download and commit APIs, served on 127.0.0.1.

Downloads: the three calls ``huggingface_hub.snapshot_download`` makes (huggingface_hub 1.x):
revision info, the file tree of a commit, and HEAD/GET of a file at a commit. Commits: the calls
``HfApi.create_repo`` and ``HfApi.create_commit`` make: create a repo (409 when it exists),
validate a model card's YAML (accepted as it is), "preupload" (which answers "regular" for every
file, so the client sends each file base64-encoded inside the commit; the real Hub takes large
binary files through Xet/LFS storage, which this stand-in does not implement) and the commit
itself (an NDJSON body: header, then files). Repos are held in memory as
``{repo_id: {"refs": {"main": sha}, "commits": {sha: {path: bytes}}, "log": [sha, ...]}}``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse


def commit_of(files: dict[str, bytes]) -> str:
    """A stable 40-hex commit id for a set of files."""
    digest = hashlib.sha1()
    for path in sorted(files):
        digest.update(path.encode() + hashlib.sha1(files[path]).digest())
    return digest.hexdigest()


def git_blob_sha(data: bytes) -> str:
    """The id git (and the Hub's preupload answer) gives a file's content."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def folder_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


class FakeHub:
    def __init__(self):
        self.repos: dict[str, dict] = {}
        self.requests: list[str] = []
        self.commit_messages: list[str | None] = []
        self.file_delay_s = 0.0  # wait this long before sending a file (a slow download)
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add_commit(self, repo_id: str, files: dict[str, bytes], ref: str = "main",
                   parent: str | None = None) -> str:
        repo = self.repos.setdefault(repo_id, {"refs": {}, "commits": {}, "log": []})
        # A commit's id depends on its parent too (the first keeps the old, content-only id).
        sha = commit_of({**files, ".parent": parent.encode()}) if parent else commit_of(files)
        repo["commits"][sha] = dict(files)
        repo["refs"][ref] = sha
        repo["log"].append(sha)
        return sha

    def start(self) -> "FakeHub":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output clean
                pass

            def _send(self, status, body=b"", headers=None, head=False):
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def _json(self, payload):
                self._send(200, json.dumps(payload).encode(),
                           {"Content-Type": "application/json"})

            def _not_found(self, code, head=False):
                self._send(404, json.dumps({"error": code}).encode(),
                           {"X-Error-Code": code, "X-Error-Message": code}, head)

            def _lookup(self, repo_id, revision):
                repo = hub.repos.get(repo_id)
                if repo is None:
                    return None, None, "RepoNotFound"
                sha = repo["refs"].get(revision, revision)
                if sha not in repo["commits"]:
                    return repo, None, "RevisionNotFound"
                return repo, sha, None

            def _route(self, head=False):
                path = unquote(urlparse(self.path).path)
                hub.requests.append(f"{self.command} {path}")
                parts = path.strip("/").split("/")
                if parts[:2] == ["api", "models"] and len(parts) >= 6 and parts[4] in ("revision", "tree"):
                    repo_id, kind, revision = "/".join(parts[2:4]), parts[4], parts[5]
                    repo, sha, error = self._lookup(repo_id, revision)
                    if error:
                        return self._not_found(error, head)
                    files = repo["commits"][sha]
                    if kind == "revision":
                        return self._json({"id": repo_id, "modelId": repo_id, "sha": sha,
                                           "private": False,
                                           "siblings": [{"rfilename": f} for f in sorted(files)]})
                    return self._json([
                        {"type": "file", "path": f, "size": len(data),
                         "oid": hashlib.sha1(data).hexdigest()}
                        for f, data in sorted(files.items())
                    ])
                if len(parts) >= 5 and parts[2] == "resolve":
                    repo_id, revision, filename = "/".join(parts[:2]), parts[3], "/".join(parts[4:])
                    repo, sha, error = self._lookup(repo_id, revision)
                    if error:
                        return self._not_found(error, head)
                    data = repo["commits"][sha].get(filename)
                    if data is None:
                        return self._not_found("EntryNotFound", head)
                    if not head:
                        time.sleep(hub.file_delay_s)
                    return self._send(200, data, {
                        "ETag": f'"{hashlib.sha1(data).hexdigest()}"',
                        "X-Repo-Commit": sha,
                        "Content-Type": "application/octet-stream",
                    }, head)
                return self._not_found("RepoNotFound", head)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _post(self):
                path = unquote(urlparse(self.path).path)
                hub.requests.append(f"POST {path}")
                parts = path.strip("/").split("/")
                body = self._body()
                if parts == ["api", "repos", "create"]:
                    request = json.loads(body)
                    repo_id = f"{request.get('organization') or 'user'}/{request['name']}"
                    if repo_id in hub.repos:  # the Hub's answer names the repo's URL too
                        return self._send(409, json.dumps({
                            "error": "You already created this model repo",
                            "url": f"{hub.endpoint}/{repo_id}"}).encode(),
                            {"Content-Type": "application/json"})
                    hub.repos[repo_id] = {"refs": {}, "commits": {}, "log": []}
                    return self._json({"url": f"{hub.endpoint}/{repo_id}", "name": repo_id})
                if parts == ["api", "validate-yaml"]:
                    return self._json({"errors": [], "warnings": []})
                if parts[:2] == ["api", "models"] and len(parts) >= 6 and \
                        parts[4] in ("preupload", "commit"):
                    repo_id, kind, revision = "/".join(parts[2:4]), parts[4], parts[5]
                    repo = hub.repos.get(repo_id)
                    if repo is None:
                        return self._not_found("RepoNotFound")
                    current = repo["commits"].get(repo["refs"].get(revision), {})
                    if kind == "preupload":
                        return self._json({"files": [
                            {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False,
                             "oid": git_blob_sha(current[f["path"]]) if f["path"] in current
                             else None}
                            for f in json.loads(body)["files"]]})
                    files, summary = dict(current), None
                    for line in body.decode().splitlines():
                        item = json.loads(line)
                        if item["key"] == "header":
                            summary = item["value"]["summary"]
                        elif item["key"] == "file" and item["value"]["encoding"] == "base64":
                            value = item["value"]
                            files[value["path"]] = base64.b64decode(value["content"])
                        else:  # lfsFile, deletedFile, ...: not needed by this project's pushes
                            return self._send(400, json.dumps(
                                {"error": f"unsupported {item['key']}"}).encode())
                    sha = hub.add_commit(repo_id, files, ref=revision,
                                         parent=repo["refs"].get(revision))
                    hub.commit_messages.append(summary)
                    return self._json({"commitUrl": f"{hub.endpoint}/{repo_id}/commit/{sha}",
                                       "commitOid": sha, "pullRequestUrl": None})
                return self._not_found("RepoNotFound")

            def do_GET(self):
                self._route()

            def do_POST(self):
                self._post()

            def do_HEAD(self):
                self._route(head=True)

        return Handler


class StalledHub:
    """An endpoint on 127.0.0.1 that accepts connections and never answers (a stalled Hub)."""

    def __init__(self):
        import socket

        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.connections = []
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:  # closed by stop()
                return
            self.connections.append(connection)  # held open, never read or answered

    def start(self) -> "StalledHub":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.socket.close()
        for connection in self.connections:
            connection.close()


class DripHub:
    """An endpoint on 127.0.0.1 that answers every request one byte every ``interval`` seconds
    (status line, headers and a long body): each wait is short, so no per-read timeout trips."""

    ANSWER = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n"
              b"\r\n" + b" " * 100000)

    def __init__(self, interval: float = 1.0):
        import socket

        self.interval = interval
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.stopped = threading.Event()
        self.connections = 0
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.socket.getsockname()[1]}"

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                connection, _ = self.socket.accept()
            except OSError:  # closed by stop()
                return
            self.connections += 1
            threading.Thread(target=self._drip, args=(connection,), daemon=True).start()

    def _drip(self, connection) -> None:
        with connection:
            try:
                request = b""
                while b"\r\n\r\n" not in request:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    request += chunk
                for byte in self.ANSWER:
                    if self.stopped.wait(self.interval):
                        return
                    connection.sendall(bytes([byte]))
            except OSError:  # the client hung up
                return

    def start(self) -> "DripHub":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopped.set()
        self.socket.close()
