"""Hypothesis profiles for the whole suite: `deadline=None` once, here.

Property tests draw tiny arrays, but their run time per example varies with the machine's load
(CI has two shared cores), so a per-example deadline would only produce flaky failures. The
default profile keeps the suite within a few minutes; tests whose examples are expensive
(Hessians, many spellings) ask for fewer examples with their own `settings`.

    HYPOTHESIS_PROFILE=thorough python -m pytest tests/   # ten times the examples
"""

import os

import pytest
from hypothesis import settings

settings.register_profile("default", deadline=None, max_examples=30)
settings.register_profile("thorough", deadline=None, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def offline(monkeypatch, tmp_path_factory):
    """No network, no $CHAINRULE_DATA, an empty private cache folder (not yet created, named by
    $CHAINRULE_CACHE): the station data come from the test (chainrule's loader tests)."""
    from chainrule import weather  # only the tests that ask for this fixture import chainrule

    def no_network(*args, **kwargs):
        raise AssertionError("a test tried to use the network")

    cache = tmp_path_factory.mktemp("cache") / "chainrule"
    monkeypatch.setattr(weather, "_urlopen", no_network)
    monkeypatch.setenv(weather.CACHE_ENV_VAR, str(cache))
    monkeypatch.delenv(weather.ENV_VAR, raising=False)
    return cache
