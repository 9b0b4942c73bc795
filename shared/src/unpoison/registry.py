"""A thin name -> constructor registry, shared by datasets, models and attacks.

Usage (timm's ``register_model`` pattern)::

    MODELS = Registry("model")

    @MODELS.register("wrn-16-1")
    def wrn_16_1(num_classes: int = 10) -> nn.Module: ...

    MODELS.create("wrn-16-1", num_classes=10)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to constructors; unknown names raise an error that lists the valid ones."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorator(constructor: Callable[..., T]) -> Callable[..., T]:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            self._entries[name] = constructor
            return constructor

        return decorator

    def get(self, name: str) -> Callable[..., T]:
        if name not in self._entries:
            valid = ", ".join(sorted(self._entries))
            raise ValueError(f"unknown {self.kind} {name!r}; valid names: {valid}")
        return self._entries[name]

    def create(self, name: str, **params: object) -> T:
        return self.get(name)(**params)

    def names(self) -> list[str]:
        return sorted(self._entries)
