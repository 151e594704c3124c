"""Free-text answers to the triage questions, read into the protocol's codes and numbers.

Pure keyword matching, no model: what a person writes is normalized (lower case, no accents,
punctuation as clause breaks), each code's synonyms (below, as short phrases) are looked for with
a little typo tolerance (one wrong letter in a word of 5 or more), and a simple negation ("no",
"sin", "ni" earlier in the same clause) cancels a match: "no tengo fiebre" is not fever.

A phrase is a few words that must appear in order, with up to `GAP` other words between them
("me duele mucho la cabeza" matches "duele cabeza"); a word ending in `*` is a prefix. A button's
payload (`/triage_answer{"triage_code": "fever"}`) and a list of the buttons' numbers ("1, 3 y 5")
are read too. When a phrase of an emergency sign is found in any answer, the caller can stop.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.text import fold_accents

NONE = "none"  # the "Ninguno de estos" button
DONE = "done"  # the "Es todo" button after one or more picks
GAP = 3
LOW_SATURATION = 90  # an oximeter reading below this is the emergency sign low_oxygen_saturation

# fmt: off
SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "emergency_signs": {
        "severe_breathing_difficulty": (
            "falta much* aire", "falta demasiado aire", "no puedo respirar", "no puede respirar",
            "casi no respir*", "me ahog*", "se ahog*", "ahogando", "asfixi*", "no termin* frase*",
            "no puedo hablar", "no puede hablar", "respir* muy dificil",
            "dificultad grave respirar", "mucha dificultad respirar", "muy agitad*",
            "jalando aire", "no le entra aire", "no me entra aire",
        ),
        "chest_pain": (
            "dolor pecho", "duele pecho", "presion pecho", "opresion pecho", "pecho apretad*",
            "aprieta pecho", "pecho oprimid*", "punzada pecho", "ardor pecho",
        ),
        "new_confusion": (
            "confundid*", "confusion", "desorientad*", "no sabe donde esta", "no reconoce",
            "dice cosas sin sentido", "incoherente*", "delira*",
        ),
        "hard_to_wake": (
            "no despierta", "no puedo despertar*", "no lo puedo despertar",
            "no la puedo despertar", "cuesta despertar", "cuesta trabajo despertar",
            "no se mantiene despiert*", "muy dormid*", "somnolient*", "adormilad*", "desmay*",
            "inconsciente", "no reacciona", "no responde",
        ),
        "bluish_lips_or_face": (
            "labio* morad*", "labio* azul*", "cara morad*", "cara azul*", "azulad*", "amoratad*",
            "cianosis", "poniendo azul*", "poniendo morad*", "labio* moradit*", "unas morad*",
            "dedos morad*",
        ),
        "low_oxygen_saturation": (
            "oxigenacion baja", "baja oxigenacion", "saturacion baja", "baja saturacion",
            "oxigeno bajo", "bajo oxigeno", "satura* bajo", "satura* baja",
        ),
    },
    "symptoms": {
        "fever": ("fiebre", "calentura", "temperatura", "febril", "escalofrio*", "afiebrad*"),
        "cough": ("tos", "tosiendo", "toso", "tosecita", "tose"),
        "mild_breathing_difficulty": (
            "falta aire", "falta poco aire", "falta un poco aire", "cuesta respirar",
            "dificultad respirar", "agit*", "respiro mal", "respira mal", "falta respiracion",
        ),
        "sore_throat": ("garganta", "carraspera", "anginas", "amigdalas"),
        "muscle_pain": (
            "dolor cuerpo", "duele cuerpo", "dolor muscul*", "duelen musculo*", "musculos",
            "cortad*", "dolor huesos", "duelen huesos", "dolor articulacion*", "duele todo",
            "malestar general", "cuerpo cortado",
        ),
        "fatigue": (
            "cansanci*", "cansad*", "fatiga*", "agotad*", "agotamiento", "debil*", "sin energia",
            "sin fuerza*",
        ),
        "headache": ("dolor cabeza", "duele cabeza", "cefalea", "jaqueca", "migrana", "cabeza"),
        "loss_of_taste_or_smell": (
            "olfato", "gusto", "sabor*", "no huelo", "no huele", "no siento olor*", "perdi olor*",
            "sin olor", "anosmia",
        ),
        "runny_nose": (
            "escurrimiento", "escurre nariz", "mocos", "moquera", "moqueo", "nariz tapada",
            "congestion nasal", "congestionad*", "catarro", "estornud*", "flujo nasal", "gripa",
            "resfriad*", "nariz",
        ),
        "nausea_or_vomiting": ("nausea*", "vomit*", "asco", "basca*", "revuelto estomago"),
        "diarrhea": ("diarrea", "evacuacion* liquida*", "suelto estomago", "chorrillo"),
    },
    "risk_factors": {
        "diabetes": ("diabet*", "azucar alta", "azucar"),
        "hypertension": ("hipertens*", "presion alta", "presion arterial alta", "presion"),
        "obesity": ("obes*", "sobrepeso", "gordit*"),
        "heart_disease": (
            "corazon", "cardi*", "infarto", "arritmia*", "marcapaso*", "insuficiencia cardiaca",
        ),
        "chronic_lung_disease": (
            "epoc", "asma*", "enfisema", "pulmon*", "bronquitis cronica", "fibrosis pulmonar",
        ),
        "chronic_kidney_disease": ("rinon*", "renal*", "dialisis", "hemodialisis"),
        "immunosuppression": (
            "vih", "sida", "inmuno*", "trasplant*", "transplant*", "quimio*", "defensas bajas",
            "bajas defensas", "defensas",
        ),
        "cancer": ("cancer", "tumor*", "leucemia", "linfoma", "oncolog*"),
        "pregnancy": ("embaraz*", "encinta", "gestacion", "esperando bebe"),
        "smoking": ("fum*", "tabaco", "cigarr*", "tabaquismo"),
    },
}
# fmt: on

NEGATORS = frozenset({"no", "sin", "ni", "nunca", "tampoco", "niego"})
CLAUSE_BREAKS = frozenset({"pero", "aunque", "sino", "excepto", "salvo", "mas"})
# After "y", these begin a new statement that a "no" before it does not reach.
NEW_STATEMENT = frozenset(
    {
        "tengo",
        "tiene",
        "me",
        "le",
        "si",
        "siento",
        "siente",
        "estoy",
        "esta",
        "con",
        "ando",
        "traigo",
    }
)
NONE_WORDS = (
    "ninguno",
    "ninguna",
    "ningun",
    "nada",
    "no",
    "nop",
    "nel",
    "negativo",
    "ningunos",
    "ningunas",
    "nadita",
)

_UNITS = {
    "cero": 0,
    "un": 1,
    "uno": 1,
    "una": 1,
    "dos": 2,
    "tres": 3,
    "cuatro": 4,
    "cinco": 5,
    "seis": 6,
    "siete": 7,
    "ocho": 8,
    "nueve": 9,
    "diez": 10,
    "once": 11,
    "doce": 12,
    "trece": 13,
    "catorce": 14,
    "quince": 15,
    "dieciseis": 16,
    "diecisiete": 17,
    "dieciocho": 18,
    "diecinueve": 19,
    "veinte": 20,
    "veintiun": 21,
    "veintiuno": 21,
    "veintiuna": 21,
    "veintidos": 22,
    "veintitres": 23,
    "veinticuatro": 24,
    "veinticinco": 25,
    "veintiseis": 26,
    "veintisiete": 27,
    "veintiocho": 28,
    "veintinueve": 29,
}
_TENS = {
    "treinta": 30,
    "cuarenta": 40,
    "cincuenta": 50,
    "sesenta": 60,
    "setenta": 70,
    "ochenta": 80,
    "noventa": 90,
    "cien": 100,
    "ciento": 100,
}


# ------------------------------------------------------------------ text


def normalize(text: str) -> str:
    """Lower case, no accents or ñ (n), digits kept, every other sign a space or a clause break."""
    plain = fold_accents(text.lower())
    plain = re.sub(r"(\d)\s*%", r"\1", plain)  # "87 %" is the number 87
    plain = re.sub(r"(\d)[.,](\d)", r"\1_\2", plain)  # keep decimals whole: 37.5
    plain = re.sub(r"[,;.:!?¡¿()\n]+", " | ", plain)  # clause breaks
    plain = re.sub(r"[^a-z0-9_| ]+", " ", plain)
    return re.sub(r"\s+", " ", plain).strip()


def _tokens(text: str) -> list[str]:
    return normalize(text).split()


def _close(word: str, target: str) -> bool:
    """One letter wrong, missing, extra or two swapped, in words of five letters or more."""
    if len(target) < 5 or abs(len(word) - len(target)) > 1:
        return False
    if len(word) == len(target):
        diff = [i for i, (a, b) in enumerate(zip(word, target, strict=True)) if a != b]
        return len(diff) == 1 or (
            len(diff) == 2 and diff[1] == diff[0] + 1 and word[diff[0]] == target[diff[1]]
        )
    short, long_ = sorted((word, target), key=len)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def _word_matches(token: str, pattern: str) -> bool:
    if pattern.endswith("*"):
        stem = pattern[:-1]
        return token.startswith(stem) or (
            len(stem) >= 6 and len(token) >= len(stem) and _close(token[: len(stem)], stem)
        )
    return token == pattern or _close(token, pattern)


@dataclass(frozen=True)
class _Match:
    start: int
    negated: bool


def _find(tokens: Sequence[str], phrase: str) -> list[_Match]:
    """Every place the phrase's words appear in order (gaps allowed) within one clause."""
    words = phrase.split()
    found = []
    for start, token in enumerate(tokens):
        if not _word_matches(token, words[0]):
            continue
        position, ok = start, True
        for word in words[1:]:
            for step in range(1, GAP + 2):
                candidate = position + step
                if candidate >= len(tokens) or tokens[candidate] == "|":
                    ok = False
                    break
                if _word_matches(tokens[candidate], word):
                    position = candidate
                    break
            else:
                ok = False
            if not ok:
                break
        if ok:
            found.append(_Match(start, _negated(tokens, start)))
    return found


