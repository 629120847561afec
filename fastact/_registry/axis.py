"""Activations along an axis, and those with weights or randomness.  (The fields:
_record.py.)"""
from ._record import Activation, Param, REQUIRED, NAN_NOTE

GATED_NOTE = ("The backward takes grad (the shape of the output) and x, and returns dL/dx in "
              "x's shape, both halves written in one pass: [gate_backward(g * b, a), "
              "g * gate(a)], as PyTorch's autograd of the composite gate(a) * b (so nan "
              "propagates and inf * 0 is nan as there). An odd axis length is a ValueError. "
              "fastact.derivative is not defined for it (the output is shorter than x): "
              "fastact.plot draws NAME([x, x]) and its total derivative.")

RECORDS = (
    # ---- Along an axis ----
    # kind "softmax": the backward needs only y.  kind "axis_x" (glu, maxout): the
    # output is shorter along the axis: extra["out_len"] is its length as an
    # expression over k (the axis length of x) and the params, extra["k_requires"]
    # (condition, parameter to name, why) the check on k.
    Activation(
        name="softmax", kind="softmax",
        gufunc=("(n)->(n)", "(n),(n)->(n)"),
        summary="Softmax along an axis.",
        formula="softmax(x)_i = exp(x_i - max(x)) / sum_j exp(x_j - max(x))",
        gradient="y * (g - sum(g * y))  along the axis",
        backward_from=("y",),
        cost={'forward': 'transcendental', 'y': 'cheap'},
        notes=("The row maximum is subtracted first, so large inputs do not overflow; "
               "e^(x - max) is corrected for the rounding of x - max, so that any finite row, "
               "whatever its spread (up to [-finfo.max, finfo.max]), is within a few ULP. "
               "A row containing nan, +inf, or only -inf gives nan, as PyTorch."),
        numpy={'forward': "softmax(x, p.get('axis', -1))",
               'y': "y * (g - (g * y).sum(axis=p.get('axis', -1), keepdims=True))"},
        torch={'forward': "torch.softmax(x, p.get('axis', -1))",
               'y': "torch._softmax_backward_data(g, y, p.get('axis', -1), y.dtype)"},
    ),
    Activation(
        name="log_softmax", kind="softmax",
        gufunc=("(n)->(n)", "(n),(n)->(n)"),
        summary="Log-softmax along an axis.",
        formula="log_softmax(x)_i = x_i - max(x) - log(sum_j exp(x_j - max(x)))",
        gradient="g - exp(y) * sum(g)  along the axis",
        backward_from=("y",),
        cost='transcendental',
        class_name='LogSoftmax',
        notes=("The sum is compensated and its log taken as log1p(sum - 1) (the maximum "
               "term is exactly 1), so a row dominated by one entry keeps its tiny "
               "log-probability; within a few ULP of the exact value. A row containing "
               "nan, +inf, or only -inf gives nan, as PyTorch; a -inf entry gives -inf, and so "
               "does an entry whose x - max is below -finfo.max (its exact value is not finite "
               "either; PyTorch gives -inf there too)."),
        numpy={'forward': "np.log(softmax(x, p.get('axis', -1)))",
               'y': "g - np.exp(y) * g.sum(axis=p.get('axis', -1), keepdims=True)"},
        torch={'forward': "F.log_softmax(x, p.get('axis', -1))",
               'y': "torch._log_softmax_backward_data(g, y, p.get('axis', -1), y.dtype)"},
    ),
    Activation(
        name="softmin", kind="softmax",
        gufunc=("(n)->(n)", "(n),(n)->(n)"),
        summary="Softmin along an axis: softmax(-x).",
        formula="softmin(x)_i = exp(-x_i + min(x)) / sum_j exp(-x_j + min(x))",
        gradient="-(y * (g - sum(g * y)))  along the axis",
        backward_from=("y",),
        cost={'forward': 'transcendental', 'y': 'cheap'},
        notes="softmax of -x (negation is exact), as torch.nn.functional.softmin.",
        numpy={'forward': "softmax(-x, p.get('axis', -1))",
               'y': "-y * (g - (g * y).sum(axis=p.get('axis', -1), keepdims=True))"},
        torch={'forward': "F.softmin(x, p.get('axis', -1))"},
        torch_notes={'forward': 'F.softmin: torch negates x then runs softmax (composite)'},
    ),
    Activation(
        name="glu", kind="axis_x",
        gufunc=("(n)->(m)", "(m),(n)->(n)"),
        summary="Gated linear unit along an axis.",
        formula="glu(x) = a * sigmoid(b), with a, b the first and second halves of x along axis",
        gradient="d/da = sigmoid(b), d/db = a * sigmoid(b) * sigmoid(-b)",
        backward_from=("x",),
        cost='transcendental',
        class_name='GLU',
        extra={"out_len": "k // 2", "k_requires": ("k % 2 == 0", "axis", "must have an even length")},
        notes=("As torch.nn.functional.glu (default axis -1). The backward takes grad "
               "(the shape of the output) and x, and returns dL/dx in x's shape, the "
               "concatenation [g sigmoid(b), g a sigmoid(b) sigmoid(-b)]; sigmoid(-b) is "
               "evaluated directly, never as 1 - sigmoid(b). fastact.derivative is not "
               "defined for it (the output is shorter than x): fastact.plot draws "
               "glu([x, x]) = x sigmoid(x) and its total derivative."),
        numpy={'forward': "glu(x, p.get('axis', -1))", 'x': "glu_grad(x, g, p.get('axis', -1))"},
        torch={'forward': "F.glu(x, p.get('axis', -1))",
               'x': "aten.glu_backward(g, x, p.get('axis', -1))"},
    ),
    # The gated units (gate first, as the LLaMA MLP and vLLM's silu_and_mul):
    # extra["gate"] is the elementwise record applied to the first half; the
    # kernels (_kernels/_gated.pxi) reuse its per-element functions.
    Activation(
        name="swiglu", kind="axis_x",
        summary="SwiGLU: silu of the first half times the second half, along an axis.",
        formula="swiglu(x) = silu(a) * b, with a, b the first and second halves of x along axis",
        gradient="d/da = g * b * silu'(a), d/db = g * silu(a)",
        backward_from=("x",),
        cost='transcendental',
        class_name='SwiGLU',
        extra={"out_len": "k // 2", "k_requires": ("k % 2 == 0", "axis", "must have an even length"),
               "gate": "silu"},
        notes=("Shazeer (2020), the feed-forward block of LLaMA, PaLM and Mistral. " + GATED_NOTE.replace("NAME", "swiglu")),
        numpy={'forward': "gated(x, 'swiglu', p)", 'x': "gated_grad(x, g, 'swiglu', p)"},
        torch={'forward': "gated_torch(x, 'swiglu', p)",
               'x': "gated_backward_torch(g, x, 'swiglu', p)"},
        torch_notes={'forward': "F.silu(a) * b on the halves (torch has no fused kernel)", 'x': "torch's autograd of that composite"},
    ),
    Activation(
        name="geglu", kind="axis_x",
        summary="GeGLU: gelu of the first half times the second half, along an axis.",
        formula="geglu(x) = gelu(a) * b, with a, b the first and second halves of x along axis",
        gradient="d/da = g * b * gelu'(a), d/db = g * gelu(a)",
        backward_from=("x",),
        cost='transcendental',
        class_name='GeGLU',
        variants=("approximate", (("none", "geglu"), ("tanh", "geglu_tanh"))),
        extra={"out_len": "k // 2", "k_requires": ("k % 2 == 0", "axis", "must have an even length"),
               "gate": "gelu"},
        notes=("Shazeer (2020); approximate as gelu's (\"none\": erf, \"tanh\"). " + GATED_NOTE.replace("NAME", "geglu")),
        numpy={'forward': "gated(x, 'geglu', p)", 'x': "gated_grad(x, g, 'geglu', p)"},
        torch={'forward': "gated_torch(x, 'geglu', p)",
               'x': "gated_backward_torch(g, x, 'geglu', p)"},
        torch_notes={'forward': "F.gelu(a) * b on the halves (torch has no fused kernel)", 'x': "torch's autograd of that composite"},
        variant_exprs={'tanh': {'numpy': {'forward': "gated(x, 'geglu', dict(p, approximate='tanh'))", 'x': "gated_grad(x, g, 'geglu', dict(p, approximate='tanh'))"}, 'torch': {'forward': "gated_torch(x, 'geglu', dict(p, approximate='tanh'))", 'x': "gated_backward_torch(g, x, 'geglu', dict(p, approximate='tanh'))"}, 'torch_notes': {'forward': "F.gelu(a, approximate='tanh') * b on the halves"}}},
    ),
    Activation(
        name="reglu", kind="axis_x",
        summary="ReGLU: relu of the first half times the second half, along an axis.",
        formula="reglu(x) = relu(a) * b, with a, b the first and second halves of x along axis",
        gradient="d/da = g * b * relu'(a), d/db = g * relu(a)",
        backward_from=("x",),
        cost='cheap',
        class_name='ReGLU',
        extra={"out_len": "k // 2", "k_requires": ("k % 2 == 0", "axis", "must have an even length"),
               "gate": "relu"},
        notes=("Shazeer (2020). " + GATED_NOTE.replace("NAME", "reglu")),
        numpy={'forward': "gated(x, 'reglu', p)", 'x': "gated_grad(x, g, 'reglu', p)"},
        torch={'forward': "gated_torch(x, 'reglu', p)",
               'x': "gated_backward_torch(g, x, 'reglu', p)"},
        torch_notes={'forward': "F.relu(a) * b on the halves (torch has no fused kernel)", 'x': "torch's autograd of that composite"},
    ),
    Activation(
        name="maxout", kind="axis_x",
        gufunc=("(m,p)->(m)", "(m),(m,p)->(m,p)"),
        summary="Maxout: the maximum over groups of `pieces` consecutive entries along an axis.",
        formula="maxout(x)_q = max(x_{q*pieces}, ..., x_{q*pieces + pieces - 1})",
        gradient="g routed to the arg-max of each group (the first one on ties)",
        backward_from=("x",),
        cost='cheap',
        params=(Param("pieces", REQUIRED, "entries per group", low=1.0, integer=True, example=2),),
        extra={"out_len": "k // pieces",
               "k_requires": ("k % pieces == 0", "pieces", "must divide the axis length")},
        notes=("Goodfellow et al. (2013). PyTorch has no maxout; fastact groups consecutive "
               "entries (x.reshape(..., k // pieces, pieces, ...).max(axis)). A nan in a group "
               "gives nan and receives the gradient (the first nan), as torch.max. "
               "fastact.derivative is not defined for it (the output is shorter than x): "
               "fastact.plot draws maxout([x, 0], pieces=2) = max(x, 0)."),
        numpy={'forward': "maxout(x, p['pieces'], p.get('axis', -1))",
               'x': "maxout_grad(x, g, p['pieces'], p.get('axis', -1))"},
    ),
    # ---- With weights or randomness (kinds of their own) ----
    Activation(
        name="prelu", kind="prelu",
        summary="Parametric ReLU: a learned slope per channel.",
        formula="prelu(x, weight) = x if x > 0 else weight[c] * x, c the channel (axis 1)",
        gradient=("grad_x = g where x > 0, else weight[c] * g; grad_weight[c] = sum over all "
                  "but the channel axis of (x * g where x <= 0)"),
        backward_from=("x",),
        cost='cheap',
        class_name='PReLU',
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
               "unit grad (weight 0.25 if not given). " + NAN_NOTE),
        numpy={'forward': "np.where(x > 0, x, channel(p['weight'], x) * x)",
               'x': "prelu_grad(x, g, p['weight'])"},
        torch={'forward': "F.prelu(x, p['weight'])", 'x': "prelu_backward(g, x, p['weight'])"},
        torch_notes={'x': "_prelu_kernel_backward then a sum of its grad_weight (x's shape) over "
                          "all but the channel axis, as torch's autograd"},
    ),
    Activation(
        name="rrelu", kind="rrelu",
        summary="Randomized leaky ReLU.",
        formula=("rrelu(x) = x if x > 0 else a * x; a = (lower + upper) / 2 in eval mode, "
                 "a ~ U(lower, upper) per element when training"),
        gradient="g where x > 0, else a * g (the same a as the forward)",
        backward_from=("x",),
        cost='cheap',
        class_name='RReLU',
        params=(Param("lower", 1.0 / 8.0, "lower bound of the random slope"),
                Param("upper", 1.0 / 3.0, "upper bound of the random slope")),
        constraints=(("lower <= upper", "lower", "must be <= upper"),),
        notes=("Defaults as torch.nn.functional.rrelu (eval mode: leaky_relu with slope "
               "(lower + upper)/2, bit for bit as PyTorch). training=True draws the slopes "
               "from rng= (a numpy.random.Generator, or an int seed for "
               "numpy.random.default_rng); without rng it is a ValueError: fastact never "
               "draws from a global RNG. return_noise=True returns (y, noise), noise the "
               "per-element slope (1 where x > 0) in x's dtype (float32 for float16 and "
               "bfloat16 x: the slopes y was computed with); pass it to "
               "rrelu_backward(grad, x, noise=noise) so that the backward uses the same "
               "slopes: given noise, the backward is grad * noise, as PyTorch's "
               "rrelu_with_noise_backward (x gives only the shape); the forward's noise is "
               "nan where x is nan, so that this gradient is nan there. The draws cannot equal PyTorch's (a different generator). " + NAN_NOTE),
        numpy={'forward': "np.where(x > 0, x, x * ((p['lower'] + p['upper']) / 2))",
               'x': "np.where(x > 0, g, g * ((p['lower'] + p['upper']) / 2))"},
        torch={'forward': "F.rrelu(x, p['lower'], p['upper'], training=False)",
               'x': "aten.leaky_relu_backward(g, x, (p['lower'] + p['upper']) / 2, False)"},
        variant_exprs={'train': {'numpy': {'forward': 'rrelu_train(x, p)', 'x': "g * p['noise']"},
                                 'torch': {'forward': "F.rrelu(x, p['lower'], p['upper'], "
                                                      'training=True)',
                                           'x': "aten.rrelu_with_noise_backward(g, x, p['noise'], "
                                                "p['lower'], p['upper'], True, False)"},
                                 'torch_notes': {'forward': "F.rrelu draws from torch's generator "
                                                            '(other numbers)'}}},
    ),
)
