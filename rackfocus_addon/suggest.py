""""Did you mean" suggestions for misspelt names (objects, bones, markers, cameras, keys)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def close_names(name: str, options: Iterable[str], most: int = 3) -> list[str]:
    """Up to ``most`` of ``options`` closest to ``name``, best first; case is ignored when
    nothing matches with it ('near' finds 'Near')."""
    options = list(options)
    close = difflib.get_close_matches(name, options, n=most, cutoff=0.5)
    if not close:
        lowered = {o.lower(): o for o in options}
        close = [lowered[n] for n in difflib.get_close_matches(name.lower(), list(lowered),
                                                                n=most, cutoff=0.5)]
    return close


def did_you_mean(name: str, options: Iterable[str]) -> str:
    """'; did you mean 'X' or 'Y'?' for the closest of ``options`` to ``name``, or ''."""
    close = close_names(name, options)
    return ("; did you mean " + " or ".join(f"'{c}'" for c in close) + "?") if close else ""
