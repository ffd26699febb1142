"""A project skeleton a thesis can start from: ``qmlkit new PROJECT_DIR`` (review §10).

The review closes with a five-step recipe for putting a quantum layer into a neural pipeline.
:func:`new_project` writes a small, working project that follows it and this compendium's
conventions, ready to be copied and grown:

* ``<name>/model.py`` -- the project's code (data, model, training), tested by
  ``tests/test_model.py``; chapters call it and never redefine it;
* ``chapters/01_<name>.ipynb`` -- one chapter: a ``parameters`` cell (seed, sizes,
  ``results_dir``), a cell validating every parameter, a classical baseline, a hybrid model
  trained with :mod:`qmlkit.layers`, key numbers in a :class:`qmlkit.records.ChapterRecord`, and
  a closing "What this chapter shows, and its limits";
* ``chapters/params/01_<name>.full.yaml`` -- its larger papermill profile;
* ``tests/test_chapter.py`` -- papermill runs the chapter with tiny parameters and checks the
  JSON record it writes, and that a parameter of the wrong type fails naming it;
* ``README.md``, ``pyproject.toml``, ``.gitignore`` and a Jupyter Book (v1) ``_config.yml``,
  ``_toc.yml``, ``intro.md``, ``references.bib``, so ``jupyter-book build .`` works.

The files are plain text kept in this module (:func:`project_files`), so the package needs no
data files; the notebook is built with :mod:`nbformat` with fixed cell ids, so two projects of
the same name are identical byte for byte.

Example:
    >>> import pathlib, tempfile
    >>> root = pathlib.Path(tempfile.mkdtemp()) / "my-thesis"
    >>> written = new_project(root)
    >>> for path in written:
    ...     print(path.relative_to(root).as_posix())
    .gitignore
    README.md
    _config.yml
    _toc.yml
    chapters/01_my_thesis.ipynb
    chapters/params/01_my_thesis.full.yaml
    intro.md
    my_thesis/__init__.py
    my_thesis/model.py
    pyproject.toml
    references.bib
    tests/test_chapter.py
    tests/test_model.py
"""

from __future__ import annotations

import keyword
import os
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from qmlkit._validation import check_bool, check_identifier

__all__ = ["RESERVED_NAMES", "default_name", "new_project", "project_files"]

#: Names a project may not take: they would shadow the packages and folders it uses.
RESERVED_NAMES = frozenset({"qmlkit", "tests", "chapters", "cirq", "tensorflow",
                            "tensorflow_quantum", "tf_keras", "numpy", "sklearn", "papermill"})

_PLACEHOLDER = "__NAME__"

# --------------------------------------------------------------------------------------------
# the files, with __NAME__ for the project's name
# --------------------------------------------------------------------------------------------

_README = """\
# __NAME__

A research project on a hybrid quantum-classical model, started from the qmlkit template
(`qmlkit new`). It follows the five steps of the recipe in section 10 of Ahmad et al. (2025),
*Quantum machine learning: integrating quantum computing principles into neural network
optimization* (doi:10.5281/zenodo.17959905): define the use case, choose the encoding, select
the ansatz, implement it in a differentiable framework, and train carefully.

## Set up

qmlkit is the package of the compendium that wrote this skeleton. Install it first, with its
TensorFlow Quantum extra, from the compendium's checkout (or use the compendium's `.venv`):

```bash
pip install -e PATH/TO/COMPENDIUM[tf,book,test]
pip install -e .          # this project (its own dependency, qmlkit, is already there)
```

## Run

```bash
python -m pytest                           # unit tests + the chapter, rerun with tiny parameters
papermill chapters/01___NAME__.ipynb /tmp/01.ipynb -p seed 7 -p results_dir results
papermill chapters/01___NAME__.ipynb /tmp/01-full.ipynb -f chapters/params/01___NAME__.full.yaml
jupyter nbconvert --to notebook --execute --inplace chapters/01___NAME__.ipynb  # store outputs
jupyter-book build .                       # the book, into _build/html
```

`-p results_dir DIR` makes the chapter write its key numbers to `DIR/01___NAME__.json`.

## Where things are

| path | what |
|---|---|
| `__NAME__/model.py` | the project's code: data, model, training (the chapters call it) |
| `tests/test_model.py` | unit tests of that code |
| `chapters/01___NAME__.ipynb` | the first chapter; its first code cell holds the parameters |
| `chapters/params/01___NAME__.full.yaml` | its larger papermill profile |
| `tests/test_chapter.py` | reruns the chapter through papermill and checks what it records |
| `_config.yml`, `_toc.yml`, `intro.md`, `references.bib` | the Jupyter Book (v1) |

## Conventions

- Code lives in `__NAME__/`, with tests; a chapter calls it and never redefines it.
- A chapter's first code cell is tagged `parameters` and holds `seed`, the sizes and
  `results_dir = ""`, each with a comment; the next cell validates every one of them, so a bad
  value fails at once with an error naming it.
- Randomness comes only from the seed: `numpy.random.default_rng(seed)` and
  `tf_keras.utils.set_random_seed(seed)`.
- Key numbers go through `ChapterRecord.log`, rounded, and conclusions are computed from them,
  never typed in by hand.
- The last section, "What this chapter shows, and its limits", says what was not tested.
"""

