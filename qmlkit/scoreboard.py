"""The claims scoreboard: each claim of the review, judged from the results chapters recorded.

Every chapter records its key numbers with :class:`qmlkit.records.ChapterRecord` and prints
them as JSON at its end. :func:`load_records` reads those records back, from the stored
outputs of the executed chapters or from ``<chapter>.json`` files a papermill run or a sweep
wrote; :func:`evaluate_claims` applies one explicit rule per claim of
:func:`qmlkit.claims.review_claims` to them and returns, for each, what was measured, the
criterion, and a verdict:

* ``"supported"``: the measurement meets the claim's criterion;
* ``"partly supported"``: some parts of the claim hold and others do not (both are named);
* ``"not supported"``: the measurement contradicts the claim;
* ``"untestable offline"``: the claim needs hardware or resources this book cannot reach;
* ``"not measured"``: the chapter's record lacks a result the rule needs (or the chapter is
  not published), which the book's tests treat as an error.

The rules are code, not prose, so the scoreboard changes when a rerun changes a number. The
numeric criteria are in :data:`DEFAULT_THRESHOLDS` and can be tightened or loosened.

Example:
    >>> records = {"02_background": {"parameters": {"max_qubits": 24}, "results": {
    ...     "state-vector memory at max_qubits (GiB)": 0.25}}}
    >>> v = evaluate_claims(records, keys=["hilbert"])[0]
    >>> v.verdict
    'supported'
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from qmlkit._validation import check_float
from qmlkit.claims import Claim, review_claims

__all__ = ["DEFAULT_THRESHOLDS", "VERDICTS", "ClaimVerdict", "evaluate_claims", "load_records",
           "scoreboard_markdown", "scoreboard_table", "stored_record"]

#: The possible verdicts, from best to worst news for the claim.
VERDICTS = ("supported", "partly supported", "not supported", "untestable offline",
            "not measured")

#: Numeric criteria of the rules (see each rule's ``criterion`` text).
DEFAULT_THRESHOLDS: dict[str, float] = {
    "slope_tolerance": 0.25,  # |fitted log2-slope - (-1)| allowed for the McClean reproduction
    "sigma": 3.0,  # standard errors allowed between a fitted exponent and its theory value
    "exponent_tolerance": 0.05,  # |fitted exponent - (-1/2)| allowed for shot-noise laws
    "min_accuracy": 0.75,  # test accuracy a trained model must reach to count as trained
    "min_reduction": 2.0,  # error reduction a mitigation method must reach to count as helping
}


@dataclass(frozen=True)
class ClaimVerdict:
    """One row of the scoreboard.

    Attributes:
        claim: the review's claim.
        measured: what the chapter measured, with its numbers.
        criterion: the rule that turns the numbers into the verdict.
        verdict: one of :data:`VERDICTS`.
    """

    claim: Claim
    measured: str
    criterion: str
    verdict: str


def stored_record(notebook: str | os.PathLike) -> dict[str, Any]:
    """The ChapterRecord a stored (executed) chapter printed at its end.

    Raises:
        ValueError: if the notebook printed no record.

    Example:
        >>> import nbformat, tempfile, pathlib
        >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
        >>> nb.cells[0].outputs = [nbformat.v4.new_output("stream", name="stdout",
        ...     text='{\\n  "chapter": "x",\\n  "parameters": {},\\n  "results": {"a": 1}\\n}\\n')]
        >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.ipynb"
        >>> nbformat.write(nb, path)
        >>> stored_record(path)["results"]
        {'a': 1}
    """
    import nbformat

    nb = nbformat.read(Path(notebook), as_version=4)
    for cell in reversed(nb.cells):
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            if out.get("output_type") == "stream" and text.lstrip().startswith('{\n  "chapter"'):
                return json.loads(text)
    raise ValueError(f"{notebook} printed no ChapterRecord (run it, or check its last cells)")


def load_records(chapters: Iterable[str], *, chapters_dir: str | os.PathLike = "chapters",
                 records_dir: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """The records of ``chapters`` (file stems), keyed by stem.

    With ``records_dir`` each record is ``<records_dir>/<stem>.json`` (as written by
    :meth:`~qmlkit.records.ChapterRecord.save`) when that file exists; otherwise it is read
    from the stored outputs of ``<chapters_dir>/<stem>.ipynb``. Chapters with neither are left
    out (their claims become ``"not measured"``).

    Example:
        >>> load_records([], chapters_dir=".")
        {}
    """
    out: dict[str, dict[str, Any]] = {}
    for stem in chapters:
        if records_dir:
            candidate = Path(records_dir) / f"{stem}.json"
            if candidate.exists():
                out[stem] = json.loads(candidate.read_text())
                continue
        notebook = Path(chapters_dir) / f"{stem}.ipynb"
        if notebook.exists():
            out[stem] = stored_record(notebook)
    return out


# ---------------------------------------------------------------------------------------------
# the rules: one per claim key; each returns (measured, criterion, verdict)
# ---------------------------------------------------------------------------------------------

Rule = Callable[[Mapping[str, Any], Mapping[str, Any], Mapping[str, float]], tuple[str, str, str]]
_RULES: dict[str, tuple[str | None, Rule]] = {}


def _rule(key: str, chapter: str | None = None) -> Callable[[Rule], Rule]:
    """Register the rule of claim ``key``; ``chapter`` overrides the claim's chapter."""
    def register(fn: Rule) -> Rule:
        _RULES[key] = (chapter, fn)
        return fn
    return register


