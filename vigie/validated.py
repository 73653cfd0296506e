"""The base of every settings model of the site file: validated once, at the edge."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Unknown fields are refused (a typo is an error that names the field), and a model never changes once read."""

    model_config = ConfigDict(extra="forbid", frozen=True)
