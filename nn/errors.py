"""Errors a user can cause: bad files, bad shapes, missing datasets.

The command line turns these into one line on stderr and exit status 2; anything
else escaping is an internal fault (exit 1).
"""


class NNError(ValueError):
    """Base class for user-caused errors in the nn package."""


class DatasetError(NNError):
    """A dataset is missing, corrupt, truncated or fails its checksum."""


class ModelFileError(NNError):
    """A model file is unreadable, truncated, of an unknown version or the wrong shape."""