def _yes(flag: bool) -> str:
    return "supported" if flag else "not supported"


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


@_rule("hybrid")
def _hybrid(r, p, t):
    acc, std = r["QNN: test accuracy mean"], r["QNN: test accuracy std"]
    return (f"hybrid Keras model with a TFQ layer ({r['QNN: parameters']} parameters) trained end "
            f"to end: test accuracy {_fmt(acc)} ± {_fmt(std)}",
            f"test accuracy ≥ {t['min_accuracy']:g}", _yes(acc >= t["min_accuracy"]))


@_rule("hilbert")
def _hilbert(r, p, t):
    n = int(p["max_qubits"])
    gib = r["state-vector memory at max_qubits (GiB)"]
    expected = 2**n * 16 / 2**30  # complex128 amplitudes
    return (f"state vector of {n} qubits: {2**n} amplitudes, {_fmt(gib)} GiB",
            "memory = 2ⁿ complex128 amplitudes",
            _yes(math.isclose(gib, expected, rel_tol=0.01)))


@_rule("entanglement")
def _entanglement(r, p, t):
    s_bell, s_prod = (r["entanglement entropy of Bell state (bits)"],
                      r["entanglement entropy of |++> (bits)"])
    zz = r["<Z0 Z1> on the Bell state"]
    return (f"entropy Bell {_fmt(s_bell)} bit vs product {_fmt(s_prod)}; Bell ⟨Z0Z1⟩ = {_fmt(zz)}",
            "Bell entropy 1 bit, product 0, perfect correlation",
            _yes(s_bell == 1.0 and s_prod == 0.0 and zz == 1.0))


@_rule("shots")
def _shots(r, p, t):
    e, se = r["fitted exponent"], r["fitted exponent standard error"]
    return (f"error ∝ N^({_fmt(e)} ± {_fmt(se)})",
            f"|exponent + 1/2| ≤ {t['sigma']:g} standard errors",
            _yes(abs(e + 0.5) <= t["sigma"] * se))


@_rule("paradigms")
def _paradigms(r, p, t):
    var, qk = r["variational: test accuracy"], r["quantum kernel: test accuracy"]
    swap = r["swap test: fitted exponent"]
    ok = var > 0.5 and qk > 0.5 and abs(swap + 0.5) <= t["exponent_tolerance"]
    return (f"variational classifier {_fmt(var)}, quantum-kernel SVM {_fmt(qk)} (test accuracy); "
            f"swap-test subroutine error ∝ N^{_fmt(swap)}",
            "each paradigm runs: accuracies above chance, subroutine at the shot-noise law",
            _yes(ok))


