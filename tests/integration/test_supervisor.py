"""`ventanilla run`: a crashed child is reported and nothing is left behind; Ctrl-C stops all."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from ventanilla.launcher import start_system, stop_system

pytestmark = pytest.mark.integration


def children(pid: int) -> list[int]:
    result = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in result.stdout.split()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes.
    state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    return state != "Z"


def test_crash_is_reported_and_everything_stops_then_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    running = start_system(tmp_path / "crash", knowledge_base=False)
    try:
        kids = children(running.process.pid)
        assert len(kids) == 3
        commands = {pid: Path(f"/proc/{pid}/cmdline").read_bytes() for pid in kids}
        (actions,) = [pid for pid, cmd in commands.items() if b"rasa_sdk" in cmd]
        os.kill(actions, signal.SIGKILL)
        running.process.wait(timeout=60)
    finally:
        stop_system(running)
    assert running.process.returncode == 1
    log = running.log()
    assert "actions terminó inesperadamente" in log
    assert "Todos los procesos se detuvieron." in log
    time.sleep(1)
    assert [pid for pid in kids if alive(pid)] == []

    # And a Ctrl-C stops a healthy system with exit code 0, all children gone.
    second = start_system(tmp_path / "ctrl-c", knowledge_base=False)
    kids = children(second.process.pid)
    assert stop_system(second) == 0
    # The gateway first (it finishes its turns with Rasa still up), Rasa last.
    stops = [
        line.split("deteniendo ")[1] for line in second.log().splitlines() if "deteniendo " in line
    ]
    assert stops == ["gateway", "actions", "rasa"]
    time.sleep(1)
    assert [pid for pid in kids if alive(pid)] == []
