"""The generated discussion follows the results: opposite outcomes give opposite sentences, and
every number in the prose is a number of the results."""

import re
from dataclasses import replace

import fabricated

from convlens import strict_json
from convlens.probe.probe_records import RANDOM, SECOND_TWIN
from convlens.record import to_json
from convlens.report import discussion


def _numbers_come_from(text: str, results) -> None:
    """Every number the text quotes is a number of `results` (the records it was made from),
    citations' years and section labels aside."""
    flat = strict_json.dumps(to_json(results))
    stored = [float(m) for m in re.findall(r"-?\d+\.?\d*(?:e[-+]?\d+)?", flat)]
    text = re.sub(r"\([^()]*\b(19|20)\d\d\b[^()]*\)", " ", text)
    quoted = re.findall(r"(?<![\w#.])-?\d+\.?\d*", text)
    assert quoted, text  # a check over no number checks nothing
    for cell in quoted:
        value = float(cell)
        assert any(abs(s - value) <= 5e-4 * max(1.0, abs(value)) + 1e-9 for s in stored), (
            cell,
            text,
        )


def test_probe_discussion_states_the_ordering_and_flips_with_it():
    worse = fabricated.probe(trained=0.473, random=0.577, raw=0.983)
    better = fabricated.probe(trained=0.812, random=0.577, raw=0.603)
    a, b = discussion.probe_3c(worse), discussion.probe_3c(better)
    assert "lower than the same architecture with random weights" in a
    assert "higher than the same architecture with random weights" in b
    assert "raw pixels (0.983) > random network (0.577) > de-shuffling network (0.473)" in a
    assert "de-shuffling network (0.812) > raw pixels (0.603)" in b
    assert "Raw pixels (0.983) beat both" in a and "beat both" not in b
    _numbers_come_from(a, worse)
    _numbers_come_from(b, better)


def test_class_model_discussion_follows_probability_and_energy():
    row = fabricated.class_row("tench", 0.99, 0.95, hf_no_blur=0.4, hf_blur=0.1)
    text = discussion.class_models_2c(fabricated.class_models([row]))
    assert "*tench*: probability 0.950 with blur, lower than 0.990 without" in text
    assert "lower with blur for 1 of the 1 classes" in text
    row = replace(row, prob_blur=0.999, hf_energy_blur=0.5)
    text = discussion.class_models_2c(fabricated.class_models([row]))
    assert "higher than 0.990" in text and "lower with blur for 0 of the 1" in text
    assert "blurring removes" not in text and "did not lower it" in text
    two = [row, replace(row, hf_energy_blur=0.1)]
    text = discussion.class_models_2c(fabricated.class_models(two))
    assert "lower with blur for 1 of the 2" in text and "not uniform" in text


def _uncertainty(same_top1: bool):
    return fabricated.uncertainty(
        [
            fabricated.uncertainty_row("a.jpg", 0.01, "cat", "cat"),
            fabricated.uncertainty_row("b.jpg", 0.3, "dog", "dog" if same_top1 else "wolf"),
        ]
    )


def test_mc_dropout_discussion_names_the_flagged_image_and_changes():
    cal = fabricated.calibration(det_ece=0.2, mc_ece=0.1)
    same = discussion.mc_dropout_2h(_uncertainty(True), cal)
    changed = discussion.mc_dropout_2h(_uncertainty(False), None)
    assert "flags b.jpg" in same and "changed no top-1" in same and "better calibrated" in same
    assert "changed the top-1 class of b.jpg" in changed and "ECE" not in changed
    worse = fabricated.calibration(det_ece=0.2, mc_ece=0.3)
    assert "worse calibrated" in discussion.mc_dropout_2h(_uncertainty(True), worse)
    _numbers_come_from(same, {"u": _uncertainty(True), "c": cal})


