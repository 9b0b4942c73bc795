"""The model registry: ``create_model(name, num_classes)`` builds any registered backbone."""

from __future__ import annotations

from unpoison.models.backbone import Backbone
from unpoison.registry import Registry

MODELS: Registry[Backbone] = Registry("model")


def create_model(name: str, num_classes: int = 10, **kw: object) -> Backbone:
    """Build the registered model ``name`` with a ``num_classes``-way head.

    Unknown names raise ValueError listing the valid ones (see ``list_models``).
    """
    return MODELS.create(name, num_classes=num_classes, **kw)


def list_models() -> list[str]:
    """Names of all registered models, sorted."""
    return MODELS.names()
