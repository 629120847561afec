"""The registry: one record per activation, the single source of truth.

Everything else iterates these records: the public wrappers and their
docstrings (``_api``), the generated Cython loops (``setup.py`` reads this
file at build time, so it may import only the standard library), the tests,
the benchmarks, the CLI and the plots.

Adding an elementwise activation takes one record here and its per-element
functions ``NAME_fwd`` / ``NAME_bwd_x`` / ``NAME_bwd_y`` in
``_kernels/_activations.pxd``.
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field

REQUIRED = object()

@functools.lru_cache(maxsize=None)
def _compiled(expr: str):
    return compile(expr, "<fastact registry expression>", "eval")


def evaluate(expr: str, env: dict):
    """A registry expression (y_requires, constraints, extra["k_requires"] and
    ["out_len"]) evaluated over env, compiled once: a call of glu or maxout
    evaluates two, and eval() of the text took 7 us each."""
    return eval(_compiled(expr), {"__builtins__": {}, "math": math}, env)


# What makes a formula cost a transcendental function (exp, log, tanh, ...)
# rather than a few compares and multiplies: the benchmark's NumPy target and
# the kernels' threading threshold follow it.
_TRANSCENDENTAL = re.compile(r"\b(exp|expm1|log|log1p|erf|erfc|tanh|sech|sigmoid|softplus|pow)\b|e\^")


@dataclass(frozen=True)
class Param:
    """A float parameter: name, default (PyTorch's), and its allowed range.

    default may be REQUIRED (no default, as PyTorch's threshold); such
    parameters come first in a record and carry an ``example`` value, which
    the plots and ``fastact.derivative`` use when none is given.
    """

    name: str
    default: float
    doc: str
    low: float = -math.inf          # allowed range, bounds included unless open
    high: float = math.inf
    low_open: bool = False
    nonzero: bool = False
    example: float | None = None    # for REQUIRED parameters
    integer: bool = False           # an int (maxout's pieces), not a float

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def describe(self) -> str:
        if self.low == -math.inf and self.high == math.inf:
            rng = "a finite real number"
        elif self.high == math.inf:
            rng = f"a finite number {'>' if self.low_open else '>='} {self.low:g}"
        else:
            rng = f"a number in [{self.low:g}, {self.high:g}]"
        return rng + (", not 0" if self.nonzero else "")

    def check(self, value) -> str | None:
        """Return why ``value`` is not allowed, or None."""
        if self.integer and value != int(value):
            return "must be an integer"
        if not math.isfinite(value):
            return "must be finite"
        if value < self.low or value > self.high or (self.low_open and value == self.low):
            return f"must be {self.describe()}"
        if self.nonzero and value == 0:
            return "must not be 0"
        return None


@dataclass(frozen=True)
class Activation:
    """One activation function.

    kind: "elementwise" (a per-element kernel) or "softmax" (along an axis).
    backward_from: which forward array the backward formula can use: "x",
    "y", or both.  y_requires: for functions whose backward from y holds only
    for some parameters, that condition as a Python expression over them.
    """

    name: str
    kind: str
    formula: str
    gradient: str
    backward_from: tuple
    params: tuple = ()
    aliases: tuple = ()
    notes: str = ""
    y_requires: str | None = None     # e.g. "alpha >= 0"
    summary: str = ""
    extra: dict = field(default_factory=dict)
    # Conditions across parameters: (Python expression over the params, the
    # parameter an error names, why), e.g. ("min_val <= max_val", "min_val",
    # "must be <= max_val").  Checked after each parameter's own range.
    constraints: tuple = ()
    # A string parameter choosing among kernels: (param name, ((value, kernel
    # name), ...)), the first value being the default; e.g. gelu's
    # ("approximate", (("none", "gelu"), ("tanh", "gelu_tanh"))).
    variants: tuple | None = None

    @property
    def kernels(self) -> tuple:
        """The names of this record's elementwise kernels (one unless variants)."""
        return tuple(k for _, k in self.variants[1]) if self.variants else (self.name,)

    @property
    def defaults(self) -> dict:
        """The parameters that have a default, with it."""
        return {p.name: p.default for p in self.params if not p.required}

    @property
    def examples(self) -> dict:
        """Every parameter: its default, or its example value if it is required."""
        return {p.name: (p.example if p.required else p.default) for p in self.params}

    def formula_for(self, direction: str) -> str:
        """The formula's text for "forward", "x" (backward from x) or "y"."""
        if direction == "forward":
            return self.formula.split("=", 1)[1] if "=" in self.formula else self.formula
        m = re.search(r"\(from y:\s*(.*)\)\s*$", self.gradient)
        if direction == "y" and m:
            return m.group(1)
        return self.gradient[:m.start()] if m else self.gradient

    def transcendental(self, direction: str) -> bool:
        """Whether this direction needs exp/log/tanh/... (from the formulas)."""
        return bool(_TRANSCENDENTAL.search(self.formula_for(direction)))


_NAN_NOTE = ("At x = nan both directions return nan (PyTorch's backward of the "
             "piecewise-linear functions returns g, 0 or slope * g there instead).")
# The same for the piecewise exponential ones (elu, selu, celu): PyTorch's
# backward takes their x > 0 branch at nan.
_NAN_NOTE_EXP = ("At x = nan both directions return nan (PyTorch's backward returns "
                 "{} there, its x > 0 branch).")

ACTIVATIONS = (
    Activation(
        name="sigmoid", kind="elementwise",
        summary="Logistic sigmoid.",
        formula="sigmoid(x) = 1 / (1 + exp(-x))",
        gradient="sigmoid(x) * sigmoid(-x)  (from y: y * (1 - y))",
        backward_from=("x", "y"),
        notes=("Evaluated as 1/(1+e) or e/(1+e) with e = exp(-|x|): never overflows, "
               "and keeps full relative accuracy in the tail for x << 0 (subnormals "
               "included). Same as scipy.special.expit, torch.sigmoid, tf.nn.sigmoid, "
               "jax.nn.sigmoid."),
    ),
    Activation(
        name="tanh", kind="elementwise",
        summary="Hyperbolic tangent.",
        formula="tanh(x) = (e^x - e^-x) / (e^x + e^-x)",
        gradient="sech(x)^2 = 4 / (e^x + e^-x)^2  (from y: (1 - y) * (1 + y))",
        backward_from=("x", "y"),
        notes="tanh(-0) = -0; the gradient from x never cancels (no 1 - tanh^2).",
    ),
    Activation(
        name="relu", kind="elementwise",
        summary="Rectified linear unit.",
        formula="relu(x) = max(x, 0)",
        gradient="1 where x > 0, else 0 (0 at x = 0, as PyTorch)",
        backward_from=("x", "y"),
        notes="relu(-0) = -0 and relu(nan) = nan, as PyTorch. " + _NAN_NOTE,
    ),
    Activation(
        name="leaky_relu", kind="elementwise",
        summary="Leaky rectified linear unit.",
        formula="leaky_relu(x) = x if x > 0 else negative_slope * x",
        gradient="1 where x > 0, else negative_slope (negative_slope at x = 0, as PyTorch)",
        backward_from=("x",),
        params=(Param("negative_slope", 0.01, "slope for x <= 0"),),
        notes=("Default slope 0.01 is PyTorch's; TensorFlow's tf.nn.leaky_relu uses 0.2 "
               "and Keras' LeakyReLU layer 0.3. " + _NAN_NOTE),
    ),
    Activation(
        name="elu", kind="elementwise",
        summary="Exponential linear unit.",
        formula="elu(x) = x if x > 0 else alpha * expm1(x)",
        gradient="1 where x > 0, else alpha * exp(x)  (from y: y + alpha)",
        backward_from=("x", "y"),
        params=(Param("alpha", 1.0, "value approached as x -> -inf is -alpha"),),
        y_requires="alpha >= 0",
        notes=("Uses expm1, so elu(x) keeps full accuracy near 0; elu(-0) = -0. "
               + _NAN_NOTE_EXP.format("g")),
    ),
    Activation(
        name="softmax", kind="softmax",
        summary="Softmax along an axis.",
        formula="softmax(x)_i = exp(x_i - max(x)) / sum_j exp(x_j - max(x))",
        gradient="y * (g - sum(g * y))  along the axis",
        backward_from=("y",),
        notes=("The row maximum is subtracted first, so large inputs do not overflow; "
               "e^(x - max) is corrected for the rounding of x - max, so that any finite row, "
               "whatever its spread (up to [-finfo.max, finfo.max]), is within a few ULP. "
               "A row containing nan, +inf, or only -inf gives nan, as PyTorch."),
    ),
    # ---- along an axis: log_softmax, softmin ----
    Activation(
        name="log_softmax", kind="softmax",
        summary="Log-softmax along an axis.",
        formula="log_softmax(x)_i = x_i - max(x) - log(sum_j exp(x_j - max(x)))",
        gradient="g - exp(y) * sum(g)  along the axis",
        backward_from=("y",),
        notes=("The sum is compensated and its log taken as log1p(sum - 1) (the maximum "
               "term is exactly 1), so a row dominated by one entry keeps its tiny "
               "log-probability; within a few ULP of the exact value. A row containing "
               "nan, +inf, or only -inf gives nan, as PyTorch; a -inf entry gives -inf, and so "
               "does an entry whose x - max is below -finfo.max (its exact value is not finite "
               "either; PyTorch gives -inf there too)."),
    ),
    Activation(
        name="softmin", kind="softmax",
        summary="Softmin along an axis: softmax(-x).",
        formula="softmin(x)_i = exp(-x_i + min(x)) / sum_j exp(-x_j + min(x))",
        gradient="-(y * (g - sum(g * y)))  along the axis",
        backward_from=("y",),
        notes="softmax of -x (negation is exact), as torch.nn.functional.softmin.",
    ),
    # ---- along an axis, changing its length: glu, maxout (kind "axis_x":
    # the backward needs x; extra["out_len"] is the output's axis length as
    # an expression over k and the params, extra["k_requires"] (condition,
    # parameter to name, why) the check on k) ----
    Activation(
        name="glu", kind="axis_x",
        summary="Gated linear unit along an axis.",
        formula="glu(x) = a * sigmoid(b), with a, b the first and second halves of x along axis",
        gradient="d/da = sigmoid(b), d/db = a * sigmoid(b) * sigmoid(-b)",
        backward_from=("x",),
        extra={"out_len": "k // 2", "k_requires": ("k % 2 == 0", "axis", "must have an even length")},
        notes=("As torch.nn.functional.glu (default axis -1). The backward takes grad "
               "(the shape of the output) and x, and returns dL/dx in x's shape, the "
               "concatenation [g sigmoid(b), g a sigmoid(b) sigmoid(-b)]; sigmoid(-b) is "
               "evaluated directly, never as 1 - sigmoid(b). fastact.derivative is not "
               "defined for it (the output is shorter than x): fastact.plot draws "
               "glu([x, x]) = x sigmoid(x) and its total derivative."),
    ),
    Activation(
        name="maxout", kind="axis_x",
        summary="Maxout: the maximum over groups of `pieces` consecutive entries along an axis.",
        formula="maxout(x)_q = max(x_{q*pieces}, ..., x_{q*pieces + pieces - 1})",
        gradient="g routed to the arg-max of each group (the first one on ties)",
        backward_from=("x",),
        params=(Param("pieces", REQUIRED, "entries per group", low=1.0, integer=True, example=2),),
        extra={"out_len": "k // pieces",
               "k_requires": ("k % pieces == 0", "pieces", "must divide the axis length")},
        notes=("Goodfellow et al. (2013). PyTorch has no maxout; fastact groups consecutive "
               "entries (x.reshape(..., k // pieces, pieces, ...).max(axis)). A nan in a group "
               "gives nan and receives the gradient (the first nan), as torch.max. "
               "fastact.derivative is not defined for it (the output is shorter than x): "
               "fastact.plot draws maxout([x, 0], pieces=2) = max(x, 0)."),
    ),
    # ---- with weights or randomness: prelu, rrelu (their own kinds) ----
    Activation(
        name="prelu", kind="prelu",
        summary="Parametric ReLU: a learned slope per channel.",
        formula="prelu(x, weight) = x if x > 0 else weight[c] * x, c the channel (axis 1)",
        gradient=("grad_x = g where x > 0, else weight[c] * g; grad_weight[c] = sum over all "
                  "but the channel axis of (x * g where x <= 0)"),
        backward_from=("x",),
        extra={"example": {"weight": 0.25}},
        notes=("As torch.nn.functional.prelu: the channel axis is axis 1 for ndim >= 2; an "
               "input with fewer dimensions has one channel. weight is a scalar or a 1-D "
               "array (a 2-D or higher weight is a ValueError, as PyTorch's \"Expected weight "
               "to be a scalar or 1D tensor\") with 1 entry (used for every channel) or one "
               "per channel, else ValueError; it is converted to x's "
               "dtype. prelu_backward(grad, x, weight) returns (grad_x, grad_weight), "
               "grad_weight of weight's shape (zeros for an empty x or an empty channel "
               "axis, as PyTorch; summed in the array's precision, so it "
               "agrees with PyTorch to rounding, not bit for bit). torch.nn.PReLU starts "
               "weight at 0.25. fastact.derivative('prelu', x, weight=w) is grad_x for a "
               "unit grad (weight 0.25 if not given). " + _NAN_NOTE),
    ),
    Activation(
        name="rrelu", kind="rrelu",
        summary="Randomized leaky ReLU.",
        formula=("rrelu(x) = x if x > 0 else a * x; a = (lower + upper) / 2 in eval mode, "
                 "a ~ U(lower, upper) per element when training"),
        gradient="g where x > 0, else a * g (the same a as the forward)",
        backward_from=("x",),
        params=(Param("lower", 1.0 / 8.0, "lower bound of the random slope"),
                Param("upper", 1.0 / 3.0, "upper bound of the random slope")),
        constraints=(("lower <= upper", "lower", "must be <= upper"),),
        notes=("Defaults as torch.nn.functional.rrelu (eval mode: leaky_relu with slope "
               "(lower + upper)/2, bit for bit as PyTorch). training=True draws the slopes "
               "from rng= (a numpy.random.Generator, or an int seed for "
               "numpy.random.default_rng); without rng it is a ValueError: fastact never "
               "draws from a global RNG. return_noise=True returns (y, noise), noise the "
               "per-element slope (1 where x > 0) in x's dtype; pass it to "
               "rrelu_backward(grad, x, noise=noise) so that the backward uses the same "
               "slopes. The draws cannot equal PyTorch's (a different generator). " + _NAN_NOTE),
    ),
    # ---- piecewise-linear catalogue (relu6 ... threshold) ----
    Activation(
        name="relu6", kind="elementwise",
        summary="ReLU capped at 6.",
        formula="relu6(x) = min(max(x, 0), 6)",
        gradient="1 where 0 < x < 6, else 0 (0 at both kinks, as PyTorch)",
        backward_from=("x",),
        notes="relu6(-0) = -0 and relu6(-inf) = 0, as PyTorch. " + _NAN_NOTE,
    ),
    Activation(
        name="hardsigmoid", kind="elementwise",
        summary="Piecewise-linear sigmoid.",
        formula="hardsigmoid(x) = relu6(x + 3) / 6",
        gradient="1/6 where -3 < x < 3, else 0 (0 at both kinks, as PyTorch)",
        backward_from=("x",),
        notes=("Forward computed as min(max(x + 3, 0), 6) / 6, bit for bit as PyTorch. "
               "The backward multiplies by 1/6 rounded to the array's precision; "
               "PyTorch's float64 backward uses the float32-rounded 1/6 "
               "(0.16666667163...), a relative difference of 2e-8. " + _NAN_NOTE),
    ),
    Activation(
        name="hardswish", kind="elementwise", aliases=("hard_silu",),
        summary="Piecewise-quadratic swish (MobileNetV3).",
        formula="hardswish(x) = x * relu6(x + 3) / 6",
        gradient="0 where x <= -3, (2x + 3)/6 where -3 < x < 3, 1 where x >= 3",
        backward_from=("x",),
        notes=("Gradient 0 at x = -3 and 1 at x = +3, PyTorch's current rule. "
               "The gradient is computed as (2x + 3)/6, which is exact near -1.5 where "
               "PyTorch's x/3 + 0.5 cancels (a few ULP difference there). "
               "hardswish(-inf) = -0 and hardswish(+inf) = +inf (PyTorch: nan at -inf); "
               "large finite x never overflow (x is returned for x >= 3). " + _NAN_NOTE),
    ),
    Activation(
        name="hardtanh", kind="elementwise",
        summary="Clip to [min_val, max_val].",
        formula="hardtanh(x) = min(max(x, min_val), max_val)",
        gradient="1 where min_val < x < max_val, else 0 (0 at both kinks, as PyTorch)",
        backward_from=("x",),
        params=(Param("min_val", -1.0, "lower end of the linear region"),
                Param("max_val", 1.0, "upper end of the linear region")),
        constraints=(("min_val <= max_val", "min_val", "must be <= max_val"),),
        notes="hardtanh(-0) = -0, as PyTorch. " + _NAN_NOTE,
    ),
    Activation(
        name="softshrink", kind="elementwise",
        summary="Soft shrinkage (soft thresholding).",
        formula="softshrink(x) = x - lambd if x > lambd; x + lambd if x < -lambd; else 0",
        gradient="1 where |x| > lambd, else 0",
        backward_from=("x",),
        params=(Param("lambd", 0.5, "half-width of the dead zone", low=0.0),),
        notes=("The dead zone gives +0, as PyTorch's float64 kernel; PyTorch's float32 "
               "kernel gives -0 for negative x there (x * 0). " + _NAN_NOTE),
    ),
    Activation(
        name="hardshrink", kind="elementwise",
        summary="Hard shrinkage.",
        formula="hardshrink(x) = x if |x| > lambd else 0",
        gradient="1 where |x| > lambd, else 0",
        backward_from=("x",),
        params=(Param("lambd", 0.5, "half-width of the dead zone", low=0.0),),
        notes="The dead zone gives +0, as PyTorch. " + _NAN_NOTE,
    ),
    Activation(
        name="threshold", kind="elementwise",
        summary="Replace values at or below a threshold.",
        formula="threshold(x) = x if x > threshold else value",
        gradient="1 where x > threshold, else 0",
        backward_from=("x",),
        params=(Param("threshold", REQUIRED, "values at or below it are replaced", example=1.0),
                Param("value", REQUIRED, "the replacement", example=0.0)),
        notes=("Both parameters are required, as in PyTorch (the backward takes them "
               "too; it does not use value). " + _NAN_NOTE),
    ),
)

for _a in ACTIVATIONS:
    _req = [p.required for p in _a.params]
    assert _req == sorted(_req, reverse=True), f"{_a.name}: required parameters must come first"
# --- cat1: smooth activations (silu ... squareplus) -------------------------
_EXT_NOTE = ("At x = nan both directions return nan; at +-inf the limits (forward and "
             "derivative), never nan.")
_INF_NOTE = "At +-inf the limits (forward and derivative), never nan."
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946

ACTIVATIONS = ACTIVATIONS + (
    Activation(
        name="silu", kind="elementwise", aliases=("swish",),
        summary="Sigmoid-weighted linear unit (swish).",
        formula="silu(x) = x * sigmoid(x)",
        gradient="sigmoid(x) * (1 + x * sigmoid(-x))",
        backward_from=("x",),
        notes=("silu(-inf) = -0 and its gradient 0 (PyTorch: nan, from -inf * 0); the tail "
               "for x << 0 keeps full relative accuracy down to the underflow (PyTorch's "
               "float32 sigmoid flushes to 0 below -88.7, so its silu(-89) is -0). "
               "silu(-0) = -0. " + _EXT_NOTE),
    ),
    Activation(
        name="mish", kind="elementwise",
        summary="Mish: x * tanh(softplus(x)).",
        formula="mish(x) = x * tanh(log1p(exp(x)))",
        gradient="tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2),  sp = softplus(x)",
        backward_from=("x",),
        notes=("Evaluated as x * n / (n + 2) with n = e^x (e^x + 2) (no log, no tanh, no "
               "cancellation). mish(-inf) = -0 and mish(+inf) = +inf, gradients 0 and 1 "
               "(PyTorch: nan at -inf). mish(-0) = -0. " + _EXT_NOTE),
    ),
    Activation(
        name="softsign", kind="elementwise",
        summary="Softsign.",
        formula="softsign(x) = x / (1 + |x|)",
        gradient="1 / (1 + |x|)^2",
        backward_from=("x",),
        notes=("softsign(+-inf) = +-1 with gradient 0 (PyTorch: nan). softsign(-0) = -0. "
               + _EXT_NOTE),
    ),
    Activation(
        name="logsigmoid", kind="elementwise",
        summary="Logarithm of the sigmoid.",
        formula="logsigmoid(x) = min(x, 0) - log1p(exp(-|x|))",
        gradient="sigmoid(-x)  (never 1 - sigmoid(x), which cancels)",
        backward_from=("x",),
        notes=("Stable form: no overflow, full relative accuracy for x >> 0 (about "
               "-e^-x). logsigmoid(-inf) = -inf with gradient 1, logsigmoid(+inf) = 0 "
               "with gradient 0, as PyTorch's F.logsigmoid (tf.math.log_sigmoid, "
               "jax.nn.log_sigmoid). " + _EXT_NOTE),
    ),
    Activation(
        name="tanhshrink", kind="elementwise",
        summary="x minus its hyperbolic tangent.",
        formula="tanhshrink(x) = x - tanh(x)",
        gradient="tanh(x)^2",
        backward_from=("x",),
        notes=("x - tanh(x) cancels for small |x| (about x^3 / 3): a minimax series is "
               "used there, so the result keeps full relative accuracy. tanhshrink(-0) "
               "= +0, as PyTorch; tanhshrink(+-inf) = +-inf with gradient 1. " + _EXT_NOTE),
    ),
    Activation(
        name="gelu", kind="elementwise",
        summary="Gaussian error linear unit.",
        formula=("gelu(x) = x * Phi(x) = 0.5 * x * erfc(-x / sqrt(2))  (approximate='none');  "
                 "0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))  (approximate='tanh')"),
        gradient="Phi(x) + x * phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi)  (tanh form: its product rule)",
        backward_from=("x",),
        variants=("approximate", (("none", "gelu"), ("tanh", "gelu_tanh"))),
        notes=("approximate='none' (PyTorch's default) is exact, through erfc, so that "
               "gelu keeps full relative accuracy for x << 0 down to the underflow "
               "(PyTorch's float32 gelu returns 0 below about -8.6, where 1 + erf "
               "cancels). approximate='tanh' uses 1 + tanh(u) = 2 sigmoid(2u), which "
               "neither cancels for x << 0 nor gives nan for huge |x| (PyTorch's tanh "
               "backward is nan beyond about 5e12 in float32). JAX's jax.nn.gelu "
               "defaults to approximate=True (the tanh form), PyTorch and Keras to the "
               "exact one; tf.nn.gelu defaults to approximate=False. gelu(-inf) = -0 and "
               "gelu(+inf) = +inf, gradients 0 and 1 (PyTorch: nan at -inf). "
               "gelu(-0) = -0. In float32 the tanh form is computed in double and rounded "
               "once (the exact form has float kernels of its own). " + _EXT_NOTE),
    ),
    Activation(
        name="selu", kind="elementwise",
        summary="Scaled exponential linear unit.",
        formula=("selu(x) = scale * (x if x > 0 else alpha * expm1(x)), alpha = "
                 "1.6732632423543772848..., scale = 1.0507009873554804934..."),
        gradient="scale where x > 0, else scale * alpha * exp(x)  (scale*alpha at x = 0, as PyTorch)",
        backward_from=("x",),
        notes=("The constants are PyTorch's (and TF's, JAX's), to full precision, rounded "
               "to the array's precision. selu(-0) = -0. " + _NAN_NOTE_EXP.format("scale * g")
               + " " + _INF_NOTE),
    ),
    Activation(
        name="celu", kind="elementwise",
        summary="Continuously differentiable exponential linear unit.",
        formula="celu(x) = max(0, x) + min(0, alpha * expm1(x / alpha))",
        gradient="1 where x > 0, else exp(x / alpha)",
        backward_from=("x",),
        params=(Param("alpha", 1.0, "scale of the negative part", nonzero=True),),
        notes=("alpha = 0 is a ValueError (PyTorch raises too). Uses expm1, so celu keeps "
               "full accuracy near 0; celu(-0) = -0. For alpha < 0 the derivative e^(x/alpha) "
               "grows without bound as x -> -inf: the backward there is g * inf = +-inf, and "
               "0 for g = 0 (PyTorch: nan). " + _NAN_NOTE_EXP.format("g") + " " + _INF_NOTE),
    ),
    Activation(
        name="softplus", kind="elementwise",
        summary="Softplus, a smooth relu.",
        formula="softplus(x) = log1p(exp(beta * x)) / beta, or x where beta * x > threshold",
        gradient="sigmoid(beta * x), or 1 where beta * x > threshold",
        backward_from=("x",),
        params=(Param("beta", 1.0, "sharpness", nonzero=True),
                Param("threshold", 20.0, "above beta * x > threshold the result is x itself")),
        notes=("PyTorch's rule, threshold included (beta * x rounded in the array's "
               "precision, then compared). Evaluated as max(v, 0) + log1p(exp(-|v|)), "
               "v = beta * x: no overflow warning for large v, and e^v / beta with full "
               "relative accuracy for v << 0 (never log(1 + tiny) = 0). beta = 0 is a "
               "ValueError (PyTorch returns inf). TensorFlow's tf.math.softplus and "
               "jax.nn.softplus have no beta and no threshold (they compute the exact "
               "log1p(exp(x)) everywhere, which differs from x above the threshold by "
               "less than e^-20). " + _EXT_NOTE),
    ),
    Activation(
        name="squareplus", kind="elementwise",
        summary="Squareplus, an algebraic smooth relu (JAX's).",
        formula="squareplus(x) = (x + sqrt(x^2 + b)) / 2",
        gradient="(1 + x / sqrt(x^2 + b)) / 2",
        backward_from=("x",),
        params=(Param("b", 4.0, "smoothness near 0", low=0.0),),
        notes=("As jax.nn.squareplus (PyTorch has none); b >= 0. Evaluated as "
               "b / (2 (sqrt(x^2 + b) - x)) for x < 0, which does not cancel, and with "
               "|x| scaled so that x^2 never overflows. " + _EXT_NOTE),
    ),
)
# --- end cat1 ----------------------------------------------------------------

BY_NAME = {}
for _a in ACTIVATIONS:
    for _n in (_a.name,) + _a.aliases:
        BY_NAME[_n] = _a

ELEMENTWISE = tuple(a for a in ACTIVATIONS if a.kind == "elementwise")

# The compiled elementwise kernels in kernel-id order: (kernel name, record).
KERNELS = tuple((k, a) for a in ELEMENTWISE for k in a.kernels)
