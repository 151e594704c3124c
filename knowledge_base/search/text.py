"""Spanish text handling for search: normalization, stemming, lexical tokens and chunking.

Lexical tokens are made the same way for articles and for queries:

1. Unicode NFKC and lowercase;
2. words are runs of letters and digits (``\\w+``), so punctuation such as ``¿ ¡ . ,`` goes;
3. Spanish stopwords are dropped (the list of bm25s plus a few chat words, compared with
   accents folded, so ``cómo`` and ``como`` are both dropped);
4. each word is stemmed by Snowball Spanish (PyStemmer) on its accented form, which is the
   form the algorithm is written for, and the stem is then accent-folded (``á → a``,
   ``ü → u``, ``ñ → n``). People type without accents: ``informacion`` and ``información``
   both give ``inform``.

Chunking splits long bodies into pieces of about ``max_words`` words (whitespace words, not
model tokens: for Spanish, multilingual-e5 reads about 1.4 tokens per word, so the default 180
words stay well inside the model's 512-token window) by paragraphs first, then by sentences,
with an overlap of whole sentences between consecutive chunks.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_SPANISH

from core.text import fold_accents

__all__ = [
    "STOPWORDS",
    "chunk_text",
    "fold_accents",
    "normalize",
    "sentences",
    "stem",
    "tokens",
    "words",
]

_WORD = re.compile(r"\w+", re.UNICODE)
# A sentence ends at . ! ? … (possibly followed by closing quotes or brackets) and whitespace.
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’»)\]]*\s+")
_PARAGRAPH = re.compile(r"\n\s*\n")


def normalize(text: str) -> str:
    """Lowercase, accent-folded text with single spaces: what lexical matching compares."""
    return " ".join(fold_accents(unicodedata.normalize("NFKC", text).lower()).split())


# Chat words that carry no topic, besides the classic stopwords of bm25s.
_EXTRA_STOPWORDS = {
    "hola",
    "buenas",
    "buenos",
    "dias",
    "tardes",
    "noches",
    "favor",
    "gracias",
    "quiero",
    "quisiera",
    "necesito",
    "puedo",
    "puede",
    "pueden",
    "saber",
    "usted",
    "ustedes",
    "cual",
    "cuales",
    "cuanto",
    "cuanta",
    "cuantos",
    "cuantas",
    "quien",
}
STOPWORDS: frozenset[str] = frozenset(
    {fold_accents(w.lower()) for w in STOPWORDS_SPANISH} | _EXTRA_STOPWORDS
)

_stemmer_lock = threading.Lock()
_stemmer = Stemmer.Stemmer("spanish")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """Snowball Spanish stem of a lowercase word, accent-folded: ``trámites`` → ``tramit``."""
    # PyStemmer objects are not thread-safe; the cache makes the lock rarely taken.
    with _stemmer_lock:
        stemmed = _stemmer.stemWord(word)
    return fold_accents(stemmed)


def words(text: str) -> list[str]:
    """Lowercase words (letters and digits) of ``text``, accents kept."""
    return _WORD.findall(unicodedata.normalize("NFKC", text).lower())


def tokens(text: str) -> list[str]:
    """Lexical tokens of ``text``: words minus stopwords, stemmed and accent-folded."""
    out = []
    for word in words(text):
        if fold_accents(word) in STOPWORDS:
            continue
        out.append(stem(word))
    return out


def sentences(text: str) -> list[str]:
    """Sentences of one paragraph (split after . ! ? … followed by whitespace)."""
    return [s.strip() for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def _word_count(text: str) -> int:
    return len(text.split())


def _units(text: str, max_words: int) -> list[tuple[str, bool]]:
    """(piece, starts_paragraph) pieces no longer than max_words: sentences, or word windows."""
    units: list[tuple[str, bool]] = []
    for paragraph in _PARAGRAPH.split(text.strip()):
        paragraph = " ".join(paragraph.split())
        if not paragraph:
            continue
        first = True
        pieces: Iterable[str] = (
            [paragraph] if _word_count(paragraph) <= max_words else sentences(paragraph)
        )
        for piece in pieces:
            piece_words = piece.split()
            # A sentence longer than a chunk is cut into windows of max_words words.
            for start in range(0, len(piece_words), max_words):
                units.append((" ".join(piece_words[start : start + max_words]), first))
                first = False
    return units


def chunk_text(text: str, max_words: int = 180, overlap_words: int = 40) -> list[str]:
    """``text`` in chunks of at most ``max_words`` words, cut at paragraph or sentence ends.

    Whole paragraphs are packed while they fit; a longer paragraph is packed sentence by
    sentence (and a sentence longer than a chunk is cut into word windows). A new chunk starts
    with the last sentences of the previous one, up to ``overlap_words`` words, so that an
    answer spanning the cut is still whole in one chunk. Paragraphs are joined by a blank line.
    A text of at most ``max_words`` words is one chunk; an empty text gives no chunk.
    """
    if max_words < 1:
        raise ValueError("max_words must be at least 1")
    if not 0 <= overlap_words < max_words:
        raise ValueError("overlap_words must be between 0 and max_words - 1")
    units = _units(text, max_words)
    chunks: list[str] = []
    current: list[tuple[str, bool]] = []
    size = 0
    fresh = 0  # units in `current` that no earlier chunk holds
    for unit in units:
        n = _word_count(unit[0])
        if current and size + n > max_words:
            chunks.append(_join(current))
            # Carry the tail of the chunk just closed, whole units only.
            carried: list[tuple[str, bool]] = []
            carried_size = 0
            for old in reversed(current):
                m = _word_count(old[0])
                if carried_size + m > overlap_words or carried_size + m + n > max_words:
                    break
                carried.insert(0, old)
                carried_size += m
            current, size, fresh = carried, carried_size, 0
        current.append(unit)
        size += n
        fresh += 1
    if current and fresh:
        chunks.append(_join(current))
    return chunks


def _join(units: list[tuple[str, bool]]) -> str:
    out = ""
    for i, (piece, starts_paragraph) in enumerate(units):
        if i == 0:
            out = piece
        else:
            out += ("\n\n" if starts_paragraph else " ") + piece
    return out
