"""(being written)"""
from __future__ import annotations

from fastapi import FastAPI

from vigie.web.context import ApiContext


def add_routes(app: FastAPI, ctx: ApiContext) -> None:
    pass
