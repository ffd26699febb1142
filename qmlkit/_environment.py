"""Process set-up that must happen before TensorFlow is imported.

TensorFlow Quantum 0.7.6 builds on Keras 2 (``tf_keras``). TensorFlow 2.18 switches ``tf.keras``
to Keras 2 only when ``TF_USE_LEGACY_KERAS=1`` is set *before* TensorFlow is first imported, so
qmlkit sets it on import (:func:`configure_tensorflow_environment`) and every TensorFlow feature
of qmlkit goes through :func:`import_tensorflow`, which checks that it took effect.
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

#: Environment variables qmlkit sets (as defaults) before TensorFlow is imported.
TENSORFLOW_ENVIRONMENT: dict[str, str] = {
    "TF_USE_LEGACY_KERAS": "1",
    "TF_CPP_MIN_LOG_LEVEL": "3",
}


def configure_tensorflow_environment() -> None:
    """Set qmlkit's TensorFlow environment defaults; a value the user set wins.

    Example:
        >>> configure_tensorflow_environment()
        >>> os.environ["TF_USE_LEGACY_KERAS"]
        '1'
    """
    for key, value in TENSORFLOW_ENVIRONMENT.items():
        os.environ.setdefault(key, value)


def import_tensorflow() -> ModuleType:
    """Import TensorFlow configured for TensorFlow Quantum and return the module.

    Raises:
        RuntimeError: if TensorFlow was already imported without ``TF_USE_LEGACY_KERAS=1``
            (then ``tf.keras`` is Keras 3 and TFQ layers cannot work in this process).

    Example:
        >>> tf = import_tensorflow()  # doctest: +SKIP
    """
    already = "tensorflow" in sys.modules
    configure_tensorflow_environment()
    if already and os.environ.get("TF_USE_LEGACY_KERAS") != "1":
        raise RuntimeError(
            "TensorFlow was imported before qmlkit with TF_USE_LEGACY_KERAS unset; "
            "TensorFlow Quantum needs Keras 2. Import qmlkit first, or set "
            "TF_USE_LEGACY_KERAS=1 before importing TensorFlow."
        )
    import tensorflow as tf

    return tf
