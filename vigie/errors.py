"""Errors that reach the user. Each says what is wrong and where, in words."""


class VigieError(Exception):
    """Base class: the CLI prints these as one clear line, without a traceback."""


class ConfigError(VigieError):
    """A site file that cannot be used (names the file, the camera and the field)."""


class VideoError(VigieError):
    """A video that cannot be opened or read (names the file, and the frame if any)."""


class ModelError(VigieError):
    """A model whose files are missing or cannot be loaded."""