@_rule("subroutines")
def _subroutines(r, p, t):
    return ("a swap-test overlap estimator runs exactly at small size (chapter 03); speed-ups "
            "need fault-tolerant hardware",
            "needs fault-tolerant hardware", "untestable offline")


@_rule("stochastic")
def _stochastic(r, p, t):
    e = r["computation: fitted exponent of the output spread vs shots"]
    mlp = r["computation: MLP output spread over 5 evaluations"]
    return (f"QNN output spread ∝ N^{_fmt(e)}; MLP output spread {_fmt(mlp)}",
            f"|exponent + 1/2| ≤ {t['exponent_tolerance']:g} and a deterministic MLP",
            _yes(abs(e + 0.5) <= t["exponent_tolerance"] and mlp == 0.0))


@_rule("representation")
def _representation(r, p, t):
    rank_q, rank_c = (r["representation: rank, QNN states"], r["representation: rank, MLP hidden"])
    dim = r["representation: Hilbert-space dimension 2^n"]
    diff = r["test accuracy, MLP minus QNN"]
    beyond = r["difference exceeds the seed-to-seed std"]
    spans = rank_q == dim and rank_q > rank_c
    better = diff < 0 and beyond
    verdict = ("supported" if spans and better else "partly supported" if spans
               else "not supported")
    return (f"encoded states span {rank_q} = 2ⁿ dimensions (MLP hidden layer {rank_c}); test "
            f"accuracy MLP − QNN = {_fmt(diff)} at equal budgets"
            f"{' (beyond the seed spread)' if beyond else ' (within the seed spread)'}",
            "high-dimensional representation, and better accuracy than an equal-budget MLP",
            verdict)


@_rule("parameter-shift")
def _parameter_shift(r, p, t):
    exact = r["parameter shift equals PennyLane backprop to 1e-10"]
    fd = r["forward-difference fitted slope"], r["central-difference fitted slope"]
    return (f"parameter shift = PennyLane backprop to 1e-10: {exact}; finite-difference bias "
            f"slopes {fd[0]:g} (forward), {fd[1]:g} (central)",
            "agreement to 1e-10 with an exact gradient", _yes(bool(exact)))


@_rule("gradient-free")
def _gradient_free(r, p, t):
    spsa, cobyla, adam = (r["mean final gap, SPSA, shots"], r["mean final gap, COBYLA, shots"],
                          r["mean final gap, Adam + parameter shift, shots"])
    wins = [name for name, gap in (("SPSA", spsa), ("COBYLA", cobyla)) if gap < adam]
    verdict = ("supported" if len(wins) == 2 else "partly supported" if wins
               else "not supported")
    return (f"final energy gap with shots: SPSA {_fmt(spsa)}, COBYLA {_fmt(cobyla)}, Adam + "
            f"parameter shift {_fmt(adam)}",
            "each gradient-free optimiser ends closer to the ground energy than Adam with shots",
            verdict)


@_rule("barren")
def _barren(r, p, t):
    s, se = (r["random circuits, deep: log2-slope of Var vs n"],
             r["random circuits, deep: slope standard error"])
    return (f"deep random circuits: log₂ Var(∂E) slope {_fmt(s)} ± {_fmt(se)} per qubit",
            f"slope within ±{t['slope_tolerance']:g} of −1",
            _yes(abs(s + 1) <= t["slope_tolerance"]))


@_rule("local-cost")
def _local_cost(r, p, t):
    g = r["global cost, log2 n layers: log2-slope of Var vs n"]
    g_exp, g_pow = r["global cost: r² exponential fit"], r["global cost: r² power-law fit"]
    l_exp, l_pow = r["local cost: r² exponential fit"], r["local cost: r² power-law fit"]
    lp = r["local cost: power-law exponent of Var vs n"]
    return (f"global cost: log₂-slope {_fmt(g)} per qubit (r² exp {_fmt(g_exp)} vs power "
            f"{_fmt(g_pow)}); local cost: Var ∝ n^{_fmt(lp)} (r² power {_fmt(l_pow)} vs exp "
            f"{_fmt(l_exp)})",
            "global decay fits an exponential better, local decay a power law better",
            _yes(g_exp > g_pow and l_pow > l_exp))


