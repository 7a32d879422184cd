"""The figures layer: records and arrays in, PNG files out, with their names decided here.

Computing code (convlens.problem2, convlens.problem3, convlens.probe, convlens.jigsaw) never
draws; the CLI and the report call these functions on what it returns. The drawing primitives
they share are convlens.plotting.
"""
