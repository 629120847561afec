"""The compiled kernels: every per-element function inlined into its loop.

A per-element function (fastact/_kernels/_math.pxd, _activations.pxd) left
out of line makes its loop scalar, 4-20x slower, with identical results, so
no accuracy test notices.  gcc does that silently once a function outgrows
its inlining budget (setup.py raises it); this test reads the symbol tables
of the built modules with `nm` and fails on any such function.
"""
import importlib.util
import shutil
import subprocess

import pytest

from fastact import _dispatch

# Cython's names for cdef functions of the two .pxd modules of per-element code
PER_ELEMENT = ("_kernels_5_math_", "_kernels_12_activations_")


def _modules():
    return [(level, importlib.util.find_spec(f"fastact._kernels._k_{level}").origin)
            for level in _dispatch.built()]


@pytest.mark.skipif(shutil.which("nm") is None, reason="needs nm (binutils)")
@pytest.mark.parametrize("level,path", _modules(), ids=[lvl for lvl, _ in _modules()])
def test_per_element_functions_are_inlined(level, path):
    if _dispatch.active_module().DEBUG_BUILD:
        pytest.skip("debug build (-O0): nothing is inlined on purpose")
    if not path.endswith(".so"):
        pytest.skip("not an ELF shared object")
    res = subprocess.run(["nm", path], capture_output=True, text=True)
    if res.returncode != 0 or "no symbols" in res.stderr:
        pytest.skip("no symbol table (stripped)")
    out_of_line = sorted({line.split()[-1] for line in res.stdout.splitlines()
                          if line.split()[1:2] in (["t"], ["T"])
                          and any(tag in line for tag in PER_ELEMENT)})
    assert not out_of_line, (f"{level}: per-element functions compiled out of line (their "
                             f"loops do not vectorize): {out_of_line}")
