"""Backbones by name: ``create_model("wrn-16-1", num_classes=10)``; ``list_models()``."""

from unpoison.models import (  # noqa: F401  (registers models)
    preact_resnet,
    resnet,
    supcon_resnet,
    trap_wide_resnet,
    wide_resnet,
)
from unpoison.models.backbone import Backbone
from unpoison.models.normalized import Normalized
from unpoison.models.registry import MODELS, create_model, list_models

__all__ = ["MODELS", "Backbone", "Normalized", "create_model", "list_models"]
