"""The one error type of the API: an HTTP status and a message, sent as ``{"error": "..."}``."""

from __future__ import annotations


class ApiError(Exception):
    """A request the API refuses; ``status`` is a 4xx code."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message
