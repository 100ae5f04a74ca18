"""Errors a user can act on.

Anything raised as ``UserError`` reaches the console as one paragraph (no
traceback) and a non-zero exit status. The message names the problem and the fix.
"""


class UserError(Exception):
    """A problem with the user's input, config or environment, with its fix."""


class WeightsError(UserError):
    """Weights for a model could not be found, downloaded or loaded."""


class NameChoiceError(UserError):
    """A name (model, layer, class, preset) is not one of the valid choices."""

    def __init__(self, kind: str, name: str, choices: list[str], hint: str = ""):
        self.kind, self.name, self.choices = kind, name, choices
        close = _close_matches(name, choices)
        listed = ", ".join(choices if len(choices) <= 40 else choices[:40] + ["..."])
        text = f"Unknown {kind} '{name}'."
        if close:
            text += f" Did you mean: {', '.join(close)}?"
        text += f" Valid {kind}{'es' if kind.endswith('s') else 's'}: {listed}."
        if hint:
            text += f" {hint}"
        super().__init__(text)


def _close_matches(name: str, choices: list[str]) -> list[str]:
    import difflib

    lowered = {c.lower(): c for c in choices}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=5, cutoff=0.6)
    return [lowered[h] for h in hits]