def _negated(tokens: Sequence[str], start: int) -> bool:
    """A negating word earlier in the same clause: "no tengo fiebre", "ni tos", "sin diarrea"."""
    for index in range(start - 1, -1, -1):
        token = tokens[index]
        if token == "|" or token in CLAUSE_BREAKS:
            return False
        if token in ("y", "e") and index + 1 < start and tokens[index + 1] in NEW_STATEMENT:
            return False  # "no huelo nada y tengo diarrea": the "no" is over
        if token in NEGATORS:
            return True
    return False


def _codes(tokens: Sequence[str], synonyms: dict[str, tuple[str, ...]]) -> list[str]:
    """Codes with an affirmed mention, in the order they are first mentioned."""
    hits: list[tuple[int, str]] = []
    for code, phrases in synonyms.items():
        starts = [m.start for p in phrases for m in _find(tokens, p) if not m.negated]
        if starts:
            hits.append((min(starts), code))
    return [code for _, code in sorted(hits)]


def _denied(tokens: Sequence[str], synonyms: dict[str, tuple[str, ...]]) -> bool:
    """Some option is mentioned, and only negated ("sin fiebre", "no tengo diabetes")."""
    return any(
        m.negated for phrases in synonyms.values() for p in phrases for m in _find(tokens, p)
    )


