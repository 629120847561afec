"""fastact: neural-network activation functions, forward and backward, as
SIMD Cython kernels for NumPy float32 and float64 arrays, with PyTorch's
semantics.

    >>> import fastact as fa
    >>> y = fa.sigmoid(x)                  # new array, same shape and dtype
    >>> fa.sigmoid(x, out=x)               # in place
    >>> gx = fa.sigmoid_backward(g, x)     # dL/dx from the forward input
    >>> gx = fa.sigmoid_backward(g, y=y)   # ... or from the output

``fa.activations()`` lists every function with its parameters;
``fa.show_config()`` tells which CPU build and how many threads are used.
"""
from fastact._version import __version__
from fastact import _dispatch, _threads
from fastact import _api
from fastact._registry import ACTIVATIONS as _ACTIVATIONS
from fastact._threads import set_num_threads, get_num_threads, threads
from fastact._info import activations, derivative, show_config
from fastact._gradcheck import gradcheck
from fastact._api import apply_derivative

_dispatch.activate(_dispatch.choose())
from fastact import ufuncs  # noqa: E402  (the ufuncs follow the active build)
set_num_threads(_threads.initial_threads())
_threads._register_with_threadpoolctl()

from fastact._public import *  # noqa: E402,F401,F403  (generated from the registry)
from fastact import _public  # noqa: E402

__all__ = _public.__all__ + [
    "activations", "apply_derivative", "derivative", "gradcheck", "show_config", "set_num_threads", "get_num_threads",
    "threads", "ufuncs", "__version__"]
