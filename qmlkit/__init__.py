"""qmlkit: the package behind the executable companion to the review.

Importing :mod:`qmlkit` is light: it imports neither TensorFlow nor PennyLane nor Mitiq. It does
prepare the process for TensorFlow Quantum before TensorFlow is first imported, so that users
never have to:

* ``TF_USE_LEGACY_KERAS=1`` -- TFQ's layers are Keras 2 layers and need ``tf_keras``;
* ``TF_CPP_MIN_LOG_LEVEL=3`` -- TensorFlow's C++ start-up noise stays out of notebook outputs.

Both are only defaults (``os.environ.setdefault``): a value the user set wins.

Example:
    >>> import qmlkit
    >>> qmlkit.__version__
    '0.1.0'
"""

from __future__ import annotations

from qmlkit._environment import configure_tensorflow_environment

configure_tensorflow_environment()

from qmlkit._about import about, versions  # noqa: E402

__version__ = "0.1.0"

__all__ = ["__version__", "about", "versions"]
