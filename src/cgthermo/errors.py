"""User-facing errors: one line that names the bad thing and the fix."""


class CgthermoError(Exception):
    """An input or run problem the user can fix; its message is a single line."""

    def __init__(self, what: str, fix: str):
        self.what = what
        self.fix = fix
        super().__init__(f"{what}. Fix: {fix}")

    def __reduce__(self):
        # raised in worker processes and re-raised in the parent, so it must survive pickling
        return type(self), (self.what, self.fix)
