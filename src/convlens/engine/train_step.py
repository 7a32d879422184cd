"""One optimisation step, the only one convlens writes: the de-shuffling networks' training
(convlens.jigsaw.training.train), the speed measurement its time plan is made from
(convlens.jigsaw.training.speed) and the demo's digit classifier all call it, so the plan times
exactly what is trained."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from convlens.engine.layout import as_layout
from convlens.runtime import autocast

CPU = torch.device("cpu")


class TrainStep:
    """Forward under autocast, cross-entropy (with label smoothing) in fp32, backward through
    a GradScaler (loss scaling for fp16 on CUDA, a no-op otherwise), the optimiser, then the
    scheduler and the moving average of the weights where there are any."""

    def __init__(
        self,
        net: torch.nn.Module,
        optimizer: torch.optim.Optimizer,
        *,
        device: torch.device = CPU,
        precision: str = "fp32",
        channels_last: bool = False,
        label_smoothing: float = 0.0,
        scheduler=None,
        average: torch.optim.swa_utils.AveragedModel | None = None,
    ):
        self.net, self.optimizer, self.scheduler, self.average = net, optimizer, scheduler, average
        self.device, self.precision, self.channels_last = device, precision, channels_last
        self.label_smoothing = label_smoothing
        self.scaler = torch.amp.GradScaler(device.type, enabled=precision == "fp16")

    def __call__(
        self,
        x: torch.Tensor,
        y: torch.Tensor,
        before_update: Callable[[float], None] | None = None,
    ) -> tuple[float, torch.Tensor]:
        """(the batch's mean loss, its logits) after one update on (x, y). `before_update(loss)`
        runs between the loss and the update: a divergence check can stop there."""
        x = as_layout(x.to(self.device, non_blocking=True), self.channels_last)
        y = y.to(self.device, non_blocking=True)
        with autocast(self.device, self.precision):
            logits = self.net(x)
        loss = F.cross_entropy(logits.float(), y, label_smoothing=self.label_smoothing)
        value = loss.item()
        if before_update is not None:
            before_update(value)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        if self.scheduler is not None:
            self.scheduler.step()
        if self.average is not None:
            self.average.update_parameters(self.net)
        return value, logits
