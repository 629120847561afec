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

import math
from dataclasses import dataclass, field

REQUIRED = object()


@dataclass(frozen=True)
class Param:
    """A float parameter: name, default (PyTorch's), and its allowed range."""

    name: str
    default: float
    doc: str
    low: float = -math.inf          # allowed range, bounds included unless open
    high: float = math.inf
    low_open: bool = False
    nonzero: bool = False

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
        return {p.name: p.default for p in self.params}


_NAN_NOTE = ("At x = nan both directions return nan (PyTorch's backward of the "
             "piecewise-linear functions returns g or 0 there instead).")

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
        notes="Uses expm1, so elu(x) keeps full accuracy near 0; elu(-0) = -0.",
    ),
    Activation(
        name="softmax", kind="softmax",
        summary="Softmax along an axis.",
        formula="softmax(x)_i = exp(x_i - max(x)) / sum_j exp(x_j - max(x))",
        gradient="y * (g - sum(g * y))  along the axis",
        backward_from=("y",),
        notes=("The row maximum is subtracted first, so large inputs do not overflow. "
               "A row containing nan, +inf, or only -inf gives nan, as PyTorch."),
    ),
)

# --- cat1: smooth activations (silu ... squareplus) -------------------------
_EXT_NOTE = ("At x = nan both directions return nan; at +-inf the limits (forward and "
             "derivative), never nan.")
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
               "to the array's precision. selu(-0) = -0. " + _EXT_NOTE),
    ),
    Activation(
        name="celu", kind="elementwise",
        summary="Continuously differentiable exponential linear unit.",
        formula="celu(x) = max(0, x) + min(0, alpha * expm1(x / alpha))",
        gradient="1 where x > 0, else exp(x / alpha)",
        backward_from=("x",),
        params=(Param("alpha", 1.0, "scale of the negative part", nonzero=True),),
        notes=("alpha = 0 is a ValueError (PyTorch raises too). Uses expm1, so celu keeps "
               "full accuracy near 0; celu(-0) = -0. " + _EXT_NOTE),
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
