"""Which of a primitive call's arguments are its data and its kernel.

Matched once, here, the way Python binds them (by position, else by keyword), and kept in
the region's record: the transformer rewrites exactly the arguments analysis read.
"""

from __future__ import annotations

import libcst as cst

from ..messages import PRIMITIVE_ARGUMENTS


def match_arguments(call: cst.Call, primitive: str) -> tuple[int, int] | None:
    """Indexes in ``call.args`` of the data and the kernel; None when either is missing or
    comes from ``*args`` / ``**kwargs`` (toreador must see the kernel in the call)."""
    positional = [i for i, a in enumerate(call.args) if a.keyword is None]
    by_keyword = {a.keyword.value: i for i, a in enumerate(call.args) if a.keyword is not None}
    found: list[int] = []
    for position, keyword in enumerate(PRIMITIVE_ARGUMENTS[primitive]):
        if position < len(positional) and call.args[positional[position]].star == "":
            found.append(positional[position])
        elif keyword in by_keyword and call.args[by_keyword[keyword]].star == "":
            found.append(by_keyword[keyword])
        else:
            return None
    return found[0], found[1]
