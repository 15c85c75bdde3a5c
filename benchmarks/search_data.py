"""Generated data for the search benchmark, written straight into MariaDB with multi-row INSERTs.

At scale 1: 100k performances (3 cast members each), 20k performers, 2k halls (40 seats each),
100k users, 200k rounds and 1M reservations (one seat each). Titles and names mix Korean and
English words, so partial-word queries in both scripts hit realistic numbers of rows.
Deterministic (seeded): two runs at one scale generate the same rows.
"""
from __future__ import annotations

import random
import time
from datetime import date, datetime, timedelta, timezone

import pymysql
from sqlalchemy.engine import make_url

KO_WORDS = ("오페라 유령 레미제라블 햄릿 맥베스 지킬 하이드 캣츠 위키드 시카고 맘마미아 노트르담 드라큘라 엘리자벳 모차르트 "
            "베토벤 교향곡 협주곡 발레 호두까기 백조의호수 콘서트 리사이틀 뮤지컬 연극 페스티벌 갈라 오케스트라 필하모닉 "
            "사랑 여름 겨울 봄날 가을 한밤 별빛 바다 도시 서울 부산 청춘 기억 꿈 그림자 빛 노래 이야기 전설 왕 여왕 소녀 "
            "소년 영웅 시간 고백 편지 정원 기차 달빛 라이브 투어 앙코르 스페셜 크리스마스").split()
EN_WORDS = ("phantom opera symphony concerto night summer winter dream legend king queen story love star city "
            "ocean light shadow song tour live festival gala orchestra quartet ballet swan lake nutcracker romeo "
            "juliet hamlet macbeth wicked chicago cats mamma rent evita tosca carmen aida boheme figaro magic flute "
            "requiem spring autumn midnight garden letter train moon encore special christmas").split()
SURNAMES = "김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 홍".split()
SYLLABLES = "민 서 지 현 우 준 수 영 호 진 성 은 하 윤 재 승 혜 경 주 광 태 희 연 아 빈 원 석 철 미 정".split()
FIRST = ("Hugh Anne Emma Liam Noah Olivia Mia Lucas Ethan Sophia Grace Daniel Clara Felix Hannah Oscar Ruby "
         "Leo Iris Adam Nina Paul Maria Jonas Lena Kai Eva Max Julia Theo").split()
LAST = ("Jackman Park Kim Lee Smith Brown Garcia Muller Rossi Dubois Novak Tanaka Silva Jensen Walker Young "
        "Hill Scott Green Baker Adams Nelson Carter Mitchell Turner Phillips Campbell Parker Evans Edwards").split()
REGIONS = "서울 부산 대구 인천 광주 대전 울산 세종 수원 성남 고양 용인 창원 청주 전주 천안 포항 제주".split()
HALL_KINDS = ("아트센터 문화회관 예술의전당 콘서트홀 대극장 소극장 아트홀".split()
              + ["Arts Center", "Concert Hall", "Theater", "Opera House"])
CATEGORIES = ("concert", "musical", "play", "classical", "dance", "etc")
STATUSES = ["confirmed"] * 60 + ["canceled"] * 15 + ["expired"] * 10 + ["pending"] * 10 + ["attended"] * 5
SEATS_PER_HALL = 40
ROUNDS_PER_PERFORMANCE = 2
CAST_SIZE = 3
CHUNK = 20_000
TODAY = date(2026, 11, 1)
NOW = datetime(2026, 11, 1, tzinfo=timezone.utc)


def counts(scale: float) -> dict[str, int]:
    return {"performances": int(100_000 * scale), "performers": int(20_000 * scale), "halls": int(2_000 * scale),
            "users": int(100_000 * scale), "reservations": int(1_000_000 * scale)}


def title(rng: random.Random) -> str:
    words = [rng.choice(KO_WORDS if rng.random() < 0.55 else EN_WORDS).title() for _ in range(rng.randint(2, 4))]
    if rng.random() < 0.2:
        words.append(str(rng.choice((2025, 2026, 2027))))
    return " ".join(words)


def performer_name(rng: random.Random) -> str:
    if rng.random() < 0.7:
        return rng.choice(SURNAMES) + rng.choice(SYLLABLES) + rng.choice(SYLLABLES)
    return f"{rng.choice(FIRST)} {rng.choice(LAST)}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


class Writer:
    """executemany of one INSERT ... VALUES (...): PyMySQL sends it as multi-row INSERTs."""

    def __init__(self, url: str):
        parsed = make_url(url)
        self.conn = pymysql.connect(host=parsed.host, port=parsed.port or 3306, user=parsed.username,
                                    password=parsed.password, database=parsed.database, charset="utf8mb4",
                                    autocommit=False)
        with self.conn.cursor() as cursor:
            cursor.execute("SET SESSION foreign_key_checks = 0")
            cursor.execute("SET SESSION unique_checks = 0")

    def insert(self, table: str, columns: tuple[str, ...], rows) -> int:
        sql = f"INSERT INTO `{table}` ({', '.join(f'`{c}`' for c in columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
        batch, total = [], 0
        with self.conn.cursor() as cursor:
            for row in rows:
                batch.append(row)
                if len(batch) == CHUNK:
                    cursor.executemany(sql, batch)
                    total += len(batch)
                    batch = []
            if batch:
                cursor.executemany(sql, batch)
                total += len(batch)
        self.conn.commit()
        return total

    def close(self) -> None:
        self.conn.close()


