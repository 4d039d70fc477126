"""Errors a user can cause in the physics worlds: bad track or creature files, bad specs.

The command line turns a :class:`SimsError` into one line on stderr and exit status 2;
anything else escaping is an internal fault.
"""


class SimsError(ValueError):
    """A user-caused problem with a track, creature file or world setting (one-line message)."""
