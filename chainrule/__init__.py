"""chainrule: the chapter's tanh basis-function ridge regression, differentiated two ways.

- ``engine="explicit"``: the chapter's multivariate chain rule with the full N x (D+1) x K
  Jacobian, recomputing the forward pass in each helper, exactly as the text does;
- ``engine="backprop"``: the same forward code recorded on the ``autograd_lite`` tape and
  differentiated by one backward pass.

``python -m chainrule`` runs the chapter's Potsdam experiment with both and compares them.
"""

from .model import (
    DEFAULT_MAX_JACOBIAN_BYTES,
    ENGINES,
    BasisFunctionRidgeRegressionGD,
    JacobianTooLarge,
    TanhBasis,
    basis_Z,
    jacobian_nbytes,
    ridge_loss,
    tanh_basis,
)
from .weather import (
    WeatherData,
    WeatherDataError,
    WeatherDataUnavailable,
    find_weather_file,
    load_weather_data,
)

__all__ = [
    "DEFAULT_MAX_JACOBIAN_BYTES", "ENGINES", "BasisFunctionRidgeRegressionGD", "JacobianTooLarge",
    "TanhBasis", "basis_Z", "jacobian_nbytes", "ridge_loss", "tanh_basis",
    "WeatherData", "WeatherDataError", "WeatherDataUnavailable", "find_weather_file",
    "load_weather_data",
]
