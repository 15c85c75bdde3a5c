"""The domain: services, their backends and how they are put together (server/wiring.py)."""
from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def app_version() -> str:
    """The installed package's version (the OpenAPI document's and /metrics' instance_info), else "dev"."""
    try:
        return version("ticketblue")
    except PackageNotFoundError:
        return "dev"
