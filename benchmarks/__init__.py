"""Benchmarks: what the chapter's explicit Jacobian costs, and what back-propagation buys.

Every route computes the loss and both gradients of chainrule's tanh basis-function ridge
regression on the same seeded float64 data, and must agree with the hand-fused `vjp-manual`
route before it is timed. ``python -m benchmarks --quick`` (seconds) or ``python -m benchmarks``
(minutes). Modules, each importing only those before it: ``chapter_code`` (the chapter's code,
verbatim), ``results`` (the result structure), ``routes``, ``harness`` (timing, memory,
agreement, the run), ``report`` (markdown), ``plots``, ``__main__`` (the command line);
``jacobian_three_ways`` (a separate demonstration).
"""
