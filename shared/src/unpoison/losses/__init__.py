"""Losses shared by several methods."""

from unpoison.losses.supcon import supcon_loss

__all__ = ["supcon_loss"]
