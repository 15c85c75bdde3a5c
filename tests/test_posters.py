"""Posters: type by magic bytes, 5 MiB limit, one object per upload, old objects deleted;
on the local media folder and on a real S3-protocol server (moto)."""
from __future__ import annotations

import pytest

from server.posters import MAX_POSTER_BYTES, MAX_POSTER_SIDE
from tests.support.factories import make_performance
from tests.support.posters import GIF, JPEG, PNG, WEBP, image, media_files, put_poster


# ---- local media folder --------------------------------------------------------------------
async def test_upload_is_stored_served_and_replaced(client, settings):
    admin = await client.token(admin=True)
    performance = await make_performance(client, admin)
    first = await put_poster(client, admin, performance["id"], PNG, claimed_type="application/octet-stream")
    assert first.status == 200, first.json
    url = first.json["poster_url"]
    assert url.startswith(f"/media/posters/{performance['id']}/") and url.endswith(".png")
    assert media_files(settings) == [settings.resolved_media_dir / url.removeprefix("/media/")]
    served = await client.get(url)
    assert served.status == 200 and served.json == PNG and served.headers["Content-Type"] == "image/png"
    assert (await client.get(f"/api/performances/{performance['id']}")).json["poster_url"] == url

    second = await put_poster(client, admin, performance["id"], JPEG)
    assert second.status == 200 and second.json["poster_url"].endswith(".jpg")
    assert second.json["poster_url"] != url
    assert (await client.get(url)).status == 404                     # the old file is gone
    assert [p.read_bytes() for p in media_files(settings)] == [JPEG]
    assert (await client.get(f"/api/performances/{performance['id']}")).json["poster_url"] == second.json["poster_url"]


async def test_webp_and_the_largest_size_are_accepted(client, settings):
    admin = await client.token(admin=True)
    performance = await make_performance(client, admin)
    webp = await put_poster(client, admin, performance["id"], WEBP)
    assert webp.status == 200 and webp.json["poster_url"].endswith(".webp")
    largest = PNG + b"\x00" * (MAX_POSTER_BYTES - len(PNG))
    reply = await put_poster(client, admin, performance["id"], largest)
    assert reply.status == 200
    assert [p.stat().st_size for p in media_files(settings)] == [MAX_POSTER_BYTES]


async def test_deleting_the_performance_deletes_the_file(client, settings):
    admin = await client.token(admin=True)
    performance = await make_performance(client, admin)
    assert (await put_poster(client, admin, performance["id"], PNG)).status == 200
    assert len(media_files(settings)) == 1
    assert (await client.delete(f"/api/performances/{performance['id']}", token=admin)).status == 204
    assert media_files(settings) == []


@pytest.mark.parametrize("data, kw, status, code", [
    (GIF, {"claimed_type": "image/png"}, 415, "unsupported_media_type"),      # the claim is not trusted
    (b"just some text", {"claimed_type": "image/jpeg"}, 415, "unsupported_media_type"),
    (b"", {}, 415, "unsupported_media_type"),
    (PNG + b"\x00" * (MAX_POSTER_BYTES + 1 - len(PNG)), {}, 413, "payload_too_large"),
    (PNG, {"field": "image"}, 400, "invalid_request"),
])
async def test_bad_uploads_are_refused_and_nothing_is_stored(client, settings, data, kw, status, code):
    admin = await client.token(admin=True)
    performance = await make_performance(client, admin)
    reply = await put_poster(client, admin, performance["id"], data, **kw)
    assert reply.status == status and reply.error_code() == code, reply.json
    assert media_files(settings) == []
    assert (await client.get(f"/api/performances/{performance['id']}")).json["poster_url"] is None


async def test_a_json_body_is_refused(client):
    admin = await client.token(admin=True)
    performance = await make_performance(client, admin)
    reply = await client.put(f"/api/performances/{performance['id']}/poster", token=admin, json={"file": "x"})
    assert reply.status == 400 and reply.json["error"]["details"]["fields"] == ["file"]


