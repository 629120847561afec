"""Choose the kernel build (CPU level) at import.

The kernel body is compiled several times (setup.py): ``base`` (baseline for
the platform), ``v3`` (x86-64-v3: AVX2, FMA) and ``v4`` (x86-64-v4:
AVX-512).  The best one the CPU and OS support is used; ``FASTACT_ISA``
forces one.  A build the CPU cannot run is refused *before* it is imported:
importing it would already execute its instructions and kill the process
with SIGILL.
"""
from __future__ import annotations

import importlib
import importlib.util
import os
from contextlib import contextmanager

from fastact._kernels import _cpu

LEVELS = ("base", "v3", "v4")
_CPU_LEVEL_NEEDED = {"base": 1, "v3": 3, "v4": 4}


def built() -> list[str]:
    """The CPU builds present in this installation."""
    return [lvl for lvl in LEVELS
            if importlib.util.find_spec(f"fastact._kernels._k_{lvl}") is not None]


def runnable() -> list[str]:
    """The builds present that this CPU can execute, slowest first."""
    level = _cpu.cpu_level()
    return [lvl for lvl in built() if _CPU_LEVEL_NEEDED[lvl] <= level]


def load(level: str):
    """Import the kernel module of a build, after checking the CPU can run it."""
    if level not in LEVELS:
        raise ValueError(f"fastact: unknown CPU build {level!r}; expected one of {', '.join(LEVELS)}")
    if level not in built():
        raise RuntimeError(f"fastact: the {level!r} CPU build is not part of this installation "
                           f"(built: {', '.join(built())})")
    if level not in runnable():
        raise RuntimeError(f"fastact: this CPU cannot run the {level!r} build "
                           f"(it supports: {', '.join(runnable())})")
    module = importlib.import_module(f"fastact._kernels._k_{level}")
    _check_kernel_ids(level, module)
    return module


def _check_kernel_ids(level: str, module) -> None:
    """The kernel ids a build was compiled with are those of the registry's
    records (their order): a build made from an older registry would run the
    wrong kernels, so it is refused with the command that rebuilds it."""
    from fastact._registry import KERNELS
    want = {k: i for i, (k, _) in enumerate(KERNELS)}
    if getattr(module, "KERNEL_IDS", want) != want:
        raise RuntimeError(f"fastact: the {level!r} build was compiled from another registry "
                           f"(kernel ids differ); rebuild it: python setup.py build_ext --inplace")


def choose() -> str:
    """FASTACT_ISA if set (validated), else the best runnable build."""
    forced = os.environ.get("FASTACT_ISA", "").strip().lower()
    if forced:
        load(forced)            # raises a clear error if it cannot be used
        return forced
    return runnable()[-1]


_active = {"level": None, "module": None}
_listeners = []


def activate(level: str):
    """Make `level` the build that every fastact function calls."""
    module = load(level)
    _active.update(level=level, module=module)
    for fn in _listeners:
        fn(module)
    return module


def active_level() -> str:
    return _active["level"]


def active_module():
    return _active["module"]


@contextmanager
def use(level: str):
    """Run the enclosed code on another CPU build (tests use this)."""
    previous = _active["level"]
    activate(level)
    try:
        yield
    finally:
        activate(previous)
