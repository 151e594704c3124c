"""NSS and CURP: normalized, checked, and each failure explained in Spanish (which count or which
check failed), as DOMAIN.md describes them. The check digits are python-stdnum's: Luhn over the
NSS's 11 digits, and the CURP's own weighted sum (`stdnum.mx.curp`)."""

from __future__ import annotations

import re

from stdnum import luhn
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength
from stdnum.mx import curp as stdnum_curp

CURP_SHAPE = re.compile(r"^[A-Z][AEIOUX][A-Z]{2}\d{6}[HMX][A-Z]{2}[B-DF-HJ-NP-TV-Z]{3}[0-9A-Z]\d$")


class InvalidIdentifier(ValueError):
    """A NSS or CURP that cannot be right; `reason` says why, for the person."""

    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason


def normalize_nss(raw: str) -> str:
    """The NSS's digits (spaces, dashes and dots people type are dropped), or InvalidIdentifier."""
    digits = re.sub(r"[\s.\-]", "", raw or "")
    if not digits.isdigit():
        raise InvalidIdentifier("nss", "El NSS lleva solo números: son 11 dígitos.")
    if len(digits) != 11:
        raise InvalidIdentifier(
            "nss", f"El NSS tiene 11 dígitos y escribiste {len(digits)}. Revísalo en tu cartilla."
        )
    if not luhn.is_valid(digits):
        raise InvalidIdentifier(
            "nss",
            "El último dígito del NSS (el verificador) no corresponde a los otros 10: "
            "probablemente hay un número cambiado. Revísalo en tu cartilla o en tu constancia.",
        )
    return digits


def normalize_curp(raw: str) -> str:
    """The CURP in capitals without spaces, or InvalidIdentifier with the reason."""
    text = re.sub(r"\s", "", raw or "").upper()
    if len(text) != 18:
        raise InvalidIdentifier("curp", f"La CURP tiene 18 caracteres y escribiste {len(text)}.")
    if not CURP_SHAPE.match(text):
        raise InvalidIdentifier(
            "curp",
            "La CURP no tiene la forma esperada: 4 letras, tu fecha de nacimiento (AAMMDD), "
            "H o M, 2 letras del estado, 3 consonantes, y 2 caracteres más.",
        )
    try:
        stdnum_curp.validate(text)
    except InvalidChecksum:
        raise InvalidIdentifier(
            "curp",
            "El último carácter de la CURP (el verificador) no corresponde a los otros 17: "
            "probablemente hay una letra o un número cambiado. Puedes consultarla en gob.mx/curp.",
        ) from None
    except (InvalidComponent, InvalidFormat, InvalidLength):
        raise InvalidIdentifier(
            "curp",
            "La fecha de nacimiento o el estado de la CURP no son válidos. Revísala en "
            "gob.mx/curp.",
        ) from None
    return text


def mask_nss(nss: str) -> str:
    return "•" * 9 + nss[-2:]


def mask_curp(curp: str) -> str:
    return curp[:4] + "•" * 12 + curp[-2:]
