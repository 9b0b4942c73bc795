"""A defense run from options to ``results.json``: the poisoning (``poisoning``), the run's
fingerprint (``fingerprint``), the run itself (``run``) and what it writes (``results``)."""

from unpoison.runner.fingerprint import RunExistsError
from unpoison.runner.poisoning import PoisonedData, Poisoning, poison_dataset
from unpoison.runner.results import SCHEMA_VERSION, write_results
from unpoison.runner.run import DefenseRun

__all__ = [
    "SCHEMA_VERSION",
    "DefenseRun",
    "PoisonedData",
    "Poisoning",
    "RunExistsError",
    "poison_dataset",
    "write_results",
]
