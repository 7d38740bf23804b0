"""Hypothesis profiles for the whole suite: `deadline=None` once, here.

Property tests draw tiny arrays, but their run time per example varies with the machine's load
(CI has two shared cores), so a per-example deadline would only produce flaky failures. The
default profile keeps the suite within a few minutes; tests whose examples are expensive
(Hessians, many spellings) ask for fewer examples with their own `settings`.

    HYPOTHESIS_PROFILE=thorough python -m pytest tests/   # ten times the examples
"""

import os

from hypothesis import settings

settings.register_profile("default", deadline=None, max_examples=30)
settings.register_profile("thorough", deadline=None, max_examples=300)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
