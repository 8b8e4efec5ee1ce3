"""User-supplied text inside Streamlit's markdown (st.caption, st.error, st.success …).

Every element that takes a string parses it as markdown: a sheet named ``[点此查看说明](https://…)``
would be a live link on 导入记录, ``![b](http://…)`` an image fetched by every admin's browser,
``:red[…]`` or ``$…$`` styling. File names, sheet names, title rows, display names, notes and the
messages that quote them go through ``plain`` first: every markdown, directive and LaTeX character
backslash-escaped, line breaks flattened. (Tables, st.dataframe, show text as text already.)
"""

from __future__ import annotations

import re

# What makes markdown of plain text: links and images ([ ] ( ) !), emphasis and code (* _ ` ~),
# HTML and autolinks (< > &), tables (|), Streamlit's directives, icons and emoji (:) and LaTeX ($),
# and the backslash itself. A block marker (# - + > or "1.") counts only at the start of the line.
_SPECIAL = re.compile(r"([\\`*_{}\[\]()!|<>~$:&])")
_BLOCK_START = re.compile(r"^(\s*)(?:([#>+\-=])|(\d+)([.)]))")


def plain(text: object) -> str:
    """``text`` as markdown that shows exactly these characters, on one line."""
    flat = _SPECIAL.sub(r"\\\1", " ".join(str(text).splitlines()))
    return _BLOCK_START.sub(lambda m: m.group(1) + (f"\\{m.group(2)}" if m.group(2) else f"{m.group(3)}\\{m.group(4)}"),
                            flat)