_PYPROJECT = """\
[build-system]
requires = ["setuptools>=69", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "__NAME__"
version = "0.1.0"
description = "A hybrid quantum-classical model study, started from the qmlkit template."
readme = "README.md"
requires-python = ">=3.10,<3.13"
dependencies = ["qmlkit[tf]>=0.1"]

[project.optional-dependencies]
test = ["pytest>=8", "papermill>=2.6", "ipykernel>=6", "pyyaml>=6"]
book = ["jupyter-book>=1.0.4,<2"]

[tool.setuptools.packages.find]
include = ["__NAME__*"]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]
addopts = "-ra --strict-markers"
xfail_strict = true
filterwarnings = [
  "ignore::DeprecationWarning:tensorflow.*",
  "ignore::DeprecationWarning:tf_keras.*",
  "ignore::DeprecationWarning:tensorflow_quantum.*",
  "ignore::DeprecationWarning:google.protobuf.*",
  "ignore::DeprecationWarning:jupyter_client.*",
]
"""

_GITIGNORE = """\
.venv/
_build/
results/
__pycache__/
*.pyc
*.egg-info/
.pytest_cache/
.ipynb_checkpoints/
"""

_CONFIG = """\
# Jupyter Book 1 configuration. Chapters are stored executed (see README.md) and rendered as
# they are; `jupyter-book build . --config ...` or execute_notebooks: force re-executes them.
title: "__NAME__"
author: "__NAME__ authors"
only_build_toc_files: true
exclude_patterns:
  - .venv/*
  - _build/*
  - results/*
  - tests/*
  - README.md
  - "**.ipynb_checkpoints"
execute:
  execute_notebooks: "off"
  timeout: 1800
  allow_errors: false
bibtex_bibfiles:
  - references.bib
sphinx:
  config:
    bibtex_reference_style: author_year
"""

_TOC = """\
format: jb-book
root: intro
chapters:
  - file: chapters/01___NAME__
"""

_INTRO = """\
# __NAME__

This book follows the practical recipe of {cite:p}`ahmad2025review` (section 10) for putting a
quantum layer into a neural pipeline. Each chapter is a notebook whose first code cell holds
its parameters; rerun it with papermill (see `README.md`).

```{bibliography}
```
"""

_BIB = """\
@misc{ahmad2025review,
  author       = {Ahmad, Hammad and Shahzad, Muhammad and Khoso, Qurban Ali and Danyal, Mian Muhammad and Khan, Abdul Qadeer},
  title        = {Quantum machine learning: integrating quantum computing principles into neural network optimization},
  year         = {2025},
  doi          = {10.5281/zenodo.17959905},
  howpublished = {Zenodo}
}
"""

_INIT = '''\
"""__NAME__: the code the chapters run (data, model, training)."""

__version__ = "0.1.0"
'''

