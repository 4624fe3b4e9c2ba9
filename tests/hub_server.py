"""A minimal stand-in for the Hugging Face Hub's download API, served on 127.0.0.1.

It answers the three calls ``huggingface_hub.snapshot_download`` makes (see shared/REFERENCE.md):
revision info, the file tree of a commit, and HEAD/GET of a file at a commit. Repos are held in
memory as ``{repo_id: {"refs": {"main": sha}, "commits": {sha: {path: bytes}}}}``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlparse


def commit_of(files: dict[str, bytes]) -> str:
    """A stable 40-hex commit id for a set of files."""
    digest = hashlib.sha1()
    for path in sorted(files):
        digest.update(path.encode() + hashlib.sha1(files[path]).digest())
    return digest.hexdigest()


def folder_files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


class FakeHub:
    def __init__(self):
        self.repos: dict[str, dict] = {}
        self.requests: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def add_commit(self, repo_id: str, files: dict[str, bytes], ref: str = "main") -> str:
        repo = self.repos.setdefault(repo_id, {"refs": {}, "commits": {}})
        sha = commit_of(files)
        repo["commits"][sha] = dict(files)
        repo["refs"][ref] = sha
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
                    return self._send(200, data, {
                        "ETag": f'"{hashlib.sha1(data).hexdigest()}"',
                        "X-Repo-Commit": sha,
                        "Content-Type": "application/octet-stream",
                    }, head)
                return self._not_found("RepoNotFound", head)

            def do_GET(self):
                self._route()

            def do_HEAD(self):
                self._route(head=True)

        return Handler
