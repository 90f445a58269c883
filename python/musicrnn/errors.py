"""MusicRNNError and the status codes of musicrnn.h."""
import enum

from ._lib import lib


class Status(enum.IntEnum):
    """mrnn_status: 0 on success, a negative code on failure (values frozen by the C ABI)."""
    OK = 0
    ERR_INVALID_ARG = -1
    ERR_NOMEM = -2
    ERR_IO = -3
    ERR_FORMAT = -4
    ERR_VERSION = -5
    ERR_MIDI = -6
    ERR_UNKNOWN_TOKEN = -7
    ERR_STATE = -8
    ERR_LIMIT = -9
    ERR_CANCELLED = -10
    ERR_UNSUPPORTED = -11
    ERR_NUMERIC = -12
    ERR_EMPTY = -13


class MusicRNNError(Exception):
    """A libmusicrnn call failed.

    ``status`` is the :class:`Status` (an int; a plain int if this package does not know the
    code), ``message`` the library's ``mrnn_last_error()`` text, which names the file or argument
    and the reason.
    """

    def __init__(self, status, message):
        try:
            status = Status(status)
        except ValueError:
            pass
        self.status = status
        self.message = message
        name = status.name if isinstance(status, Status) else str(status)
        super().__init__(f"{message} [{name}]" if message else f"{_status_text(status)} [{name}]")


def _status_text(status):
    return lib.mrnn_status_string(int(status)).decode(errors="replace")


def last_error():
    """This thread's last libmusicrnn error message (empty if none)."""
    return lib.mrnn_last_error().decode(errors="replace")


def check(status):
    """Raise MusicRNNError for a failed status; return it otherwise.

    Called on the same Python thread (hence the same OS thread) as the failed call, so
    mrnn_last_error(), which is per thread, describes that call.
    """
    if status != 0:
        raise MusicRNNError(status, last_error())
    return status