_MODEL = '''\
"""Data, model and training of the project (its chapters call these, its tests check them).

TensorFlow is imported only when a model is built, through qmlkit (which sets up Keras 2 for
TensorFlow Quantum), so loading the data stays light.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from qmlkit._validation import check_float, check_int


@dataclass(frozen=True)
class Split:
    """Standardised training and test sets (labels 0 and 1)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


def load_data(*, n_samples: int, noise: float, test_fraction: float = 0.3,
              seed: int) -> Split:
    """Two interleaved half moons (scikit-learn), split and standardised by the training set.

    Example:
        >>> data = load_data(n_samples=40, noise=0.1, seed=0)
        >>> data.x_train.shape, data.x_test.shape
        ((28, 2), (12, 2))
    """
    from sklearn.datasets import make_moons
    from sklearn.model_selection import train_test_split

    n_samples = check_int("n_samples", n_samples, minimum=8)
    noise = check_float("noise", noise, minimum=0.0)
    test_fraction = check_float("test_fraction", test_fraction, minimum=0.1, maximum=0.9)
    seed = check_int("seed", seed, minimum=0)
    x, y = make_moons(n_samples=n_samples, noise=noise, random_state=seed)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, stratify=y, random_state=seed)
    mean, scale = x_train.mean(axis=0), x_train.std(axis=0)
    return Split(x_train=((x_train - mean) / scale).astype(np.float32),
                 y_train=y_train.astype(np.float32),
                 x_test=((x_test - mean) / scale).astype(np.float32),
                 y_test=y_test.astype(np.float32))


def build_model(*, n_features: int, layers: int, seed: int) -> Any:
    """A hybrid model: Dense -> angles -> a quantum layer (one qubit per feature) -> sigmoid.

    Example:
        >>> model = build_model(n_features=2, layers=1, seed=0)  # doctest: +SKIP
        >>> model.output_shape  # doctest: +SKIP
        (None, 1)
    """
    n_features = check_int("n_features", n_features, minimum=1, maximum=8)
    layers = check_int("layers", layers, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    from qmlkit._environment import import_tensorflow

    import_tensorflow()
    import tf_keras

    from qmlkit.layers import hybrid_model

    tf_keras.utils.set_random_seed(seed)
    return hybrid_model(n_features, n_qubits=n_features, output_activation="sigmoid",
                        quantum_kwargs={"layers": layers, "seed": seed})


def train(model: Any, x: np.ndarray, y: np.ndarray, *, epochs: int, batch_size: int,
          learning_rate: float, seed: int) -> list[float]:
    """Adam on the binary cross-entropy; returns the training loss after every epoch."""
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    learning_rate = check_float("learning_rate", learning_rate, minimum=1e-6)
    seed = check_int("seed", seed, minimum=0)
    import tf_keras

    tf_keras.utils.set_random_seed(seed)
    model.compile(optimizer=tf_keras.optimizers.Adam(learning_rate), loss="binary_crossentropy")
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=True)
    return [float(v) for v in history.history["loss"]]


def accuracy(model: Any, x: np.ndarray, y: np.ndarray) -> float:
    """Share of the samples whose predicted probability is on the side of their label."""
    p = np.asarray(model(x, training=False)).reshape(-1)
    return float(np.mean((p > 0.5) == (np.asarray(y) > 0.5)))
'''

