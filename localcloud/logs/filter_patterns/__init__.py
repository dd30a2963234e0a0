"""CloudWatch Logs filter patterns: terms, regex, JSON and space-delimited, as AWS documents them.

Used by FilterLogEvents, StartLiveTail, TestMetricFilter and the metric filters of the local
cloud. Reference: "Filter pattern syntax for metric filters, subscription filters, filter log
events, and Live Tail" (CloudWatch Logs User Guide, FilterAndPatternSyntax).

Contract: ``compile_pattern(text)`` answers a ``FilterPattern`` whose ``matches(message)`` says
whether a log event matches and whose ``extract(message)`` answers AWS's extractedValues
(``Extracted``, or None when the event does not match). A malformed pattern raises
``FilterPatternError`` (a ValueError) carrying the message AWS's InvalidParameterException
carries. A pattern is compiled once (cached) into closures; each JSON event is parsed once.

The engine is pure Python and imports no moto: the modules here are named for the pattern kind
they compile (``terms``, ``json_patterns``, ``delimited``; ``values`` and ``selectors`` are what
they share). ``hooks.py`` is the only module that touches moto (FilterLogEvents, StartLiveTail,
TestMetricFilter); ``localcloud.server`` installs it.
"""

from __future__ import annotations

from localcloud.logs.filter_patterns.compiled import Extracted, FilterPattern
from localcloud.logs.filter_patterns.compiler import compile_pattern
from localcloud.logs.filter_patterns.errors import FilterPatternError

__all__ = ["Extracted", "FilterPattern", "FilterPatternError", "compile_pattern"]
