"""Reductions along an axis, fused with the softmax they contain: logsumexp and
softmax cross-entropy.  Their records are of their own type (Reduction): the
output is reduced (a row's value, a scalar), the arguments are arrays and
options rather than float parameters.  The generated public functions
(fastact/_codegen.py), the reference pages, the tests and the bench iterate
LOSSES as they iterate the activations' records.
"""
from __future__ import annotations

from dataclasses import dataclass, field

@dataclass(frozen=True)
class Arg:
    """An option of a public function, after its leading arrays: name, type
    annotation, default (as Python source) and doc."""

    name: str
    annotation: str
    default: str
    doc: str


@dataclass(frozen=True)
class Reduction:
    """A reduction along an axis (kind "reduce") or a loss (kind "loss").

    arrays / backward_arrays: the leading positional arrays of the forward and
    the backward, (name, doc).  args: the options both take, in order (the
    backward takes them as keywords after its arrays).  out: whether the
    forward takes out= (the backward always does).  numpy / torch / unfused:
    direction ("forward", "backward", "both" = forward then backward) -> an
    expression of the same computation in NumPy, in torch eager (``torch``,
    ``F`` in scope; the backward by autograd), and as the sequence of fastact
    calls a user would write without the fused kernel (``fa``, ``np``), over
    the arrays' names, ``g`` (the upstream gradient) and ``p`` (the options).
    class_name: the layer in fastact.nn (empty: none).  and_derivative: the
    kernel also gives the loss and dL/dlogits in one pass, published as
    NAME_and_derivative (the layer uses it too).
    """

    name: str
    kind: str
    summary: str
    formula: str
    gradient: str
    arrays: tuple
    backward_arrays: tuple
    args: tuple
    notes: str = ""
    out: bool = True
    class_name: str = ""
    and_derivative: bool = False
    numpy: dict = field(default_factory=dict)
    torch: dict = field(default_factory=dict)
    unfused: dict = field(default_factory=dict)

    @property
    def defaults(self) -> dict:
        return {a.name: eval(a.default, {}) for a in self.args}


_AXIS = Arg("axis", "int", "-1", "the class axis (the axis reduced)")

RECORDS = (
    Reduction(
        name="logsumexp", kind="reduce",
        summary="log(sum(exp(x))) along an axis.",
        formula="logsumexp(x) = m + log(sum_j exp(x_j - m)),  m = max(x)",
        gradient="grad * softmax(x)  along the axis",
        arrays=(("x", "the input"),),
        backward_arrays=(("grad", "dL/d logsumexp(x), the shape of logsumexp(x)"),
                         ("x", "the forward input")),
        args=(_AXIS, Arg("keepdims", "bool", "False",
                         "keep the reduced axis with length 1 (as NumPy's keepdims; "
                         "torch.logsumexp's keepdim)")),
        notes=("As torch.logsumexp (one axis). The row maximum is subtracted first and the sum "
               "of e^(x - m), corrected for the rounding of x - m, taken as log1p(sum - 1) "
               "(the maximum's term is exactly 1), so that any spread of values (1e30 next to 0, "
               "+-finfo.max) is exact to rounding. A row containing nan gives nan; otherwise "
               "one containing +inf gives +inf, a row of -inf (or an empty axis) -inf, as torch. "
               "The backward is grad * softmax(x), computed by the fused softmax kernel; where "
               "the row's maximum is not finite it is grad * exp(x - logsumexp(x)) as torch's "
               "(nan at +inf entries, 0 beside them)."),
        numpy={"forward": "np_logsumexp(x, p.get('axis', -1))",
               "both": "np_logsumexp_both(x, p.get('axis', -1))"},
        torch={"forward": "torch.logsumexp(x, p.get('axis', -1))",
               "both": "torch_logsumexp_both(x, p.get('axis', -1))"},
        unfused={"both": "fa_logsumexp_both(x, p.get('axis', -1))"},
    ),
    Reduction(
        name="cross_entropy", kind="loss",
        summary="Softmax cross-entropy from logits (class indices or probabilities).",
        formula=("index t: loss = (1 - eps) w_t (-logp_t) + eps/C sum_c w_c (-logp_c); "
                 "probabilities q: loss = -sum_c w_c ((1 - eps) q_c + eps/C) logp_c; "
                 "logp = log_softmax(logits)"),
        gradient=("grad * (A softmax(logits) - B), index t: A = (1 - eps) w_t + eps/C sum(w), "
                  "B_c = (1 - eps) w_t [c = t] + eps/C w_c; probabilities: A = sum_c w_c q'_c, "
                  "B_c = w_c q'_c (times 1/denominator for reduction='mean')"),
        arrays=(("logits", "the unnormalized scores"),
                ("target", "class indices (integers, logits' shape without the class axis) or "
                           "class probabilities (floats, logits' shape)")),
        backward_arrays=(("grad", "dL/dloss: a scalar for reduction 'mean' and 'sum', the batch "
                                  "shape for 'none'"),
                         ("logits", "the forward input"),
                         ("target", "the forward target")),
        args=(_AXIS,
              Arg("weight", "ArrayLike | None", "None",
                  "a weight per class (1-D, of the class axis' length), or None"),
              Arg("ignore_index", "int", "-100",
                  "a class index whose rows count nothing (class-index targets only)"),
              Arg("reduction", "Literal['none', 'mean', 'sum']", "'mean'",
                  "'none' (a loss per row), 'mean' or 'sum'"),
              Arg("label_smoothing", "float", "0.0", "the label smoothing eps, in [0, 1]")),
        out=False,
        class_name="CrossEntropyLoss",
        and_derivative=True,
        notes=("As torch.nn.functional.cross_entropy, with the class axis given by axis "
               "(default -1, the last; torch takes dim 1 of an N-d input: pass axis=1 for its "
               "layout). Fused: one pass per row finds the maximum and the log-sum-exp (as "
               "logsumexp, exact for any spread) and the loss or the gradient, without forming "
               "log_softmax in memory. reduction='mean' divides by the sum of the weights of the "
               "targets not ignored (their count without weight); a batch whose targets are "
               "all ignored, or an empty batch, gives nan, as torch; for probability targets it "
               "divides by the number of rows. Row losses are summed in float64 (math.fsum for "
               "float64 data), independent of the threads. A class index outside [0, C) other "
               "than ignore_index is a ValueError (torch raises too). A row whose logits hold "
               "nan or +inf, or only -inf, gives nan (its gradient too, even if its target is "
               "ignored: torch's composite does the same). The backward returns dL/dlogits in "
               "logits' shape and dtype; the gradient at the target, softmax_t - 1, is formed "
               "as -(sum of the other terms)/sum so that it keeps its digits when softmax_t "
               "is close to 1."),
        numpy={"forward": "np_cross_entropy(x, t, p.get('axis', -1))",
               "both": "np_cross_entropy_both(x, t, p.get('axis', -1))"},
        torch={"forward": "F.cross_entropy(x, t)",
               "both": "torch_cross_entropy_both(x, t)"},
        unfused={"both": "fa_cross_entropy_both(x, t, p.get('axis', -1))"},
    ),
)

for _r in RECORDS:
    assert _r.kind in ("reduce", "loss"), _r.name
    assert _r.args[0].name == "axis", _r.name
