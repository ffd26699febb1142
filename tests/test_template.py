"""Tests of qmlkit.template: the project skeleton of ``qmlkit new``.

The skeleton is checked file by file (structure of the chapter, parameter profile, book
configuration, Python syntax), then as a whole: the generated project's own test suite runs in a
subprocess with this interpreter (its unit tests and a papermill rerun of its chapter), and its
book builds with ``jupyter-book build -W``.
"""

from __future__ import annotations

import ast
import subprocess
import sys

import nbformat
import papermill
import pytest
import tomllib
import yaml

from qmlkit.template import RESERVED_NAMES, default_name, new_project, project_files

EXPECTED = sorted([
    ".gitignore", "README.md", "_config.yml", "_toc.yml", "chapters/01_demo.ipynb",
    "chapters/params/01_demo.full.yaml", "intro.md", "demo/__init__.py", "demo/model.py",
    "pyproject.toml", "references.bib", "tests/test_chapter.py", "tests/test_model.py",
])


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "demo"
    written = new_project(root)
    return root, written


def test_new_project_writes_the_skeleton(project):
    root, written = project
    assert [p.relative_to(root).as_posix() for p in written] == EXPECTED
    assert all(p.is_file() and p.read_text() for p in written)
    on_disk = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    assert on_disk == sorted(EXPECTED)


def test_the_python_files_parse_and_name_the_package(project):
    root, _ = project
    for path in [*root.glob("demo/*.py"), *root.glob("tests/*.py")]:
        ast.parse(path.read_text(), filename=str(path))
    assert "from demo.model import" in (root / "tests/test_model.py").read_text()
    assert "__NAME__" not in "".join(p.read_text() for p in root.rglob("*") if p.is_file())


def test_the_chapter_follows_the_compendium_conventions(project):
    root, _ = project
    path = root / "chapters/01_demo.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and code[0] is tagged[0]
    params = papermill.inspect_notebook(str(path))
    assert {"seed", "results_dir", "n_samples", "epochs"} <= set(params)
    assert all(params[k]["help"] for k in params), "every parameter has a comment"
    assert 'check_int("seed"' in code[1].source and "check_" in code[1].source
    assert 'ChapterRecord("01_demo"' in "".join(c.source for c in code)
    assert "record.save(results_dir)" in code[-1].source
    last_md = [c for c in nb.cells if c.cell_type == "markdown"][-1].source
    assert "## What this chapter shows, and its limits" in last_md
    assert nb.metadata["kernelspec"]["name"] == "python3"
    full = yaml.safe_load((root / "chapters/params/01_demo.full.yaml").read_text())
    for key, value in full.items():
        assert key in params
        assert type(value) is type(eval(params[key]["default"])), key


def test_the_book_and_the_package_configuration(project):
    root, _ = project
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    assert toc["format"] == "jb-book" and (root / f"{toc['root']}.md").exists()
    for entry in toc["chapters"]:
        assert (root / f"{entry['file']}.ipynb").exists()
    config = yaml.safe_load((root / "_config.yml").read_text())
    assert config["execute"]["execute_notebooks"] == "off"
    assert "ahmad2025review" in (root / config["bibtex_bibfiles"][0]).read_text()
    meta = tomllib.loads((root / "pyproject.toml").read_text())
    assert meta["project"]["name"] == "demo"
    assert any(d.startswith("qmlkit") for d in meta["project"]["dependencies"])
    assert meta["tool"]["pytest"]["ini_options"]["pythonpath"] == ["."]


def test_the_skeleton_is_deterministic(tmp_path):
    a, b = new_project(tmp_path / "a", name="demo"), new_project(tmp_path / "b", name="demo")
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert project_files("demo") == {p.relative_to(tmp_path / "a").as_posix(): p.read_text()
                                     for p in a}


def test_default_name_comes_from_the_directory(tmp_path):
    assert default_name(tmp_path / "My-QML Thesis") == "my_qml_thesis"
    written = new_project(tmp_path / "My-QML Thesis")
    assert any(p.name == "01_my_qml_thesis.ipynb" for p in written)
    written = new_project(tmp_path / "other", name="thesis")
    assert (tmp_path / "other" / "thesis" / "model.py") in written


def test_an_empty_existing_directory_is_used(tmp_path):
    (tmp_path / "empty").mkdir()
    assert len(new_project(tmp_path / "empty", name="demo")) == len(EXPECTED)


def test_a_non_empty_directory_is_refused_unless_forced(tmp_path):
    root = tmp_path / "demo"
    root.mkdir()
    (root / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match=r"path .*demo.* is not empty"):
        new_project(root)
    assert sorted(p.name for p in root.iterdir()) == ["notes.txt"]
    (root / "README.md").write_text("old")
    written = new_project(root, force=True)
    assert (root / "notes.txt").read_text() == "mine"
    assert (root / "README.md").read_text().startswith("# demo")
    assert len(written) == len(EXPECTED)


def test_a_file_path_is_refused(tmp_path):
    target = tmp_path / "demo"
    target.write_text("not a directory")
    with pytest.raises(ValueError, match="not a directory"):
        new_project(target, force=True)


@pytest.mark.parametrize("name", ["1st", "my-thesis", "class", "_private", "", "thèse",
                                  *sorted(RESERVED_NAMES)[:2]])
def test_bad_names_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match="name"):
        new_project(tmp_path / "p", name=name)
    assert not (tmp_path / "p").exists()


def test_a_directory_without_a_valid_default_name_asks_for_one(tmp_path):
    with pytest.raises(ValueError, match=r"name: the directory name .* pass name="):
        new_project(tmp_path / "2026")
    assert new_project(tmp_path / "2026", name="thesis_2026")


@pytest.mark.parametrize("kwargs, argument", [
    ({"path": 3}, "path"), ({"name": 3}, "name"), ({"force": "yes"}, "force")])
def test_arguments_of_the_wrong_type(tmp_path, kwargs, argument):
    call = {"path": tmp_path / "p", **kwargs}
    with pytest.raises(TypeError, match=argument):
        new_project(call.pop("path"), **call)
    with pytest.raises(TypeError, match="path"):
        default_name(3)


@pytest.mark.slow
def test_the_generated_project_passes_its_own_tests(project):
    root, _ = project
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                          cwd=root, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "6 passed" in done.stdout


@pytest.mark.slow
def test_the_generated_book_builds_without_warnings(project):
    root, _ = project
    done = subprocess.run(
        [sys.executable, "-c", "from jupyter_book.cli.main import main; main()", "build",
         str(root), "-W", "-n", "--keep-going"],
        cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert (root / "_build/html/chapters/01_demo.html").exists()
