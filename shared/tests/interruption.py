"""Stand-ins for a killed process, for the resume tests of every method package."""

from unpoison.logging import NullLogger


class Killed(Exception):
    """Stands for the process being killed."""


class KillingLogger(NullLogger):
    """Raises when ``tag`` is logged at ``step``: after that epoch trained, before its save."""

    def __init__(self, tag: str, step: int) -> None:
        self.tag, self.step = tag, step

    def scalar(self, tag: str, value: float, step: int) -> None:
        if (tag, step) == (self.tag, self.step):
            raise Killed(f"{tag} at {step}")
