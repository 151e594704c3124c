"""Handoff to people against the real system: trained bot, action server, gateway, agents' API.

Each test uses its own campaign, so the agents online in one test do not take another's users.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from connectors.webchat.client import ChatClient, bot_texts
from tests.utils.staff import Staff, create_user, eventually, frames_until, rest_say
from ventanilla.launcher import RunningSystem, start_system, stop_system

pytestmark = pytest.mark.integration

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def closed_now() -> str:
    """Business hours that are surely closed now: one hour tomorrow (Mexico City)."""
    tomorrow = datetime.now(ZoneInfo("America/Mexico_City")) + timedelta(days=1)
    return f"{DAYS[tomorrow.weekday()]} 09:00-10:00"


@pytest.fixture(scope="module")
def handoff_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    running = start_system(
        tmp_path_factory.mktemp("handoff"),
        VENTANILLA_HANDOFF_TICK_SECONDS="0.3",
        VENTANILLA_HANDOFF_OFFER_TIMEOUT_SECONDS="2",
        VENTANILLA_HANDOFF_ABANDON_AFTER_SECONDS="2",
        VENTANILLA_HANDOFF_HOURS=json.dumps({"contribuyente": closed_now()}),
    )
    create_user(running, "ana.derecho", "agent", "derechohabiente")
    create_user(running, "ines.incapacidad", "agent", "incapacidad_maternidad")
    create_user(running, "ciro.cita", "agent", "cita_medica")
    create_user(running, "dena.denuncias", "agent", "denuncias")
    create_user(running, "pia.pension", "agent", "pensionados")
    create_user(running, "paco.pension", "agent", "pensionados")
    create_user(running, "meda.medicamentos", "agent", "entrega_medicamentos")
    create_user(running, "cora.contribuyente", "agent", "contribuyente")
    create_user(running, "sol.salud", "agent", "salud_mental")
    create_user(running, "sara.super", "supervisor")
    create_user(running, "edu.editor", "editor")
    yield running
    stop_system(running)


def request_person(system: RunningSystem, sender: str, campaign: str) -> list[dict]:
    return rest_say(system, sender, f'/request_human{{"campaign": "{campaign}"}}')


def entry_of(staff: Staff, sender_suffix: str) -> dict:
    return next(e for e in staff.queue() if e["sender"].endswith(sender_suffix))


def test_webchat_user_to_agent_and_back_to_the_bot(handoff_system: RunningSystem) -> None:
    system = handoff_system
    ana = Staff(system, "ana.derecho")  # logging in makes her available
    chat = ChatClient(system.ws_url)
    chat.turn("hola")

    queued = bot_texts(chat.turn("quiero hablar con una persona"))[-1]
    assert "Orientación a derechohabientes" in queued and "lugar 1" in queued

    entry = eventually(lambda: [e for e in ana.queue() if e["channel"] == "webchat"])[0]
    assert entry["campaign"] == "derechohabiente" and entry["priority"] == "normal"
    assert entry["sender"] != chat.session  # masked for agents
    assert "quiero hablar con una persona" in entry["summary"]
    claimed = ana.post(f"/api/handoff/conversations/{entry['id']}/claim")
    assert claimed.status_code == 200 and claimed.json()["agent"] == "ana.derecho"
    frames_until(chat, lambda f: f["type"] == "message" and "Ya te atiende" in f["text"])

    # The agent's reply reaches the user on their socket, marked as a person's.
    assert (
        ana.post(
            f"/api/handoff/conversations/{entry['id']}/messages", {"text": "Hola, soy Ana."}
        ).status_code
        == 200
    )
    [reply] = [f for f in frames_until(chat, lambda f: f.get("from") == "agent")]
    assert reply["text"] == "Hola, soy Ana."

    # The user's answer goes to the agent, not to the bot; identifiers are masked for her.
    frames = chat.turn("Mi NSS es 12345678901, no me aparece mi clínica")
    assert bot_texts(frames) == []
    transcript = ana.get(f"/api/handoff/conversations/{entry['id']}").json()
    last = transcript["messages"][-1]
    assert last["author"] == "user" and "12345678901" not in last["text"]
    assert "•••••••••01" in last["text"]
    assert [m["author"] for m in transcript["messages"][:2]] == ["user", "bot"]  # bot part too
    revealed = ana.get(f"/api/handoff/conversations/{entry['id']}", reveal="true").json()
    assert "12345678901" in revealed["messages"][-1]["text"]
    # Revealing shows the person's data, never their web chat session: with it, anyone could
    # open the conversation and write as them. Staff get an opaque label instead.
    assert revealed["sender"].startswith("web-") and chat.session not in str(revealed)

    # Canned response by short code, and an internal note the user never sees.
    ana.post(f"/api/handoff/conversations/{entry['id']}/messages", {"text": "/espera"})
    pushed = frames_until(chat, lambda f: f.get("from") == "agent")
    assert "estoy revisando tu información" in pushed[-1]["text"]
    ana.post(f"/api/handoff/conversations/{entry['id']}/notes", {"text": "Revisar UMF"})

    closed = ana.post(
        f"/api/handoff/conversations/{entry['id']}/close", {"disposition": "resuelto"}
    )
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    frames = frames_until(chat, lambda f: f["type"] == "message" and f["buttons"])
    texts = " ".join(f["text"] for f in frames if f["type"] == "message")
    assert "cerró la conversación" in texts and "del 1 (muy mala) al 5" in texts
    survey = [b for f in frames if f["type"] == "message" for b in f["buttons"]]
    five = next(b for b in survey if b["title"] == "5")

    thanks = bot_texts(chat.turn("5", payload=five["payload"]))
    assert any("Gracias por tu calificación" in t for t in thanks)
    after = ana.get(f"/api/handoff/conversations/{entry['id']}").json()
    assert after["csat"] == 5 and after["disposition"] == "resuelto"
    assert after["notes"][0]["text"] == "Revisar UMF"
    assert all("Revisar UMF" not in m["text"] for m in after["messages"])

    # The bot has the conversation again.
    assert "¿En qué te puedo ayudar?" in bot_texts(chat.turn("hola"))[-1]
    chat.close()

    # Supervisors see the day's figures from the event table.
    sara = Staff(system, "sara.super")
    dashboard = sara.get("/api/handoff/dashboard").json()
    row = next(c for c in dashboard["campaigns"] if c["campaign"] == "derechohabiente")
    assert row["answered"] >= 1 and row["closed"] >= 1 and row["csat_responses"] >= 1
    assert dashboard["containment"]["conversations"] >= 1


def test_suicidal_talk_gets_the_crisis_line_and_goes_first(handoff_system: RunningSystem) -> None:
    system = handoff_system
    sol = Staff(system, "sol.salud")
    sol.put("/api/handoff/me/status", {"status": "available"})
    calm = f"rest-{uuid.uuid4().hex}"
    request_person(system, calm, "salud_mental")
    crisis = f"rest-{uuid.uuid4().hex}"
    replies = rest_say(system, crisis, "ya no quiero vivir, me quiero quitar la vida")
    texts = [r["text"] for r in replies]
    assert any("800 911 2000" in t for t in texts[:-1])  # the crisis line before the queue
    assert "OMT Salud Mental" in texts[-1] and "lugar 1" in texts[-1]
    queue = [e for e in sol.queue() if e["campaign"] == "salud_mental"]
    assert [e["sender"][-4:] for e in queue[:2]] == [crisis[-4:], calm[-4:]]
    assert queue[0]["priority"] == "urgent" and queue[0]["position"] == 1
    for sender in (crisis, calm):
        rest_say(system, sender, "/leave_queue")


def test_an_offer_not_accepted_in_time_goes_to_another_agent(
    handoff_system: RunningSystem,
) -> None:
    system = handoff_system
    pia, paco = Staff(system, "pia.pension"), Staff(system, "paco.pension")
    sender = f"rest-{uuid.uuid4().hex}"
    assert "lugar 1" in request_person(system, sender, "pensionados")[-1]["text"]

    first = eventually(lambda: entry_of(pia, sender[-4:])["offered_to"])
    second = eventually(
        lambda: (o := entry_of(pia, sender[-4:])["offered_to"]) not in (None, first) and o,
        timeout=15,
    )
    assert {first, second} == {"pia.pension", "paco.pension"}
    # The agent whose offer expired can no longer take it: it is offered to the other one.
    late = {"pia.pension": pia, "paco.pension": paco}[first]
    entry_id = entry_of(pia, sender[-4:])["id"]
    response = late.post(f"/api/handoff/conversations/{entry_id}/claim")
    assert response.status_code == 409
    assert "ya no está en la fila" in response.json()["error"]["message"]
    taker = {"pia.pension": pia, "paco.pension": paco}[second]
    assert taker.post(f"/api/handoff/conversations/{entry_id}/claim").status_code == 200


def test_a_user_who_leaves_the_queue_is_recorded_as_abandoned(
    handoff_system: RunningSystem,
) -> None:
    system = handoff_system
    meda = Staff(system, "meda.medicamentos")  # online, but takes nobody during this test
    # Explicitly, with the button: back to the bot at once.
    sender = f"rest-{uuid.uuid4().hex}"
    request_person(system, sender, "entrega_medicamentos")
    entry_id = entry_of(meda, sender[-4:])["id"]
    left = rest_say(system, sender, "/leave_queue")
    assert "Saliste de la fila" in left[0]["text"]
    transcript = meda.get(f"/api/handoff/conversations/{entry_id}").json()
    assert transcript["status"] == "abandoned"
    assert "Soy Ventanilla" in rest_say(system, sender, "¿eres un robot?")[0]["text"]

    # Implicitly: the web chat user closes the page and does not come back in time. (A web
    # chat's page cannot name a campaign: it asks as a person does, for the default one.)
    ana = Staff(system, "ana.derecho")
    chat = ChatClient(system.ws_url)
    chat.turn("quiero hablar con una persona")
    waiting = [e for e in ana.queue() if e["channel"] == "webchat" and e["status"] != "assigned"]
    assert len(waiting) == 1
    chat.close()
    eventually(
        lambda: (
            ana.get(f"/api/handoff/conversations/{waiting[0]['id']}").json()["status"]
            == "abandoned"
        ),
        timeout=15,
    )


def test_a_user_who_comes_back_in_time_keeps_their_place(handoff_system: RunningSystem) -> None:
    system = handoff_system
    ana = Staff(system, "ana.derecho")
    chat = ChatClient(system.ws_url)
    chat.turn("quiero hablar con una persona")
    chat.close()
    back = ChatClient(system.ws_url, session=chat.session)  # a reload, within the 2 s
    entry = next(e for e in ana.queue() if e["channel"] == "webchat" and e["status"] != "assigned")
    time.sleep(3)
    status = ana.get(f"/api/handoff/conversations/{entry['id']}").json()["status"]
    assert status in ("waiting", "offered")
    assert (
        "Saliste de la fila" in bot_texts(back.turn("Salir de la fila", payload="/leave_queue"))[0]
    )
    back.close()


def test_outside_business_hours_the_user_can_leave_a_phone(handoff_system: RunningSystem) -> None:
    system = handoff_system
    Staff(system, "cora.contribuyente")  # online, but the campaign is closed now
    sender = f"rest-{uuid.uuid4().hex}"
    [closed] = request_person(system, sender, "contribuyente")[-1:]
    assert "no hay atención personal" in closed["text"] and "9:00 a 10:00" in closed["text"]
    assert [b["payload"] for b in closed["buttons"]] == ["/request_callback", "/show_menu"]

    assert "10 dígitos" in rest_say(system, sender, "/request_callback")[-1]["text"]
    assert "no parece válido" in rest_say(system, sender, "123")[0]["text"]
    assert "horario" in rest_say(system, sender, "55 1234 5678")[-1]["text"]
    done = rest_say(system, sender, "mañana en la tarde")
    assert "termina en 5678" in done[0]["text"] and "mañana en la tarde" in done[0]["text"]

    cora = Staff(system, "cora.contribuyente")
    callbacks = cora.get("/api/handoff/callbacks").json()
    assert {"campaign": "contribuyente", "phone": "5512345678"}.items() <= callbacks[-1].items()
    assert not [e for e in cora.queue() if e["sender"].endswith(sender[-4:])]


def test_no_agent_online_is_said_and_the_bot_stays(handoff_system: RunningSystem) -> None:
    sender = f"rest-{uuid.uuid4().hex}"
    [reply] = request_person(handoff_system, sender, "trabajadoras_hogar")[-1:]
    assert "no hay personas disponibles de Trabajadoras del hogar" in reply["text"]


def test_transfer_to_another_campaign(handoff_system: RunningSystem) -> None:
    system = handoff_system
    ines, pia = Staff(system, "ines.incapacidad"), Staff(system, "pia.pension")
    sender = f"rest-{uuid.uuid4().hex}"
    request_person(system, sender, "incapacidad_maternidad")
    entry = eventually(lambda: entry_of(ines, sender[-4:]))
    assert ines.post(f"/api/handoff/conversations/{entry['id']}/claim").status_code == 200
    moved = ines.post(
        f"/api/handoff/conversations/{entry['id']}/transfer", {"campaign": "pensionados"}
    )
    assert moved.status_code == 200 and moved.json()["campaign"] == "pensionados"
    assert entry_of(pia, sender[-4:])["id"] == entry["id"]
    # Ines no longer sees it; the user was told where they are.
    assert ines.get(f"/api/handoff/conversations/{entry['id']}").status_code == 404
    sent = httpx.get(f"{system.base_url}/api/messages/{sender}").json()["messages"]
    assert "Te transferimos con Pensionados" in sent[-1]["text"]


def test_every_endpoint_keeps_agents_to_their_campaigns(handoff_system: RunningSystem) -> None:
    system = handoff_system
    pia, dena = Staff(system, "pia.pension"), Staff(system, "dena.denuncias")
    sender = f"rest-{uuid.uuid4().hex}"
    request_person(system, sender, "denuncias")
    other = eventually(lambda: entry_of(dena, sender[-4:]))
    assert all(e["campaign"] == "pensionados" for e in pia.queue())
    base = f"/api/handoff/conversations/{other['id']}"
    assert pia.get(base).status_code == 404
    for path, body in [
        ("/claim", None),
        ("/messages", {"text": "hola"}),
        ("/notes", {"text": "nota"}),
        ("/close", {"disposition": "resuelto"}),
        ("/transfer", {"campaign": "pensionados"}),
        ("/decline", None),
    ]:
        response = pia.post(base + path, body)
        assert response.status_code == 404, (path, response.text)
    # Still untouched for its own campaign.
    assert entry_of(dena, sender[-4:])["agent"] is None

    for path in (
        "/api/handoff/dashboard",
        "/api/handoff/transcripts",
        "/api/handoff/reports/monthly",
    ):
        assert pia.get(path).status_code == 403
    editor = Staff(system, "edu.editor")
    assert editor.get("/api/handoff/queue").status_code == 403
    assert editor.get(base).status_code == 403
    assert httpx.get(f"{system.base_url}/api/handoff/queue").status_code == 401
    assert httpx.post(f"{system.base_url}{base}/claim").status_code == 401


def test_console_cookie_needs_the_csrf_token(handoff_system: RunningSystem) -> None:
    system = handoff_system
    with httpx.Client(base_url=system.base_url) as browser:
        signed = browser.post(
            "/api/auth/session",
            json={"username": "ana.derecho", "password": "contraseña-de-prueba-1"},
        )
        assert signed.status_code == 200
        cookie = signed.headers.get_list("set-cookie")
        assert any(
            "ventanilla_sesion=" in c and "HttpOnly" in c and "SameSite=strict" in c for c in cookie
        )
        assert browser.get("/api/handoff/queue").status_code == 200  # reading needs no token
        forged = browser.put("/api/handoff/me/status", json={"status": "away"})
        assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf"
        ok = browser.put(
            "/api/handoff/me/status",
            json={"status": "available"},
            headers={"X-CSRF-Token": signed.json()["csrf_token"]},
        )
        assert ok.status_code == 204


def test_rest_users_read_agent_messages_with_a_cursor(handoff_system: RunningSystem) -> None:
    system = handoff_system
    ciro = Staff(system, "ciro.cita")
    sender = f"rest-{uuid.uuid4().hex}"
    rest_say(system, sender, "hola")
    first = httpx.get(f"{system.base_url}/api/messages/{sender}").json()
    assert len(first["messages"]) == 3 and first["cursor"] == str(first["messages"][-1]["id"])
    request_person(system, sender, "cita_medica")
    entry = eventually(lambda: entry_of(ciro, sender[-4:]))
    ciro.post(f"/api/handoff/conversations/{entry['id']}/claim")
    ciro.post(f"/api/handoff/conversations/{entry['id']}/messages", {"text": "¿Me das tu CURP?"})
    since = httpx.get(
        f"{system.base_url}/api/messages/{sender}", params={"after": first["cursor"]}
    ).json()
    assert [m["author"] for m in since["messages"]] == ["bot", "bot", "agent"]
    assert since["messages"][-1]["text"] == "¿Me das tu CURP?"
    nothing = httpx.get(
        f"{system.base_url}/api/messages/{sender}", params={"after": since["cursor"]}
    ).json()
    assert nothing == {"messages": [], "cursor": since["cursor"]}
    bad = httpx.get(f"{system.base_url}/api/messages/{sender}", params={"after": "abc"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_cursor"
    assert httpx.get(f"{system.base_url}/api/messages/nadie-{sender}").status_code == 404
    ciro.post(f"/api/handoff/conversations/{entry['id']}/close", {"disposition": "resuelto"})


def test_transcripts_search_export_and_audit(handoff_system: RunningSystem) -> None:
    system = handoff_system
    sara = Staff(system, "sara.super")
    found = sara.get("/api/handoff/transcripts", q="clínica").json()
    assert found["total"] >= 1 and all(r["campaign"] for r in found["results"])
    csv_export = sara.get("/api/handoff/transcripts", campaign="derechohabiente", format="csv")
    assert csv_export.status_code == 200
    assert csv_export.headers["content-type"].startswith("text/csv")
    assert csv_export.text.splitlines()[0].startswith("id,campaña,canal")
    exported = json.loads(sara.get("/api/handoff/transcripts", q="clínica", format="json").text)
    assert "12345678901" not in json.dumps(exported)  # masked in exports too
    report = sara.get("/api/handoff/reports/monthly").json()
    assert report["rows"][-1]["campaign"] == "__all__"
    assert sara.get("/api/handoff/reports/monthly", month="2026-13").status_code in (400, 422)
    audit = audit_actions(system)
    assert {"login", "transcript_view", "transcript_export"} <= audit


def audit_actions(system: RunningSystem) -> set[str]:
    import sqlite3

    database = Path(system.env["VENTANILLA_VAR_DIR"]) / "ventanilla.db"
    with sqlite3.connect(database) as connection:
        return {row[0] for row in connection.execute("SELECT action FROM audit_events")}


def test_every_handoff_endpoint_refuses_anonymous_callers_and_editors(
    handoff_system: RunningSystem,
) -> None:
    """Whatever is added under /api/handoff later, the OpenAPI document lists it here too."""
    system = handoff_system
    spec = httpx.get(f"{system.base_url}/openapi.json").json()
    editor = Staff(system, "edu.editor")
    checked = 0
    for path, operations in spec["paths"].items():
        if not path.startswith("/api/handoff"):
            continue
        url = system.base_url + path.replace("{handoff_id}", "1")
        for method in operations:
            anonymous = httpx.request(method.upper(), url, json={}, timeout=10)
            assert anonymous.status_code == 401, (method, path, anonymous.text)
            as_editor = httpx.request(
                method.upper(), url, json={}, headers=editor.headers, timeout=10
            )
            assert as_editor.status_code == 403, (method, path, as_editor.text)
            checked += 1
    assert checked >= 20
