"""The review's claims, and the chapter of this book that tests each one.

This registry is the single source of the claims table in the introduction and, once chapters
record their verdicts, of the claims scoreboard in the conclusion. The table links the chapters
that ``_toc.yml`` lists, so publishing a chapter changes chapter 01's output: re-execute it
(``tools/execute_chapters.py chapters/01_introduction.ipynb``), or nbval reports the difference.

Example:
    >>> claims = review_claims()
    >>> claims[0].section
    '§1'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["Claim", "claims_table_markdown", "published_chapters", "review_claims"]


@dataclass(frozen=True)
class Claim:
    """One claim of the review.

    Attributes:
        key: a short stable identifier.
        section: the review section (or table) that makes the claim.
        claim: the claim, paraphrased closely from the review.
        test: what the book measures to test it.
        chapter: file stem of the chapter that tests it.
    """

    key: str
    section: str
    claim: str
    test: str
    chapter: str


_CLAIMS: tuple[Claim, ...] = (
    Claim("hybrid", "§1", "Hybrid models embed parameterised circuits in classical neural pipelines.",
          "a Keras model with a TFQ quantum layer trained end to end", "04_qnn"),
    Claim("hilbert", "§2", "n qubits span a 2ⁿ-dimensional Hilbert space.",
          "state-vector size and memory of n-qubit states", "02_background"),
    Claim("entanglement", "§2", "Superposition and entanglement are the resources of quantum information.",
          "Bell and GHZ states: reduced states, entanglement entropy, correlations", "02_background"),
    Claim("shots", "§2", "Outcomes are probabilistic; expectations are estimated from repeated shots.",
          "standard error of an estimated expectation vs shots, fitted against 1/√N", "02_background"),
    Claim("paradigms", "§3", "Three paradigms: variational circuits, quantum kernels, quantum subroutines.",
          "one worked example of each", "03_approaches"),
    Claim("subroutines", "§3", "Quantum linear-algebra and sampling subroutines could accelerate classical training in a fault-tolerant future.",
          "a small subroutine (swap-test overlaps) run exactly; the speed-up needs fault tolerance", "03_approaches"),
    Claim("stochastic", "Table 1", "QNN outputs are stochastic and need repeated sampling.",
          "output spread of a QNN vs shots", "04_qnn"),
    Claim("representation", "Table 1", "QNNs represent data as states in a high-dimensional Hilbert space.",
          "classical MLP vs QNN at equal parameter and tuning budgets", "04_qnn"),
    Claim("parameter-shift", "§4.2", "The parameter-shift rule is exact for standard rotation gates.",
          "parameter shift vs analytic gradients; finite-difference bias vs step", "05_gradients"),
    Claim("gradient-free", "§4.2", "Gradient-free optimisers (SPSA, COBYLA) suit noisy settings.",
          "SPSA vs COBYLA vs Adam with parameter-shift gradients", "05_gradients"),
    Claim("barren", "§4.3", "Gradients vanish exponentially with system size (barren plateaus).",
          "variance of ∂E/∂θ vs qubits for random circuits, fitted against 2⁻ⁿ", "06_barren_plateaus"),
    Claim("local-cost", "Table 3", "Global costs decay exponentially; local costs mitigate it.",
          "global vs local cost gradient variance at shallow depth", "06_barren_plateaus"),
    Claim("initialisation", "Table 3", "Informed initialisation avoids poor convergence.",
          "random vs identity-block initialisation", "06_barren_plateaus"),
    Claim("noise-plateau", "Table 3", "Noise and decoherence degrade gradients; mitigation helps.",
          "gradient variance vs depolarizing strength", "06_barren_plateaus"),
    Claim("kernels", "§5", "Quantum feature maps can improve classification on structured tasks.",
          "ZZ-kernel QSVM on the Havlíček ad hoc data vs tuned classical kernels", "07_kernels"),
    Claim("kernel-cost", "§5", "Kernel estimation cost and sample complexity determine real benefit.",
          "kernel error vs shots; exponential concentration vs qubits", "07_kernels"),
    Claim("angle", "Table 2", "Angle encoding is hardware-efficient but needs many qubits.",
          "qubits, depth and two-qubit gates per encoding vs features", "08_encodings"),
    Claim("amplitude", "Table 2", "Amplitude encoding compresses exponentially but state preparation is costly.",
          "state-preparation gate counts vs features", "08_encodings"),
    Claim("basis", "Table 2", "Basis encoding is conceptually simple but has low expressivity.",
          "basis-encoding kernel structure and accuracy vs other encodings", "08_encodings"),
    Claim("mitigation", "§6.2", "ZNE, PEC and readout calibration help but add overhead.",
          "error vs circuit executions for each mitigation method", "09_noise_mitigation"),
    Claim("baselines", "§6.2", "Validation needs classical baselines with matched hyper-parameter tuning.",
          "every QML result beside a classical model tuned with the same budget", "13_applications"),
    Claim("toolkits", "§6.3", "PennyLane, TFQ, Qiskit ML and Cirq enable fast prototyping.",
          "one model in each toolkit: equal numbers, timing table", "10_toolkits"),
    Claim("problem-inspired", "§7", "Shallow, problem-inspired ansätze reduce barren-plateau risk.",
          "Hamiltonian variational vs hardware-efficient ansatz at equal parameters, over seeds", "11_training_strategies"),
    Claim("local-cost-training", "§7", "Use local cost functions when possible.",
          "training with a local vs a global cost at growing n, over seeds", "11_training_strategies"),
    Claim("layerwise", "§7", "Layerwise training stabilises optimisation.",
          "layerwise vs all-at-once training over seeds", "11_training_strategies"),
    Claim("noise-aware", "§7", "Noise-aware optimisation with mitigation in the loop helps.",
          "training with ZNE-mitigated expectations vs unmitigated", "09_noise_mitigation"),
    Claim("shadows", "§8", "Classical shadows predict many observables from few measurements.",
          "shadow estimation error vs snapshots; Clifford vs Pauli shadows", "12_shadows"),
    Claim("no-advantage", "§8–9", "Empirical advantage on broad classical benchmarks is unproven.",
          "hybrid QNN vs tuned classical baselines on real data", "13_applications"),
    Claim("overhead", "§9", "Measurement overhead and simulation cost are scaling barriers.",
          "simulation time and memory vs qubits; shots for precision ε", "14_limitations"),
    Claim("recipe", "§10", "A five-step recipe integrates a quantum layer into a neural pipeline.",
          "the recipe as a runnable template", "15_recipe"),
    Claim("hardware-validation", "§10", "Validate on hardware with error mitigation.",
          "mitigation on a noise model from a real device calibration; hardware itself is out of reach", "09_noise_mitigation"),
)


def review_claims() -> tuple[Claim, ...]:
    """All registered claims, in the review's order."""
    return _CLAIMS


