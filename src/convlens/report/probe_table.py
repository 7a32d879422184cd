"""3c's probe table as the report prints it: one row per network and feature set chosen on
validation, and its caption."""

from __future__ import annotations

from convlens.probe.bootstrap import LEVEL
from convlens.probe.probe_records import RANDOM, RAW, TRAINED, Choice, Probe, ProbeRow
from convlens.problem3.study_records import NetworkResult
from convlens.report.findings import percent


def weights_words(features: str) -> str:
    return "trained" if features == TRAINED else "random"


def probe_rows(nets: dict[str, NetworkResult]) -> list[dict]:
    """Each network's chosen block, trained and random, then raw pixels."""
    rows = []
    for name, n in nets.items():
        d = (n.probe.differences or {}).get(RANDOM)
        for features in (TRAINED, RANDOM):
            c, t = n.probe.choices[features], n.probe.row(features)
            interval = f"{d.difference:+.3f} [{d.low:+.3f}, {d.high:+.3f}]" if d else ""
            rows.append(
                probe_row(name, weights_words(features), c, t)
                | {f"trained - random [{percent(LEVEL)}]": interval if features == TRAINED else ""}
            )
    raw = next(n.probe for n in nets.values() if n.probe.raw is not None)
    rows.append(probe_row("raw pixels", "", raw.choices[RAW], raw.raw, block=""))
    return rows


def probe_row(network: str, weights: str, c: Choice, t: ProbeRow, block=None) -> dict:
    return {
        "network": network,
        "weights": weights,
        "block": c.block if block is None else block,
        "standardised": "yes" if c.standardised else "no",
        "validation k-NN": c.val_knn,
        "test k-NN": t.knn,
        "cosine": t.cosine_knn,
        "linear": t.linear,
        f"trained - random [{percent(LEVEL)}]": "",
    }


def probe_caption(p: Probe) -> str:
    return (
        f"(3c) every network against its random twin and raw pixels: the block and "
        f"standardisation were chosen on a validation split of the {p.n_train} probe "
        f"training images, then k-NN (k = {p.k}) was fitted on all of them and tested on "
        f"{p.n_test} test images"
    )
