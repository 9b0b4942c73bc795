"""Supervised contrastive loss (Khosla et al., NeurIPS 2020), "all" contrast mode.

This is the loss of D-ST's SS-CTL feature extractor (docs/methods/dst-dbr.md §3.3, §5). Every one of
the B·V views is an anchor; an anchor's positives are the other views that share its label, and its
denominator runs over every other view. Two details follow the code that produced the papers'
numbers, not the papers' text:

- ``instance_only`` masks **rows only**. An anchor whose flag is set keeps just the other views of
  its own sample as positives, but its views stay positives of the *other* anchors with the same
  label: a supervised (clean) anchor still pulls same-label uncertain and poisoned samples towards
  itself. D-ST's official code builds its mask this way (a "flag != 0" anchor's row is zeroed and
  only its diagonal set, before the mask is tiled over the views); the paper describes positives
  for the uncertain and poisoned sets by instance only.
- An anchor with no positive (possible with V = 1 and a label seen once in the batch) contributes
  0 to the mean over anchors instead of NaN: its positive count is clamped to 1, as in the later
  SupContrast code.
"""

from __future__ import annotations

import torch


def supcon_loss(
    features: torch.Tensor,
    labels: torch.Tensor,
    *,
    temperature: float = 0.1,
    base_temperature: float = 0.07,
    instance_only: torch.Tensor | None = None,
) -> torch.Tensor:
    """SupCon loss of ``features`` [B, V, D] (L2-normalised, V views per sample), a scalar.

    ``labels``: integer [B]. ``instance_only``: optional bool [B]; a sample whose flag is True has,
    as an anchor, only its own other views as positives (row-only masking, see the module
    docstring). D-ST passes ``instance_only = flag != clean``.

    With logits_ij = z_i·z_j / temperature (in float32, or float64 for float64 input; each row's
    maximum subtracted) and self-pairs excluded, log_prob_ij = logits_ij − log Σ_{k≠i}
    exp(logits_ik), and the loss is −(temperature / base_temperature) times the mean over anchors
    of the mean of log_prob over the anchor's positives (0 for an anchor without positive). The
    result is a float32 scalar for bf16, fp16 and float32 input.
    """
    if not features.is_floating_point() or features.ndim != 3:
        raise ValueError(
            f"features must be a float tensor [B, V, D] (V views per sample), "
            f"got {features.dtype} {tuple(features.shape)}"
        )
    batch, views, dim = features.shape
    if batch == 0 or views == 0 or dim == 0:
        raise ValueError(f"features must be non-empty, got shape {tuple(features.shape)}")
    if labels.shape != (batch,) or labels.is_floating_point() or labels.dtype == torch.bool:
        raise ValueError(
            f"labels must be an integer tensor [B] = [{batch}], "
            f"got {labels.dtype} {tuple(labels.shape)}"
        )
    if instance_only is not None and (
        instance_only.shape != (batch,) or instance_only.dtype != torch.bool
    ):
        raise ValueError(
            f"instance_only must be a bool tensor [B] = [{batch}], "
            f"got {instance_only.dtype} {tuple(instance_only.shape)}"
        )
    if temperature <= 0 or base_temperature <= 0:
        raise ValueError(
            f"temperature and base_temperature must be > 0, got {temperature} and "
            f"{base_temperature}"
        )

    n = batch * views
    # View-major stacking (all first views, then all second views, ...): anchor a is sample a % B.
    # At least float32: bf16/fp16 projections are cast up, float64 stays float64.
    dtype = torch.promote_types(features.dtype, torch.float32)
    z = features.to(dtype).transpose(0, 1).reshape(n, dim)
    if n == 1:  # one view in all: no pair at all, so the loss is 0 (kept on the graph)
        return z.sum() * 0.0
    sample = torch.arange(batch, device=z.device).repeat(views)
    label = labels.repeat(views)

    # Under bf16 autocast a matmul would run in bf16: keep the similarities in full precision.
    with torch.autocast(z.device.type, enabled=False):
        logits = z @ z.T / temperature
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    self_pair = torch.eye(n, dtype=torch.bool, device=z.device)
    log_denominator = logits.masked_fill(self_pair, float("-inf")).logsumexp(dim=1, keepdim=True)
    log_prob = logits - log_denominator

    positive = label[:, None] == label[None, :]
    if instance_only is not None:
        same_sample = sample[:, None] == sample[None, :]
        positive = torch.where(instance_only.repeat(views)[:, None], same_sample, positive)
    positive = positive & ~self_pair

    count = positive.sum(dim=1).clamp(min=1)
    mean_log_prob = torch.where(positive, log_prob, 0.0).sum(dim=1) / count
    return -(temperature / base_temperature) * mean_log_prob.mean()
