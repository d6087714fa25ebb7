"""The analysis API's one error for the caller's input: a name that matches nothing the store
or the tables hold (an `--against` table version, an implementation label). The message lists
what exists; the command layer turns it into its exit code."""


class InputError(ValueError):
    """The input names something that does not exist; the message says what does."""
