"""Piecewise activations: rectifiers (piecewise linear; hardswish piecewise quadratic) and shrinkage (tanhshrink, smooth, with them).

One record per activation (fastact/_registry/_record.py describes the fields);
the order of the records is the order of fa.activations(), the docs and the
benchmark.
"""
from ._record import Activation, Param, REQUIRED, NAN_NOTE, EXT_NOTE

RECORDS = (
    # ---- Rectifiers: piecewise linear (hardswish piecewise quadratic) ----
    Activation(
        name="relu", kind="elementwise",
        summary="Rectified linear unit.",
        formula="relu(x) = max(x, 0)",
        gradient="1 where x > 0, else 0 (0 at x = 0, as PyTorch)",
        backward_from=("x", "y"),
        gradient_y='1 where y > 0, else 0',
        cost='cheap',
        class_name='ReLU',
        notes="relu(-0) = -0 and relu(nan) = nan, as PyTorch. " + NAN_NOTE,
        numpy={'forward': 'np.maximum(x, 0)', 'x': 'g * (x > 0)', 'y': 'g * (y > 0)'},
        torch={'forward': 'torch.relu(x)',
               'x': 'aten.threshold_backward(g, x, 0)',
               'y': 'aten.threshold_backward(g, y, 0)'},
    ),
    Activation(
        name="relu6", kind="elementwise",
        summary="ReLU capped at 6.",
        formula="relu6(x) = min(max(x, 0), 6)",
        gradient="1 where 0 < x < 6, else 0 (0 at both kinks, as PyTorch)",
        backward_from=("x",),
        cost='cheap',
        class_name='ReLU6',
        notes="relu6(-0) = -0 and relu6(-inf) = 0, as PyTorch. " + NAN_NOTE,
        numpy={'forward': 'np.clip(x, 0, 6)', 'x': 'g * ((x > 0) & (x < 6))'},
        torch={'forward': 'F.relu6(x)', 'x': 'aten.hardtanh_backward(g, x, 0.0, 6.0)'},
        numpy_parity={'forward': 'np.clip'},
    ),
    Activation(
        name="leaky_relu", kind="elementwise",
        summary="Leaky rectified linear unit.",
        formula="leaky_relu(x) = x if x > 0 else negative_slope * x",
        gradient="1 where x > 0, else negative_slope (negative_slope at x = 0, as PyTorch)",
        backward_from=("x",),
        cost='cheap',
        class_name='LeakyReLU',
        params=(Param("negative_slope", 0.01, "slope for x <= 0"),),
        notes=("Default slope 0.01 is PyTorch's; TensorFlow's tf.nn.leaky_relu uses 0.2 "
               "and Keras' LeakyReLU layer 0.3. " + NAN_NOTE),
        numpy={'forward': "np.where(x > 0, x, x * p['negative_slope'])",
               'x': "np.where(x > 0, g, g * p['negative_slope'])"},
        torch={'forward': "F.leaky_relu(x, p['negative_slope'])",
               'x': "aten.leaky_relu_backward(g, x, p['negative_slope'], False)"},
    ),
    Activation(
        name="hardtanh", kind="elementwise",
        summary="Clip to [min_val, max_val].",
        formula="hardtanh(x) = min(max(x, min_val), max_val)",
        gradient="1 where min_val < x < max_val, else 0 (0 at both kinks, as PyTorch)",
        backward_from=("x",),
        cost='cheap',
        class_name='Hardtanh',
        params=(Param("min_val", -1.0, "lower end of the linear region"),
                Param("max_val", 1.0, "upper end of the linear region")),
        constraints=(("min_val <= max_val", "min_val", "must be <= max_val"),),
        notes="hardtanh(-0) = -0, as PyTorch. " + NAN_NOTE,
        numpy={'forward': "np.clip(x, p['min_val'], p['max_val'])",
               'x': "g * ((x > p['min_val']) & (x < p['max_val']))"},
        torch={'forward': "F.hardtanh(x, p['min_val'], p['max_val'])",
               'x': "aten.hardtanh_backward(g, x, p['min_val'], p['max_val'])"},
        numpy_parity={'forward': 'np.clip'},
    ),
    Activation(
        name="threshold", kind="elementwise",
        summary="Replace values at or below a threshold.",
        formula="threshold(x) = x if x > threshold else value",
        gradient="1 where x > threshold, else 0",
        backward_from=("x",),
        cost='cheap',
        params=(Param("threshold", REQUIRED, "values at or below it are replaced", example=1.0),
                Param("value", REQUIRED, "the replacement", example=0.0)),
        notes=("Both parameters are required, as in PyTorch (the backward takes them "
               "too; it does not use value). " + NAN_NOTE),
        numpy={'forward': "np.where(x > p['threshold'], x, p['value'])",
               'x': "g * (x > p['threshold'])"},
        torch={'forward': "F.threshold(x, p['threshold'], p['value'])",
               'x': "aten.threshold_backward(g, x, p['threshold'])"},
    ),
    Activation(
        name="hardsigmoid", kind="elementwise",
        summary="Piecewise-linear sigmoid.",
        formula="hardsigmoid(x) = relu6(x + 3) / 6",
        gradient="1/6 where -3 < x < 3, else 0 (0 at both kinks, as PyTorch)",
        backward_from=("x",),
        cost='cheap',
        class_name='Hardsigmoid',
        notes=("Forward computed as min(max(x + 3, 0), 6) / 6, bit for bit as PyTorch. "
               "The backward multiplies by 1/6 rounded to the array's precision; "
               "PyTorch's float64 backward uses the float32-rounded 1/6 "
               "(0.16666667163...), a relative difference of 2e-8. " + NAN_NOTE),
        numpy={'forward': 'np.clip(x + 3, 0, 6) / 6', 'x': 'g * ((x > -3) & (x < 3)) / 6'},
        torch={'forward': 'F.hardsigmoid(x)', 'x': 'aten.hardsigmoid_backward(g, x)'},
    ),
    Activation(
        name="hardswish", kind="elementwise", aliases=("hard_silu",),
        summary="Piecewise-quadratic swish (MobileNetV3).",
        formula="hardswish(x) = x * relu6(x + 3) / 6",
        gradient="0 where x <= -3, (2x + 3)/6 where -3 < x < 3, 1 where x >= 3",
        backward_from=("x",),
        cost='cheap',
        class_name='Hardswish',
        notes=("Gradient 0 at x = -3 and 1 at x = +3, PyTorch's current rule. "
               "The gradient is computed as (2x + 3)/6, which is exact near -1.5 where "
               "PyTorch's x/3 + 0.5 cancels (a few ULP difference there). "
               "hardswish(-inf) = -0 and hardswish(+inf) = +inf (PyTorch: nan at -inf); "
               "large finite x never overflow (x is returned for x >= 3). " + NAN_NOTE),
        numpy={'forward': 'x * np.clip(x + 3, 0, 6) / 6',
               'x': 'np.where(x <= -3, 0, np.where(x < 3, g * (2 * x + 3) / 6, g))'},
        torch={'forward': 'F.hardswish(x)', 'x': 'aten.hardswish_backward(g, x)'},
    ),
    # ---- Shrinkage ----
    Activation(
        name="softshrink", kind="elementwise",
        summary="Soft shrinkage (soft thresholding).",
        formula="softshrink(x) = x - lambd if x > lambd; x + lambd if x < -lambd; else 0",
        gradient="1 where |x| > lambd, else 0",
        backward_from=("x",),
        cost='cheap',
        class_name='Softshrink',
        params=(Param("lambd", 0.5, "half-width of the dead zone", low=0.0),),
        notes=("The dead zone gives +0, as PyTorch's float64 kernel; PyTorch's float32 "
               "kernel gives -0 for negative x there (x * 0). " + NAN_NOTE),
        numpy={'forward': "np.where(np.abs(x) > p['lambd'], x - np.sign(x) * p['lambd'], 0)",
               'x': "g * (np.abs(x) > p['lambd'])"},
        torch={'forward': "F.softshrink(x, p['lambd'])",
               'x': "aten.softshrink_backward(g, x, p['lambd'])"},
    ),
    Activation(
        name="hardshrink", kind="elementwise",
        summary="Hard shrinkage.",
        formula="hardshrink(x) = x if |x| > lambd else 0",
        gradient="1 where |x| > lambd, else 0",
        backward_from=("x",),
        cost='cheap',
        class_name='Hardshrink',
        params=(Param("lambd", 0.5, "half-width of the dead zone", low=0.0),),
        notes="The dead zone gives +0, as PyTorch. " + NAN_NOTE,
        numpy={'forward': "np.where(np.abs(x) > p['lambd'], x, 0)",
               'x': "g * (np.abs(x) > p['lambd'])"},
        torch={'forward': "F.hardshrink(x, p['lambd'])",
               'x': "aten.hardshrink_backward(g, x, p['lambd'])"},
    ),
    Activation(
        name="tanhshrink", kind="elementwise",
        summary="x minus its hyperbolic tangent.",
        formula="tanhshrink(x) = x - tanh(x)",
        gradient="tanh(x)^2",
        backward_from=("x",),
        cost='transcendental',
        notes=("x - tanh(x) cancels for small |x| (about x^3 / 3): a minimax series is "
               "used there, so the result keeps full relative accuracy. tanhshrink(-0) "
               "= +0, as PyTorch; tanhshrink(+-inf) = +-inf with gradient 1. " + EXT_NOTE),
        numpy={'forward': 'x - np.tanh(x)', 'x': 'g * np.tanh(x) ** 2'},
        torch={'forward': 'F.tanhshrink(x)'},
    ),
)
