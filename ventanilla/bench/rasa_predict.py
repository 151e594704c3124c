"""Predict intents with a trained Rasa model, one message at a time, and time each message.

Runs with the *Rasa* interpreter (Python 3.10 venv), never imported by the main environment:

    .venv-rasa/bin/python ventanilla/bench/rasa_predict.py MODEL.tar.gz TEXTS.json OUT.json

TEXTS.json is a JSON list of strings. OUT.json gets ``{"load_seconds", "predict_seconds",
"predictions": [{"intent", "confidence", "fallback", "ranking", "ms"}, …]}`` in the same order;
``intent`` is the classifier's top intent (as ``rasa test nlu`` scores it) and ``fallback`` tells
whether the FallbackClassifier would have replaced it by ``nlu_fallback``. Messages go
through ``Agent.parse_message``, the same path the Rasa server uses for every user message, so
``ms`` is the real NLU latency (tokenizer, featurizers, classifier, fallback).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
import time
import warnings

FALLBACK = "nlu_fallback"


def main(argv: list[str]) -> int:
    if len(argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    model_path, texts_path, out_path = argv[1:]
    with open(texts_path, encoding="utf-8") as f:
        texts = json.load(f)

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.filterwarnings("ignore")
    logging.basicConfig(level=logging.WARNING)

    started = time.perf_counter()
    from rasa.core.agent import Agent

    agent = Agent.load(model_path)
    load_seconds = time.perf_counter() - started

    async def predict_all() -> list[dict]:
        # One warm-up message: the first call builds TensorFlow functions lazily.
        await agent.parse_message("hola")
        out = []
        for text in texts:
            t0 = time.perf_counter()
            parsed = await agent.parse_message(text)
            ms = (time.perf_counter() - t0) * 1000.0
            intent = parsed.get("intent") or {}
            ranking = [
                {"name": r.get("name"), "confidence": float(r.get("confidence") or 0.0)}
                for r in (parsed.get("intent_ranking") or [])
            ]
            # Like `rasa test nlu`: score the classifier, not the FallbackClassifier, whose
            # nlu_fallback is put first in the ranking; `fallback` says it would have fired.
            fallback = intent.get("name") == FALLBACK
            classified = [r for r in ranking if r["name"] != FALLBACK] or ranking or [{}]
            out.append(
                {
                    "intent": classified[0].get("name"),
                    "confidence": float(classified[0].get("confidence") or 0.0),
                    "fallback": fallback,
                    "ranking": classified[:3],
                    "ms": ms,
                }
            )
        return out

    t0 = time.perf_counter()
    predictions = asyncio.run(predict_all())
    predict_seconds = time.perf_counter() - t0

    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(
            {
                "model": os.path.abspath(model_path),
                "load_seconds": load_seconds,
                "predict_seconds": predict_seconds,
                "predictions": predictions,
            },
            f,
            ensure_ascii=False,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