def published_chapters(toc_file: str | Path) -> set[str]:
    r"""File stems of the chapters a Jupyter Book ``_toc.yml`` lists (the published book).

    Example:
        >>> import tempfile, pathlib
        >>> toc = pathlib.Path(tempfile.mkdtemp()) / "_toc.yml"
        >>> _ = toc.write_text("root: index\nparts:\n  - chapters:\n      - file: chapters/02_background\n")
        >>> sorted(published_chapters(toc))
        ['02_background', 'index']
    """
    import yaml

    toc = yaml.safe_load(Path(toc_file).read_text())
    files: list[str] = [toc.get("root", "")]

    def walk(entries: list[dict]) -> None:
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections", []))

    for part in toc.get("parts", []):
        walk(part.get("chapters", []))
    walk(toc.get("chapters", []))
    return {Path(f).stem for f in files if f}


def claims_table_markdown(toc_file: str | Path) -> str:
    r"""The claims table as Markdown; chapters the book's ``_toc.yml`` lists are linked.

    Links follow the table of contents, not the files on disk, so a chapter in preparation
    (present but not yet published) never changes the table.

    Args:
        toc_file: the book's ``_toc.yml``.

    Example:
        >>> import tempfile, pathlib
        >>> toc = pathlib.Path(tempfile.mkdtemp()) / "_toc.yml"
        >>> _ = toc.write_text("root: index\n")
        >>> print(claims_table_markdown(toc).splitlines()[0])
        | # | review | claim | what the book measures | chapter |
    """
    published = published_chapters(toc_file)
    rows = ["| # | review | claim | what the book measures | chapter |",
            "|---|---|---|---|---|"]
    for i, c in enumerate(_CLAIMS, 1):
        number = c.chapter.split("_", 1)[0]
        if c.chapter in published:
            where = f"[{number}]({c.chapter}.ipynb)"
        else:
            where = f"{number} (in preparation)"
        rows.append(f"| {i} | {c.section} | {c.claim} | {c.test} | {where} |")
    return "\n".join(rows)
