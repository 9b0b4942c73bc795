"""Atomic checkpoints for resumable multi-stage runs.

A checkpoint is a safetensors file (model weights, optimizer tensors, extra tensors, the torch CPU
RNG state) plus ``latest.json`` naming it, together with the stage, the number of epochs finished
in that stage and any JSON state. Both files are written to temporary names and renamed, the JSON
last, so a run killed at any moment leaves the previous complete checkpoint in place. Loading never
unpickles anything.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file
from torch import nn

from unpoison.logging import write_json_atomic

LATEST = "latest.json"


@dataclass
class Checkpoint:
    """What ``Checkpointer.load`` returns: position in the run, plus tensors to restore from."""

    stage: str
    epoch: int
    state: dict[str, Any]
    tensors: dict[str, torch.Tensor] = field(repr=False)
    optimizer_meta: dict[str, Any] = field(repr=False)

    def restore(
        self,
        modules: dict[str, nn.Module],
        optimizers: dict[str, torch.optim.Optimizer] | None = None,
    ) -> None:
        """Load weights into ``modules`` and ``optimizers``, saved under the same names."""
        for name, module in modules.items():
            prefix = f"module.{name}."
            module.load_state_dict(
                {k[len(prefix) :]: v for k, v in self.tensors.items() if k.startswith(prefix)}
            )
        for name, optimizer in (optimizers or {}).items():
            optimizer.load_state_dict(_unflatten_optimizer(name, self.tensors, self.optimizer_meta))
        torch.set_rng_state(self.tensors["rng.cpu"])

    def tensor(self, name: str) -> torch.Tensor:
        """An extra tensor saved with ``tensors={name: ...}``."""
        return self.tensors[f"extra.{name}"]


class Checkpointer:
    """Saves and loads the latest checkpoint of a run in ``directory``."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def save(
        self,
        *,
        stage: str,
        epoch: int,
        modules: dict[str, nn.Module],
        optimizers: dict[str, torch.optim.Optimizer] | None = None,
        tensors: dict[str, torch.Tensor] | None = None,
        state: dict[str, Any] | None = None,
    ) -> None:
        """Atomically replace the latest checkpoint with this one."""
        self.directory.mkdir(parents=True, exist_ok=True)
        flat: dict[str, torch.Tensor] = {"rng.cpu": torch.get_rng_state()}
        for name, module in modules.items():
            flat.update({f"module.{name}.{k}": v for k, v in module.state_dict().items()})
        optimizer_meta = {}
        for name, optimizer in (optimizers or {}).items():
            optimizer_meta[name] = _flatten_optimizer(name, optimizer.state_dict(), flat)
        flat.update({f"extra.{k}": v for k, v in (tensors or {}).items()})
        flat = {k: v.detach().cpu().contiguous() for k, v in flat.items()}

        weights = f"{stage}-epoch{epoch:04d}.safetensors"
        tmp = self.directory / f".{weights}.tmp"
        save_file(flat, str(tmp))
        os.replace(tmp, self.directory / weights)
        previous = self._latest_record()
        write_json_atomic(
            self.directory / LATEST,
            {
                "stage": stage,
                "epoch": epoch,
                "weights": weights,
                "state": state or {},
                "optimizers": optimizer_meta,
            },
        )
        if previous and previous["weights"] != weights:
            (self.directory / previous["weights"]).unlink(missing_ok=True)

    def load(self, device: torch.device | str = "cpu") -> Checkpoint | None:
        """The latest checkpoint, or None when the run has none yet."""
        record = self._latest_record()
        if record is None:
            return None
        weights = self.directory / record["weights"]
        if Path(record["weights"]).name != record["weights"] or weights.parent != self.directory:
            raise ValueError(
                f"{self.directory / LATEST} names {record['weights']!r}, outside its run folder"
            )
        tensors = load_file(str(weights), device=str(device))
        tensors["rng.cpu"] = tensors["rng.cpu"].cpu()
        return Checkpoint(
            stage=record["stage"],
            epoch=record["epoch"],
            state=record["state"],
            tensors=tensors,
            optimizer_meta=record["optimizers"],
        )

    def _latest_record(self) -> dict[str, Any] | None:
        path = self.directory / LATEST
        return json.loads(path.read_text()) if path.exists() else None


def _flatten_optimizer(
    name: str, state_dict: dict[str, Any], out: dict[str, torch.Tensor]
) -> dict[str, Any]:
    """Move the optimizer's tensors into ``out``; return the JSON-serialisable rest."""
    scalars: dict[str, dict[str, Any]] = {}
    for param_id, param_state in state_dict["state"].items():
        for key, value in param_state.items():
            if isinstance(value, torch.Tensor):
                out[f"optimizer.{name}.{param_id}.{key}"] = value
            else:
                scalars.setdefault(str(param_id), {})[key] = value
    return {"param_groups": state_dict["param_groups"], "scalars": scalars}


def _unflatten_optimizer(
    name: str, tensors: dict[str, torch.Tensor], meta: dict[str, Any]
) -> dict[str, Any]:
    prefix = f"optimizer.{name}."
    state: dict[int, dict[str, Any]] = {}
    for key, value in tensors.items():
        if key.startswith(prefix):
            param_id, field_name = key[len(prefix) :].split(".", 1)
            state.setdefault(int(param_id), {})[field_name] = value
    for param_id, values in meta[name]["scalars"].items():
        state.setdefault(int(param_id), {}).update(values)
    return {"state": state, "param_groups": meta[name]["param_groups"]}
