"""Every finding the report states, checked against its reversal and its tie, as data.

Each row names a claim, builds its records from a few numbers (which fields, which values),
and gives three versions: the original finding, the same records with the finding reversed,
and with the compared numbers tied. The original finding's sentence must be absent from the
reversed and tied versions, and the reversed finding's sentence must be stated. A new claim in
convlens.report.discussion adds a row here, not a test."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import fabricated
import pytest

from convlens import theory
from convlens.probe.probe_records import RANDOM, SECOND_TWIN
from convlens.report import discussion
from convlens.report.summary import glance_rows
from convlens.theory.problem1 import Agreement


@dataclass(frozen=True)
class Claim:
    name: str
    render: Callable[..., str]  # the numbers of one version -> the report's sentences
    original: dict
    reversed: dict
    tied: dict | None  # None where the tie is one of the other two versions
    says: str  # the original finding
    reversed_says: str  # the reversed finding
    tied_says: str | None = None


def _class_models(no_blur, blur, hf_no_blur=0.3, hf_blur=0.1):
    row = fabricated.class_row("tench", no_blur, blur, hf_no_blur=hf_no_blur, hf_blur=hf_blur)
    return discussion.class_models_2c(fabricated.class_models([row]))


def _deletion(saliency, random):
    q = fabricated.quality({"saliency": saliency, "random map": random}, randomised=[(0.1, 0.1)])
    return discussion.maps_2ef(q)


def _randomisation(saliency, guided):
    q = fabricated.quality(
        {"saliency": 0.1, "guided backprop": 0.1, "random map": 0.2}, [(saliency, guided)]
    )
    return discussion.maps_2ef(q)


def _every_method(deletion, insertion, randomised):
    """Grad-CAM's three checks against the random map (deletion 0.2, insertion 0.5), beside
    the exam's two methods."""
    q = fabricated.quality(
        {"saliency": 0.1, "guided backprop": 0.1, "grad-cam": deletion, "random map": 0.2},
        [(0.1, 0.1)],
        insertion={
            "saliency": 0.7,
            "guided backprop": 0.7,
            "grad-cam": insertion,
            "random map": 0.5,
        },
        others={"grad-cam": [randomised]},
    )
    return discussion.maps_2ef(q)


def _completeness(a, b):
    from convlens.problem2.answers import MethodMaps

    o = MethodMaps(["integrated gradients"], [], 32, [a, b], None, None, None)
    return discussion.completeness(o)


def _calibration(det_ece, mc_ece):
    u = fabricated.uncertainty([fabricated.uncertainty_row("a.jpg", 0.1, "cat", "cat")])
    return discussion.mc_dropout_2h(u, fabricated.calibration(det_ece=det_ece, mc_ece=mc_ece))


def _flagged(a, b):
    rows = [
        fabricated.uncertainty_row("a.jpg", a, "cat", "cat"),
        fabricated.uncertainty_row("b.jpg", b, "dog", "dog"),
    ]
    return discussion.mc_dropout_2h(fabricated.uncertainty(rows), None)


def _top5(a, b):
    from convlens.problem2.answers import Top5Row
    from convlens.uncertainty.calibration import ClassProbability

    def row(image, p):
        return Top5Row(image, [ClassProbability(1, "dog", p), ClassProbability(2, "cat", 0.05)])

    return discussion.top5_2d([row("a.jpg", a), row("b.jpg", b)])


def _methods(network, seam):
    return discussion.deshuffle_3b(replace(fabricated.evaluation(network), methods={
        "network": fabricated.method(network), "seam": fabricated.method(seam)
    }))  # fmt: skip


def _edge_cfn(edge, cfn):
    nets = {
        "edgenet": fabricated.network("edgenet", edge, 2.5, 0.4, 0.4),
        "cfn": fabricated.network("cfn", cfn, 4.2, 0.4, 0.4),
    }
    return discussion.networks_3b(nets)


def _bar(acc):
    return discussion.networks_3b({"vgg11_bn": fabricated.network("vgg11_bn", acc, 3.0, 0.4, 0.4)})


def _diffs(d):
    """Both twins' paired differences at `d`, their intervals a width of 0.03 either side."""
    return {
        RANDOM: fabricated.difference(d, d - 0.03, d + 0.03, abs(d) > 0.03),
        SECOND_TWIN: fabricated.difference(d, d - 0.03, d + 0.03, abs(d) > 0.03),
    }


def _probe_gain(d):
    return discussion.probe_3c(fabricated.probe(0.4 + d, 0.4, raw=0.2, differences=_diffs(d)))


def _raw(raw):
    return discussion.probe_3c(fabricated.probe(0.5, 0.4, raw=raw))


def _tested_nets(d):
    n = fabricated.network("vgg11_bn", 0.7, 5.0, 0.4 + d, 0.4)
    return {"vgg11_bn": replace(n, probe=replace(n.probe, differences=_diffs(d)))}