# ------------------------------------------------------------------ buttons and numbered lists


def button_codes(text: str) -> list[str] | None:
    """The codes of a button's payload (`/triage_answer{"triage_code": "fever"}`), else None."""
    if not text.lstrip().startswith("/"):
        return None
    found = re.findall(r'"triage_code"\s*:\s*"([a-z_,]+)"', text)
    return [code for value in found for code in value.split(",") if code] if found else None


def numbered_choices(text: str, options: Sequence[str]) -> list[str] | None:
    """A reply that is only numbers ("1, 3 y 5"): the options at those positions (1-based; the
    one after the last is "Ninguno"); None when the text is not such a list or a number is off."""
    plain = text.strip().lower()
    if not re.fullmatch(r"[\d\s,;.y]+", plain) or not re.search(r"\d", plain):
        return None
    chosen = []
    for number in (int(n) for n in re.findall(r"\d+", plain)):
        if 1 <= number <= len(options):
            chosen.append(options[number - 1])
        elif number == len(options) + 1:
            chosen.append(NONE)
        else:
            return None
    return chosen


# ------------------------------------------------------------------ codes


def says_none(text: str) -> bool:
    """ "Ninguno", "nada", "no", "no tengo ninguna", "ninguno de estos"."""
    tokens = [t for t in _tokens(text) if t != "|"]
    if re.search(r"\bno (se|lo se|estoy segur\w*)\b", " ".join(tokens)):
        return False  # "no sé" is not "none": the question is asked again
    return bool(tokens) and any(t in NONE_WORDS for t in tokens[:3])


