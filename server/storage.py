"""Object storage for posters: a local folder served under /media, or an S3 bucket (any S3-compatible store).

Keys are never reused (each upload gets a new one), so stored objects never change and may be
cached forever; replacing an object means writing a new key and deleting the old one.
"""
from __future__ import annotations

import abc
import asyncio
import logging
import os
import uuid
from contextlib import asynccontextmanager
from pathlib import Path, PurePosixPath
from typing import AsyncIterator

import aioboto3
from botocore.config import Config

from server.settings import Settings

log = logging.getLogger(__name__)
IMMUTABLE = "public, max-age=31536000, immutable"


class Storage(abc.ABC):
    @abc.abstractmethod
    async def put(self, key: str, data: bytes, content_type: str) -> None: ...

    @abc.abstractmethod
    async def delete(self, key: str) -> None:
        """Deleting a key that is not there is not an error."""

    @abc.abstractmethod
    def url(self, key: str) -> str: ...

    @abc.abstractmethod
    async def ping(self) -> None:
        """Raise when the store cannot be reached (readiness)."""

    async def delete_quietly(self, key: str) -> None:
        """For objects nothing refers to any more: a failure leaves an orphan object, not a failed request."""
        try:
            await self.delete(key)
        except Exception:
            log.exception("could not delete stored object %s; it is orphaned", key)


class LocalStorage(Storage):
    """Files under ``root``; handlers/pages.py serves that folder at /media."""

    def __init__(self, root: Path, url_prefix: str = "/media"):
        self.root = root
        self._prefix = url_prefix

    def _path(self, key: str) -> Path:
        parts = PurePosixPath(key).parts
        if not parts or any(p in ("..", "/") for p in parts):
            raise ValueError(f"bad storage key {key!r}")
        return self.root.joinpath(*parts)

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        # Write then rename, so /media never serves half a file.
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        partial.write_bytes(data)
        os.replace(partial, path)

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    def url(self, key: str) -> str:
        return f"{self._prefix}/{key}"

    async def ping(self) -> None:
        if not await asyncio.to_thread(os.access, self.root, os.W_OK):
            raise OSError(f"media folder {self.root} is not writable")


class S3Storage(Storage):
    """Objects are written without an ACL (new AWS buckets refuse ACLs): make them readable with a
    bucket policy or serve them through a CDN, and set TICKETBLUE_S3_PUBLIC_URL to that address."""

    def __init__(self, client, bucket: str, public_url: str):
        self._client = client
        self._bucket = bucket
        self._public_url = public_url.rstrip("/")

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        await self._client.put_object(Bucket=self._bucket, Key=key, Body=data, ContentType=content_type,
                                      CacheControl=IMMUTABLE)

    async def delete(self, key: str) -> None:
        await self._client.delete_object(Bucket=self._bucket, Key=key)

    def url(self, key: str) -> str:
        return f"{self._public_url}/{key}"

    async def ping(self) -> None:
        await self._client.head_bucket(Bucket=self._bucket)


def s3_public_url(settings: Settings) -> str:
    if settings.s3_public_url:
        return settings.s3_public_url
    if settings.s3_endpoint_url:
        return f"{settings.s3_endpoint_url.rstrip('/')}/{settings.s3_bucket}"
    return f"https://{settings.s3_bucket}.s3.{settings.s3_region}.amazonaws.com"


@asynccontextmanager
async def open_storage(settings: Settings) -> AsyncIterator[Storage]:
    """S3 when a bucket is configured (credentials from the usual AWS variables), else the media folder."""
    if not settings.s3_bucket:
        root = settings.resolved_media_dir
        root.mkdir(parents=True, exist_ok=True)
        yield LocalStorage(root)
        return
    config = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"},
                    # S3-compatible stores (MinIO, moto) are addressed by path, not by bucket host name.
                    s3={"addressing_style": "path" if settings.s3_endpoint_url else "auto"})
    async with aioboto3.Session().client("s3", endpoint_url=settings.s3_endpoint_url or None,
                                         region_name=settings.s3_region, config=config) as client:
        yield S3Storage(client, settings.s3_bucket, s3_public_url(settings))