_TEST_MODEL = '''\
"""Unit tests of __NAME__.model."""

import numpy as np
import pytest

from __NAME__.model import accuracy, build_model, load_data, train


def test_load_data_standardises_with_the_training_set():
    data = load_data(n_samples=40, noise=0.1, seed=0)
    assert data.x_train.shape == (28, 2) and data.x_test.shape == (12, 2)
    np.testing.assert_allclose(data.x_train.mean(axis=0), 0.0, atol=1e-6)
    np.testing.assert_allclose(data.x_train.std(axis=0), 1.0, atol=1e-5)
    assert set(np.unique(data.y_train)) == {0.0, 1.0}


def test_load_data_depends_only_on_the_seed():
    a, b = load_data(n_samples=40, noise=0.1, seed=3), load_data(n_samples=40, noise=0.1, seed=3)
    np.testing.assert_array_equal(a.x_test, b.x_test)
    assert not np.array_equal(a.x_test, load_data(n_samples=40, noise=0.1, seed=4).x_test)


def test_bad_arguments_name_themselves():
    with pytest.raises(TypeError, match="n_samples"):
        load_data(n_samples=40.0, noise=0.1, seed=0)
    with pytest.raises(ValueError, match="noise"):
        load_data(n_samples=40, noise=-1.0, seed=0)
    with pytest.raises(ValueError, match="layers"):
        build_model(n_features=2, layers=0, seed=0)


def test_the_model_outputs_probabilities_and_training_lowers_the_loss():
    data = load_data(n_samples=40, noise=0.1, seed=0)
    model = build_model(n_features=2, layers=1, seed=0)
    p = np.asarray(model(data.x_test)).reshape(-1)
    assert p.shape == (12,) and np.all((p > 0) & (p < 1))
    losses = train(model, data.x_train, data.y_train, epochs=5, batch_size=8,
                   learning_rate=0.1, seed=0)
    assert len(losses) == 5 and losses[-1] < losses[0]
    assert 0.0 <= accuracy(model, data.x_test, data.y_test) <= 1.0
'''

_TEST_CHAPTER = '''\
"""The chapter reruns through papermill with tiny parameters and records what it measured."""

import json
import os
from pathlib import Path

import papermill
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "chapters" / "01___NAME__.ipynb"
TINY = {"seed": 7, "n_samples": 40, "epochs": 2, "layers": 1}


@pytest.fixture
def kernel_sees_the_project(monkeypatch):
    """The kernel imports __NAME__ from this checkout, installed or not."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))


def run(tmp_path, parameters):
    return papermill.execute_notebook(
        str(CHAPTER), str(tmp_path / CHAPTER.name), parameters=parameters,
        cwd=str(CHAPTER.parent), kernel_name="python3", progress_bar=False)


def test_the_chapter_runs_and_records_its_results(tmp_path, kernel_sees_the_project):
    results = tmp_path / "results"
    run(tmp_path, {**TINY, "results_dir": str(results)})
    record = json.loads((results / "01___NAME__.json").read_text())
    assert record["chapter"] == "01___NAME__"
    for key, value in TINY.items():
        assert record["parameters"][key] == value
    found = record["results"]
    assert found["data: training samples"] + found["data: test samples"] == TINY["n_samples"]
    for key in ("hybrid: test accuracy", "baseline: test accuracy"):
        assert 0.0 <= found[key] <= 1.0
    assert found["hybrid: parameters"] > 0
    assert isinstance(found["verdict"], str) and found["verdict"]


def test_a_parameter_of_the_wrong_type_fails_naming_it(tmp_path, kernel_sees_the_project):
    with pytest.raises(papermill.PapermillExecutionError) as info:
        run(tmp_path, {"epochs": "many"})
    assert info.value.ename == "TypeError"
    assert "epochs must be an integer" in info.value.evalue
'''

_FULL = """\
# Larger profile of chapter 01: papermill -f chapters/params/01___NAME__.full.yaml
seed: 2025
n_samples: 1000
noise: 0.15
layers: 3
epochs: 60
batch_size: 32
learning_rate: 0.03
"""

# ---- the chapter -----------------------------------------------------------------------------

