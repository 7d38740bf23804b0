"""Benchmarks: what the chapter's explicit Jacobian costs, and what back-propagation buys.

Every route computes the loss and both gradients of chainrule's tanh basis-function ridge
regression on the same seeded float64 data, and must agree with the hand-fused `vjp-manual`
route before it is timed. `python -m benchmarks --quick` (seconds) or `python -m benchmarks`
(minutes); the outputs go into a folder under the system's temporary directory unless --out or
--update-committed says otherwise. Modules, each importing only those before it: `chapter_code`
(the chapter's code, verbatim), `results` (the result structure, JSON in and out), `routes`
(the one seeded problem and the routes), `harness` (timing, memory, agreement, the run),
`report` (markdown tables), `plots`, `__main__` (the command line); `depth_costs` and `depth`
(cost against depth and width, `python -m benchmarks.depth`) and `jacobian_three_ways` (a
separate demonstration) on the same helpers.
"""