def test_deshuffle_discussion_says_whether_the_bar_is_cleared():
    def ev(acc, quarters):
        return fabricated.evaluation(acc, quarters)

    assert "clears the exam's bar" in discussion.deshuffle_3b(ev(0.85, 360))
    # tied leaders either side of the bar: each is said to clear it or not on its own
    straddle = replace(ev(0.602, 240), methods={
        "network": fabricated.method(0.602), "seam": fabricated.method(0.598)
    })  # fmt: skip
    text = discussion.deshuffle_3b(straddle)
    assert "The highest (tied): network clears; seam does not reach the exam's bar" in text
    assert "does not reach the exam's bar" in discussion.deshuffle_3b(ev(0.2, 100))
    # the mistakes are counted from the predictions, not guessed from the two accuracies
    import dataclasses

    import torch

    from convlens.jigsaw.evaluation.scoring import misplaced
    from convlens.jigsaw.puzzle.permutations import PERMUTATIONS

    swap = next(q for q in range(24) if (PERMUTATIONS[q] != PERMUTATIONS[0]).sum() == 2)
    cycle = next(q for q in range(24) if (PERMUTATIONS[q] != PERMUTATIONS[0]).sum() == 4)
    predicted = [0] * 85 + [swap] * 3 + [cycle]
    log_probs = torch.nn.functional.one_hot(torch.tensor(predicted), 24).float().log()
    counts = misplaced(log_probs, PERMUTATIONS[[0] * len(predicted)])
    assert counts == {"2": 3, "3": 0, "4": 1}
    text = discussion.deshuffle_3b(dataclasses.replace(ev(0.85, 360), misplaced=counts))
    assert "Of the network's wrong orders, 3 swap two tiles" in text
    assert "0 misplace three and 1 all four" in text
    assert "wrong orders" not in discussion.deshuffle_3b(ev(0.85, 360))  # none recorded
    _numbers_come_from(discussion.deshuffle_3b(ev(0.85, 360)), {"e": ev(0.85, 360), "bar": 0.6})


def test_maps_discussion_compares_with_the_random_map():
    q = fabricated.quality(
        {"saliency": 0.1, "guided backprop": 0.3, "random map": 0.2}, randomised=[(0.2, 0.9)]
    )
    text = discussion.maps_2ef(q)
    assert "saliency order lowered the target probability faster" in text
    assert "guided backprop order lowered the target probability slower" in text
    assert "guided backpropagation barely does, as Adebayo et al. (2018) found" in text
    _numbers_come_from(text, {"q": q, "layers": 1})
    alone = fabricated.quality({"saliency": 0.1, "guided backprop": 0.3}, randomised=[])
    assert "No random map was scored" in discussion.maps_2ef(alone)
    assert "faster" not in discussion.maps_2ef(alone)


def _nets(edge, vgg, cfn, gains):
    return {
        "edgenet": fabricated.network("edgenet", edge, 2.5, 0.4 + gains[0], 0.4),
        "vgg11_bn": fabricated.network("vgg11_bn", vgg, 6.1, 0.35 + gains[1], 0.35),
        "cfn": fabricated.network("cfn", cfn, 4.2, 0.3 + gains[2], 0.3),
    }


def test_study_discussion_names_who_clears_the_bar_and_who_beats_random():
    low = _nets(0.97, 0.41, 0.12, gains=(-0.05, 0.0, 0.01))
    high = _nets(0.97, 0.66, 0.12, gains=(-0.05, 0.04, 0.06))
    a, b = discussion.networks_3b(low), discussion.networks_3b(high)
    assert "edgenet 0.970 after 2.5 min" in a and "edgenet clears the exam's 0.60" in a
    assert "vgg11_bn, cfn do not" in a and "edgenet and vgg11_bn clear" in b
    assert "ahead of the context-free network" in a
    c, d = discussion.study_3d(low), discussion.study_3d(high)
    assert "cfn is ahead of the random twin, but no interval was measured" in c
    assert "vgg11_bn and cfn are ahead of the random twin, but no interval" in d
    assert "edgenet 0.350 vs 0.400 (lower than random)" in c
    worst = _nets(0.97, 0.41, 0.12, gains=(-0.05, -0.02, 0.0))
    assert "No trained network among edgenet, vgg11_bn and cfn is ahead" in discussion.study_3d(
        worst
    )
    none = _nets(0.41, 0.31, 0.12, gains=(0.0, 0.0, 0.0))
    assert "None clears the exam's 0.60 with these settings." in discussion.networks_3b(none)
    for text, nets in ((a, low), (b, high), (c, low), (d, high)):
        _numbers_come_from(text, {**nets, "bar": 0.6, "points": 3})


