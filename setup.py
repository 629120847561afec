"""Build fastact's Cython kernels.

* Generated from the registry (the package fastact/_registry, loaded by
  path: it imports only the standard library): _kernels/_loops.pxi from
  _loops.pxi.tp, and fastact/_public.py and fastact/ufuncs.pyi by
  fastact/_codegen.py.
* The kernel body (_impl.pxi) is compiled once per CPU level into _k_base,
  _k_v3 (AVX2+FMA) and _k_v4 (AVX-512) on x86-64; _dispatch picks one at import.
* _kernels/_fastact_pool is fastact's thread pool (fa_pool.h: pthreads, or Win32
  threads), one module shared by every CPU build; no OpenMP (docs/threads.md).
  FASTACT_DEBUG_BUILD=1 turns on Cython's bounds and wraparound checks and
  builds without optimization.
"""
import importlib.util
import os
import re
import sys
import sysconfig
from pathlib import Path

import numpy
from Cython.Build import cythonize
from Cython import Tempita
from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).parent
KERNELS = HERE / "fastact" / "_kernels"


def _flag(name):
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


DEBUG = _flag("FASTACT_DEBUG_BUILD")


def _load(name, path, package=False):
    """A module (or package) of fastact loaded by path: the registry and the
    code generator import only the standard library."""
    spec = importlib.util.spec_from_file_location(
        name, path / "__init__.py" if package else path,
        submodule_search_locations=[str(path)] if package else None)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _write(target, text):
    """Write a generated file only when it changes (no needless rebuilds)."""
    if not target.exists() or target.read_text() != text:
        target.write_text(text)


def generate():
    """The generated sources: the Cython loops (_kernels/_loops.pxi), the public
    functions (_public.py) and the ufuncs' stub (ufuncs.pyi), from the registry."""
    registry = _load("_fastact_registry", HERE / "fastact" / "_registry", package=True)
    codegen = _load("_fastact_codegen", HERE / "fastact" / "_codegen.py")
    _write(HERE / "fastact" / "_public.py", codegen.public_source(registry))
    _write(HERE / "fastact" / "ufuncs.pyi", codegen.ufuncs_stub(registry))
    elementwise = [(kid, k, [p.name for p in a.params], "x" in a.backward_from, "y" in a.backward_from,
                    [int(a.transcendental(d)) for d in ("forward", "x", "y")])
                   for kid, (k, a) in enumerate(registry.KERNELS)]
    checks = [(kid, _param_checks(a, False), _param_checks(a, True))
              for kid, (k, a) in enumerate(registry.KERNELS)]
    template = (KERNELS / "_loops.pxi.tp").read_text()
    fwd_d = [k for k, a in registry.KERNELS if k in a.extra.get("fwd_d", ())]
    _write(KERNELS / "_loops.pxi", Tempita.sub(template, elementwise=elementwise, checks=checks,
                                               fwd_d=fwd_d))


def _param_checks(rec, from_y):
    """A C expression over p[0..] that holds when the record's parameters are
    valid (each one's range, the constraints across them, and for the
    backward from y its y_requires): the ufunc loops give nan otherwise."""
    names = {p.name: f"p[{i}]" for i, p in enumerate(rec.params)}
    conds = []
    for i, p in enumerate(rec.params):
        v = f"p[{i}]"
        conds.append(f"({v} == {v})")                            # not nan
        conds.append(f"({v} > -INFINITY and {v} < INFINITY)")
        if p.low != float("-inf"):
            conds.append(f"({v} {'>' if p.low_open else '>='} {p.low!r})")
        if p.high != float("inf"):
            conds.append(f"({v} <= {p.high!r})")
        if p.nonzero:
            conds.append(f"({v} != 0.0)")
    exprs = [c for c, _, _ in rec.constraints] + ([rec.y_requires] if from_y and rec.y_requires else [])
    for e in exprs:
        conds.append("(" + re.sub(r"[A-Za-z_]\w*", lambda m: names.get(m.group(0), m.group(0)), e) + ")")
    return " and ".join(conds) or "True"