@_rule("initialisation")
def _initialisation(r, p, t):
    g_id = r["initialisation, identity blocks: E[(dC/dθ1)²] at init"]
    g_u = r["initialisation, uniform random: E[(dC/dθ1)²] at init"]
    tr_id = r["initialisation, identity blocks: runs trained"]
    tr_u = r["initialisation, uniform random: runs trained"]

    def frac(s: str) -> float:
        a, b = s.split("/")
        return int(a) / int(b)

    bigger = g_id > g_u
    trains_better = frac(tr_id) > frac(tr_u)
    verdict = ("supported" if bigger and trains_better else "partly supported"
               if bigger or trains_better else "not supported")
    return (f"identity blocks vs uniform: E[(∂C)²] at init {_fmt(g_id)} vs {_fmt(g_u)}; runs "
            f"trained {tr_id} vs {tr_u}",
            "larger initial gradients and more runs that train",
            verdict)


@_rule("noise-plateau")
def _noise_plateau(r, p, t):
    keys = [k for k in r if k.startswith("local cost, p=") and "slope of Var per layer" in k]
    slopes = {float(k.split("p=")[1].split(":")[0]): r[k] for k in keys}
    if len(slopes) < 2:
        raise KeyError("local cost, p=...: log2-slope of Var per layer")
    p_min, p_max = min(slopes), max(slopes)
    bound = r["every noisy decay is at least as fast as the bound"]
    return (f"log₂ Var per layer: {_fmt(slopes[p_min])} at p = {p_min:g}, "
            f"{_fmt(slopes[p_max])} at p = {p_max:g}; noisy decay at least as fast as the bound: "
            f"{bound}",
            "gradient variance decays faster with more noise (for \"mitigation helps\" see "
            "the §6.2 mitigation claim)",
            _yes(slopes[p_max] < slopes[p_min] and bool(bound)))


@_rule("kernels")
def _kernels(r, p, t):
    adhoc = r["comparison ad hoc: verdict best quantum vs best classical"]
    bc = r["comparison breast cancer: verdict best quantum vs best classical"]
    q_adhoc = r["comparison ad hoc: ZZ fidelity mean test accuracy"]
    c_adhoc = r["comparison ad hoc: RBF mean test accuracy"]
    quantum_ahead = adhoc.startswith("ZZ") and "more than" in adhoc
    classical_bc = not bc.startswith("ZZ")
    verdict = ("supported" if quantum_ahead else "not supported")
    note = "; on breast cancer a classical kernel wins" if classical_bc else ""
    return (f"structured (ad hoc) data: ZZ kernel {_fmt(q_adhoc)} vs RBF {_fmt(c_adhoc)}{note}",
            "the quantum kernel ahead of tuned classical kernels beyond the seed spread on a "
            "structured task", verdict)


@_rule("kernel-cost")
def _kernel_cost(r, p, t):
    f = r["concentration: log2 std slope per qubit, fidelity"]
    pr = r["concentration: log2 std slope per qubit, projected"]
    e = r["shots: fitted exponent of rms error"]
    return (f"kernel spread shrinks by 2^{_fmt(f)} per qubit (fidelity) vs 2^{_fmt(pr)} "
            f"(projected); kernel error ∝ N^{_fmt(e)}",
            f"fidelity kernels concentrate (slope < −0.5) and estimates obey |exponent + 1/2| ≤ "
            f"{t['exponent_tolerance']:g}",
            _yes(f < -0.5 and abs(e + 0.5) <= t["exponent_tolerance"]))


def _starts_supported(text: str) -> str:
    return ("supported" if text.startswith("supported") else
            "partly supported" if text.startswith("partly") else "not supported")


@_rule("angle")
def _angle(r, p, t):
    text = r["claim angle (Table 2)"]
    return text, "qubits = d, depth 1, no two-qubit gates at every d", _starts_supported(text)


@_rule("amplitude")
def _amplitude(r, p, t):
    text = r["claim amplitude (Table 2)"]
    return text, "log₂ d qubits, and exponentially many CNOTs", _starts_supported(text)


