"""The machine the benchmark ran on: CPU model and flags, builds, versions."""
from __future__ import annotations

import platform

import numpy as np

import fastact as fa
from fastact import _dispatch, _threads


def cpu_flags():
    """{flag: bool} for the x86 flags that matter to the builds (empty elsewhere)."""
    wanted = ("avx2", "fma", "avx512f")
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("flags"):
                    have = set(line.split(":", 1)[1].split())
                    return {f: f in have for f in wanted}
    except OSError:
        pass
    return {}


def cpu_model():
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_info(torch=None):
    flags = cpu_flags()
    return {
        "cpu": cpu_model(),
        "cpu_flags": flags,
        "cpus_available": _threads.available_cpus(),
        "fastact": fa.__version__,
        "build": _dispatch.active_level(),
        "builds_runnable": _dispatch.runnable(),
        "threads": fa.get_num_threads(),
        "numpy": np.__version__,
        "torch": getattr(torch, "__version__", None),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
