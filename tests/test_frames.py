"""The seat map's delta batches as they go on the wire: the same bytes for everyone, and for each
user its own frame of the deltas that involve it (`mine`) with the shared bytes between them."""
import json
import struct

from seatmap.frames import Batch, encoded_delta
from seatmap.model import HELD, Change, Delta

ROUND = 3
HOLDER = 7


def payloads(wire: bytes) -> list[bytes]:
    """The payloads of a run of server text frames (RFC 6455 5.2: final, unmasked)."""
    found, at = [], 0
    while at < len(wire):
        assert wire[at] == 0x81
        length, at = wire[at + 1], at + 2
        if length == 126:
            (length,), at = struct.unpack_from("!H", wire, at), at + 2
        elif length == 127:
            (length,), at = struct.unpack_from("!Q", wire, at), at + 8
        found.append(wire[at:at + length])
        at += length
    return found


def delta(seq: int, *holders: int | None) -> Delta:
    """A delta holding one seat per holder (None: a seat freed); the first is long enough to need the
    two-byte length of a frame over 125 bytes."""
    changes = [Change(seq * 10 + i, HELD if user else "available", user) for i, user in enumerate(holders)]
    if seq == 1:
        changes += [Change(1000 + i, "available") for i in range(20)]
    return Delta(ROUND, seq, tuple(changes))


def test_a_user_gets_its_own_frames_where_it_is_involved_and_the_shared_ones_between():
    waiting = [encoded_delta(d) for d in (delta(1, HOLDER), delta(2, 8), delta(3, HOLDER, 8), delta(4, None),
                                          delta(5, 9), delta(6, HOLDER))]
    shared = Batch.of(waiting)
    assert payloads(shared.wire) == shared.frames == [e.frame for e in waiting]
    assert shared.involved == {HOLDER: [0, 2, 5], 8: [1, 2], 9: [4]}

    own = shared.own(HOLDER)
    assert payloads(own.wire) == own.frames
    states = [[state for _, state in json.loads(frame)["changes"][:2]] for frame in own.frames]
    assert states == [["mine", "available"], ["held"], ["mine", "held"], ["available"], ["held"], ["mine"]]
    assert [json.loads(frame)["seq"] for frame in own.frames] == [1, 2, 3, 4, 5, 6]
    assert shared.own(HOLDER) is own                 # made once per user and send

    other = shared.own(8)
    assert [json.loads(frame)["changes"][-1][1] for frame in payloads(other.wire)][1:3] == ["mine", "mine"]
    assert payloads(other.wire) == other.frames and payloads(other.wire)[0] == waiting[0].frame