def isa_levels():
    """The CPU builds for the target platform, with gcc/clang and MSVC flags."""
    plat = sysconfig.get_platform()
    levels = {"base": ([], [])}
    if plat.endswith(("x86_64", "amd64", "AMD64")) and "universal2" not in plat:
        levels["v3"] = (["-march=x86-64-v3"], ["/arch:AVX2"])
        levels["v4"] = (["-march=x86-64-v4", "-mprefer-vector-width=512"], ["/arch:AVX512"])
    return levels


ISA_FLAGS = {}


def extensions():
    common = dict(include_dirs=[numpy.get_include(), str(KERNELS)],
                  define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION"),
                                 ("NPY_TARGET_VERSION", "NPY_1_23_API_VERSION")])
    exts = [Extension("fastact._kernels._cpu", ["fastact/_kernels/_cpu.pyx"]),
            Extension("fastact._kernels._fastact_pool", ["fastact/_kernels/_fastact_pool.pyx"],
                      include_dirs=[str(KERNELS)]),
            Extension("fastact._kernels._ufuncs", ["fastact/_kernels/_ufuncs.pyx"], **common)]
    for level, flags in isa_levels().items():
        name = f"fastact._kernels._k_{level}"
        ISA_FLAGS[name] = flags
        exts.append(Extension(name, [f"fastact/_kernels/_k_{level}.pyx"], **common))
    directives = dict(language_level=3, boundscheck=DEBUG, wraparound=DEBUG,
                      initializedcheck=DEBUG, cdivision=True, embedsignature=True)
    return cythonize(exts, compiler_directives=directives, include_path=[str(HERE)],
                     nthreads=1, quiet=True)


class BuildExt(build_ext):
    def finalize_options(self):
        super().finalize_options()
        if self.parallel is None:
            self.parallel = os.cpu_count() or 1

    def build_extensions(self):
        msvc = self.compiler.compiler_type == "msvc"
        if msvc:
            base = ["/O2", "/fp:precise"]
        elif DEBUG:
            base = ["-O0", "-g", "-fno-trapping-math", "-ffp-contract=off", "-DFA_DEBUG_BUILD=1"]
        else:
            # -fno-trapping-math lets gcc turn float selects into vector blends (it
            # drops FP exception flags only, no result changes); -ffp-contract=off
            # keeps a*b+c unfused unless a kernel asks for fma, so that the CPU
            # builds round alike except where fma is written out.
            base = ["-O3", "-fno-trapping-math", "-fno-math-errno", "-ffp-contract=off",
                    "-Wno-unused-function", "-Wno-unreachable-code"]
            if self.compiler.compiler_type == "unix" and "clang" not in str(self.compiler.compiler[0]):
                # Every per-element function must be inlined into its loop, or the
                # loop does not vectorize (8-20x slower).  With ~30 kernels the
                # unit outgrows gcc's default inlining budget, which then silently
                # stops inlining in whichever loops come last (seen: the double
                # exp in log_softmax's backward, 1.1 -> 4.4 ns/element, once
                # axis_apply had grown past large-function-insns): raise the
                # budget.  tests/test_build.py checks that no per-element
                # function is left out of line.
                base += ["--param=inline-unit-growth=10000", "--param=large-function-growth=10000",
                         "--param=large-function-insns=100000",
                         "--param=max-inline-insns-single=4000", "--param=large-stack-frame-growth=10000"]
        for ext in self.extensions:
            ext.extra_compile_args = list(base)
            gcc_isa, msvc_isa = ISA_FLAGS.get(ext.name, ([], []))
            ext.extra_compile_args += msvc_isa if msvc else gcc_isa
            if not msvc and ext.name.endswith("_fastact_pool"):
                ext.extra_compile_args.append("-pthread")
                ext.extra_link_args = ["-pthread"]
        super().build_extensions()


generate()
setup(ext_modules=extensions(), cmdclass={"build_ext": BuildExt})
