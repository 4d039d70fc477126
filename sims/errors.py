"""Errors a user can cause in the physics worlds: bad track or creature files, bad specs.

A :class:`SimsError` is a :class:`common.errors.UserError`: one line on stderr, exit status 2.
"""

from common.errors import UserError


class SimsError(UserError):
    """A user-caused problem with a track, creature file or world setting (one-line message)."""
