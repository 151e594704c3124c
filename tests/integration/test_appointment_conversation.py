"""Booking, listing and cancelling an appointment through the web chat of the real system
(trained model, Rasa, action server, gateway, the appointments API on the demo data)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from appointments.booking import today_local
from connectors.webchat.client import ChatClient, bot_buttons, bot_texts
from ventanilla.launcher import RunningSystem

pytestmark = pytest.mark.integration


def demo_person(system: RunningSystem, skip: int) -> tuple[str, str]:
    database = Path(system.env["VENTANILLA_VAR_DIR"]) / "ventanilla.db"
    with sqlite3.connect(database) as connection:
        nss, curp = connection.execute(
            "SELECT nss, curp FROM affiliates WHERE coverage_until >= ? AND relationship ="
            " 'titular' ORDER BY id LIMIT 1 OFFSET ?",
            (today_local().isoformat(), skip),
        ).fetchone()
    return nss, curp


def press(chat: ChatClient, frames: list[dict[str, Any]], title: str) -> list[dict[str, Any]]:
    button = next(b for b in bot_buttons(frames) if b["title"].startswith(title))
    return chat.turn(button["title"], payload=button["payload"])


def test_book_list_reschedule_and_cancel(system: RunningSystem) -> None:
    nss, curp = demo_person(system, 3)
    chat = ChatClient(system.ws_url)
    asked = chat.turn("quiero una cita con mi médico familiar")
    assert "NSS y tu CURP" in " ".join(bot_texts(asked))
    asked = press(chat, asked, "Para mí")
    assert "Número de Seguridad Social" in bot_texts(asked)[-1]
    assert "CURP" in bot_texts(chat.turn(nss))[-1]
    asked = chat.turn(curp.lower())  # as people type it
    assert "medicina familiar o de dentista" in bot_texts(asked)[-1]
    asked = press(chat, asked, "Medicina familiar")
    assert "¿Qué día te acomoda?" in bot_texts(asked)[-1]
    offered = press(chat, asked, "Lo antes posible")
    assert "horarios más cercanos" in bot_texts(offered)[-1]
    slots = [b for b in bot_buttons(offered) if b["payload"].startswith("/choose_slot")]
    assert 3 <= len(slots) <= 5
    first_time = slots[0]["title"]
    confirm = chat.turn(slots[0]["title"], payload=slots[0]["payload"])
    assert f"el {slots[0]['title']}" in bot_texts(confirm)[-1]
    done = bot_texts(chat.turn("sí"))[-1]
    assert "Folio CM-" in done and "15 minutos antes" in done and "(ficticia)" in done
    folio = done.split("Folio ")[1].split(".")[0]

    # «Mis citas»: already identified in this conversation, listed at once.
    listed = chat.turn("mis citas")
    assert any(folio in t for t in bot_texts(listed))

    # «Cambiar esta cita»: another time replaces it (a new folio; the old time is freed).
    asked = press(chat, listed, "Cambiar esta cita")
    assert "Vamos a cambiar tu cita" in bot_texts(asked)[0]
    offered = press(chat, asked, "Lo antes posible")
    slots = [b for b in bot_buttons(offered) if b["payload"].startswith("/choose_slot")]
    assert slots[0]["title"] == first_time  # freed again
    confirm = chat.turn(slots[1]["title"], payload=slots[1]["payload"])
    assert "¿Cambio tu cita" in bot_texts(confirm)[-1]
    moved = bot_texts(chat.turn("sí"))[-1]
    assert slots[1]["title"] in moved and "Folio CM-" in moved
    new_folio = moved.split("Folio ")[1].split(".")[0]
    assert new_folio != folio

    # «Cancelar esta cita».
    listed = chat.turn("mis citas")
    assert [t for t in bot_texts(listed) if "Folio" in t] == [
        t for t in bot_texts(listed) if new_folio in t
    ]
    cancelled = press(chat, listed, "Cancelar esta cita")
    texts = bot_texts(cancelled)
    assert "Cancelé tu cita" in texts[0] and new_folio in texts[0]
    assert "No tienes citas pendientes." in texts[-1]
    chat.close()


def test_a_wrong_nss_is_explained_and_after_three_a_person_is_offered(
    system: RunningSystem,
) -> None:
    chat = ChatClient(system.ws_url)
    asked = chat.turn("quiero agendar una cita")
    press(chat, asked, "Para mí")
    assert "11 dígitos y escribiste 5" in bot_texts(chat.turn("12345"))[0]
    assert "verificador" in bot_texts(chat.turn("92919084432"))[0]
    last = chat.turn("9291908443a")
    assert "solo números" in bot_texts(last)[0]
    assert "tres intentos" in " ".join(bot_texts(last))
    assert "/request_human" in [b["payload"] for b in bot_buttons(last)]
    chat.close()


def test_a_curp_of_someone_else_is_asked_again_with_the_reason(system: RunningSystem) -> None:
    nss, _ = demo_person(system, 5)
    _, other_curp = demo_person(system, 6)
    chat = ChatClient(system.ws_url)
    press(chat, chat.turn("quiero una cita"), "Para mí")
    chat.turn(nss)
    answer = bot_texts(chat.turn(other_curp))
    assert "no corresponde" in answer[0]
    assert "Número de Seguridad Social" in answer[-1]  # both asked again, from the NSS
    chat.close()
