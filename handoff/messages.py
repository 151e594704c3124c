"""What the queue says to users, in es-MX. Each function returns one message: text + buttons.

Used by intake.py (inside the user's turn), desk.py and ticker.py (through the outbox).
"""

from __future__ import annotations

from core.campaigns import CAMPAIGNS
from core.protocol import Button, Reply

LEAVE_QUEUE = "/leave_queue"
LEAVE_BUTTON: Button = {"title": "Salir de la fila", "payload": LEAVE_QUEUE}
CALLBACK_BUTTON: Button = {"title": "Que me llamen", "payload": "/request_callback"}
BOT_BUTTON: Button = {"title": "Seguir con el asistente", "payload": "/show_menu"}


def _name(campaign: str) -> str:
    return CAMPAIGNS.get(campaign, campaign)


def _minutes(eta_minutes: int) -> str:
    return "alrededor de 1 minuto" if eta_minutes <= 1 else f"unos {eta_minutes} minutos"


def queued(campaign: str, position: int, eta_minutes: int) -> Reply:
    return {
        "text": f"Te comunico con una persona de {_name(campaign)}. Estás en el lugar {position} "
        f"de la fila; el tiempo estimado de espera es de {_minutes(eta_minutes)}. Mientras "
        "esperas puedes escribir aquí: tus mensajes le llegarán a quien te atienda.",
        "buttons": [LEAVE_BUTTON],
    }


def position_changed(position: int, eta_minutes: int) -> Reply:
    if position == 1:
        text = "Ya eres el siguiente en la fila. En un momento te atiende una persona."
    else:
        text = (
            f"Avanzaste en la fila: ahora estás en el lugar {position} ("
            f"{_minutes(eta_minutes)} de espera)."
        )
    return {"text": text, "buttons": [LEAVE_BUTTON]}


def still_waiting(position: int) -> Reply:
    return {
        "text": f"Sigues en la fila (lugar {position}). Guardé tu mensaje para la persona que te "
        "atienda.",
        "buttons": [LEAVE_BUTTON],
    }


def assigned(campaign: str) -> Reply:
    return {"text": f"Ya te atiende una persona de {_name(campaign)}.", "buttons": []}


def transferred(campaign: str, position: int, eta_minutes: int) -> Reply:
    return {
        "text": f"Te transferimos con {_name(campaign)}. Estás en el lugar {position} de la fila; "
        f"el tiempo estimado de espera es de {_minutes(eta_minutes)}.",
        "buttons": [LEAVE_BUTTON],
    }


def closed_hours(campaign: str, hours: str) -> Reply:
    return {
        "text": f"En este momento no hay atención personal de {_name(campaign)}. El horario es "
        f"{hours}. Si quieres, te llamamos en ese horario, o puedes seguir con el asistente.",
        "buttons": [CALLBACK_BUTTON, BOT_BUTTON],
    }


def no_agents(campaign: str) -> Reply:
    return {
        "text": f"En este momento no hay personas disponibles de {_name(campaign)}. Si quieres, "
        "te llamamos, o puedes seguir con el asistente.",
        "buttons": [CALLBACK_BUTTON, BOT_BUTTON],
    }


def emergency_queued(campaign: str, position: int) -> Reply:
    """An emergency is always queued, whoever is online: the person is told to call first."""
    return {
        "text": "Llama ahora al 911; no esperes respuesta por este medio. Ya avisamos al equipo "
        f"de {_name(campaign)}: estás en el lugar {position} de la fila y una persona se unirá a "
        "esta conversación en cuanto esté libre. Puedes seguir escribiendo aquí.",
        "buttons": [],
    }


def emergency_escalated(campaign: str, position: int) -> Reply:
    """An emergency said while already waiting: the wait becomes an urgent one."""
    return {
        "text": f"Avisamos que es una emergencia: ahora estás en el lugar {position} de la fila "
        f"de {_name(campaign)}. Llama ahora al 911; una persona se unirá aquí en cuanto esté "
        "libre.",
        "buttons": [],
    }


def emergency_to_agent() -> Reply:
    """An emergency said while a person attends: they are told, and so is the user."""
    return {
        "text": "Avisamos a la persona que te atiende que es una emergencia. Si tú o alguien "
        "más está en peligro, llama ahora al 911.",
        "buttons": [],
    }


def left_queue() -> Reply:
    return {
        "text": "Saliste de la fila. Sigo aquí para ayudarte.",
        "buttons": [BOT_BUTTON],
    }


def expired(campaign: str) -> Reply:
    return {
        "text": f"Lo siento, nadie de {_name(campaign)} pudo atenderte a tiempo. Si quieres, te "
        "llamamos, o puedes seguir con el asistente.",
        "buttons": [CALLBACK_BUTTON, BOT_BUTTON],
    }


def closed_fallback() -> Reply:
    """Said when the conversation is closed and the bot cannot greet back itself (Rasa down)."""
    return {
        "text": "La conversación con la persona terminó. Si necesitas algo más, escríbeme.",
        "buttons": [],
    }


def already_queued(position: int) -> Reply:
    return {
        "text": f"Ya estás en la fila (lugar {position}). En cuanto una persona se libere te "
        "atiende.",
        "buttons": [LEAVE_BUTTON],
    }
