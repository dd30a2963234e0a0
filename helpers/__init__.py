"""The workshop kit's helpers.

In a notebook kernel, importing any of them applies the kit's display settings once
(``helpers.show.setup``: pandas tables are never typeset as math). Other processes, such as the
local cloud's server, import nothing more here.
"""

import sys as _sys

if "IPython" in _sys.modules:
    from helpers import show as _show

    _show.setup()
