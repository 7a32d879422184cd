"""convlens.jigsaw.networks.edgenet: an order's logit is the sum of its four seams' scores."""

import torch

from convlens.jigsaw.puzzle.permutations import PERMUTATIONS


def test_edgenet_logits_are_sums_of_seam_scores_by_a_plain_loop(photo_arrays):
    from convlens.jigsaw.networks.edgenet import EdgeNet

    torch.manual_seed(0)
    net = EdgeNet(width=0.25, border=4, hidden=8).eval()
    x = torch.from_numpy(photo_arrays["c"][:2]).float() / 255
    logits = net(x)
    h = x.shape[-1] // 2

    def tile(img, k):
        r, c = divmod(k, 2)
        return img[:, r * h : (r + 1) * h, c * h : (c + 1) * h]

    def score(strip, head):
        f = net.avgpool(net.features(strip[None])).flatten(1)
        return net.classifier(f)[0, head]

    for n in range(2):
        for cls, order in enumerate(PERMUTATIONS):
            slot = {int(order[i]): tile(x[n], i) for i in range(4)}  # restored position -> tile
            total = 0.0
            for a, b in [(0, 1), (2, 3)]:
                total += score(torch.cat([slot[a][:, :, -4:], slot[b][:, :, :4]], -1), 0)
            for a, b in [(0, 2), (1, 3)]:
                strip = torch.cat([slot[a][:, -4:, :], slot[b][:, :4, :]], -2).transpose(-1, -2)
                total += score(strip, 1)
            assert abs(float(logits[n, cls]) - float(total)) < 1e-4
