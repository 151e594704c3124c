"""`ventanilla bench channels` on a small burst: a gateway process, both fake providers, and the
verdict it prints on exactly-once-and-in-order."""

from __future__ import annotations

from typer.testing import CliRunner

from ventanilla.cli import app


def test_a_small_burst_is_answered_once_and_in_order_on_both_channels() -> None:
    result = CliRunner().invoke(
        app, ["bench", "channels", "--webhooks", "12", "--conversations", "4", "--runs", "1"]
    )
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if "mediana" in line]
    assert len(rows) == 2  # telegram and whatsapp
    assert all(row.rstrip(" │").endswith("sí") for row in rows), result.output
