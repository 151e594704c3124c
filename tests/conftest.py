"""Shared fixtures. `system` runs the whole system (Rasa, action server, gateway) as processes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ventanilla.launcher import RunningSystem, start_system, stop_system


@pytest.fixture(scope="session")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    running = start_system(tmp_path_factory.mktemp("system"))
    yield running
    stop_system(running)
