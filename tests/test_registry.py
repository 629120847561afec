"""The registry's own rules: every record is checked, behaviour comes from explicit
fields (cost, gradient_y, y_allowed), and kernel ids are derived, never written."""
import dataclasses

import pytest

import fastact as fa
from fastact import _dispatch
from fastact._registry import ACTIVATIONS, BY_NAME, KERNELS, check_record


def test_every_record_is_checked_and_named_once():
    for rec in ACTIVATIONS:
        check_record(rec)
    assert len({a.name for a in ACTIVATIONS}) == len(ACTIVATIONS)
    assert list(fa.activations()) == [a.name for a in ACTIVATIONS]


@pytest.mark.parametrize("change, why", [
    (dict(cost="expensive"), "cost"),
    (dict(cost={"forward": "cheap"}), "no entry"),
    (dict(gradient_y=None), "gradient_y"),
    (dict(numpy={"backward": "g"}), "keys"),
])
def test_check_record_refuses(change, why):
    bad = dataclasses.replace(BY_NAME["sigmoid"], **change)
    with pytest.raises(AssertionError, match=why):
        check_record(bad)


def test_required_parameters_first_in_every_record():
    bad = dataclasses.replace(BY_NAME["threshold"], params=BY_NAME["hardtanh"].params
                              + BY_NAME["threshold"].params)
    check_record(BY_NAME["threshold"])
    with pytest.raises(AssertionError, match="required parameters must come first"):
        check_record(bad)


def test_cost_and_y_rule_from_fields():
    sig, elu, relu6 = BY_NAME["sigmoid"], BY_NAME["elu"], BY_NAME["relu6"]
    assert sig.transcendental("forward") and sig.transcendental("x") and not sig.transcendental("y")
    assert not any(relu6.transcendental(d) for d in ("forward", "x", "y"))
    assert sig.y_condition() == "True" and relu6.y_condition() == "False"
    assert elu.y_condition() == "(alpha >= 0)"
    assert elu.y_allowed() and elu.y_allowed({"alpha": 0.5}) and not elu.y_allowed({"alpha": -1.0})
    assert not relu6.y_allowed() and BY_NAME["softmax"].y_allowed()


def test_kernel_ids_are_derived_and_a_stale_build_is_refused():
    module = _dispatch.active_module()
    assert module.KERNEL_IDS == {k: i for i, (k, _) in enumerate(KERNELS)}

    class Stale:
        KERNEL_IDS = {k: len(module.KERNEL_IDS) - 1 - i for k, i in module.KERNEL_IDS.items()}
    with pytest.raises(RuntimeError, match="rebuild"):
        _dispatch._check_kernel_ids("base", Stale)
