"""The chapters: structure, parameters, stored outputs, and papermill reruns."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import papermill
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "chapters"
NOTEBOOKS = sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))
RERUNS_DIR = Path(__file__).parent / "chapter_reruns"


def _toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [c["file"] for c in part["chapters"]]
    return files


def _stored_record(nb: nbformat.NotebookNode) -> dict:
    for cell in reversed(nb.cells):
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            if out.get("output_type") == "stream" and text.lstrip().startswith('{\n  "chapter"'):
                return json.loads(text)
    raise AssertionError("no recorded results printed in the stored notebook")


def _parameters(path: Path) -> dict[str, dict]:
    return papermill.inspect_notebook(str(path))


def test_there_are_chapters():
    assert [p.stem for p in NOTEBOOKS][:2] == ["01_introduction", "02_background"]


def test_toc_lists_exactly_the_existing_chapters():
    toc = _toc_files()
    chapters_in_toc = sorted(f for f in toc if f.startswith("chapters/"))
    assert chapters_in_toc == [f"chapters/{p.stem}" for p in NOTEBOOKS]
    for f in toc:
        assert any((ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb")), f


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_chapter_structure(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, "exactly one cell tagged 'parameters'"
    assert code.index(tagged[0]) == 0, "the parameters cell is the first code cell"
    assert "results_dir" in _parameters(path)
    assert all(c.get("outputs") or not c.source.strip() for c in code[1:]) or any(
        c.get("outputs") for c in code), "outputs are stored"
    for c in code:
        assert c.get("execution_count") is not None, "every code cell was executed"
        for out in c.get("outputs", []):
            assert out["output_type"] != "error", "a stored output is an error"
    assert nb.metadata["kernelspec"]["name"] == "python3"
    last_md = [c for c in nb.cells if c.cell_type == "markdown"][-1].source
    assert "What this chapter shows" in last_md
    _stored_record(nb)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_full_profile_names_real_parameters_with_the_right_types(path):
    profile = CHAPTERS / "params" / f"{path.stem}.full.yaml"
    assert profile.exists(), f"missing {profile.relative_to(ROOT)}"
    values = yaml.safe_load(profile.read_text())
    params = _parameters(path)
    for name, value in values.items():
        assert name in params, f"{name} is not a parameter of {path.stem}"
        default = eval(params[name]["default"])  # literal defaults of the parameters cell
        assert type(value) is type(default), f"{name}: {type(value)} vs {type(default)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_papermill_rerun_with_other_parameters(path, tmp_path):
    spec_file = RERUNS_DIR / f"{path.stem}.yaml"
    assert spec_file.exists(), f"add tests/chapter_reruns/{path.stem}.yaml"
    spec = yaml.safe_load(spec_file.read_text())
    assert set(spec["parameters"]) <= set(_parameters(path))
    results = tmp_path / "results"
    papermill.execute_notebook(
        str(path), str(tmp_path / path.name),
        parameters={**spec["parameters"], "results_dir": str(results)},
        cwd=str(CHAPTERS), kernel_name="python3", progress_bar=False,
    )
    rerun = json.loads((results / f"{path.stem}.json").read_text())
    default = _stored_record(nbformat.read(path, as_version=4))
    for key, value in spec["parameters"].items():
        assert rerun["parameters"][key] == value
    for key in spec["changed"]:
        assert rerun["results"][key] != default["results"][key], key
    for key in spec["unchanged"]:
        assert rerun["results"][key] == default["results"][key], key


def test_a_parameter_of_the_wrong_type_fails_naming_it(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as info:
        papermill.execute_notebook(
            str(CHAPTERS / "01_introduction.ipynb"), str(tmp_path / "bad.ipynb"),
            parameters={"shots": "many"}, cwd=str(CHAPTERS), kernel_name="python3",
            progress_bar=False,
        )
    assert info.value.ename == "TypeError"
    assert "shots must be an integer" in info.value.evalue


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_papermill_sees_every_parameter(path):
    """papermill silently drops a parameter whose comment contains '='; qmlkit's parser does
    not, so the two must list the same names."""
    from qmlkit.sweep import chapter_defaults

    assert set(_parameters(path)) == set(chapter_defaults(path))
