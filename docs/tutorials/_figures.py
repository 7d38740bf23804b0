"""What every figure of the tutorials goes through: `finish(fig, "Figure 1.2")`.

A figure a student is asked to look at must be readable on its own. `finish` checks, when the
notebook runs (so the documentation build, which executes every tutorial, fails on a bad one):

- the figure's name ("Figure 1.2") starts its title (the figure's suptitle, or its one axes'
  title), and every axes with data has a title when there are several;
- every axes has both axis labels, each ending in its unit in parentheses, "(°C)",
  "(µs per call)", "(bytes)"; an axis of categories (names on the ticks) is exempted by
  `categories="x"` (or "y");
- no legend covers data: no point, line segment, bar or marker of any axes lies under a legend's
  box (legends go outside the axes or into an empty corner).

With the environment variable TUTORIAL_FIGURES set to a folder, it also saves the figure there
as "Figure 1.2.png", to look at each one as a picture.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np

_UNIT = re.compile(r"\([^()]+\)\s*$")


def finish(fig, name: str, categories: str = "") -> None:  # noqa: ANN001
    """Check `fig` (see the module docstring); `name` is "Figure N.k"."""
    axes = [ax for ax in fig.get_axes() if ax.get_visible() and ax.has_data()]
    if not axes:
        raise ValueError(f"{name}: the figure has no axes with data")
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    title = suptitle or (axes[0].get_title() if len(axes) == 1 else "")
    if not title.startswith(name):
        raise ValueError(f"{name}: the figure's title must start with its name, got {title!r} "
                         "(set the suptitle, or the title of its one axes)")
    for ax in axes:
        where = f"{name}, axes {ax.get_title()!r}"
        if len(axes) > 1 and not ax.get_title():
            raise ValueError(f"{name}: each of its {len(axes)} panels needs a title")
        for axis, label in (("x", ax.get_xlabel()), ("y", ax.get_ylabel())):
            if not label:
                raise ValueError(f"{where}: the {axis} axis has no label")
            if axis not in categories and not _UNIT.search(label):
                raise ValueError(f"{where}: the {axis} label {label!r} must end with its unit "
                                 "in parentheses, e.g. '(°C)'")
    fig.canvas.draw()
    legends = [ax.get_legend() for ax in fig.get_axes() if ax.get_legend() is not None]
    legends += list(fig.legends)
    for legend in legends:
        box = legend.get_window_extent().shrunk(0.98, 0.98)
        for ax in axes:
            covered = _covered(ax, box)
            if covered:
                raise ValueError(f"{name}: a legend covers {covered} of the axes "
                                 f"{ax.get_title()!r}; put it outside the axes or in an empty "
                                 "corner")
    folder = os.environ.get("TUTORIAL_FIGURES")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        fig.savefig(Path(folder) / f"{name}.png", dpi=100, bbox_inches="tight")


def _covered(ax, box) -> str:  # noqa: ANN001
    """What of the axes' data (in display coordinates) lies inside `box`, or ''."""
    inside_axes = ax.get_window_extent()
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        xy = line.get_transform().transform(line.get_xydata())
        if line.get_linestyle() not in ("None", "", " ") and len(xy) > 1:
            t = np.linspace(0.0, 1.0, 40)[:, None]  # points along each segment
            xy = np.concatenate([a + t * (b - a) for a, b in zip(xy[:-1], xy[1:])])
        if _any_inside(xy, box, inside_axes):
            return f"the line {line.get_label()!r}"
    for collection in ax.collections:
        offsets = collection.get_offsets()
        if len(offsets) and _any_inside(collection.get_offset_transform().transform(offsets),
                                        box, inside_axes):
            return f"the markers {collection.get_label()!r}"
    for patch in ax.patches:
        extent = patch.get_window_extent()
        if extent.overlaps(box) and extent.overlaps(inside_axes):
            return f"a bar or patch ({patch.get_label()!r})"
    return ""


def _any_inside(xy: np.ndarray, box, axes_box) -> bool:  # noqa: ANN001
    xy = xy[np.all(np.isfinite(xy), axis=1)]
    visible = ((xy[:, 0] >= axes_box.x0) & (xy[:, 0] <= axes_box.x1)
               & (xy[:, 1] >= axes_box.y0) & (xy[:, 1] <= axes_box.y1))
    inside = ((xy[:, 0] > box.x0) & (xy[:, 0] < box.x1)
              & (xy[:, 1] > box.y0) & (xy[:, 1] < box.y1))
    return bool(np.any(visible & inside))
