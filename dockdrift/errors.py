"""The one error class a command raises for a user mistake: message says what to do; exit 2."""


class UsageError(Exception):
    exit_code = 2