def says_done(text: str) -> bool:
    """ "Es todo", "nada más", "solo eso", "ya": the end of picking options one by one."""
    joined = " ".join(t for t in _tokens(text) if t != "|")
    return bool(
        re.search(
            r"\b(es todo|eso es todo|nada mas|solo eso|son todos|ninguno mas|ninguna mas"
            r"|ya|listo|ya no|ya es todo|seria todo)\b",
            joined,
        )
    )


def emergency_signs(text: str) -> list[str]:
    """Emergency signs mentioned in any answer, an oximeter reading below 90 % included."""
    tokens = _tokens(text)
    signs = _codes(tokens, SYNONYMS["emergency_signs"])
    reading = saturation(text)
    if reading is not None and reading < LOW_SATURATION and "low_oxygen_saturation" not in signs:
        signs.append("low_oxygen_saturation")
    return signs


def saturation(text: str) -> int | None:
    """An oximeter reading: a number (50–100, digits or words) within seven words after
    "saturación", "oxigenación", "oxímetro" ("la saturación de mi mamá está en 84")."""
    tokens = _tokens(text)
    numbers = _numbers(tokens)  # spelled-out ones too: "ochenta y cinco"
    for index, token in enumerate(tokens):
        if not re.match(r"(satur|oxig|oxim|spo2|o2$|sat$)", token):
            continue
        for position, number in numbers:
            if index < position <= index + 7 and 50 <= number <= 100:
                return number
    return None


def list_answer(field: str, text: str, options: Sequence[str]) -> list[str] | None:
    """The codes of a list question (symptoms, risk factors, emergency signs), [] for "none",
    None when nothing was understood."""
    from_button = button_codes(text)
    if from_button is not None:
        return [c for c in from_button if c in (*options, NONE, DONE)] or None
    numbered = numbered_choices(text, options)
    if numbered is not None:
        return [c for c in numbered if c != NONE]
    codes = (
        emergency_signs(text)
        if field == "emergency_signs"
        else _codes(_tokens(text), SYNONYMS[field])
    )
    codes = [c for c in codes if c in options]
    if codes:
        return codes
    return [] if says_none(text) or _denied(_tokens(text), SYNONYMS[field]) else None


# ------------------------------------------------------------------ numbers


def _number(token: str) -> int | None:
    if re.fullmatch(r"\d+", token):
        return int(token)
    if re.fullmatch(r"\d+_\d+", token):
        return int(token.split("_")[0])
    return _UNITS.get(token)


