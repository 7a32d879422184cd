"""The one user-facing exception type: the library raises it at its public boundary and the CLI
turns it into a single `convlens: error: ...` line."""


class ConvlensError(ValueError):
    """A problem with the user's input (a file, an argument, the data) that they can fix.

    A ValueError, so library callers can catch it the way they catch any bad-argument error."""