@_rule("basis")
def _basis(r, p, t):
    text = r["basis: low expressivity (Table 2)"]
    return text, "0/1 kernel of low rank and accuracy below the baseline", _starts_supported(text)


@_rule("mitigation")
def _mitigation(r, p, t):
    parts, ok = [], True
    for model in ("depolarizing", "rainbow"):
        raw = r[f"{model}: unmitigated: mean |error| (sampled)"]
        recipe = r[f"{model}: rem+zne global richardson: mean |error| (sampled)"]
        red = raw / recipe if recipe > 0 else math.inf
        best = r[f"{model}: best sampled method (post hoc)"]
        parts.append(f"{model}: REM + ZNE (Richardson) reduces the error {red:.3g}× "
                     f"({_fmt(raw)} → {_fmt(recipe)}; post hoc best {best}: "
                     f"{_fmt(r[f'{model}: its error reduction (sampled)'])}×)")
        ok = ok and red >= t["min_reduction"]
    pec = r["depolarizing: pec: executions per estimate"]
    parts.append(f"PEC costs {_fmt(pec)} executions per estimate")
    return ("; ".join(parts),
            f"the recipe fixed in advance (REM + Richardson ZNE) reduces the error ≥ "
            f"{t['min_reduction']:g}× on both noise models, at a cost in executions",
            _yes(ok and pec > 1))


@_rule("problem-inspired")
def _problem_inspired(r, p, t):
    text = r["(a) verdict"]
    return (f"success rate HVA {_fmt(r['(a) hva: success rate'])} vs hardware-efficient "
            f"{_fmt(r['(a) hea: success rate'])} at {r['(a) hva: parameters']} parameters each; "
            f"median final relative error {_fmt(r['(a) hva: median final relative error'])} vs "
            f"{_fmt(r['(a) hea: median final relative error'])}",
            "the problem-inspired ansatz trains more reliably over the seeds",
            _starts_supported(text))


@_rule("local-cost-training")
def _local_cost_training(r, p, t):
    text = r["(b) verdict"]
    sizes = sorted({int(k.split()[1]) for k in r if k.startswith("(b) ") and " qubits, " in k})
    n = sizes[-1]
    return (f"at {n} qubits success rate local {_fmt(r[f'(b) {n} qubits, local cost: success rate'])}"
            f" vs global {_fmt(r[f'(b) {n} qubits, global cost: success rate'])}; initial "
            f"gradient norm local / global {_fmt(r[f'(b) {n} qubits: initial gradient norm local / global'])}",
            "the local cost trains more reliably than the global one", _starts_supported(text))


@_rule("layerwise")
def _layerwise(r, p, t):
    text = r["(c) verdict"]
    return (f"success rate layerwise {_fmt(r['(c) layerwise: success rate'])} vs all at once "
            f"{_fmt(r['(c) all: success rate'])}; mean test accuracy "
            f"{_fmt(r['(c) layerwise: mean test accuracy'])} vs "
            f"{_fmt(r['(c) all: mean test accuracy'])} (chapter 11's verdict: {text})",
            "layerwise training ahead of all-at-once training beyond the seed spread",
            _starts_supported(text))


@_rule("noise-aware")
def _noise_aware(r, p, t):
    b_u = abs(r["training adam unmitigated: estimator bias at the final parameters"])
    b_m = abs(r["training adam rem+zne: estimator bias at the final parameters"])
    e_u = r["training adam unmitigated: true energy error"]
    e_m = min(r["training adam zne: true energy error"], r["training adam rem+zne: true energy error"])
    less_bias, better = b_m < b_u, e_m < e_u
    verdict = ("supported" if less_bias and better else "partly supported"
               if less_bias or better else "not supported")
    return (f"at equal shots: |estimator bias| {_fmt(b_u)} → {_fmt(b_m)} with REM + ZNE in the "
            f"loop; true energy error {_fmt(e_u)} unmitigated vs best mitigated {_fmt(e_m)}",
            "less biased estimates and better trained parameters", verdict)


