"""The one exception type the engine raises for input a user can fix."""


class RackFocusError(ValueError):
    """Bad input or an impossible request, with a message the user can act on.

    Operators turn it into ``self.report({'ERROR'}, str(err))``; the CLI prints it as one line on
    stderr and exits with status 2. Raised before anything in the scene is changed.
    """
