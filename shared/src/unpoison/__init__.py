"""unpoison: the shared core of the unpoison backdoor-defense monorepo.

Subpackages: ``data`` (datasets, device-resident loader), ``attacks`` (triggers and poisoning),
``models`` (backbones), ``train`` (loops, schedules, checkpoints), plus ``metrics`` and
``logging``. Method packages (abl, cbd, trap_replace, dst_dbr) build on it; it imports none of them.
"""

__version__ = "0.1.0"
