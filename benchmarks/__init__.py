"""Benchmarks: what caching (back-propagation) buys over the chapter's explicit-Jacobian route.

Every route computes the loss and both gradients (grad_W, grad_w) of the tanh basis-function
ridge regression of ``chainrule`` on the same seeded float64 data; the harness checks that they
agree with the hand-fused ``vjp-manual`` route, then measures time per call, forward-alone time,
peak extra memory and the cost of one training iteration at the chapter's size.

Run ``python -m benchmarks --quick`` (seconds) or ``python -m benchmarks`` (a few minutes).

Modules: ``problem`` (configurations and seeded data), ``routes`` (the routes), ``harness``
(timing, memory, agreement, the run), ``report`` (markdown and targets), ``plots`` (PNG
figures), ``__main__`` (the command line). This file imports nothing heavy on purpose: the command
line may limit BLAS threads before numpy is first imported.
"""
