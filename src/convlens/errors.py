"""The one exception type the CLI turns into a single `convlens: error: ...` line."""


class ConvlensError(Exception):
    """A problem with the user's input (a file, an argument, the data) that they can fix."""


class InputError(ConvlensError, ValueError):
    """Invalid data or arguments; also a ValueError so library callers can catch it as one."""
