"""Backbones by name: ``create_model("wrn-16-1", num_classes=10)``; ``list_models()``."""

from unpoison.models import preact_resnet, resnet, wide_resnet  # noqa: F401  (registers models)
from unpoison.models.backbone import Backbone
from unpoison.models.registry import MODELS, create_model, list_models

__all__ = ["MODELS", "Backbone", "create_model", "list_models"]