def _numbers(tokens: Sequence[str]) -> list[tuple[int, int]]:
    """(position, value) of every number, spelled-out ones too ("cuarenta y cinco", "ciento
    dos"), in order."""
    found: list[tuple[int, int]] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        value = _number(token)
        if value is None and token in _TENS:
            value = _TENS[token]
            rest = tokens[i + 1 : i + 3]
            if value >= 100 and rest and rest[0] in _TENS and _TENS[rest[0]] < 100:
                value += _TENS[rest[0]]
                i += 1
                rest = tokens[i + 1 : i + 3]
            if len(rest) == 2 and rest[0] == "y" and rest[1] in _UNITS and _UNITS[rest[1]] < 10:
                value += _UNITS[rest[1]]
                i += 2
            elif rest and rest[0] in _UNITS and value >= 100:
                value += _UNITS[rest[0]]
                i += 1
        if value is not None:
            found.append((i, value))
        i += 1
    return found


def age(text: str) -> int | None:
    """Whole years: "45", "tengo 45 años", "mi mamá tiene setenta", "un año y medio" → 1,
    "8 meses" → 0, "recién nacido" → 0. None when no age is understood (or over 130)."""
    tokens = _tokens(text)
    if any(_word_matches(t, "recien") for t in tokens) and "nacid" in " ".join(tokens):
        return 0
    for position, value in _numbers(tokens):
        unit = tokens[position + 1] if position + 1 < len(tokens) else ""
        if unit.startswith("mes"):
            value //= 12
        elif unit.startswith(("semana", "dia")):
            value = 0
        if 0 <= value <= 130:
            return value
        return None
    return None


def symptom_days(text: str) -> int | None:
    """Whole days: "3", "desde hace 3 días", "una semana" → 7, "desde ayer" → 1, "hoy" → 0."""
    tokens = _tokens(text)
    numbers = _numbers(tokens)
    for position, value in numbers:
        unit = tokens[position + 1] if position + 1 < len(tokens) else ""
        if unit.startswith("semana"):
            value *= 7
        elif unit.startswith("mes"):
            value *= 30
        elif unit.startswith("hora"):
            value = 0
        return value if 0 <= value <= 365 else None
    words = set(tokens)
    for unit, days in (("semana", 7), ("mes", 30), ("quincena", 15)):
        if unit in words or f"{unit}s" in words:
            return days
    if words & {"antier", "anteayer", "antiayer"}:
        return 2
    if "ayer" in words:
        return 1
    if words & {"hoy", "horita", "ahorita", "ninguno", "ninguna", "nada"}:
        return 0
    return None


# ------------------------------------------------------------------ choices


def exposure(text: str) -> str | None:
    """ "yes" | "no" | "unknown": "sí", "mi esposo dio positivo", "no", "no sé", "creo que sí"."""
    from_button = button_codes(text)
    if from_button:
        return from_button[0] if from_button[0] in ("yes", "no", "unknown") else None
    tokens = [t for t in _tokens(text) if t != "|"]
    joined = " ".join(tokens)
    if re.search(
        r"\b(no se|quien sabe|ni idea|no estoy segur\w*|no lo se|no recuerdo|tal vez"
        r"|quiza\w*|a lo mejor|puede ser|desconozco)\b",
        joined,
    ):
        return "unknown"
    if re.search(
        r"\b(si|sii|sip|claro|simon|positiv\w*|contagi\w*|tuve contacto|convivi\w*"
        r"|estuve con)\b",
        joined,
    ) and not re.match(r"(no|nop|nel|nunca)\b", joined):
        return "yes"
    if re.match(r"(no|nop|nel|nunca|ninguno|ninguna|nadie|negativo)\b", joined):
        return "no"
    return None


def confirmation(text: str) -> bool | None:
    """True for "sí / correcto", False for "corregir / no / está mal", None otherwise."""
    joined = " ".join(t for t in _tokens(text) if t != "|")
    if re.search(r"\b(correg\w*|corrij\w*|cambi\w*|mal|incorrect\w*|equivoc\w*|no|nop)\b", joined):
        return False
    if re.search(r"\b(si|sii|sip|correcto|exacto|asi es|ok|okey|claro|confirm\w*|bien)\b", joined):
        return True
    return None


def labels(codes: Iterable[str], meanings: dict[str, str]) -> list[str]:
    return [meanings.get(code, code) for code in codes]
