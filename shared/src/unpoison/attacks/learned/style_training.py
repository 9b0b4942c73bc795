"""Training DFST's style generator: a CycleGAN between the clean training images (domain A) and a
style domain B (docs/attacks.md §5.12; ``unpoison.attacks.learned.style_domain``).

Per batch of A images, with as many B images drawn at random:

- the generators G_AB and G_BA (one Adam) minimise the least-squares adversarial losses
  (D_B(G_AB(a)) - 1)^2 and (D_A(G_BA(b)) - 1)^2, plus ``lambda_cycle`` times the L1 cycle losses
  |G_BA(G_AB(a)) - a| and |G_AB(G_BA(b)) - b|, plus ``lambda_identity`` times the L1 identity
  losses |G_AB(b) - b| and |G_BA(a) - a|;
- then the discriminators D_A and D_B (one Adam) minimise (D(real) - 1)^2 + D(fake)^2, halved,
  on the generators' detached outputs.

The official code (Keras) gives lambda_cycle 1, lambda_identity 0.1, Adam 2e-4 with beta_1 0.5,
batch 100 and 2,000 epochs; the least-squares form is CycleGAN's, which DFST's code follows (our
reading: DFST's exact training is not published, docs/attacks.md §9). Only G_AB is kept: it makes
the poison.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import islice
from types import MappingProxyType

import torch
import torch.nn.functional as F

from unpoison.attacks.learned.style_networks import PatchDiscriminator, StyleGenerator
from unpoison.data.loader import DeviceLoader, epoch_seed
from unpoison.data.split import Split
from unpoison.train.loop import LossMeter, run_epochs

_ADAM_BETAS = (0.5, 0.999)  # code: Adam(2e-4, 0.5); beta_2 is Keras's default


@dataclass(frozen=True)
class StyleTraining:
    """The CycleGAN's settings; the defaults are DFST's official ones."""

    width: int = 32  # code: the generator's first convolution has 32 filters
    residual_blocks: int = 1  # code: 9 intended, 1 effective (see style_networks)
    discriminator_width: int = 64  # code: CycleGAN's PatchGAN, 64 filters first
    epochs: int = 2000  # code
    batch_size: int = 100  # code
    # The code's loader makes min(|A|, |B|) // batch batches an epoch: with the Weather dataset's
    # 357 sunrise photos, 3 (our reading of its Keras CycleGAN loader). None: a pass over A.
    steps_per_epoch: int | None = 3
    lr: float = 2e-4  # code
    lambda_cycle: float = 1.0  # code
    lambda_identity: float = 0.1  # code

    def __post_init__(self) -> None:
        counts = ["width", "discriminator_width", "epochs", "batch_size"]
        if self.steps_per_epoch is not None:
            counts.append("steps_per_epoch")
        for name in counts:
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        if not isinstance(self.residual_blocks, int) or self.residual_blocks < 0:
            raise ValueError(f"residual_blocks must be an int >= 0, got {self.residual_blocks!r}")
        if not self.lr > 0:
            raise ValueError(f"lr must be > 0, got {self.lr}")
        for name in ("lambda_cycle", "lambda_identity"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


# mini: digits (1,437 images) on 2 CPU cores in under a minute: quarter-width networks, batch 32
# and 3 epochs (135 steps). Measured on digits: at the code's lr 2e-4 and lambda_cycle 1 the
# generator's output after 3 epochs is a texture that has lost the digit (half width, 4 epochs:
# the same); at lr 1e-3 with CycleGAN's usual lambda_cycle 10 it keeps the digit in the style's
# warm colours.
MINI_STYLE = StyleTraining(
    width=8,
    discriminator_width=16,
    epochs=3,
    batch_size=32,
    steps_per_epoch=None,
    lr=1e-3,
    lambda_cycle=10.0,
)

TRAININGS = MappingProxyType({"paper": StyleTraining(), "mini": MINI_STYLE})


def train_style_generator(
    generator: StyleGenerator,
    train: Split,
    style: torch.Tensor,
    config: StyleTraining,
    seed: int = 0,
) -> None:
    """Train ``generator`` (G_AB) in place to translate ``train``'s images into the style of
    ``style`` (uint8 images of the same shape); the other three networks are made and dropped
    here."""
    device = next(generator.parameters()).device
    channels = train.image_shape[0]
    backward = StyleGenerator(channels, config.width, config.residual_blocks).to(device)
    critic_a = PatchDiscriminator(channels, config.discriminator_width).to(device)
    critic_b = PatchDiscriminator(channels, config.discriminator_width).to(device)
    generators = torch.optim.Adam(
        [*generator.parameters(), *backward.parameters()], lr=config.lr, betas=_ADAM_BETAS
    )
    critics = torch.optim.Adam(
        [*critic_a.parameters(), *critic_b.parameters()], lr=config.lr, betas=_ADAM_BETAS
    )
    loader = DeviceLoader.from_split(
        train, config.batch_size, shuffle=True, seed=seed, device=device
    )
    style = style.to(device)

    def one_epoch(epoch: int) -> dict[str, float]:
        for net in (generator, backward, critic_a, critic_b):
            net.train()
        draws = torch.Generator().manual_seed(epoch_seed(seed + 1, epoch))
        generator_meter, critic_meter = LossMeter(device), LossMeter(device)
        for x, _, _ in islice(loader.epoch(epoch), config.steps_per_epoch):
            picks = torch.randint(len(style), (len(x),), generator=draws).to(device)
            a = x * 2 - 1
            b = style[picks].float() / 127.5 - 1
            critic_a.requires_grad_(False)
            critic_b.requires_grad_(False)
            fake_b, fake_a = generator(a), backward(b)
            adversarial = _real(critic_b(fake_b)) + _real(critic_a(fake_a))
            cycle = F.l1_loss(backward(fake_b), a) + F.l1_loss(generator(fake_a), b)
            identity = F.l1_loss(generator(b), b) + F.l1_loss(backward(a), a)
            loss = adversarial + config.lambda_cycle * cycle + config.lambda_identity * identity
            generators.zero_grad(set_to_none=True)
            loss.backward()
            generators.step()

            critic_a.requires_grad_(True)
            critic_b.requires_grad_(True)
            critic_loss = 0.5 * (
                _real(critic_b(b))
                + _fake(critic_b(fake_b.detach()))
                + _real(critic_a(a))
                + _fake(critic_a(fake_a.detach()))
            )
            critics.zero_grad(set_to_none=True)
            critic_loss.backward()
            critics.step()
            generator_meter.add(loss)
            critic_meter.add(critic_loss)
        return {
            "generator_loss": generator_meter.mean("dfst style", epoch),
            "discriminator_loss": critic_meter.mean("dfst style", epoch),
        }

    run_epochs(stage="dfst style", train_one_epoch=one_epoch, epochs=config.epochs)


def _real(scores: torch.Tensor) -> torch.Tensor:
    return (scores - 1).pow(2).mean()


def _fake(scores: torch.Tensor) -> torch.Tensor:
    return scores.pow(2).mean()
