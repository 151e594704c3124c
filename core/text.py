"""Text helpers every layer can use."""

from __future__ import annotations

import unicodedata


def fold_accents(text: str) -> str:
    """``text`` without diacritics: ``Canción, pingüino, año`` → ``Cancion, pinguino, ano``."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))
