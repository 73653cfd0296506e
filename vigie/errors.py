"""Errors that reach the user. Each says what is wrong and where, in words.

Each also says how the JSON API answers it, so that the web app needs one handler for all of them rather than
a list of types: `status` (400 unless a subclass or the instance says otherwise) and `body()`.
"""


class VigieError(Exception):
    """Base class: the CLI prints these as one clear line, without a traceback."""

    status: int = 400  # the HTTP status the API answers with

    def body(self) -> dict:
        """The API's JSON answer: {"error": ...}, plus the fields ErrorBody documents where a subclass has them."""
        return {"error": str(self)}


class ConfigError(VigieError):
    """A site file that cannot be used (names the file, the camera and the field)."""


class VideoError(VigieError):
    """A video that cannot be opened or read (names the file, and the frame if any)."""


class ModelError(VigieError):
    """A model whose files are missing or cannot be loaded."""


class ModelFileMissing(ModelError):
    """A model file found in none of the places Vigie looks (vigie.models)."""