def test_the_bar_is_dated_and_differences_are_judged_against_their_noise():
    nets = _nets(0.97, 0.66, 0.12, gains=(0.0, 0.04, 0.01))
    epoch = fabricated.epoch
    nets["vgg11_bn"] = replace(
        nets["vgg11_bn"], history=[epoch(1, 60.0, 0.3), epoch(2, 90.0, 0.62)]
    )
    nets["cfn"] = replace(nets["cfn"], history=[epoch(1, 60.0, 0.1)])
    text = discussion.networks_3b(nets)
    assert "first reached by vgg11_bn after 2.5 min (epoch 2)" in text and "cfn after" not in text

    diff = fabricated.difference

    def tested(name, first, second):
        n = nets[name]
        differences = {RANDOM: first, SECOND_TWIN: second}
        nets[name] = replace(n, probe=replace(n.probe, differences=differences))

    tested("vgg11_bn", diff(0.04, 0.01, 0.07, True), diff(0.05, 0.02, 0.08, True))
    tested("cfn", diff(0.01, -0.02, 0.04, False), diff(0.03, 0.001, 0.06, True))
    tested("edgenet", diff(-0.06, -0.09, -0.03, True), diff(-0.05, -0.08, -0.02, True))
    text = discussion.study_3d(nets)
    assert "vgg11_bn +0.040 [+0.010, +0.070] against its twin" in text
    assert "For vgg11_bn the gain is larger than its noise against both twins" in text
    assert "For edgenet the trained features are really worse" in text
    assert "For cfn the difference is within its noise" in text  # real against one twin only


def test_the_shapes_probe_is_set_beside_the_photo_probe_and_judged_against_its_noise():
    photos = _nets(0.97, 0.66, 0.52, gains=(0.1, 0.05, 0.02))
    shapes = _nets(0.45, 0.3, 0.2, gains=(-0.02, 0.08, 0.06))
    diff = fabricated.difference

    def tested(nets, name, first, second):
        n = nets[name]
        differences = {RANDOM: first, SECOND_TWIN: second}
        nets[name] = replace(n, probe=replace(n.probe, differences=differences))

    tested(shapes, "vgg11_bn", diff(0.08, 0.03, 0.13, True), diff(0.07, 0.02, 0.12, True))
    tested(shapes, "cfn", diff(0.06, -0.01, 0.12, False), diff(0.05, -0.02, 0.11, False))
    tested(shapes, "edgenet", diff(-0.02, -0.06, 0.02, False), diff(0.0, -0.04, 0.04, False))
    text = discussion.shapes_3d(photos, shapes)
    assert "edgenet 0.450, vgg11_bn 0.300, cfn 0.200" in text
    assert "vgg11_bn +0.080 against +0.050" in text  # digits first, then photographs
    assert "what the puzzles taught vgg11_bn is something the probe can use" in text
    assert "taught vgg11_bn and cfn" not in text  # cfn's interval covers zero
    gains = [n.probe.trained.knn - n.probe.random.knn for n in photos.values()]
    numbers = {**photos, **{f"s{k}": v for k, v in shapes.items()}, "p": [5, 95], "g": gains}
    _numbers_come_from(text, numbers)
    # real against the first twin only: one verdict from both twins, so no credit
    tested(shapes, "vgg11_bn", diff(0.08, 0.03, 0.13, True), diff(0.07, -0.02, 0.15, False))
    text = discussion.shapes_3d(photos, shapes)
    assert "No network's digit features beat every random twin" in text
    assert "For edgenet, vgg11_bn and cfn the difference is within its noise" in text