async def test_unknown_performance_and_auth(client, settings):
    admin = await client.token(admin=True)
    user = await client.token()
    missing = await put_poster(client, admin, 999999, PNG)
    assert missing.status == 404 and missing.error_code() == "not_found"
    performance = await make_performance(client, admin)
    assert (await put_poster(client, None, performance["id"], PNG)).status == 401
    assert (await put_poster(client, user, performance["id"], PNG)).status == 403
    assert media_files(settings) == []


# ---- S3 (moto server) ----------------------------------------------------------------------
class TestOnS3:
    @pytest.fixture
    def settings_overrides(self, bucket):
        return {"s3_bucket": bucket.name, "s3_endpoint_url": bucket.endpoint}

    async def test_upload_replace_and_delete(self, client, bucket, settings):
        admin = await client.token(admin=True)
        performance = await make_performance(client, admin)
        first = await put_poster(client, admin, performance["id"], PNG, claimed_type="image/gif")
        assert first.status == 200, first.json
        [key] = await bucket.keys()
        assert key.startswith(f"posters/{performance['id']}/") and key.endswith(".png")
        assert first.json["poster_url"] == f"{bucket.endpoint}/{bucket.name}/{key}"
        stored = await bucket.client.get_object(Bucket=bucket.name, Key=key)
        assert stored["ContentType"] == "image/png" and await stored["Body"].read() == PNG
        assert not settings.resolved_media_dir.exists() or media_files(settings) == []

        second = await put_poster(client, admin, performance["id"], WEBP)
        [new_key] = await bucket.keys()
        assert new_key != key and new_key.endswith(".webp")
        assert (await bucket.client.head_object(Bucket=bucket.name, Key=new_key))["ContentType"] == "image/webp"
        assert second.json["poster_url"].endswith(new_key)

        assert (await client.delete(f"/api/performances/{performance['id']}", token=admin)).status == 204
        assert await bucket.keys() == []

    @pytest.mark.parametrize("data, status", [
        (GIF, 415), (b"%PDF-1.7", 415), (PNG + b"\x00" * (MAX_POSTER_BYTES + 1 - len(PNG)), 413)])
    async def test_refused_uploads_store_nothing(self, client, bucket, data, status):
        admin = await client.token(admin=True)
        performance = await make_performance(client, admin)
        reply = await put_poster(client, admin, performance["id"], data)
        assert reply.status == status, reply.json
        assert await bucket.keys() == []

    async def test_readiness_checks_the_bucket(self, client, bucket):
        ready = await client.get("/readyz")
        assert ready.status == 200 and ready.json["checks"]["s3"] == "ok"
        await bucket.client.delete_bucket(Bucket=bucket.name)
        gone = await client.get("/readyz")
        assert gone.status == 503 and gone.json["checks"]["s3"].startswith("failed")


@pytest.mark.parametrize("data", [
    b"\x89PNG\r\n\x1a\n" + b"not an image after all",
    PNG[:len(PNG) // 2],                                          # cut short
    b"\xff\xd8\xff\xe0" + b"\x00" * 64,
    b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64,
])
async def test_bytes_that_only_start_like_an_image_are_refused(client, settings, data):
    admin = await client.token(admin=True)
    performance = await make_performance(client, admin)
    reply = await put_poster(client, admin, performance["id"], data)
    assert reply.status == 415 and reply.error_code() == "unsupported_media_type", reply.json
    assert media_files(settings) == []


async def test_a_poster_too_large_to_decode_is_refused(client, settings):
    admin = await client.token(admin=True)
    performance = await make_performance(client, admin)
    huge = image("PNG", size=(MAX_POSTER_SIDE + 1, 1))
    reply = await put_poster(client, admin, performance["id"], huge)
    assert reply.status == 400 and reply.json["error"]["details"]["fields"] == ["file"], reply.json
    assert reply.json["error"]["details"]["max_side"] == MAX_POSTER_SIDE
    assert media_files(settings) == []
