"""convlens.report.problem3's sentences that state a result: each branch from the numbers, and
the branch where the claim must not be made."""

import dataclasses

import fabricated

from convlens.report.problem3 import validation_words
from convlens.report.training_minutes import budget_text


def _nets(stopped: str, vals: list[float]):
    history = [fabricated.epoch(i + 1, 30.0, v) for i, v in enumerate(vals)]
    net = fabricated.network("vgg11_bn", 0.6, 2.0, 0.4, 0.4, history)
    return {"vgg11_bn": dataclasses.replace(net, stopped=stopped)}


def test_a_network_stopped_at_its_share_says_how_much_validation_still_moved():
    text = budget_text(_nets("budget", [0.3, 0.5, 0.55, 0.62]), fabricated.BUDGET)
    assert "8.4 min of training (what the networks need" in text
    assert "vgg11_bn stopped at its share after 4 of at most 30 epochs" in text
    assert "changed by +0.120 over its last two epochs" in text
    assert "convergence" not in text  # a guess the numbers do not measure


def test_a_network_that_finished_or_was_perfect_is_not_called_stopped_at_its_share():
    for stopped in ("perfect", "epochs"):
        text = budget_text(_nets(stopped, [0.3, 1.0]), fabricated.BUDGET)
        assert "stopped at its share" not in text


def test_a_given_budget_and_no_budget_say_so():
    given = dataclasses.replace(fabricated.BUDGET, given=True)
    assert "given with --minutes" in budget_text(_nets("epochs", [0.5]), given)
    # the demo's fit is not the user's --minutes (it said so before)
    fitted = dataclasses.replace(fabricated.BUDGET, fitted=True)
    text = budget_text(_nets("epochs", [0.5]), fitted)
    assert "fitted to the demo's minutes" in text and "--minutes" not in text
    assert budget_text(_nets("epochs", [0.5]), None).startswith("No time budget")


def test_validation_images_are_called_what_they_are():
    first = fabricated.problem3().study.first
    assert "photographs held out" in validation_words("demo", first)
    exam = validation_words("exam", first)
    assert "a random part of the training file" in exam and "not held-out photographs" in exam
    counted = validation_words("exam", dataclasses.replace(first, n_validation=180))
    assert "180 images drawn at random from the training file" in counted


def test_the_training_caption_counts_only_the_images_trained_and_validated_on():
    from convlens.report.problem3 import training_caption

    r = fabricated.problem3()
    assert "the training file's 2000 images" in training_caption(r)  # counts not kept
    first = dataclasses.replace(r.study.first, n_fit=1620, n_validation=180)
    study = dataclasses.replace(r.study, networks={**r.study.networks, "edgenet": first})
    text = training_caption(dataclasses.replace(r, study=study))
    assert "1620 labelled images of the training file's 2000, 180 more held out" in text
