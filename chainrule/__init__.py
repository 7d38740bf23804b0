"""chainrule: the chapter's tanh basis-function ridge regression, differentiated three ways.

- `route="explicit"`: the chapter's multivariate chain rule with the full N x (D+1) x K
  Jacobian, recomputing the forward pass in each helper, exactly as the text does;
- `route="backprop"`: the same forward code recorded on the `autograd_lite` tape and
  differentiated by one backward pass;
- `route="compiled"`: that tape, traced once and run as a generated numpy program.

`python -m chainrule` runs the chapter's Potsdam experiment with the routes and compares them.
The modules, each importing only the ones before it: chapter (the numbers) -> ghcn (reading
station files) -> weather (finding and fetching them) -> descent (gradient descent by a route)
-> model -> experiment -> newton, deep, chapter_tape -> __main__.
"""

from .descent import ROUTES
from .model import (
    DEFAULT_MAX_JACOBIAN_BYTES,
    BasisFunctionRidgeRegressionGD,
    JacobianTooLarge,
    TanhBasis,
    jacobian_nbytes,
    ridge_loss,
    ridge_regression_loss,
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
    "DEFAULT_MAX_JACOBIAN_BYTES", "ROUTES", "BasisFunctionRidgeRegressionGD", "JacobianTooLarge",
    "TanhBasis", "jacobian_nbytes", "ridge_loss", "ridge_regression_loss", "tanh_basis",
    "WeatherData", "WeatherDataError", "WeatherDataUnavailable", "find_weather_file",
    "load_weather_data",
]