def test_3c_reads_its_interval_before_it_credits_de_shuffling():
    """The claim that de-shuffling taught the features something is made only when the paired
    interval excludes zero for every twin; a lead inside the noise is said to be inside it."""
    from convlens.probe.probe_records import RANDOM, SECOND_TWIN

    claim = "de-shuffling taught the network something"
    real = {
        RANDOM: fabricated.difference(0.06, 0.03, 0.09, True),
        SECOND_TWIN: fabricated.difference(0.05, 0.02, 0.08, True),
    }
    noisy = {
        RANDOM: fabricated.difference(0.02, -0.01, 0.05, False),
        SECOND_TWIN: fabricated.difference(0.03, 0.00, 0.06, True),
    }
    worse = {
        RANDOM: fabricated.difference(-0.08, -0.11, -0.05, True),
        SECOND_TWIN: fabricated.difference(-0.07, -0.10, -0.04, True),
    }
    beats = discussion.probe_3c(fabricated.probe(0.46, 0.40, raw=0.2, differences=real))
    assert claim in beats and "[+0.030, +0.090]" in beats
    tie = discussion.probe_3c(fabricated.probe(0.42, 0.40, raw=0.2, differences=noisy))
    assert claim not in tie and "within the noise" in tie and "[-0.010, +0.050]" in tie
    loses = discussion.probe_3c(fabricated.probe(0.32, 0.40, raw=0.2, differences=worse))
    assert claim not in loses and "made the features worse" in loses


def test_3d_gives_reasons_for_holding_back_only_when_a_network_is_held_back():
    ahead = {
        "vgg11_bn": fabricated.network("vgg11_bn", 0.7, 5.0, 0.45, 0.40),
        "cfn": fabricated.network("cfn", 0.55, 9.0, 0.44, 0.40),
    }
    assert "explanations this run does not test" not in discussion.study_3d(ahead)
    behind = dict(ahead, cfn=fabricated.network("cfn", 0.55, 9.0, 0.38, 0.40))
    text = discussion.study_3d(behind)
    assert "For cfn, two explanations this run does not test" in text
    assert "no network trained for more than 9.0 min (on a test CPU)" in text
    assert "few photographs" not in text  # unknown on the exam's data
    on_gpu = {n: replace(v, device="cuda:0 (NVIDIA H100)") for n, v in behind.items()}
    assert "(on cuda:0 (NVIDIA H100))" in discussion.study_3d(on_gpu)
    assert "EdgeNet's trunk" not in text
    edge = {"edgenet": fabricated.network("edgenet", 0.99, 1.0, 0.38, 0.40)}
    assert "EdgeNet's trunk only ever sees the strips" in discussion.study_3d(edge)


def test_a_comparison_with_an_interval_is_read_by_its_interval_and_minutes_are_not_assumed():
    noisy = {
        RANDOM: fabricated.difference(-0.013, -0.069, 0.044, False),
        SECOND_TWIN: fabricated.difference(0.0, -0.07, 0.07, False),
    }
    text = discussion.probe_3c(fabricated.probe(0.281, 0.294, raw=0.15, differences=noisy))
    assert "features are within the noise of the same architecture" in text
    assert "lower than the same architecture" not in text  # the tie alone would say lower
    same = {
        "edgenet": fabricated.network("edgenet", 0.9, 2.0, 0.4, 0.4),
        "cfn": fabricated.network("cfn", 0.5, 2.0, 0.4, 0.4),
    }
    assert "different minutes" not in discussion.networks_3b(same)
    longer = dict(same, cfn=fabricated.network("cfn", 0.5, 7.0, 0.4, 0.4))
    assert "trained for different minutes" in discussion.networks_3b(longer)