@_rule("shadows")
def _shadows(r, p, t):
    e, se = r["error vs T: fitted exponent"], r["error vs T: fitted exponent standard error"]
    ratio = r["budget: predicted ratio direct / random shadows"]
    n_obs = r["observables"]
    return (f"{n_obs} observables from one shadow, error ∝ T^({_fmt(e)} ± {_fmt(se)}); "
            f"{_fmt(ratio)}× fewer measurements than direct measurement",
            f"|exponent + 1/2| ≤ {t['sigma']:g} standard errors and fewer measurements",
            _yes(abs(e + 0.5) <= t["sigma"] * se and ratio > 1))


@_rule("toolkits")
def _toolkits(r, p, t):
    agree = r["all exact-gradient backends agree to 1e-5"]
    run = sorted({"cirq"} | {k.split(": ", 1)[0].split(" (")[0] for k in r
                             if k.endswith(": max deviation from cirq")})
    return (f"one model run in {len(run)} toolkit back-ends ({', '.join(run)}); values and "
            f"gradients agree to 1e-5: {agree}",
            "the same numbers in every toolkit", _yes(bool(agree)))


@_rule("baselines")
def _baselines(r, p, t):
    flip = r["an untuned classical baseline could lose to the tuned QNN"]
    rng = r["MLP (matched parameters): validation accuracy range over trials"]
    return (f"validation accuracy of the matched MLP over its trials {rng[0]:g}–{rng[1]:g}; an "
            f"untuned baseline could have lost to the tuned QNN: {flip}",
            "tuning changes the comparison", _yes(bool(flip)))


@_rule("no-advantage")
def _no_advantage(r, p, t):
    text = r["verdict: no-advantage"]
    diff = r["test accuracy, best classical minus QNN"]
    return (f"best classical minus QNN test accuracy {_fmt(diff)} ({r['best classical model']})",
            "no QNN advantage beyond the seed spread over tuned classical baselines",
            _starts_supported(text))


@_rule("overhead")
def _overhead(r, p, t):
    refused = r["memory guard refuses 40 qubits"]
    ps = r["parameter shift: evaluations / (2 P)"]
    worst = r["shots: worst-case shots for one 40-parameter gradient at epsilon = 0.001"]
    return (f"40 qubits need {_fmt(r['memory of one state vector at 40 qubits (GiB)'])} GiB (the "
            f"guard refuses: {refused}); parameter shift costs {_fmt(ps)} × 2P evaluations; one "
            f"40-parameter gradient at ε = 10⁻³ needs up to {worst:.1e} shots",
            "exponential memory, 2P evaluations per gradient, shots ∝ ε⁻²",
            _yes(bool(refused) and ps == 1.0))


@_rule("recipe")
def _recipe(r, p, t):
    encoding = r["step 2: chosen encoding"]
    depths = r["step 3: depths passing the plateau check"]
    grads = r["step 4: adjoint and backprop x parameter-shift gradients agree (1e-4)"]
    zne = r["step 5: ZNE reduces the exact logit error"]
    files = r["template: files written"]
    hybrid, mlp = r["step 5: hybrid test accuracy mean"], r["step 5: MLP test accuracy mean"]
    ran = bool(depths) and bool(grads) and bool(zne) and files > 0
    return (f"the five steps ran end to end: {encoding} encoding chosen by measurement, depths "
            f"{depths} pass the plateau check, gradients cross-checked ({grads}), ZNE reduces "
            f"the logit error ({_fmt(r['step 5: mean |logit error|, noisy (exact)'])} → "
            f"{_fmt(r['step 5: mean |logit error|, ZNE (exact)'])}); hybrid {_fmt(hybrid)} vs "
            f"matched MLP {_fmt(mlp)} test accuracy; a {files}-file project template",
            "every step runs and decides from a measurement", _yes(ran))


@_rule("hardware-validation")
def _hardware_validation(r, p, t):
    return ("mitigation validated on a noise model built from Rainbow's calibration (chapter "
            "09), not on a device", "needs access to quantum hardware", "untestable offline")


