"""Smooth activations: sigmoid-shaped, exponential linear units, smooth rectifiers and
self-gated units.  (The fields: _record.py.)"""
from ._record import Activation, Param, EXT_NOTE, INF_NOTE, NAN_NOTE_EXP

RECORDS = (
    # ---- Sigmoid-shaped: bounded and smooth ----
    Activation(
        name="sigmoid", kind="elementwise",
        summary="Logistic sigmoid.",
        formula="sigmoid(x) = 1 / (1 + exp(-x))",
        gradient="sigmoid(x) * sigmoid(-x)",
        backward_from=("x", "y"),
        gradient_y='y * (1 - y)',
        cost={'forward': 'transcendental', 'x': 'transcendental', 'y': 'cheap'},
        notes=("Evaluated as 1/(1+e) or e/(1+e) with e = exp(-|x|): never overflows, "
               "and keeps full relative accuracy in the tail for x << 0 (subnormals "
               "included). Same as scipy.special.expit, torch.sigmoid, tf.nn.sigmoid, "
               "jax.nn.sigmoid."),
        numpy={'forward': '1 / (1 + np.exp(-x))',
               'x': 'g * sigmoid(x) * (1 - sigmoid(x))',
               'y': 'g * y * (1 - y)'},
        torch={'forward': 'torch.sigmoid(x)',
               'x': 'aten.sigmoid_backward(g, torch.sigmoid(x))',
               'y': 'aten.sigmoid_backward(g, y)'},
        torch_notes={'x': "torch.sigmoid then sigmoid_backward (torch's backward needs y)"},
    ),
    Activation(
        name="tanh", kind="elementwise",
        summary="Hyperbolic tangent.",
        formula="tanh(x) = (e^x - e^-x) / (e^x + e^-x)",
        gradient="sech(x)^2 = 4 / (e^x + e^-x)^2",
        backward_from=("x", "y"),
        gradient_y='(1 - y) * (1 + y)',
        cost={'forward': 'transcendental', 'x': 'transcendental', 'y': 'cheap'},
        notes="tanh(-0) = -0; the gradient from x never cancels (no 1 - tanh^2).",
        numpy={'forward': 'np.tanh(x)', 'x': 'g * (1 - np.tanh(x) ** 2)', 'y': 'g * (1 - y * y)'},
        torch={'forward': 'torch.tanh(x)',
               'x': 'aten.tanh_backward(g, torch.tanh(x))',
               'y': 'aten.tanh_backward(g, y)'},
        torch_notes={'x': "torch.tanh then tanh_backward (torch's backward needs y)"},
        numpy_parity={'forward': 'np.tanh'},
    ),
    Activation(
        name="logsigmoid", kind="elementwise",
        summary="Logarithm of the sigmoid.",
        formula="logsigmoid(x) = min(x, 0) - log1p(exp(-|x|))",
        gradient="sigmoid(-x)  (never 1 - sigmoid(x), which cancels)",
        backward_from=("x",),
        cost='transcendental',
        class_name='LogSigmoid',
        notes=("Stable form: no overflow, full relative accuracy for x >> 0 (about "
               "-e^-x). logsigmoid(-inf) = -inf with gradient 1, logsigmoid(+inf) = 0 "
               "with gradient 0, as PyTorch's F.logsigmoid (tf.math.log_sigmoid, "
               "jax.nn.log_sigmoid). " + EXT_NOTE),
        numpy={'forward': '-np.logaddexp(0, -x)', 'x': 'g * sigmoid(-x)'},
        torch={'forward': 'F.logsigmoid(x)',
               'x': 'aten.log_sigmoid_backward(g, x, aten.log_sigmoid_forward(x)[1])'},
        torch_notes={'x': 'log_sigmoid_forward (for its buffer) then log_sigmoid_backward'},
    ),
    Activation(
        name="softsign", kind="elementwise",
        summary="Softsign.",
        formula="softsign(x) = x / (1 + |x|)",
        gradient="1 / (1 + |x|)^2",
        backward_from=("x",),
        cost='cheap',
        notes=("softsign(+-inf) = +-1 with gradient 0 (PyTorch: nan). softsign(-0) = -0. "
               + EXT_NOTE),
        numpy={'forward': 'x / (1 + np.abs(x))', 'x': 'g / (1 + np.abs(x)) ** 2'},
        torch={'forward': 'F.softsign(x)'},
    ),
    # ---- Exponential linear units ----
    Activation(
        name="elu", kind="elementwise",
        summary="Exponential linear unit.",
        formula="elu(x) = x if x > 0 else alpha * expm1(x)",
        gradient="1 where x > 0, else alpha * exp(x)",
        backward_from=("x", "y"),
        gradient_y='y + alpha',
        cost={'forward': 'transcendental', 'x': 'transcendental', 'y': 'cheap'},
        class_name='ELU',
        params=(Param("alpha", 1.0, "value approached as x -> -inf is -alpha"),),
        y_requires="alpha >= 0",
        notes=("Uses expm1, so elu(x) keeps full accuracy near 0; elu(-0) = -0. "
               + NAN_NOTE_EXP.format("g")),
        numpy={'forward': "np.where(x > 0, x, p['alpha'] * np.expm1(x))",
               'x': "np.where(x > 0, g, g * p['alpha'] * np.exp(x))",
               'y': "np.where(y > 0, g, g * (y + p['alpha']))"},
        torch={'forward': "F.elu(x, p['alpha'])",
               'x': "aten.elu_backward(g, p['alpha'], 1, 1, False, x)",
               'y': "aten.elu_backward(g, p['alpha'], 1, 1, True, y)"},
    ),
    Activation(
        name="selu", kind="elementwise",
        summary="Scaled exponential linear unit.",
        formula=("selu(x) = scale * (x if x > 0 else alpha * expm1(x)), alpha = "
                 "1.6732632423543772848..., scale = 1.0507009873554804934..."),
        gradient="scale where x > 0, else scale * alpha * exp(x)  (scale*alpha at x = 0, as PyTorch)",
        backward_from=("x",),
        cost='transcendental',
        class_name='SELU',
        notes=("The constants are PyTorch's (and TF's, JAX's), to full precision, rounded "
               "to the array's precision. selu(-0) = -0. " + NAN_NOTE_EXP.format("scale * g")
               + " " + INF_NOTE),
        numpy={'forward': 'SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x))',
               'x': 'g * SELU_SCALE * np.where(x > 0, 1, SELU_ALPHA * np.exp(x))'},
        torch={'forward': 'F.selu(x)',
               'x': 'aten.elu_backward(g, 1.6732632423543772, 1.0507009873554805, 1, False, x)'},
    ),
    Activation(
        name="celu", kind="elementwise",
        summary="Continuously differentiable exponential linear unit.",
        formula="celu(x) = max(0, x) + min(0, alpha * expm1(x / alpha))",
        gradient="1 where x > 0, else exp(x / alpha)",
        backward_from=("x",),
        cost='transcendental',
        class_name='CELU',
        params=(Param("alpha", 1.0, "scale of the negative part", nonzero=True),),
        notes=("alpha = 0 is a ValueError (PyTorch raises too). Uses expm1, so celu keeps "
               "full accuracy near 0; celu(-0) = -0. For alpha < 0 the derivative e^(x/alpha) "
               "grows without bound as x -> -inf: the backward there is g * inf = +-inf, and "
               "0 for g = 0 (PyTorch: nan). " + NAN_NOTE_EXP.format("g") + " " + INF_NOTE),
        numpy={'forward': "np.where(x > 0, x, p['alpha'] * np.expm1(x / p['alpha']))",
               'x': "np.where(x > 0, g, g * np.exp(x / p['alpha']))"},
        torch={'forward': "F.celu(x, p['alpha'])",
               'x': "aten.elu_backward(g, p['alpha'], 1, 1 / p['alpha'], False, x)"},
    ),
    # ---- Smooth rectifiers and self-gated units ----
    Activation(
        name="softplus", kind="elementwise",
        summary="Softplus, a smooth relu.",
        formula="softplus(x) = log1p(exp(beta * x)) / beta, or x where beta * x > threshold",
        gradient="sigmoid(beta * x), or 1 where beta * x > threshold",
        backward_from=("x",),
        cost='transcendental',
        params=(Param("beta", 1.0, "sharpness", nonzero=True),
                Param("threshold", 20.0, "above beta * x > threshold the result is x itself")),
        notes=("PyTorch's rule, threshold included (beta * x rounded in the array's "
               "precision, then compared). Evaluated as max(v, 0) + log1p(exp(-|v|)), "
               "v = beta * x: no overflow warning for large v, and e^v / beta with full "
               "relative accuracy for v << 0 (never log(1 + tiny) = 0). beta = 0 is a "
               "ValueError (PyTorch returns inf). TensorFlow's tf.math.softplus and "
               "jax.nn.softplus have no beta and no threshold (they compute the exact "
               "log1p(exp(x)) everywhere, which differs from x above the threshold by "
               "less than e^-20). " + EXT_NOTE),
        numpy={'forward': "np.where(x * p['beta'] > p['threshold'], x, np.logaddexp(0, x * "
                          "p['beta']) / p['beta'])",
               'x': "np.where(x * p['beta'] > p['threshold'], g, g * sigmoid(x * p['beta']))"},
        torch={'forward': "F.softplus(x, p['beta'], p['threshold'])",
               'x': "aten.softplus_backward(g, x, p['beta'], p['threshold'])"},
    ),
    Activation(
        name="squareplus", kind="elementwise",
        summary="Squareplus, an algebraic smooth relu (JAX's).",
        formula="squareplus(x) = (x + sqrt(x^2 + b)) / 2",
        gradient="(1 + x / sqrt(x^2 + b)) / 2",
        backward_from=("x",),
        cost='cheap',
        params=(Param("b", 4.0, "smoothness near 0", low=0.0),),
        notes=("As jax.nn.squareplus (PyTorch has none); b >= 0. Evaluated as "
               "b / (2 (sqrt(x^2 + b) - x)) for x < 0, which does not cancel, and with "
               "|x| scaled so that x^2 never overflows. " + EXT_NOTE),
        numpy={'forward': "0.5 * (x + np.sqrt(x * x + p['b']))",
               'x': "g * 0.5 * (1 + x / np.sqrt(x * x + p['b']))"},
    ),
    Activation(
        name="silu", kind="elementwise", aliases=("swish",),
        summary="Sigmoid-weighted linear unit (swish).",
        formula="silu(x) = x * sigmoid(x)",
        gradient="sigmoid(x) * (1 + x * sigmoid(-x))",
        backward_from=("x",),
        cost='transcendental',
        class_name='SiLU',
        notes=("silu(-inf) = -0 and its gradient 0 (PyTorch: nan, from -inf * 0); the tail "
               "for x << 0 keeps full relative accuracy down to the underflow (PyTorch's "
               "float32 sigmoid flushes to 0 below -88.7, so its silu(-89) is -0). "
               "silu(-0) = -0. " + EXT_NOTE),
        numpy={'forward': 'x / (1 + np.exp(-x))',
               'x': 'g * sigmoid(x) * (1 + x * (1 - sigmoid(x)))'},
        torch={'forward': 'F.silu(x)', 'x': 'aten.silu_backward(g, x)'},
    ),
    Activation(
        name="mish", kind="elementwise",
        summary="Mish: x * tanh(softplus(x)).",
        formula="mish(x) = x * tanh(log1p(exp(x)))",
        gradient="tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2),  sp = softplus(x)",
        backward_from=("x",),
        cost='transcendental',
        notes=("Evaluated as x * n / (n + 2) with n = e^x (e^x + 2) (no log, no tanh, no "
               "cancellation). mish(-inf) = -0 and mish(+inf) = +inf, gradients 0 and 1 "
               "(PyTorch: nan at -inf). mish(-0) = -0. " + EXT_NOTE),
        numpy={'forward': 'x * np.tanh(np.logaddexp(0, x))', 'x': 'g * mish_grad(x)'},
        torch={'forward': 'F.mish(x)', 'x': 'aten.mish_backward(g, x)'},
    ),
    Activation(
        name="gelu", kind="elementwise",
        summary="Gaussian error linear unit.",
        formula=("gelu(x) = x * Phi(x) = 0.5 * x * erfc(-x / sqrt(2))  (approximate='none');  "
                 "0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))  (approximate='tanh')"),
        gradient="Phi(x) + x * phi(x), phi(x) = exp(-x^2/2) / sqrt(2 pi)  (tanh form: its product rule)",
        backward_from=("x",),
        cost='transcendental',
        class_name='GELU',
        variants=("approximate", (("none", "gelu"), ("tanh", "gelu_tanh"))),
        # kernels with a joint value-and-derivative function KERNEL_fwd_d in
        # _activations.pxd (gelu_and_derivative shares e^(-x^2/2) between them)
        extra={"fwd_d": ("gelu",)},
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
               "once (the exact form has float kernels of its own). " + EXT_NOTE),
        numpy={'forward': '0.5 * x * (1 + erf(x / np.sqrt(2)))',
               'x': 'g * (0.5 * (1 + erf(x / np.sqrt(2))) + x * np.exp(-0.5 * x * x) / np.sqrt(2 * '
                    'np.pi))'},
        torch={'forward': 'F.gelu(x)', 'x': 'aten.gelu_backward(g, x)'},
        variant_exprs={'tanh': {'numpy': {'forward': '0.5 * x * (1 + np.tanh(GELU_C * (x + '
                                                     '0.044715 * x**3)))',
                                          'x': 'g * gelu_tanh_grad(x)'},
                                'torch': {'forward': "F.gelu(x, approximate='tanh')",
                                          'x': "aten.gelu_backward(g, x, approximate='tanh')"}}},
    ),
)
