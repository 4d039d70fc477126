"""Errors a user can cause, and the exit statuses of the ``neuroevo`` command.

Every package's user errors derive from :class:`UserError` (``nn.errors.NNError``,
``sims.errors.SimsError``, ``common.config.ConfigError``, ``common.window.NoDisplay``): the
command line turns one into a single line on stderr and :data:`EXIT_USER_ERROR`.  Anything
else escaping is an internal fault (exit status 1).
"""

EXIT_USER_ERROR = 2  # a bad file, config, option or dataset: one line on stderr
EXIT_INTERRUPTED = 130  # Ctrl-C (what was finished is saved first)


class UserError(ValueError):
    """A problem the user can fix; its message is one line."""
