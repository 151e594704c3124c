"""Runs the Rasa server, the action server and the gateway together.

One Ctrl-C (or SIGTERM) stops all three. A child that dies on its own is reported by name and
exit code, and the others are stopped with it: nothing is silently left behind.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from core.settings import PROJECT_ROOT, Settings, get_settings
from ventanilla.training import ensure_model, rasa_env, rasa_executable

STOP_GRACE_SECONDS = 10.0
GATEWAY_DRAIN_SECONDS = 5  # open connections (web chat sockets, event streams) get this long
READY_TIMEOUT_SECONDS = 300.0


@dataclass
class Service:
    name: str
    argv: list[str]
    env: dict[str, str]
    stop_grace: float = STOP_GRACE_SECONDS
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)


def build_services(settings: Settings, model: Path) -> list[Service]:
    """Rasa, the action server and the gateway. Rasa and the action server listen on loopback
    only; Rasa's HTTP API wants a token (the configured one, or one made for this start) that the
    gateway is given."""
    main_python = sys.executable
    main_env = dict(os.environ)
    main_env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(PROJECT_ROOT), main_env.get("PYTHONPATH")])
    )
    token = (
        settings.rasa_token.get_secret_value() if settings.rasa_token else secrets.token_urlsafe(32)
    )
    gateway_env = {**main_env, "VENTANILLA_RASA_TOKEN": token}
    actions_env = {**main_env, "SANIC_HOST": settings.action_host}  # rasa_sdk reads its host here
    return [
        Service(
            "rasa",
            [
                str(rasa_executable(settings)), "run",
                "--enable-api",
                "--model", str(model),
                "--endpoints", str(PROJECT_ROOT / "bot" / "endpoints.yml"),
                "--credentials", str(PROJECT_ROOT / "bot" / "credentials.yml"),
                "--interface", "127.0.0.1",
                "--port", str(settings.rasa_port),
                "--auth-token", token,
            ],
            rasa_env(settings),
        ),
        Service(
            "actions",
            [main_python, "-m", "rasa_sdk", "--actions", "actions",
             "--port", str(settings.action_port),
             "--endpoints", str(PROJECT_ROOT / "bot" / "endpoints.yml")],
            actions_env,
        ),
        Service(
            "gateway",
            [main_python, "-m", "uvicorn", "ventanilla.app:create_app", "--factory",
             "--host", settings.host, "--port", str(settings.port), "--no-access-log",
             "--timeout-graceful-shutdown", str(GATEWAY_DRAIN_SECONDS)],
            gateway_env,
            # Time to finish the turns under way (a Rasa call may take its whole timeout).
            stop_grace=settings.rasa_timeout_seconds + GATEWAY_DRAIN_SECONDS + 5,
        ),
    ]  # fmt: skip


def _relay(name: str, stream) -> None:  # type: ignore[no-untyped-def]
    width = 8
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", errors="replace").rstrip()
        sys.stdout.write(f"{name:<{width}}| {line}\n")
        sys.stdout.flush()


class Supervisor:
    def __init__(self, services: list[Service]):
        self.services = services
        self._stopping = threading.Event()

    def start(self) -> None:
        for service in self.services:
            service.process = subprocess.Popen(
                service.argv,
                cwd=PROJECT_ROOT,
                env=service.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stopped as a whole
            )
            threading.Thread(
                target=_relay, args=(service.name, service.process.stdout), daemon=True
            ).start()
            say(f"iniciado {service.name} (pid {service.process.pid})")

    def exited(self) -> Service | None:
        for service in self.services:
            if service.process is not None and service.process.poll() is not None:
                return service
        return None

    def wait_ready(self, health_url: str, timeout: float = READY_TIMEOUT_SECONDS) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self._stopping.is_set():
            if self.exited() is not None:
                return False
            try:
                if httpx.get(health_url, timeout=3).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(1)
        return False

    def request_stop(self) -> None:
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def watch(self) -> Service | None:
        """Block until a stop is requested (None) or a child exits on its own (that child)."""
        while not self._stopping.wait(0.5):
            dead = self.exited()
            if dead is not None:
                return dead
        return None

    def stop(self) -> None:
        """Stop the children in the reverse order of their start: the gateway first (it lets
        the turns under way finish, with Rasa still there to answer them), Rasa last."""
        for service in reversed(self.services):
            if service.process is None or service.process.poll() is not None:
                continue
            say(f"deteniendo {service.name}")
            _signal_group(service, signal.SIGTERM)
            try:
                service.process.wait(timeout=service.stop_grace)
            except subprocess.TimeoutExpired:
                say(f"{service.name} no se detuvo a tiempo; se termina a la fuerza")
                _signal_group(service, signal.SIGKILL)
                service.process.wait()
        for service in self.services:  # whatever a child left in its group goes too
            _signal_group(service, signal.SIGKILL)


def _signal_group(service: Service, sig: signal.Signals) -> None:
    if service.process is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(service.process.pid, sig)


def say(message: str) -> None:
    print(f"{'ventanilla':<8}| {message}", flush=True)


def run_system(settings: Settings | None = None) -> int:
    """Train if needed, start everything, wait for readiness, and supervise until stopped."""
    settings = settings or get_settings()
    model = ensure_model(settings=settings)
    supervisor = Supervisor(build_services(settings, model))

    def on_signal(signum: int, _frame: object) -> None:
        supervisor.request_stop()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    supervisor.start()
    try:
        probe_host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
        if supervisor.wait_ready(f"http://{probe_host}:{settings.port}/health"):
            say(f"Listo. Web chat: {settings.public_url}/  ·  API: {settings.public_url}/docs")
            say("Ctrl-C detiene todo.")
        elif supervisor.exited() is None and not supervisor.stopping:
            say(
                f"AVISO: /health no respondió 200 en {READY_TIMEOUT_SECONDS:.0f} s; "
                "revisa los mensajes de arriba. Los procesos siguen en marcha."
            )
        dead = supervisor.watch()
        if dead is not None:
            assert dead.process is not None
            say(
                f"ERROR: {dead.name} terminó inesperadamente (código {dead.process.returncode}); "
                "se detienen los demás procesos."
            )
            return 1
        say("Deteniendo…")
        return 0
    finally:
        supervisor.stop()
        say("Todos los procesos se detuvieron.")
