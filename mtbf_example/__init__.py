"""MTBF analysis of solar + battery homes: toreador's flagship example.

Per gateway (one home's datalogger), count the minutes where the equipment misbehaves (the
battery discharging while solar covers the load and it is not full; no solar at noon) and
report the mean time between those failures. The rules: docs/mtbf-example.md.
"""
