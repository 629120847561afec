"""PyTorch's side of the benchmark: the records' ``torch`` expressions compiled
into functions on tensors, and the notes and parity rows keyed by row label.

PyTorch's own kernels are called (``torch.ops.aten`` for the backwards), as
fn(x_or_y, grad, params) on tensors.  Labels or directions without an
expression are simply not timed for torch.  For sigmoid/tanh torch has no
backward from x: its autograd saves y, so a user holding x runs the forward
then the backward (two kernels): that is what their "x" entries time, and
their torch_notes say so.
"""
from __future__ import annotations

from fastact._baseline import labelled
from fastact._registry import ACTIVATIONS


def _prelu_backward(aten, g, x, weight):
    """What torch's autograd runs for F.prelu: weight viewed as (C, 1, ...), then
    _prelu_kernel_backward, whose grad_weight has x's shape, then its sum."""
    w = weight.view((-1,) + (1,) * (x.dim() - 2)) if x.dim() >= 2 and weight.numel() > 1 else weight
    gx, gw = aten._prelu_kernel_backward(g, x, w)
    return gx, gw.sum_to_size(w.shape).view(weight.shape)


def gated_torch(torch, x, name, p):
    """The composite a torch user writes for swiglu/geglu/reglu: gate(a) * b."""
    F = torch.nn.functional
    a, b = x.chunk(2, dim=p.get("axis", -1))
    gate = next(r for r in ACTIVATIONS if r.name == name).extra["gate"]
    if gate == "gelu":
        return F.gelu(a, approximate=p.get("approximate", "none")) * b
    return getattr(F, gate)(a) * b


def gated_backward_torch(torch, g, x, name, p):
    """torch's autograd of that composite: its forward, then its backward."""
    xr = x.detach().requires_grad_()
    with torch.enable_grad():
        (gx,) = torch.autograd.grad(gated_torch(torch, xr, name, p), xr, g)
    return gx


def torch_table(torch) -> dict:
    """{row label: {direction: fn(x_or_y, g, p)}} from the registry's torch fields."""
    aten = torch.ops.aten
    namespace = {"torch": torch, "aten": aten, "F": torch.nn.functional,
                 "prelu_backward": lambda g, x, w: _prelu_backward(aten, g, x, w),
                 "gated_torch": lambda x, name, p: gated_torch(torch, x, name, p),
                 "gated_backward_torch": lambda g, x, name, p: gated_backward_torch(torch, g, x, name, p)}
    return labelled("torch", namespace)


def _by_label(field: str) -> dict:
    out = {}
    for rec in ACTIVATIONS:
        for variant in ("",) + tuple(rec.variant_exprs):
            label = f"{rec.name}[{variant}]" if variant else rec.name
            table = getattr(rec, field) if not variant else rec.variant_exprs[variant].get(field, {})
            for direction, text in table.items():
                out[(label, direction)] = text
    return out


# (label, direction) -> what torch runs there when it is more than one kernel
TORCH_NOTES = _by_label("torch_notes")

# (label, direction) -> the NumPy ufunc the NumPy expression is, where it is one
# SIMD pass of NumPy itself: the target there is parity ("never slower than
# np.tanh"), not 3x or 2x.  Measured with NumPy 2.4 on x86-64 (AVX-512), 2**20
# elements, ns/element against a copy of the same array (x.copy(): 0.09
# float32, 0.23 float64):
# - np.tanh: vectorized (SIMD) in NumPy 2: 0.36 float32, 1.68 float64.
# - np.clip(x, lo, hi) with both bounds (relu6, hardtanh forward): NumPy's own
#   SIMD clip loop, 0.11 float32, 0.23-0.26 float64, i.e. a copy's time.
# Not parity: relu's np.maximum(x, 0): a ufunc, but its loop for an array and
# a scalar is not the SIMD one (0.38 float32, 0.46 float64: 4x and 2x a copy;
# np.maximum of two arrays runs at 0.16), so relu keeps the cheap target 2x.
PARITY_ROWS = _by_label("numpy_parity")

_torch_cache = {}


def get_torch(enabled=True):
    """(torch module, its table) or (None, {}) if unavailable/disabled."""
    if not enabled:
        return None, {}
    if "torch" not in _torch_cache:
        try:
            import torch
            _torch_cache["torch"] = (torch, torch_table(torch))
        except Exception:               # not installed, or broken
            _torch_cache["torch"] = (None, {})
    return _torch_cache["torch"]
