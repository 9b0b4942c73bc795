"""Paper vs ours for one number: the mini presets' claims, the paper presets' tolerances."""

from __future__ import annotations

# Qualitative claims of the mini presets (the papers' results, at digits scale). Our choice.
MIN_BACKDOOR_ASR = 90.0  # the undefended model must be backdoored
MAX_DEFENDED_ASR = 10.0  # the defense must remove the backdoor
# ... unless the paper's own number is above this: then the paper shows the backdoor surviving
# (an ablation, a failing split) and that is the claim to reproduce.
SURVIVING_PAPER_ASR = 50.0
MAX_CA_DROP = 3.0  # ... at a small cost in clean accuracy
# Below this ASR the undefended model carries no backdoor to remove, so a defense's ASR tests
# nothing. Between it and MIN_BACKDOOR_ASR the attack row misses its claim, but the defense's is
# still tested.
MIN_TESTABLE_ASR = 50.0
# Numeric comparison (paper presets): within this many points counts as reproduced. Our choice.
TOLERANCE = {"ASR": 5.0, "CA": 2.0}


def qualitative_verdict(
    defense: str,
    metric: str,
    ours: float,
    baseline_ca: float | None,
    baseline: str = "No defense",
    max_ca_drop: float = MAX_CA_DROP,
    paper: float | None = None,
    paper_baseline_ca: float | None = None,
    baseline_asr: float | None = None,
) -> str:
    """The mini presets' verdict: the baseline is backdoored, the defense removes the backdoor
    and keeps clean accuracy within ``max_ca_drop`` points of the baseline's (``baseline_ca``).

    A defense's ASR is judged only where the baseline was backdoored (``baseline_asr`` at least
    MIN_TESTABLE_ASR, when given): a low ASR after a backdoor that never took hold shows nothing.

    The paper's own numbers (``paper``, and ``paper_baseline_ca`` for the baseline's CA) refine
    the claim where the paper shows a column failing: an ASR above SURVIVING_PAPER_ASR means the
    backdoor survives (ours must stay above MAX_DEFENDED_ASR), and a CA drop larger than
    ``max_ca_drop`` is the budget instead (Table 5 of T&R: a bigger head costs 14 points)."""
    if metric == "ASR" and defense == baseline:
        ok = ours >= MIN_BACKDOOR_ASR
        return (
            f"reproduced (>= {MIN_BACKDOOR_ASR:g})"
            if ok
            else f"NOT reproduced (< {MIN_BACKDOOR_ASR:g})"
        )
    if metric == "ASR" and baseline_asr is not None and baseline_asr < MIN_TESTABLE_ASR:
        return f"untested ({baseline}'s ASR {baseline_asr:.2f} < {MIN_TESTABLE_ASR:g})"
    if metric == "ASR" and paper is not None and paper > SURVIVING_PAPER_ASR:
        return (
            f"reproduced (> {MAX_DEFENDED_ASR:g}: survives, as in the paper)"
            if ours > MAX_DEFENDED_ASR
            else f"NOT reproduced (<= {MAX_DEFENDED_ASR:g}; the paper's survives)"
        )
    if metric == "ASR":
        ok = ours <= MAX_DEFENDED_ASR
        return (
            f"reproduced (<= {MAX_DEFENDED_ASR:g})"
            if ok
            else f"NOT reproduced (> {MAX_DEFENDED_ASR:g})"
        )
    if defense == baseline:
        return "reference"
    drop = (baseline_ca or 0.0) - ours
    budget = f"{max_ca_drop:g}"
    if paper is not None and paper_baseline_ca is not None:
        paper_drop = paper_baseline_ca - paper
        if paper_drop > max_ca_drop:
            max_ca_drop, budget = paper_drop, f"{paper_drop:.1f}, the paper's"
    if drop <= max_ca_drop:
        return f"reproduced (drop {drop:.1f} <= {budget})"
    return f"NOT reproduced (drop {drop:.1f} > {budget})"


def numeric_verdict(
    defense: str, metric: str, ours: float, paper: float | None, baseline: str = "No defense"
) -> str:
    """The paper presets' verdict: within TOLERANCE of the paper, better, or different."""
    if paper is None:
        return "no paper value"
    gap = ours - paper
    if abs(gap) <= TOLERANCE[metric]:
        return "reproduced"
    better = (
        (gap < 0) if (metric == "ASR" and defense != baseline) else (gap > 0 and metric == "CA")
    )
    return "better than paper" if better else "differs"
