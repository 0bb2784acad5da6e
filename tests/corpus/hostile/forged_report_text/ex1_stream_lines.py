"""Exercise 1 fails to import, with a message written to forge lines of the text report.

A line separator (U+2028), a carriage return and a vertical tab each start what
a terminal or an editor shows as a new line, drawn here as exercise 1 passing;
bidi controls reorder text and zero-width characters hide it.
"""

FORGED = "ex1   PASS      1/1  Stream a list of lines"

raise ValueError(
    f"\u2028{FORGED}\r{FORGED}\x0b{FORGED}\u202e\u2066 ssap \u2069\u200b\u200d\ufeff\u200e"
)
