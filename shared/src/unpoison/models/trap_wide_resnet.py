"""WRN-16-1 as Trap-and-Replace builds it, split into a stem and a replaceable head.

T&R (Wang et al., NeurIPS 2022; code ``models/wideresnet*.py``, FixMatch's WideResNet) differs from
the ABL/CBD WRN-16-1 (docs/methods/trap-replace.md §3.2):
- every conv has a bias; activations are LeakyReLU(0.1); pooling is adaptive average pooling;
- initialisation: conv weights Kaiming-normal (fan_out, leaky_relu), conv biases PyTorch's default,
  BN weight 1 / bias 0, Linear weights Xavier-normal with bias 0;
- the two down-sampling blocks compute their first BN-LeakyReLU and throw it away: conv1 and the
  1x1 shortcut both read the raw input, so those ``bn1`` never receive a gradient
  (``TrapBlock.uses_bn1``). We keep the unused BN so that parameter counts match the code.

The six blocks (two per group) are numbered 1-6. The stem is the first conv and blocks 1 to
``stem_end_block`` (4, 5 or 6; T&R's default 5, Table 5 varies it); the head is the remaining
blocks, the final BN-LeakyReLU, pooling and the linear layer. T&R's stage 2 builds a second model
whose head blocks have ``head_dropout`` 0.5, copies the trained stem into it (``copy_stem_from``)
and trains only ``head_parameters``; ``reconstruction_decoder`` builds stage 1's decoder.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from unpoison.models.backbone import Backbone
from unpoison.models.precision import feature_autocast, full_precision
from unpoison.models.registry import MODELS

LEAKY_SLOPE = 0.1  # T&R code
STEM_WIDTH = 16  # T&R code (FixMatch WRN)
GROUP_WIDTHS = (16, 32, 64)  # WRN-16-1
GROUP_STRIDES = (1, 2, 2)
BLOCKS_PER_GROUP = 2  # depth 16
STEM_END_BLOCKS = (4, 5, 6)  # T&R code: the splits its decoder supports


class TrapBlock(nn.Module):
    """Pre-activation block with conv biases and LeakyReLU(0.1), as T&R's code has it.

    An identity block computes x + conv2(act(bn2(conv1(act(bn1(x)))))). A block that changes
    width reads the raw input in conv1 and in its 1x1 shortcut; with ``activate_first`` (the first
    group's first block in the code) it would pre-activate both, but in WRN-16-1 that block keeps
    its width, so no block of this network does. ``dropout`` acts between the second activation
    and conv2 in training mode.
    """

    def __init__(
        self, in_channels: int, out_channels: int, stride: int, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, stride=1, padding=1)
        self.dropout = dropout
        self.shortcut = (
            nn.Conv2d(in_channels, out_channels, 1, stride=stride)
            if in_channels != out_channels
            else None
        )

    @property
    def uses_bn1(self) -> bool:
        """False for the width-changing blocks, whose first BN output the code discards."""
        return self.shortcut is None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.shortcut is None:
            hidden = self.conv1(F.leaky_relu(self.bn1(x), LEAKY_SLOPE))
            shortcut = x
        else:  # the code computes act(bn1(x)) here and never uses it; we skip the dead work
            hidden = self.conv1(x)
            shortcut = self.shortcut(x)
        hidden = F.leaky_relu(self.bn2(hidden), LEAKY_SLOPE)
        if self.dropout > 0:
            hidden = F.dropout(hidden, self.dropout, training=self.training)
        return shortcut + self.conv2(hidden)


class TrapWideResNet(Backbone):
    """T&R's WRN-16-1: ``forward_stem`` then ``forward_head_from_stem``; a Backbone as a whole."""

    def __init__(
        self, num_classes: int = 10, stem_end_block: int = 5, head_dropout: float = 0.0
    ) -> None:
        if stem_end_block not in STEM_END_BLOCKS:
            raise ValueError(
                f"stem_end_block must be one of {STEM_END_BLOCKS}, got {stem_end_block}"
            )
        super().__init__(feature_dim=GROUP_WIDTHS[-1], num_classes=num_classes)
        self.stem_end_block = stem_end_block
        self.conv1 = nn.Conv2d(3, STEM_WIDTH, 3, stride=1, padding=1)
        self.blocks = nn.Sequential(
            *self._make_blocks(range(1, stem_end_block + 1), dropout=0.0),
            *self._make_blocks(range(stem_end_block + 1, 7), dropout=head_dropout),
        )
        self.bn = nn.BatchNorm2d(GROUP_WIDTHS[-1])
        self._initialise(self)

    @staticmethod
    def _block_shape(number: int) -> tuple[int, int, int]:
        """(in channels, out channels, stride) of block ``number`` (1-6)."""
        group, position = divmod(number - 1, BLOCKS_PER_GROUP)
        out_channels = GROUP_WIDTHS[group]
        if position > 0:
            return out_channels, out_channels, 1
        in_channels = STEM_WIDTH if group == 0 else GROUP_WIDTHS[group - 1]
        return in_channels, out_channels, GROUP_STRIDES[group]

    def _make_blocks(self, numbers: range, dropout: float) -> list[TrapBlock]:
        return [TrapBlock(*self._block_shape(n), dropout=dropout) for n in numbers]

    @staticmethod
    def _initialise(module: nn.Module) -> None:
        for m in module.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="leaky_relu")
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    @property
    def stem(self) -> list[nn.Module]:
        """The stem's modules: the first conv and blocks 1..stem_end_block."""
        return [self.conv1, *self.blocks[: self.stem_end_block]]

    @property
    def head(self) -> list[nn.Module]:
        """The head's modules: the remaining blocks, the final BN and the linear layer."""
        return [*self.blocks[self.stem_end_block :], self.bn, self.fc]

    def forward_stem(self, x: torch.Tensor) -> torch.Tensor:
        """The stem's output: 32x16x16 (stem 4) or 64x8x8 (stem 5, 6) for 32x32 input, fp32,
        computed in the current compute precision (as are the head's features)."""
        self.check_images(x)
        with feature_autocast(x.device.type):
            out = self.conv1(x)
            for block in self.blocks[: self.stem_end_block]:
                out = block(out)
            return full_precision(out)

    def forward_head_features(self, stem_out: torch.Tensor) -> torch.Tensor:
        """Pooled features [N, 64] from the stem's output."""
        with feature_autocast(stem_out.device.type):
            out = stem_out
            for block in self.blocks[self.stem_end_block :]:
                out = block(out)
            return full_precision(F.leaky_relu(self.bn(out), LEAKY_SLOPE).mean(dim=(2, 3)))

    def compute_features(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward_head_features(self.forward_stem(x))

    def head_parameters(self) -> list[nn.Parameter]:
        """The head's parameters (what T&R's stage 2 trains)."""
        return [p for module in self.head for p in module.parameters()]

    def copy_stem_from(self, other: TrapWideResNet) -> None:
        """Load ``other``'s stem weights and BN statistics into this model's stem."""
        if other.stem_end_block != self.stem_end_block:
            raise ValueError(
                f"stem_end_block differs: {other.stem_end_block} vs {self.stem_end_block}"
            )
        for mine, theirs in zip(self.stem, other.stem, strict=True):
            mine.load_state_dict(theirs.state_dict())


def reconstruction_decoder(stem_end_block: int) -> nn.Sequential:
    """T&R stage 1's decoder from the stem's output back to a 3x32x32 image in [0, 1].

    Stem 5 and 6 (64x8x8): ConvT 64->32 (k4, s2) - ReLU - ConvT 32->3 (k4, s2) - Sigmoid.
    Stem 4 (32x16x16): ConvT 32->32 (k4, s2) - ReLU - ConvT 32->3 (k3, s1) - Sigmoid.
    PyTorch's default initialisation, as in the code.
    """
    if stem_end_block not in STEM_END_BLOCKS:
        raise ValueError(f"stem_end_block must be one of {STEM_END_BLOCKS}, got {stem_end_block}")
    if stem_end_block == 4:
        return nn.Sequential(
            nn.ConvTranspose2d(32, 32, 4, stride=2, padding=1),
            nn.ReLU(),
            nn.ConvTranspose2d(32, 3, 3, stride=1, padding=1),
            nn.Sigmoid(),
        )
    return nn.Sequential(
        nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1),
        nn.ReLU(),
        nn.ConvTranspose2d(32, 3, 4, stride=2, padding=1),
        nn.Sigmoid(),
    )


@MODELS.register("wrn-16-1-tr")
def wrn_16_1_tr(
    num_classes: int = 10, stem_end_block: int = 5, head_dropout: float = 0.0
) -> TrapWideResNet:
    """T&R's WRN-16-1: 175,626 parameters for 10 classes (stem 5: 100,736 + head 74,890)."""
    return TrapWideResNet(num_classes, stem_end_block, head_dropout)
