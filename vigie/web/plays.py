"""Per-play tokens: each play of a clip or a synopsis is audited once, whatever byte ranges the player asks for.

A browser's video element fetches its source in byte ranges (to start, to seek, to buffer), and cannot send
headers of its own. So a play starts with `POST .../play`, which is audited (view_clip, view_unblurred or
view_synopsis, with the play's id) and answers a URL holding a token; the range requests of that play carry
the token and are not audited again. A media request WITHOUT a token is audited itself, whatever its range:
before issue 19, `Range: bytes=1-` fetched a clip whole but for one byte, and no view was logged.

A token is bound to its user, to what it plays (the track and format, blurred or not; the synopsis) and to
its justification, and expires after `PLAY_TTL`. The table lives in memory, per app (one per server process,
as the synopsis jobs' table): a server restart ends the plays, and the page asks again.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel, Field

from vigie.i18n import _
from vigie.web.context import ApiError

PLAY_TTL_S = 3600.0  # a play's range requests are served this long after it was started (and audited)
MAX_PLAYS = 10_000  # open plays kept per app: the oldest go first beyond it


class PlayStarted(BaseModel):
    """The answer to `POST .../play` (a clip's or a synopsis's)."""

    url: str = Field(description="The media's URL for this play: its range requests are not audited again.")
    play_id: str = Field(description="The play's id, named in its audit entry.")
    expires_in_s: int = Field(description="How long the URL serves this play's range requests.")


@dataclass(frozen=True)
class Play:
    """What a token lets its holder fetch in ranges: `target` is ("clip", track id, format, unblurred) or
    ("synopsis", synopsis id); the play id is in the audit entry written when it was issued."""

    play_id: str
    username: str
    target: tuple
    case_ref: str | None
    purpose: str | None
    expires: float  # time.monotonic()


class Plays:
    """The app's open plays: token -> Play."""

    def __init__(self, ttl_s: float = PLAY_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._plays: dict[str, Play] = {}

    def issue(self, username: str, target: tuple, case_ref: str | None, purpose: str | None) -> tuple[str, Play]:
        """A new token and its play (the caller audits the play, naming play.play_id)."""
        token = secrets.token_urlsafe(24)
        play = Play(secrets.token_hex(8), username, target, case_ref, purpose, time.monotonic() + self.ttl_s)
        with self._lock:
            self._expire()
            while len(self._plays) >= MAX_PLAYS:
                self._plays.pop(next(iter(self._plays)))
            self._plays[token] = play
        return token, play

    def check(self, token: str, username: str, target: tuple) -> Play:
        """The play of the token, if it is the user's own, for this target and not expired; else 403."""
        with self._lock:
            self._expire()
            play = self._plays.get(token)
        if play is None or play.username != username or play.target[: len(target)] != target:
            raise ApiError(
                403, _("this play's token is unknown, expired or not yours: start the play again (POST .../play)")
            )
        return play

    def _expire(self) -> None:
        now = time.monotonic()
        for token in [t for t, p in self._plays.items() if p.expires <= now]:
            del self._plays[token]


async def get_plays(request: Request) -> Plays:
    return request.app.state.plays  # the app's own table (create_app makes it)


PlaysDep = Annotated[Plays, Depends(get_plays)]
