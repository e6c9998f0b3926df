"""`toreador-compile suggest`: where a sequential program can use the primitives.

``candidates`` finds the loops, comprehensions and ``map()`` calls and their shapes,
``verdicts`` decides each by compiling the program with it, ``rewrite`` writes the
annotated program, ``cli`` prints the diff or the verdicts.
"""