_CELLS: list[tuple[str, str]] = [
    ("markdown", """\
# A hybrid quantum-classical classifier

A first chapter, following the recipe of {cite:p}`ahmad2025review` (section 10): the use case is
a small structured classification task (two half moons), the encoding is angle encoding (one
qubit per feature), the ansatz is a shallow hardware-efficient circuit, the framework is
TensorFlow Quantum through `qmlkit.layers`, and training is monitored against a classical
baseline. Replace the data, model and questions with your own; keep the structure: parameters,
validation, a baseline, the model, recorded numbers, and what the chapter shows and does not."""),
    ("parameters", """\
seed = 2025  # seed of the data, the initialisation and the shuffling
n_samples = 200  # points of the two-moons data set (training + test)
noise = 0.15  # noise of the two moons
layers = 2  # entangling layers of the quantum layer's ansatz
epochs = 30  # training epochs
batch_size = 16  # mini-batch size
learning_rate = 0.05  # Adam's step size
results_dir = \"\"  # if set, key results are written there as JSON"""),
    ("code", """\
from qmlkit._validation import check_float, check_int

seed = check_int("seed", seed, minimum=0)
n_samples = check_int("n_samples", n_samples, minimum=20)
noise = check_float("noise", noise, minimum=0.0)
layers = check_int("layers", layers, minimum=1, maximum=10)
epochs = check_int("epochs", epochs, minimum=1)
batch_size = check_int("batch_size", batch_size, minimum=1)
learning_rate = check_float("learning_rate", learning_rate, minimum=1e-6)
if not isinstance(results_dir, str):
    raise TypeError(f"results_dir must be a string, got {type(results_dir).__name__}")"""),
    ("code", """\
import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression

from qmlkit.layers import count_parameters
from qmlkit.records import ChapterRecord
from __NAME__.model import accuracy, build_model, load_data, train

record = ChapterRecord("01___NAME__", parameters=dict(
    seed=seed, n_samples=n_samples, noise=noise, layers=layers, epochs=epochs,
    batch_size=batch_size, learning_rate=learning_rate))"""),
    ("markdown", """\
## The data and a classical baseline

The baseline comes first: a model is only interesting if it is compared with a classical one
on the same data."""),
    ("code", """\
data = load_data(n_samples=n_samples, noise=noise, seed=seed)
record.log("data: training samples", len(data.y_train))
record.log("data: test samples", len(data.y_test))
baseline = LogisticRegression().fit(data.x_train, data.y_train)
record.log("baseline: test accuracy", float(baseline.score(data.x_test, data.y_test)),
           decimals=3)"""),
    ("markdown", """\
## The hybrid model

`Dense → π·tanh → QuantumLayer (angle encoding + hardware-efficient ansatz, ⟨Z_i⟩ read-out)
→ Dense(1, sigmoid)`, built by `__NAME__.model.build_model` on `qmlkit.layers.hybrid_model`."""),
    ("code", """\
model = build_model(n_features=data.x_train.shape[1], layers=layers, seed=seed)
record.log("hybrid: parameters", count_parameters(model))
print(model.get_layer("quantum").circuit)
losses = train(model, data.x_train, data.y_train, epochs=epochs, batch_size=batch_size,
               learning_rate=learning_rate, seed=seed)
record.log("hybrid: final training loss", losses[-1], digits=3)
record.log("hybrid: test accuracy", accuracy(model, data.x_test, data.y_test), decimals=3)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(range(1, len(losses) + 1), losses, marker="o")
ax.set_xlabel("epoch")
ax.set_ylabel("training loss")
plt.show()"""),
    ("code", """\
gap = record.results["hybrid: test accuracy"] - record.results["baseline: test accuracy"]
verdict = ("the hybrid model is level with the baseline" if round(gap, 3) == 0 else
           f"the hybrid model is {'ahead of' if gap > 0 else 'behind'} the baseline by "
           f"{abs(gap):.3f} test accuracy (one seed)")
record.log("verdict", verdict)"""),
    ("markdown", "## Recorded results"),
    ("code", """\
record.save(results_dir)
print(record.to_json())"""),
    ("markdown", """\
## What this chapter shows, and its limits

**Shows.** The hybrid model trains on the data and the chapter records its test accuracy next
to a classical baseline's, with the verdict computed from the two numbers.

**Limits.** One seed, one small data set, a baseline that was not tuned, and no noise: before
drawing conclusions, tune both models with the same budget, repeat over seeds, and check the
gradients and the effect of noise (see the qmlkit compendium, chapter 15)."""),
]


def _notebook(name: str) -> str:
    cells = []
    for i, (kind, source) in enumerate(_CELLS):
        source = source.replace(_PLACEHOLDER, name)
        if kind == "markdown":
            cell = new_markdown_cell(source)
        else:
            cell = new_code_cell(source)
            if kind == "parameters":
                cell.metadata["tags"] = ["parameters"]
        cell["id"] = f"cell-{i:02d}"
        cells.append(cell)
    nb = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                       "name": "python3"},
        "language_info": {"name": "python"}})
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