def _check_thresholds(thresholds: Mapping[str, float] | None) -> dict[str, float]:
    out = dict(DEFAULT_THRESHOLDS)
    for name, value in (thresholds or {}).items():
        if name not in DEFAULT_THRESHOLDS:
            raise ValueError(f"thresholds: unknown criterion {name!r}; known: "
                             f"{sorted(DEFAULT_THRESHOLDS)}")
        out[name] = check_float(f"thresholds[{name!r}]", value, minimum=0.0)
    return out


def evaluate_claims(records: Mapping[str, Mapping[str, Any]], *,
                    thresholds: Mapping[str, float] | None = None,
                    keys: Iterable[str] | None = None) -> list[ClaimVerdict]:
    """Judge every claim (or those in ``keys``) from the chapters' ``records``.

    Args:
        records: chapter stem -> record dict with ``"parameters"`` and ``"results"`` (as
            :func:`load_records` returns).
        thresholds: overrides of :data:`DEFAULT_THRESHOLDS`.
        keys: claim keys to judge, in the registry's order; default all.

    Returns:
        One :class:`ClaimVerdict` per claim, in the review's order.

    Raises:
        ValueError: for unknown claim keys or criteria, or a claim without a rule.

    Example:
        >>> [v.verdict for v in evaluate_claims({}, keys=["barren", "subroutines"])]
        ['untestable offline', 'not measured']
    """
    limits = _check_thresholds(thresholds)
    claims = review_claims()
    known = {c.key for c in claims}
    wanted = None if keys is None else list(keys)
    if wanted is not None and not set(wanted) <= known:
        raise ValueError(f"keys: unknown claims {sorted(set(wanted) - known)}")
    out = []
    for claim in claims:
        if wanted is not None and claim.key not in wanted:
            continue
        if claim.key not in _RULES:
            raise ValueError(f"claim {claim.key!r} has no scoreboard rule")
        chapter, rule = _RULES[claim.key]
        chapter = chapter or claim.chapter
        record = records.get(chapter)
        try:
            if record is None:
                measured, criterion, verdict = rule({}, {}, limits)
            else:
                measured, criterion, verdict = rule(record.get("results", {}),
                                                    record.get("parameters", {}), limits)
        except KeyError as missing:
            why = ("the chapter is not published or has no record" if record is None
                   else f"its record lacks {missing}")
            out.append(ClaimVerdict(claim, f"not measured: {why}", "", "not measured"))
            continue
        if verdict not in VERDICTS:
            raise ValueError(f"rule of {claim.key!r} returned {verdict!r}")
        out.append(ClaimVerdict(claim, measured, criterion, verdict))
    return out


def scoreboard_table(verdicts: Iterable[ClaimVerdict]) -> pd.DataFrame:
    """The verdicts as a table: one row per claim.

    Example:
        >>> scoreboard_table(evaluate_claims({}, keys=["subroutines"]))["verdict"].tolist()
        ['untestable offline']
    """
    return pd.DataFrame([{"key": v.claim.key, "review": v.claim.section, "claim": v.claim.claim,
                          "chapter": v.claim.chapter, "measured": v.measured,
                          "criterion": v.criterion, "verdict": v.verdict} for v in verdicts])


def scoreboard_markdown(verdicts: Iterable[ClaimVerdict], *, published: Iterable[str]) -> str:
    r"""The scoreboard as a Markdown table; chapters in ``published`` are linked.

    Example:
        >>> md = scoreboard_markdown(evaluate_claims({}, keys=["subroutines"]), published=[])
        >>> md.splitlines()[0]
        '| # | review | claim | chapter | what was measured | criterion | verdict |'
    """
    linked = set(published)
    rows = ["| # | review | claim | chapter | what was measured | criterion | verdict |",
            "|---|---|---|---|---|---|---|"]
    for i, v in enumerate(verdicts, 1):
        stem = v.claim.chapter
        number = stem.split("_", 1)[0]
        where = f"[{number}]({stem}.ipynb)" if stem in linked else number
        cells = [str(i), v.claim.section, v.claim.claim, where, v.measured, v.criterion,
                 f"**{v.verdict}**"]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows)