def generate(database_url: str, scale: float, log=print) -> dict[str, float]:
    """Fill an empty, migrated database; returns rows per table and the seconds it took."""
    rng, n = random.Random(20261124), counts(scale)
    writer, started = Writer(database_url), time.monotonic()
    created = _stamp(NOW)
    out: dict[str, float] = {}

    def step(table, columns, rows):
        began = time.monotonic()
        out[table] = writer.insert(table, columns, rows)
        log(f"  {table}: {out[table]:,} rows in {time.monotonic() - began:.1f}s")

    step("users", ("id", "email", "name", "role", "status", "created_at"),
         ((i, f"user{i}@bench.example", f"User {i}", "user", "active", created) for i in range(1, n["users"] + 1)))
    step("halls", ("id", "name", "address", "created_at"),
         ((h, f"{rng.choice(REGIONS)} {rng.choice(HALL_KINDS)} {h}",
           f"{rng.choice(REGIONS)} {rng.choice('중구 동구 서구 남구 북구'.split())} {rng.choice(KO_WORDS)}로 {h}", created)
          for h in range(1, n["halls"] + 1)))
    step("seats", ("id", "hall_id", "section", "row", "number", "x", "y", "grade"),
         (((h - 1) * SEATS_PER_HALL + s + 1, h, "A", s // 10 + 1, s % 10 + 1, s % 10 + 1, s // 10 + 1, "R")
          for h in range(1, n["halls"] + 1) for s in range(SEATS_PER_HALL)))
    step("performers", ("id", "name", "nationality", "created_at"),
         ((p, performer_name(rng), rng.choice(("KR", "KR", "US", "GB", "DE")), created)
          for p in range(1, n["performers"] + 1)))
    halls_of, firsts = {}, {}

    def performances():
        for p in range(1, n["performances"] + 1):
            halls_of[p] = rng.randint(1, n["halls"])
            firsts[p] = TODAY + timedelta(days=rng.randint(-365, 365))
            yield (p, title(rng), "", rng.choice(CATEGORIES), halls_of[p], firsts[p],
                   firsts[p] + timedelta(days=rng.randint(0, 60)), rng.choice((90, 120, 150)), created)
    step("performances", ("id", "title", "description", "category", "hall_id", "starts_on", "ends_on",
                          "duration_minutes", "created_at"), performances())
    step("performance_prices", ("performance_id", "grade", "price"),
         ((p, "R", rng.choice((50_000, 80_000, 120_000, 150_000))) for p in range(1, n["performances"] + 1)))
    step("performance_performers", ("performance_id", "performer_id"),
         ((p, performer) for p in range(1, n["performances"] + 1)
          for performer in rng.sample(range(1, n["performers"] + 1), CAST_SIZE)))
    rounds = n["performances"] * ROUNDS_PER_PERFORMANCE
    step("rounds", ("id", "performance_id", "starts_at", "created_at"),
         ((r, (r - 1) // ROUNDS_PER_PERFORMANCE + 1,
           _stamp(datetime.combine(firsts[(r - 1) // ROUNDS_PER_PERFORMANCE + 1], datetime.min.time(), timezone.utc)
                  + timedelta(hours=10 + r % 2 * 4)), created) for r in range(1, rounds + 1)))
    statuses = [rng.choice(STATUSES) for _ in range(n["reservations"])]

    def reservation(i: int) -> tuple:
        # Round-robin over rounds; the k-th booking of a round takes its k-th seat: no seat sold twice.
        return (i - 1) % rounds + 1, (i - 1) // rounds

    started_at = datetime.now(timezone.utc)

    def reservations():
        for i in range(1, n["reservations"] + 1):
            at = NOW - timedelta(seconds=rng.randint(0, 365 * 86400))
            expires = at + timedelta(minutes=10)
            if statuses[i - 1] == "pending":
                # Not due for a month, and older than the seat-map repair's window: the server under
                # test must not spend the benchmark expiring 100k bookings and repairing their rounds.
                at = started_at - timedelta(seconds=rng.randint(3600, 86400))
                expires = started_at + timedelta(days=30)
            yield (i, rng.randint(1, n["users"]), reservation(i)[0], statuses[i - 1], 100_000, 0, f"bench-{i}",
                   _stamp(expires), _stamp(at), _stamp(at))
    step("reservations", ("id", "user_id", "round_id", "status", "amount", "discount", "order_id", "expires_at",
                          "created_at", "updated_at"), reservations())

    def reservation_seats():
        for i in range(1, n["reservations"] + 1):
            round_id, k = reservation(i)
            hall = halls_of[(round_id - 1) // ROUNDS_PER_PERFORMANCE + 1]
            live = 1 if statuses[i - 1] in ("pending", "confirmed", "attended") else None
            yield i, (hall - 1) * SEATS_PER_HALL + k % SEATS_PER_HALL + 1, round_id, 100_000, live
    step("reservation_seats", ("reservation_id", "seat_id", "round_id", "price", "live"), reservation_seats())
    writer.close()
    out["seconds"] = time.monotonic() - started
    return out