def _study(d):
    return discussion.study_3d(_tested_nets(d))


def _shapes(d):
    return discussion.shapes_3d(_tested_nets(0.0), _tested_nets(d))


def _fusion(seam_fused, tta_seam_fused):
    r = fabricated.report_results()
    edge = r.problem3.study.networks["edgenet"]
    ev = fabricated.evaluation(0.5, network_seam=seam_fused, network_tta_seam=tta_seam_fused)
    nets = {"edgenet": replace(edge, evaluation=ev)}
    study = replace(r.problem3.study, networks=nets)
    r = replace(r, problem3=replace(r.problem3, study=study))
    return next(row["answer"] for row in glance_rows(r) if row["question"] == "3b")


def _theory(diff):
    checks = theory.theory_results().checks
    agreement = Agreement(diff, diff <= 1e-6)
    return discussion.minimisers_1d(replace(checks, l2=agreement))


CLAIMS = [
    Claim(
        "2c: the blur costs probability",
        _class_models,
        dict(no_blur=0.99, blur=0.20),
        dict(no_blur=0.20, blur=0.99),
        dict(no_blur=0.99, blur=0.99),
        says="The blur cost probability for every class",
        reversed_says="With blur the probability is higher for every class",
        tied_says="the network is as convinced as without for every class",
    ),
    Claim(
        "2c: the blur removes high frequencies",
        _class_models,
        dict(no_blur=0.9, blur=0.9, hf_no_blur=0.4, hf_blur=0.1),
        dict(no_blur=0.9, blur=0.9, hf_no_blur=0.1, hf_blur=0.4),
        dict(no_blur=0.9, blur=0.9, hf_no_blur=0.3, hf_blur=0.3),
        says="the blur removed high frequencies",
        reversed_says="did not lower it for any class and raised it for 1",
        tied_says="did not lower it for any class.",
    ),
    Claim(
        "2e: saliency deletes faster than a random map",
        _deletion,
        dict(saliency=0.1, random=0.2),
        dict(saliency=0.3, random=0.2),
        dict(saliency=0.201, random=0.2),
        says="saliency order lowered the target probability faster than in random order",
        reversed_says="saliency order lowered the target probability slower than in random order",
        tied_says="no faster than in random order",
    ),
    Claim(
        "2f: guided backprop survives randomisation, saliency does not",
        _randomisation,
        dict(saliency=0.2, guided=0.9),
        dict(saliency=0.9, guided=0.2),
        dict(saliency=0.9, guided=0.9),
        says="saliency follows the weights and guided backpropagation barely does",
        reversed_says="guided backpropagation follows the weights and saliency barely does",
        tied_says="neither map follows the weights",
    ),
    Claim(
        "2f: both maps follow the weights",
        _randomisation,
        dict(saliency=0.1, guided=0.1),
        dict(saliency=0.99, guided=0.99),
        None,
        says="both maps follow the weights they explain",
        reversed_says="neither map follows the weights",
    ),
    Claim(
        "2e-2f: a method deletes faster than the random map",
        _every_method,
        dict(deletion=0.1, insertion=0.7, randomised=0.1),
        dict(deletion=0.3, insertion=0.7, randomised=0.1),
        dict(deletion=0.201, insertion=0.7, randomised=0.1),
        says="and grad-cam passed every check",
        reversed_says="rad-cam deleted the target's evidence slower than the random map",
        tied_says="rad-cam deleted the target's evidence no faster than the random map",
    ),
    Claim(
        "2e-2f: a method restores the target faster than the random map on insertion",
        _every_method,
        dict(deletion=0.1, insertion=0.7, randomised=0.1),
        dict(deletion=0.1, insertion=0.3, randomised=0.1),
        dict(deletion=0.1, insertion=0.501, randomised=0.1),
        says="and grad-cam passed every check",
        reversed_says="rad-cam restored the target probability slower than the random map",
        tied_says="rad-cam restored the target probability no faster than the random map",
    ),
    Claim(
        "2e-2f: a method's maps follow the weights",
        _every_method,
        dict(deletion=0.1, insertion=0.7, randomised=0.1),
        dict(deletion=0.1, insertion=0.7, randomised=0.9),
        None,
        says="and grad-cam passed every check",
        reversed_says="rad-cam kept a rank correlation of at least 0.5",
    ),
    Claim(
        "2e-2f: Integrated Gradients' steps were enough for completeness",
        _completeness,
        dict(a=0.01, b=0.04),
        dict(a=0.01, b=0.2),
        None,
        says="inside the five per cent Sundararajan et al. ask for",
        reversed_says="outside the five per cent Sundararajan et al. ask for on 1 of 2",
    ),
    Claim(
        "2h: MC dropout is better calibrated",
        _calibration,
        dict(det_ece=0.2, mc_ece=0.1),
        dict(det_ece=0.1, mc_ece=0.2),
        dict(det_ece=0.1, mc_ece=0.1),
        says="better calibrated",
        reversed_says="worse calibrated",
        tied_says="about as well calibrated",
    ),
    Claim(
        "2h: the image the MC spread flags",
        _flagged,
        dict(a=0.01, b=0.3),
        dict(a=0.3, b=0.01),
        dict(a=0.1, b=0.1),
        says="flags b.jpg",
        reversed_says="flags a.jpg",
        tied_says="No test image stands out",
    ),
    Claim(
        "2d: the least certain image, read at its top-5",
        _top5,
        dict(a=0.9, b=0.4),
        dict(a=0.4, b=0.9),
        dict(a=0.9, b=0.9),
        says="For b.jpg (0.400",
        reversed_says="For a.jpg (0.400",
        tied_says="Every test image's top-1 probability is about the same",
    ),
    Claim(
        "3b: the highest method",
        _methods,
        dict(network=0.8, seam=0.5),
        dict(network=0.5, seam=0.8),
        dict(network=0.8, seam=0.8),
        says="The highest: network clears",
        reversed_says="The highest: seam clears",
        tied_says="network (0.800) ~ seam (0.800)",
    ),
    Claim(
        "3b: EdgeNet ahead of the CFN",
        _edge_cfn,
        dict(edge=0.97, cfn=0.5),
        dict(edge=0.5, cfn=0.97),
        dict(edge=0.7, cfn=0.7),
        says="EdgeNet is ahead of the context-free network",
        reversed_says="The context-free network is ahead of EdgeNet",
        tied_says="EdgeNet and the context-free network tie",
    ),
    Claim(
        "3b: the bar is cleared",
        _bar,
        dict(acc=0.8),
        dict(acc=0.3),
        None,
        says="vgg11_bn clears the exam's 0.60",
        reversed_says="None clears the exam's 0.60",
    ),
    Claim(
        "3c: de-shuffling taught the features something",
        _probe_gain,
        dict(d=0.1),
        dict(d=-0.1),
        dict(d=0.0),
        says="de-shuffling taught the network something the probe can use",
        reversed_says="made the features worse",
        tied_says="this probe shows no gain",
    ),
    Claim(
        "3c: raw pixels beat both networks",
        _raw,
        dict(raw=0.9),
        dict(raw=0.1),
        dict(raw=0.5),
        says="Raw pixels (0.900) beat both",
        reversed_says="random network (0.400) > raw pixels (0.100)",
        tied_says="raw pixels (0.500) ~ de-shuffling network (0.500)",
    ),
    Claim(
        "3d: a gain beyond the noise of both twins",
        _study,
        dict(d=0.1),
        dict(d=-0.1),
        dict(d=0.0),
        says="For vgg11_bn the gain is larger than its noise against both twins",
        reversed_says="For vgg11_bn the trained features are really worse",
        tied_says="For vgg11_bn the difference is within its noise",
    ),
    Claim(
        "3d: reasons for holding back only for a network held back",
        _study,
        dict(d=-0.1),
        dict(d=0.1),
        None,
        says="two explanations this run does not test",
        reversed_says="the gain is larger than its noise",
    ),
    Claim(
        "3d: the digits' probe credits the puzzles",
        _shapes,
        dict(d=0.1),
        dict(d=-0.1),
        dict(d=0.0),
        says="what the puzzles taught vgg11_bn is something the probe can use",
        reversed_says="No network's digit features beat every random twin outside the noise",
        tied_says="No network's digit features beat every random twin outside the noise",
    ),
    Claim(
        "summary: the best fusion",
        _fusion,
        dict(seam_fused=0.9, tta_seam_fused=0.6),
        dict(seam_fused=0.6, tta_seam_fused=0.9),
        dict(seam_fused=0.9, tta_seam_fused=0.9),
        says="best fusion: edgenet network+seam 0.900",
        reversed_says="best fusion: edgenet network+tta+seam 0.900",
        tied_says="best fusion: edgenet network+seam and edgenet network+tta+seam 0.900",
    ),
    Claim(
        "1d: scipy agrees with the closed form",
        _theory,
        dict(diff=1e-9),
        dict(diff=1e-2),
        None,
        says="agrees with the closed form for every penalty",
        reversed_says="does not agree with the closed form for l2",
    ),
]


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: c.name)
def test_a_finding_is_stated_only_where_its_numbers_show_it(claim):
    original = claim.render(**claim.original)
    reversed_ = claim.render(**claim.reversed)
    assert claim.says in original, original
    assert claim.reversed_says not in original, original
    assert claim.says not in reversed_, reversed_
    assert claim.reversed_says in reversed_, reversed_
    if claim.tied is not None:
        tied = claim.render(**claim.tied)
        assert claim.says not in tied, tied
        assert claim.reversed_says not in tied or claim.reversed_says == claim.tied_says, tied
        assert claim.tied_says in tied, tied
