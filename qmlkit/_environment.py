"""Process set-up that must happen before TensorFlow is imported.

TensorFlow Quantum 0.7.6 builds on Keras 2 (``tf_keras``). TensorFlow 2.18 switches ``tf.keras``
to Keras 2 only when ``TF_USE_LEGACY_KERAS=1`` is set *before* TensorFlow is first imported, so
qmlkit sets it on import (:func:`configure_tensorflow_environment`) and every TensorFlow feature
of qmlkit goes through :func:`import_tensorflow`, which checks that it took effect.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
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


@contextlib.contextmanager
def quiet_native_stderr() -> Iterator[None]:
    """Send file descriptor 2 to ``/dev/null`` for the duration (Python exceptions still rise).

    TensorFlow's C++ start-up messages (CUDA plugin registration, printed by absl before
    logging is initialised, with time stamps and process ids) ignore ``TF_CPP_MIN_LOG_LEVEL``;
    in a Jupyter kernel they would land in a notebook's stored outputs.
    """
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        saved = os.dup(2)
    except OSError:  # pragma: no cover - no file descriptor 2
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


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
    if already:
        import tensorflow as tf
    else:
        with quiet_native_stderr():
            import tensorflow as tf
    return tf
