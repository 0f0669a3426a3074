"""One error hierarchy (workbench.errors): every error class the package defines is a
WorkbenchError under the right branch and still the built-in it was before; unfitted models
raise NotFittedError; CLV input checks raise DataValidationError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import polars as pl
import pytest

import workbench
from workbench import errors
from workbench.errors import (
    ConfigError,
    ConvergenceError,
    DataValidationError,
    ModelError,
    NotFittedError,
    WorkbenchError,
)

#: Every error class of the package: (module, name) -> (branch of the hierarchy, the
#: built-in(s) it must stay a subclass of, so that ``except`` clauses written before keep
#: working).  Written out by hand from the README's table, not read from the code.
EXPECTED: dict[tuple[str, str], tuple[type[Exception], tuple[type[Exception], ...]]] = {
    ("workbench.errors", "WorkbenchError"): (WorkbenchError, (Exception,)),
    ("workbench.errors", "DataValidationError"): (WorkbenchError, (ValueError,)),
    ("workbench.errors", "ConfigError"): (WorkbenchError, (ValueError,)),
    ("workbench.errors", "ModelError"): (WorkbenchError, (RuntimeError,)),
    ("workbench.errors", "ConvergenceError"): (ModelError, (RuntimeError,)),
    ("workbench.errors", "NotFittedError"): (ModelError, (RuntimeError,)),
    ("workbench.errors", "UndefinedPredictionError"): (ModelError, (RuntimeError, ValueError)),
    ("workbench.models.clv._fit", "NotEnoughDataError"): (ModelError, (RuntimeError, ValueError)),
    ("workbench.app.cli", "CommandError"): (ConfigError, (ValueError,)),
    ("workbench.app.report", "ReportParameterError"): (ConfigError, (ValueError,)),
    ("workbench.app.run_summary", "GateError"): (ConfigError, (ValueError,)),
    ("workbench.app.serve", "ServeError"): (ConfigError, (ValueError,)),
    ("workbench.core.cache", "CacheError"): (WorkbenchError, (RuntimeError,)),
}

#: Errors that signal a bug of the package itself, not bad input or settings: they stay
#: outside the hierarchy (Python's own kind of error), like a TypeError for a wrong argument.
#: A malformed Arrow array reaching the compiled kernels is such a bug (the readers build the
#: arrays).
INTERNAL: dict[tuple[str, str], type[Exception]] = {
    ("workbench.native.kernels", "KernelInputError"): ValueError,
}

#: Modules that need optional extras or a running kernel to import.
SKIP_MODULES = ("workbench.__main__",)


def _package_error_classes() -> dict[tuple[str, str], type[BaseException]]:
    """Every exception class defined in a module of the package (imported where possible)."""
    found: dict[tuple[str, str], type[BaseException]] = {}
    for info in pkgutil.walk_packages(workbench.__path__, "workbench."):
        if info.name in SKIP_MODULES:
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional dependency (pyspark...) is missing
            continue
        for name, obj in vars(module).items():
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseException)
                and obj.__module__ == info.name
            ):
                found[(info.name, name)] = obj
    return found


def test_every_error_class_of_the_package_is_in_the_hierarchy() -> None:
    classes = _package_error_classes()
    # a new error class must be added to EXPECTED (and to the README's table)
    errors_only = {
        k: v for k, v in classes.items() if issubclass(v, Exception) and not issubclass(v, Warning)
    }
    known = set(EXPECTED) | set(INTERNAL)
    assert set(errors_only) <= known, f"not in EXPECTED: {sorted(set(errors_only) - known)}"
    assert set(EXPECTED) <= set(errors_only), f"gone: {sorted(set(EXPECTED) - set(errors_only))}"
    for key, builtin in INTERNAL.items():
        if key in classes:
            assert issubclass(classes[key], builtin), key
    for key, (branch, builtins) in EXPECTED.items():
        cls = classes[key]
        assert issubclass(cls, branch), f"{key} is not a {branch.__name__}"
        assert issubclass(cls, WorkbenchError), key
        for builtin in builtins:
            assert issubclass(cls, builtin), f"{key} is no longer a {builtin.__name__}"


def test_public_api_error_names_are_the_hierarchy() -> None:
    public = {n: getattr(workbench, n) for n in workbench.__all__}
    exported = {
        n
        for n, v in public.items()
        if inspect.isclass(v) and issubclass(v, Exception) and not issubclass(v, Warning)
    }
    assert exported == {
        "WorkbenchError",
        "DataValidationError",
        "ConfigError",
        "ModelError",
        "ConvergenceError",
        "NotFittedError",
    }
    for name in exported:
        assert public[name] is getattr(errors, name)


def test_convergence_error_moved_to_errors_and_kept_at_its_old_places() -> None:
    import workbench.models.clv
    import workbench.models.clv._fit

    assert workbench.models.clv._fit.ConvergenceError is ConvergenceError
    assert workbench.models.clv.ConvergenceError is ConvergenceError
    assert workbench.ConvergenceError is ConvergenceError
    err = ConvergenceError("BG/NBD", "ABNORMAL_TERMINATION", 40, 0.25, {"r": 0.5, "alpha": 2.0})
    assert str(err).startswith("BG/NBD: maximum-likelihood fit did not converge after 40 ")
    assert "r=0.5, alpha=2" in str(err)


def _models() -> list[object]:
    from workbench.models.clv import (
        BetaGeoModel,
        GammaGammaModel,
        ModifiedBetaGeoModel,
        NBDModel,
        ParetoNBDModel,
    )

    return [BetaGeoModel(), ModifiedBetaGeoModel(), ParetoNBDModel(), NBDModel(), GammaGammaModel()]


SUMMARY = pl.DataFrame(
    {
        "customer_id": ["a", "b"],
        "frequency": [1, 0],
        "recency": [3.0, 0.0],
        "T": [10.0, 8.0],
        "monetary_value": [20.0, 0.0],
    }
)


@pytest.mark.parametrize("model", _models(), ids=lambda m: type(m).__name__)
def test_unfitted_model_raises_not_fitted_error(model: object) -> None:
    name = type(model).__name__
    call = (
        (lambda: model.predict(SUMMARY))
        if name == "GammaGammaModel"
        # type: ignore[attr-defined]
        else (lambda: model.predict(SUMMARY, 4.0))
    )  # type: ignore[attr-defined]
    with pytest.raises(NotFittedError, match=f"this {name} is not fitted yet") as info:
        call()
    assert isinstance(info.value, ModelError) and isinstance(info.value, RuntimeError)
    assert info.value.model == name
    with pytest.raises(NotFittedError):
        model.confidence_intervals()  # type: ignore[attr-defined]


def test_diagnostics_of_an_unfitted_model_raise_not_fitted_error() -> None:
    from workbench.models.clv import BetaGeoModel
    from workbench.models.clv.diagnostics import heterogeneity_distributions

    with pytest.raises(NotFittedError, match="BetaGeoModel"):
        heterogeneity_distributions(BetaGeoModel())


def test_clv_input_checks_raise_data_validation_error() -> None:
    from workbench.models.clv import BetaGeoModel

    bad = SUMMARY.with_columns(pl.Series("frequency", [1, -1]))
    with pytest.raises(DataValidationError, match="negative values in 1 row") as info:
        BetaGeoModel().fit(bad)
    assert info.value.column == "frequency"
    assert "customer_id='b'" in str(info.value)
    with pytest.raises(DataValidationError, match=r"missing required column\(s\) \['T'\]") as miss:
        BetaGeoModel().fit(SUMMARY.drop("T"))
    assert isinstance(miss.value, ValueError)
    text = SUMMARY.with_columns(pl.col("recency").cast(pl.String))
    with pytest.raises(DataValidationError, match="must be numeric") as dtype:
        BetaGeoModel().fit(text)
    assert dtype.value.column == "recency"


def test_config_error_takes_a_file_key_and_problem_or_one_message() -> None:
    err = ConfigError("workbench.toml", "[project] as_of", "expected 'last' or a date")
    assert (err.source, err.where, err.problem) == (
        "workbench.toml",
        "[project] as_of",
        "expected 'last' or a date",
    )
    assert str(err) == "workbench.toml: [project] as_of: expected 'last' or a date"
    alone = ConfigError("--port must be between 0 and 65535, got 70000")
    assert str(alone) == "--port must be between 0 and 65535, got 70000"
    assert (alone.source, alone.where) == ("", "")


def test_parameter_draws_of_an_unfitted_model_raise_not_fitted_error() -> None:
    from workbench.models.clv import BetaGeoModel
    from workbench.models.clv.uncertainty import parameter_draws

    with pytest.raises(NotFittedError, match="BetaGeoModel"):
        parameter_draws(BetaGeoModel())