# --------------------------------------------------------------------------------------------
# public entry points
# --------------------------------------------------------------------------------------------


def default_name(path: str | os.PathLike) -> str:
    """The project name derived from a directory: its last part, lower case, ``-``/space → ``_``.

    Example:
        >>> default_name("theses/My-QML Thesis")
        'my_qml_thesis'
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    base = Path(os.path.abspath(os.fspath(path))).name
    return base.strip().lower().replace("-", "_").replace(" ", "_")


def _check_name(name: object) -> str:
    name = check_identifier("name", name)
    if keyword.iskeyword(name) or name in RESERVED_NAMES or name.startswith("_"):
        raise ValueError(f"name must not be a Python keyword, start with '_' or be one of "
                         f"{sorted(RESERVED_NAMES)}, got {name!r}")
    if not name.isascii():
        raise ValueError(f"name must be ASCII (it names a package and files), got {name!r}")
    return name


def project_files(name: str) -> dict[str, str]:
    """The skeleton's files as ``{relative path: text}``, for the project ``name``.

    Raises:
        TypeError: if ``name`` is not a string.
        ValueError: if ``name`` is not an ASCII identifier, is a keyword, starts with ``_`` or
            is one of :data:`RESERVED_NAMES`.

    Example:
        >>> files = project_files("demo")
        >>> files["_toc.yml"].splitlines()[-1]
        '  - file: chapters/01_demo'
    """
    name = _check_name(name)
    texts = {
        "README.md": _README, "pyproject.toml": _PYPROJECT, ".gitignore": _GITIGNORE,
        "_config.yml": _CONFIG, "_toc.yml": _TOC, "intro.md": _INTRO, "references.bib": _BIB,
        f"{name}/__init__.py": _INIT, f"{name}/model.py": _MODEL,
        "tests/test_model.py": _TEST_MODEL, "tests/test_chapter.py": _TEST_CHAPTER,
        f"chapters/params/01_{name}.full.yaml": _FULL,
    }
    files = {path: text.replace(_PLACEHOLDER, name) for path, text in texts.items()}
    files[f"chapters/01_{name}.ipynb"] = _notebook(name)
    return dict(sorted(files.items()))


def new_project(path: str | os.PathLike, *, name: str | None = None,
                force: bool = False) -> list[Path]:
    """Write the project skeleton into the directory ``path`` (created if needed).

    Args:
        path: the project directory. It must not exist, or be empty, unless ``force``.
        name: the project's name (its package, its first chapter ``chapters/01_<name>``); by
            default :func:`default_name` of ``path``.
        force: write into a non-empty directory, overwriting the skeleton's files there (other
            files are left alone).

    Returns:
        The paths written, sorted (``path / relative path``).

    Raises:
        TypeError: for a ``path`` that is not a str/PathLike, a ``name`` that is not a string
            or a ``force`` that is not a bool.
        ValueError: for a bad ``name`` (see :func:`project_files`), a ``path`` that is a file,
            or a non-empty directory without ``force``.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
    force = check_bool("force", force)
    root = Path(path)
    if name is None:
        derived = default_name(root)
        try:
            name = _check_name(derived)
        except ValueError:
            raise ValueError(f"name: the directory name of path={os.fspath(path)!r} gives "
                             f"{derived!r}, which is not a valid project name; pass name=... "
                             f"(an identifier such as 'my_thesis')") from None
    files = project_files(name)
    if root.exists() and not root.is_dir():
        raise ValueError(f"path {os.fspath(path)!r} exists and is not a directory")
    if root.is_dir() and any(root.iterdir()) and not force:
        raise ValueError(f"path {os.fspath(path)!r} is not empty; choose a new directory, or "
                         f"pass force=True (qmlkit new --force) to overwrite the template's "
                         f"files in it")
    written = []
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return sorted(written, key=lambda p: p.relative_to(root).as_posix())
