"""Starts the whole system (`ventanilla run`) as a child process on free ports, for tests and
benchmarks, and waits until /health says every part is ready."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from core.settings import PROJECT_ROOT

READY_TIMEOUT = 420


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningSystem:
    base_url: str
    ws_url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def system_env(var_dir: Path, **overrides: str) -> dict[str, str]:
    """Environment for a system on free ports, with its own database, sharing the trained model."""
    env = dict(os.environ)
    env.update(
        {
            "VENTANILLA_PORT": str(free_port()),
            "VENTANILLA_RASA_PORT": str(free_port()),
            "VENTANILLA_ACTION_PORT": str(free_port()),
            "VENTANILLA_VAR_DIR": str(var_dir),
            "VENTANILLA_MODELS_DIR": str(PROJECT_ROOT / "var" / "models"),
            # One Rasa token for the system and any gateway added to it (`start_gateway`).
            "VENTANILLA_RASA_TOKEN": secrets.token_urlsafe(24),
        }
    )
    env.update(overrides)
    return env


def seed_knowledge_base(var_dir: Path, env: dict[str, str]) -> None:
    """Give a new system the shipped articles: a copy of the project's index (so nothing is
    embedded again) and the articles imported into the system's own database."""
    source = PROJECT_ROOT / "var" / "kb" / "index"
    target = var_dir / "kb"
    if not source.exists() or (target / "index").exists():
        return
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(os.path.realpath(source), target / ".index.seed")
    (target / "index").symlink_to(".index.seed")
    subprocess.run(
        [sys.executable, "-m", "ventanilla.cli", "kb", "sync"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )


def start_system(var_dir: Path, knowledge_base: bool = True, **overrides: str) -> RunningSystem:
    """The whole system on free ports with its own database; with the shipped articles unless
    `knowledge_base` is False."""
    env = system_env(var_dir, **overrides)
    var_dir.mkdir(parents=True, exist_ok=True)
    if knowledge_base:
        seed_knowledge_base(var_dir, env)
    # The fictitious registry and schedule, for the booking dialogue.
    subprocess.run(
        [sys.executable, "-m", "ventanilla.cli", "seed-demo", "--if-needed"],
        cwd=PROJECT_ROOT, env=env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    log_path = var_dir / "system.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "ventanilla.cli", "run"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    port = env["VENTANILLA_PORT"]
    running = RunningSystem(
        f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/webchat/ws", process, log_path, env
    )
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the system exited while starting:\n{running.log()[-4000:]}")
        try:
            if httpx.get(f"{running.base_url}/health", timeout=3).status_code == 200:
                return running
        except httpx.HTTPError:
            pass
        time.sleep(1)
    stop_system(running)
    raise RuntimeError(f"the system was not ready in {READY_TIMEOUT}s:\n{running.log()[-4000:]}")


def stop_system(running: RunningSystem, timeout: float = 30) -> int:
    if running.process.poll() is None:
        running.process.send_signal(signal.SIGINT)
        try:
            running.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            running.process.kill()
            running.process.wait()
    return running.process.returncode


def start_gateway(system: RunningSystem, **overrides: str) -> RunningSystem:
    """One more gateway process for a running system, as behind a load balancer: the same
    settings (database, Redis, Rasa and action server ports) on a port of its own."""
    env = dict(system.env)
    env["VENTANILLA_PORT"] = str(free_port())
    env.update(overrides)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    port = env["VENTANILLA_PORT"]
    log_path = Path(env["VENTANILLA_VAR_DIR"]) / f"gateway-{port}.log"
    with log_path.open("wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "ventanilla.app:create_app", "--factory",
             "--host", "127.0.0.1", "--port", port, "--no-access-log"],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    running = RunningSystem(
        f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/webchat/ws", process, log_path, env
    )
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the gateway exited while starting:\n{running.log()[-4000:]}")
        try:
            if httpx.get(f"{running.base_url}/health", timeout=3).status_code == 200:
                return running
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    stop_system(running)
    raise RuntimeError(f"the gateway was not ready in {READY_TIMEOUT}s:\n{running.log()[-4000:]}")


def create_account(
    system: RunningSystem, username: str, role: str, campaigns: list[str], password: str
) -> None:
    """A staff account in a running system's database, through the real CLI."""
    args = [sys.executable, "-m", "ventanilla.cli", "users", "create", username]
    args += ["--role", role, "--password-stdin"]
    for campaign in campaigns:
        args += ["--campaign", campaign]
    result = subprocess.run(
        args,
        input=password + "\n",
        text=True,
        env=system.env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        timeout=60,
    )
    if result.returncode != 0:
        raise RuntimeError(f"could not create {username}: {result.stdout}{result.stderr}")
