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


class InputErrors(CgthermoError):
    """Several input problems found at once: one line each, so a user fixes them in one pass."""

    def __init__(self, problems: list[CgthermoError]):
        self.problems = list(problems)
        first = self.problems[0]
        super().__init__(first.what, first.fix)
        self.args = ("\n".join(str(p) for p in self.problems),)

    def __str__(self) -> str:
        return self.args[0]

    def __reduce__(self):
        return type(self), (self.problems,)


def raise_all(problems: list[CgthermoError]) -> None:
    """Raise the problems found, a single one as itself; nothing when there are none."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise InputErrors(problems)
