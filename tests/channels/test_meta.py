"""Messenger and Instagram through Meta's webhooks, through the whole gateway (`create_app`):
deliveries signed as Meta signs them (HMAC-SHA256 of the raw body with the app secret), replies
at a fake Send API on loopback, Rasa faked at the HTTP layer. The deliveries are
`fixtures/meta/*.json`, shaped as Meta documents each event."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from connectors import media
from tests.channels.harness import Database, gateway_settings, wait_until
from ventanilla.app import create_app
from ventanilla.fakes.loopback import serve
from ventanilla.fakes.meta_graph import FakeGraphApi
from ventanilla.fakes.rasa import LONG_PAYLOAD, FakeRasa, long_text

FIXTURES = Path(__file__).parent / "fixtures" / "meta"
APP_SECRET = "0123456789abcdef0123456789abcdef"
VERIFY = "verifica-ventanilla"
PAGE_TOKEN = "EAAB-page-token"
PSID = "6900000000000001"
IGSID = "1790000000000001"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def text_delivery(text: str, mid: str, sender: str = PSID, product: str = "page") -> dict:
    delivery = fixture("messenger_text")
    delivery["object"] = product
    event = delivery["entry"][0]["messaging"][0]
    event["sender"]["id"] = sender
    event["message"] = {"mid": mid, "text": text}
    return delivery


class Setup(Database):
    def __init__(self, client: TestClient, graph: FakeGraphApi, rasa: FakeRasa, db: Path):
        super().__init__(db)
        self.client = client
        self.graph = graph
        self.rasa = rasa

    def post(self, delivery: Any, signature: str | None = "sign", raw: bytes | None = None) -> Any:
        body = raw if raw is not None else json.dumps(delivery).encode()
        headers = {"content-type": "application/json"}
        if signature == "sign":
            digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            signature = f"sha256={digest}"
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return self.client.post("/webhooks/meta", content=body, headers=headers)


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    graph, rasa = FakeGraphApi(PAGE_TOKEN), FakeRasa()
    with serve(graph.app) as graph_url, serve(rasa.app) as rasa_url:
        settings = gateway_settings(
            tmp_path,
            rasa_url,
            meta_app_secret=APP_SECRET,
            meta_verify_token=VERIFY,
            meta_page_token=PAGE_TOKEN,
            meta_graph_base=graph_url,
        )
        with TestClient(create_app(settings)) as client:
            yield Setup(client, graph, rasa, tmp_path / "ventanilla.db")


def test_the_subscription_check_echoes_the_challenge_only_with_our_token(setup: Setup) -> None:
    ok = setup.client.get(
        "/webhooks/meta",
        params={"hub.mode": "subscribe", "hub.verify_token": VERIFY, "hub.challenge": "1158201444"},
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    for params in (
        {"hub.mode": "subscribe", "hub.verify_token": "otro", "hub.challenge": "1"},
        {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY, "hub.challenge": "1"},
        {"hub.challenge": "1"},
    ):
        assert setup.client.get("/webhooks/meta", params=params).status_code == 403


@pytest.mark.parametrize(("name", "sender"), [("messenger_text", PSID), ("instagram_text", IGSID)])
def test_a_signed_message_is_answered_through_the_send_api(
    setup: Setup, name: str, sender: str
) -> None:
    delivery = fixture(name)
    response = setup.post(delivery)
    assert response.status_code == 200 and response.json() == {"ok": True, "taken": 1}
    sent = setup.graph.wait_for(1, sender)
    said = delivery["entry"][0]["messaging"][0]["message"]["text"]
    assert sent[0] == {"text": f"Recibí: {said}"}  # ¡, ¿, accents and ñ both ways
    channel = "messenger" if name.startswith("messenger") else "instagram"
    assert setup.stored()[0] == ("user", None, said)
    assert setup.client.get("/api/channels").json()[channel] in {"Messenger", "Instagram"}


@pytest.mark.parametrize("how", ["missing", "forged", "other_secret", "tampered", "no_prefix"])
def test_a_missing_or_wrong_signature_is_403_and_nothing_is_stored(setup: Setup, how: str) -> None:
    body = json.dumps(fixture("messenger_text")).encode()
    good = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
    signature = {
        "missing": None,
        "forged": "sha256=" + "0" * 64,
        "other_secret": "sha256=" + hmac.new(b"otro", body, hashlib.sha256).hexdigest(),
        "tampered": f"sha256={good}",
        "no_prefix": good,
    }[how]
    raw = body.replace(b"NSS", b"CURP") if how == "tampered" else body
    response = setup.post(None, signature=signature, raw=raw)
    assert response.status_code == 403
    assert setup.stored() == [] and setup.graph.sent() == []


def test_every_event_of_a_batched_delivery_is_taken(setup: Setup) -> None:
    response = setup.post(fixture("messenger_batch"))
    assert response.json() == {"ok": True, "taken": 3}  # the read receipt is not a turn
    assert [m["text"] for m in setup.graph.wait_for(2, "6900000000000011")] == [
        "Recibí: primero",
        "Recibí: tercero",
    ]
    assert setup.graph.wait_for(1, "6900000000000012")[0]["text"] == "Recibí: segundo"
    assert setup.graph.sent("6900000000000013") == []


def test_a_delivery_sent_again_is_answered_once(setup: Setup) -> None:
    delivery = text_delivery("¿cuál es mi clínica?", "m_Repetido")
    for _ in range(3):
        assert setup.post(delivery).status_code == 200
    setup.graph.wait_for(1, PSID)
    wait_until(lambda: setup.first_outbound_status() == "done")
    assert len(setup.graph.sent(PSID)) == 1 and setup.rasa.messages() == ["¿cuál es mi clínica?"]


@pytest.mark.parametrize("name", ["messenger_echo", "messenger_read"])
def test_echoes_and_reads_are_not_turns(setup: Setup, name: str) -> None:
    assert setup.post(fixture(name)).json() == {"ok": True, "taken": 0}
    assert setup.stored() == []


@pytest.mark.parametrize(
    "body", [b"{no es json", b'{"object": "page"}', b'{"object": "page", "entry": [{"x": 1}]}']
)
def test_a_body_that_is_not_a_delivery_is_400(setup: Setup, body: bytes) -> None:
    response = setup.post(None, raw=body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_delivery"


def test_buttons_become_quick_replies_and_a_tap_sends_the_payload(setup: Setup) -> None:
    setup.post(text_delivery("botones", "m_Botones"))
    sent = setup.graph.wait_for(1, PSID)
    assert sent[0]["text"] == "¿Te refieres a A o a B?"
    assert sent[0]["quick_replies"] == [
        {"content_type": "text", "title": "Sí", "payload": "/affirm"},
        {"content_type": "text", "title": "Pensión por cesantía", "payload": LONG_PAYLOAD},
    ]
    tap = text_delivery("Pensión por cesantía", "m_Tap")
    tap["entry"][0]["messaging"][0]["message"]["quick_reply"] = {"payload": LONG_PAYLOAD}
    setup.post(tap)
    assert setup.graph.wait_for(2, PSID)[1]["text"] == f"Elegiste {LONG_PAYLOAD}"
    assert setup.rasa.messages() == ["botones", LONG_PAYLOAD]


def test_a_quick_reply_and_a_postback_from_the_fixtures_send_their_payloads(setup: Setup) -> None:
    setup.post(fixture("messenger_quick_reply"))
    setup.post(fixture("messenger_postback"))
    setup.graph.wait_for(2, PSID)
    assert sorted(setup.rasa.messages()) == ["/affirm", "/greet"]


def test_long_titles_are_cut_for_quick_replies_and_listed_whole_in_the_text() -> None:
    from connectors.meta.router import quick_replies
    from core.conversations import Message

    message = Message(
        id=1,
        text="¿Qué necesitas?",
        buttons=[
            {"title": "Hablar con una persona del Instituto", "payload": "/human_handoff"},
            {"title": "Nada", "payload": "/goodbye"},
        ],
    )
    text, replies = quick_replies(message)
    assert text == (
        "¿Qué necesitas?\n\n1. Hablar con una persona del Instituto\n2. Nada\n\nResponde 1 o 2."
    )
    assert [r["title"] for r in replies] == ["1. Hablar con una p…", "2. Nada"]
    assert all(len(r["title"]) <= 20 for r in replies)
    assert [r["payload"] for r in replies] == ["/human_handoff", "/goodbye"]


@pytest.mark.parametrize(
    ("sender", "product", "limit"), [(PSID, "page", 2000), (IGSID, "instagram", 1000)]
)
def test_a_long_answer_is_split_at_each_products_limit(
    setup: Setup, sender: str, product: str, limit: int
) -> None:
    setup.post(text_delivery("largo", f"m_Largo{product}", sender, product))
    setup.graph.wait_for(5, sender)
    wait_until(lambda: setup.first_outbound_status() == "done")
    parts = [m["text"] for m in setup.graph.sent(sender)]
    assert all(len(part) <= limit for part in parts)
    assert " ".join(" ".join(parts).split()) == " ".join(long_text().split())


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("messenger_image", media.Media.IMAGE),
        ("messenger_sticker", media.Media.STICKER),
        ("messenger_audio", media.Media.AUDIO),
    ],
)
def test_media_gets_a_polite_answer_without_the_bot(
    setup: Setup, name: str, kind: media.Media
) -> None:
    setup.post(fixture(name))
    assert setup.graph.wait_for(1, PSID)[0]["text"] == media.REPLIES[kind]
    assert setup.rasa.received == []


def test_a_refusal_is_final_and_a_rate_limit_is_retried(setup: Setup) -> None:
    setup.graph.fail_next(400, 551, "This person isn't available right now.")
    setup.post(text_delivery("hola", "m_Refused"))
    wait_until(lambda: setup.first_outbound_status() == "failed")
    assert "551" in setup.outbound()[0][2]
    assert len(setup.graph.sent(PSID)) == 1

    other = "6900000000000099"
    setup.graph.fail_next(400, 613, "Calls to this api have exceeded the rate limit.", times=2)
    setup.post(text_delivery("hola", "m_Limited", other))
    wait_until(lambda: setup.outbound()[-1][1] == "done")
    assert [m["text"] for m in setup.graph.sent(other)] == ["Recibí: hola"] * 3


def test_the_channels_are_off_without_their_secrets(tmp_path: Path) -> None:
    settings = gateway_settings(tmp_path, "http://127.0.0.1:9", meta_app_secret=APP_SECRET)
    with TestClient(create_app(settings)) as client:
        assert client.post("/webhooks/meta", json=fixture("messenger_text")).status_code == 404
        assert client.get("/webhooks/meta", params={"hub.mode": "subscribe"}).status_code == 404
