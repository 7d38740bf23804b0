"""Hypothesis profiles for the whole suite: `deadline=None` once, here.

Property tests draw tiny arrays, but their run time per example varies with the machine's load
(CI has two shared cores), so a per-example deadline would only produce flaky failures. The
default profile keeps the suite within a few minutes; tests whose examples are expensive
(Hessians, many spellings) ask for fewer examples with their own `settings`.

    HYPOTHESIS_PROFILE=thorough python -m pytest tests/   # ten times the examples
"""

import itertools
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


def pytest_collection_modifyitems(config, items):
    """Under xdist, start the tests marked `long(seconds)` first and on different workers, so
    that the 1,000,000-step chapter fits and the site build (about 5 minutes together) run
    side by side.

    xdist's worksteal scheduler first gives worker i the i-th of n consecutive slices of the
    collection (slice sizes as computed below) and only then balances by stealing from the
    tails; so each long test, longest first, goes to the head of the slice with the least long
    work so far. Every worker computes the same order, as xdist requires."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    long_tests = sorted((item for item in items if item.get_closest_marker("long")),
                        key=lambda item: -item.get_closest_marker("long").args[0])
    if workers < 2 or not long_tests:
        return
    heads, work = [[] for _ in range(workers)], [0.0] * workers
    for item in long_tests:
        lightest = work.index(min(work))
        heads[lightest].append(item)
        work[lightest] += item.get_closest_marker("long").args[0]
    others = iter([item for item in items if not item.get_closest_marker("long")])
    ordered, remaining = [], len(items)
    for worker, head in enumerate(heads):
        size = remaining // (workers - worker)
        ordered += head + list(itertools.islice(others, max(0, size - len(head))))
        remaining -= size
    items[:] = ordered + list(others)
