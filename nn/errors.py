"""Errors a user can cause: bad files, bad shapes, missing datasets.

They derive from :class:`common.errors.UserError`: one line on stderr, exit status 2.
"""

from common.errors import UserError


class NNError(UserError):
    """Base class for user-caused errors in the nn package."""


class DatasetError(NNError):
    """A dataset is missing, corrupt, truncated or fails its checksum."""


class ModelFileError(NNError):
    """A model file is unreadable, truncated, of an unknown version or the wrong shape."""
