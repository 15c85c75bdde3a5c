"""The built-in Toss Payments sandbox: Toss's payment rules, in memory, for runs without Toss keys.

With no TICKETBLUE_TOSS_SECRET_KEY the server hosts this sandbox and its Toss client talks to it
over real HTTP (the wire protocol is in server/payments/sandbox_http.py). It keeps Toss's rules:
Basic auth with the sandbox's secret key, confirm within the session of a checkout and for the
checkout's amount, 100 KRW minimum, one approval per payment and per order, full and partial
cancels up to the balance, Idempotency-Key replay (and 409 IDEMPOTENT_REQUEST_PROCESSING while the
first request with a key is still being handled), and Toss's error codes and messages.

The secret key is the server's own (TICKETBLUE_TOSS_SANDBOX_KEY, else random per start): the Toss
API moves money, so only the server's client may call it, though it is mounted on the public port.
A call can take time as Toss's do (`latency`, min and max seconds): the money moves at a random
moment within it, so the answer is still on its way when the payment has already changed — the
window in which concurrent and repeated requests meet at Toss.

It is a sandbox: state lives in this process's memory and is gone on restart. Several server
instances each have their own; to share one, point the others' TICKETBLUE_TOSS_API_URL at
http://<that instance>/sandbox/toss (and send checkouts there).

One deliberate difference: Toss replays the first answer for a repeated Idempotency-Key even when
the body differs. The sandbox answers 422 IDEMPOTENCY_KEY_REUSED instead, so that a caller that
reuses a key for another request is caught in tests rather than handed another payment's answer.

Failing on purpose (tests, demos): `fail_next(order_id, *failures)` queues failures for the next
calls about that order (confirm, cancel or read), one per call, in order:
  Refuse(code)      answer with that Toss error code (REJECT_CARD_PAYMENT, PROVIDER_ERROR, ...);
  Stall(seconds)    hold the request that long before handling it, so the caller times out first;
  Disconnect()      handle the request, then close the connection without answering.
The same queue is reachable over HTTP (POST /sandbox/toss/failures) when TICKETBLUE_TOSS_SANDBOX_FAULTS
is on, and Toss's own test header `TossPayments-Test-Code: <code>` (which needs the secret key, like
every call of the Toss API) is honoured like Refuse(code).
"""
from __future__ import annotations

import asyncio
import random
import secrets
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Callable, Literal, TypeVar

import msgspec

from server.payments.toss import PaymentStatus, TossCancel, TossFailure, TossPayment
from server.schemas.common import Request

MINIMUM_CARD_AMOUNT = 100
_T = TypeVar("_T")
_KST = timezone(timedelta(hours=9))      # Toss writes its times in Korean time

# Toss's documented status and (default, Korean) message for the codes the sandbox produces or
# that are worth scripting. A scripted code not listed here is answered with 400.
TOSS_ERRORS: dict[str, tuple[int, str]] = {
    "ALREADY_PROCESSED_PAYMENT": (400, "이미 처리된 결제 입니다."),
    "ALREADY_CANCELED_PAYMENT": (400, "이미 취소된 결제 입니다."),
    "DUPLICATED_ORDER_ID": (400, "이미 승인 및 취소가 진행된 중복된 주문번호 입니다. 다른 주문번호로 진행해주세요."),
    "PROVIDER_ERROR": (400, "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요."),
    "INVALID_REQUEST": (400, "잘못된 요청입니다."),
    "INVALID_IDEMPOTENCY_KEY": (400, "멱등키는 300자 이하여야 합니다."),
    "BELOW_MINIMUM_AMOUNT": (400, "신용카드는 결제금액이 100원 이상, 계좌는 200원이상부터 결제가 가능합니다."),
    "INVALID_CARD_EXPIRATION": (400, "카드 정보를 다시 확인해주세요. (유효기간)"),
    "INVALID_STOPPED_CARD": (400, "정지된 카드 입니다."),
    "INVALID_REJECT_CARD": (400, "카드 사용이 거절되었습니다. 카드사 문의가 필요합니다."),
    "INVALID_CARD_LOST_OR_STOLEN": (400, "분실 혹은 도난 카드입니다."),
    "INVALID_CARD_NUMBER": (400, "카드번호를 다시 확인해주세요."),
    "EXCEED_MAX_DAILY_PAYMENT_COUNT": (400, "하루 결제 가능 횟수를 초과했습니다."),
    "EXCEED_MAX_PAYMENT_AMOUNT": (400, "하루 결제 가능 금액을 초과했습니다."),
    "CARD_PROCESSING_ERROR": (400, "카드사에서 오류가 발생했습니다."),
    "UNAUTHORIZED_KEY": (401, "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다."),
    "REJECT_CARD_PAYMENT": (403, "한도초과 혹은 잔액부족으로 결제에 실패했습니다."),
    "REJECT_CARD_COMPANY": (403, "결제 승인이 거절되었습니다."),
    "REJECT_ACCOUNT_PAYMENT": (403, "잔액부족으로 결제에 실패했습니다."),
    "INCORRECT_BASIC_AUTH_FORMAT": (403, "잘못된 요청입니다. ':' 를 포함해 인코딩해주세요."),
    "NOT_CANCELABLE_AMOUNT": (403, "취소 할 수 없는 금액 입니다."),
    "NOT_CANCELABLE_PAYMENT": (403, "취소 할 수 없는 결제 입니다."),
    "NOT_FOUND_PAYMENT": (404, "존재하지 않는 결제 정보 입니다."),
    "NOT_FOUND_PAYMENT_SESSION": (404, "결제 시간이 만료되어 결제 진행 데이터가 존재하지 않습니다."),
    "IDEMPOTENT_REQUEST_PROCESSING": (409, "이전 멱등 요청이 처리중입니다."),
    "IDEMPOTENCY_KEY_REUSED": (422, "이 멱등키는 다른 요청에 이미 사용되었습니다. (sandbox)"),
    "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING": (500, "결제가 완료되지 않았어요. 다시 시도해주세요."),
    "FAILED_INTERNAL_SYSTEM_PROCESSING": (500, "내부 시스템 처리 작업이 실패했습니다. 잠시 후 다시 시도해주세요."),
    "UNKNOWN_PAYMENT_ERROR": (500, "결제에 실패했어요. 같은 문제가 반복된다면 은행이나 카드사로 문의해주세요."),
}
# Failures after which nothing happened: not remembered under the Idempotency-Key, so a retry
# with the same key is handled afresh, and a confirm refused this way can still succeed.
_TRANSIENT = frozenset({"PROVIDER_ERROR", "IDEMPOTENT_REQUEST_PROCESSING", "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING",
                        "FAILED_INTERNAL_SYSTEM_PROCESSING", "UNKNOWN_PAYMENT_ERROR"})
_FINISHED = frozenset({PaymentStatus.DONE, PaymentStatus.CANCELED, PaymentStatus.PARTIAL_CANCELED})


class TossError(Exception):
    """An error answer, exactly as Toss shapes it: an HTTP status and {"code", "message"}."""

    def __init__(self, code: str, message: str | None = None):
        status, default = TOSS_ERRORS.get(code, (400, f"{code} (sandbox)"))
        super().__init__(message or default)
        self.status, self.code, self.message = status, code, message or default

    @property
    def transient(self) -> bool:
        return self.code in _TRANSIENT or self.status >= 500

    def body(self) -> bytes:
        return msgspec.json.encode(TossFailure(self.code, self.message))


# ---- scripted failures ----------------------------------------------------------------------
_CODE = Annotated[str, msgspec.Meta(pattern=r"^[A-Z][A-Z_]{2,63}$", description="A Toss error code.")]


class Refuse(msgspec.Struct, tag="error", tag_field="kind", forbid_unknown_fields=True):
    """Answer with this Toss error code (declines, PROVIDER_ERROR, 5xx codes...)."""
    code: _CODE


class Stall(msgspec.Struct, tag="timeout", tag_field="kind", forbid_unknown_fields=True):
    """Hold the request this long before handling it, so the caller's timeout fires first."""
    seconds: Annotated[float, msgspec.Meta(gt=0, le=60)] = 5.0


class Disconnect(msgspec.Struct, tag="disconnect", tag_field="kind", forbid_unknown_fields=True):
    """Handle the request, then close the connection without answering: the answer is lost."""


Failure = Refuse | Stall | Disconnect


# ---- our (snake_case) API around the sandbox: the widget stand-in and the failure script -----
class CheckoutIn(Request):
    order_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{6,64}$",
                                          description="Toss's orderId rule: 6-64 letters, digits, - or _.")]
    amount: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)]


class CheckoutOut(msgspec.Struct):
    payment_key: str


class FailuresIn(Request):
    order_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    failures: Annotated[list[Failure], msgspec.Meta(min_length=1, max_length=20)]


# ---- the sandbox ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Movement:
    """Money that moved: what tests count to prove a payment was charged (or refunded) once."""
    kind: Literal["approve", "cancel"]
    payment_key: str
    order_id: str
    amount: int


@dataclass(frozen=True)
class Call:
    """A call of the Toss API as the sandbox received it: what tests read to see what a client sent."""
    method: str
    path: str
    idempotency_key: str | None


@dataclass(frozen=True)
class _Answer:
    fingerprint: bytes
    status: int
    body: bytes


Answer = tuple[int, bytes]            # an HTTP status and a JSON body, as Toss would send them


class TossSandbox:
    session_seconds: float = 600      # Toss allows ten minutes from the widget to the confirm
    # Toss approves one payment per order (DUPLICATED_ORDER_ID for any other). A test turns this off
    # to play a provider that charges a second payment of an order, which the server must refund.
    one_approval_per_order: bool = True

    def __init__(self, secret_key: str, *, latency: tuple[float, float] = (0, 0)) -> None:
        self.secret_key = secret_key
        self.latency = latency
        self._payments: dict[str, TossPayment] = {}
        self._checked_out: dict[str, float] = {}
        self._orders: dict[str, list[str]] = defaultdict(list)
        self._answers: dict[tuple[str, str], _Answer] = {}
        self._in_flight: set[tuple[str, str]] = set()
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self.ledger: list[Movement] = []
        self.calls: deque[Call] = deque(maxlen=10_000)      # the latest: a long demo run must not grow it
        self.stalled = 0                   # requests held back by a Stall, not yet handled
        self.closing = asyncio.Event()     # set on shutdown: stalled requests stop waiting

    # -- the widget and the failure script --
    def checkout(self, order_id: str, amount: int) -> str:
        """What the Toss widget does once the buyer has authenticated: a payment waiting for confirm."""
        payment_key = "tsb_" + secrets.token_hex(16)
        self._payments[payment_key] = TossPayment(
            payment_key=payment_key, order_id=order_id, status=PaymentStatus.IN_PROGRESS,
            total_amount=amount, balance_amount=amount, order_name=f"Ticket Blue {order_id}",
            method="카드", requested_at=_now())
        self._checked_out[payment_key] = time.monotonic()
        self._orders[order_id].append(payment_key)
        return payment_key

    def fail_next(self, order_id: str, *failures: Failure) -> None:
        self._failures[order_id].extend(failures)

    def next_failure(self, order_id: str | None) -> Failure | None:
        queue = self._failures.get(order_id or "")
        return queue.popleft() if queue else None

    def pending_failures(self, order_id: str) -> int:
        return len(self._failures.get(order_id, ()))

    def order_of(self, payment_key: str) -> str | None:
        payment = self._payments.get(payment_key)
        return payment.order_id if payment else None

    def payments_of(self, order_id: str) -> list[TossPayment]:
        """Every payment checked out for the order, as it is now (what a reconciliation compares with)."""
        return [self._payments[key] for key in self._orders.get(order_id, ())]

    @property
    def in_flight(self) -> int:
        """POSTs with an Idempotency-Key being handled now (their answer not sent yet)."""
        return len(self._in_flight)

    def close(self) -> None:
        self.closing.set()

    @staticmethod
    def new_secret_key() -> str:
        return "test_sk_" + secrets.token_urlsafe(24)

    # -- answering, in Toss's time --
    async def answer(self, action: Callable[[], TossPayment]) -> Answer:
        """The answer to a call without an Idempotency-Key (reads, and POSTs that carry none)."""
        _, answer = await self._in_time(lambda: _attempt(action))
        return answer

    async def refusal(self, code: str) -> Answer:
        return await self._in_time(lambda: _error_answer(TossError(code)))

    async def _in_time(self, step: Callable[[], _T]) -> _T:
        """Take `step` (one go, never interleaved with another) at a random moment of this call's
        latency, and answer after the rest of it."""
        total = random.uniform(self.latency[0], max(self.latency))
        before = random.uniform(0, total)
        if before:
            await asyncio.sleep(before)
        result = step()
        if total > before:
            await asyncio.sleep(total - before)
        return result

    # -- idempotency --
    async def remembered(self, idempotency_key: str | None, scope: str, fingerprint: bytes,
                         action: Callable[[], TossPayment]) -> Answer:
        """The answer to a POST, replayed for a repeated Idempotency-Key as Toss does: the key is
        scoped by method and URL (`scope`) and, for the sandbox, bound to the request body. While the
        first request with a key is being handled, another with that key is answered 409
        IDEMPOTENT_REQUEST_PROCESSING; once it is done, its answer is replayed."""
        if idempotency_key is None:
            return await self.answer(action)
        if len(idempotency_key) > 300:
            return await self.refusal("INVALID_IDEMPOTENCY_KEY")
        slot = (idempotency_key, scope)
        stored = self._answers.get(slot)
        if stored is not None:
            if stored.fingerprint != fingerprint:
                return await self.refusal("IDEMPOTENCY_KEY_REUSED")
            return await self._in_time(lambda: (stored.status, stored.body))
        if slot in self._in_flight:
            return await self.refusal("IDEMPOTENT_REQUEST_PROCESSING")
        self._in_flight.add(slot)
        try:
            error, answer = await self._in_time(lambda: _attempt(action))
        finally:
            self._in_flight.discard(slot)
        if error is None or not error.transient:
            self._answers[slot] = _Answer(fingerprint, *answer)
        return answer

    # -- Toss's operations --
    def confirm(self, payment_key: str, order_id: str, amount: int, *, refuse_with: str | None = None) -> TossPayment:
        payment = self._payments.get(payment_key)
        if payment is None or payment.order_id != order_id:
            raise TossError("NOT_FOUND_PAYMENT_SESSION")
        if payment.status != PaymentStatus.IN_PROGRESS:
            raise TossError("ALREADY_PROCESSED_PAYMENT")
        if time.monotonic() - self._checked_out[payment_key] > self.session_seconds:
            self._payments[payment_key] = msgspec.structs.replace(payment, status=PaymentStatus.EXPIRED)
            raise TossError("NOT_FOUND_PAYMENT_SESSION")
        if amount != payment.total_amount:
            raise TossError("INVALID_REQUEST", "결제 금액이 결제 요청 금액과 일치하지 않습니다.")
        if amount < MINIMUM_CARD_AMOUNT:
            raise TossError("BELOW_MINIMUM_AMOUNT")
        if self.one_approval_per_order and any(
                self._payments[key].status in _FINISHED for key in self._orders[order_id]):
            raise TossError("DUPLICATED_ORDER_ID")
        if refuse_with:
            error = TossError(refuse_with)
            if not error.transient:       # a definitive refusal ends the payment, as a decline does
                self._payments[payment_key] = msgspec.structs.replace(
                    payment, status=PaymentStatus.ABORTED, failure=TossFailure(error.code, error.message))
            raise error
        done = msgspec.structs.replace(payment, status=PaymentStatus.DONE, approved_at=_now(),
                                       last_transaction_key=_transaction_key())
        self._payments[payment_key] = done
        self.ledger.append(Movement("approve", payment_key, order_id, amount))
        return done

    def cancel(self, payment_key: str, reason: str, amount: int | None = None, *,
               refuse_with: str | None = None) -> TossPayment:
        payment = self._payments.get(payment_key)
        if payment is None:
            raise TossError("NOT_FOUND_PAYMENT")
        if refuse_with:
            raise TossError(refuse_with)
        if payment.status == PaymentStatus.CANCELED:
            raise TossError("ALREADY_CANCELED_PAYMENT")
        if payment.status not in _FINISHED:
            raise TossError("NOT_CANCELABLE_PAYMENT")
        amount = payment.balance_amount if amount is None else amount
        if amount > payment.balance_amount:
            raise TossError("NOT_CANCELABLE_AMOUNT")
        balance = payment.balance_amount - amount
        transaction_key = _transaction_key()
        entry = TossCancel(transaction_key=transaction_key, cancel_reason=reason, cancel_amount=amount,
                           canceled_at=_now(), refundable_amount=balance)
        canceled = msgspec.structs.replace(
            payment, balance_amount=balance, cancels=[*(payment.cancels or []), entry],
            status=PaymentStatus.CANCELED if balance == 0 else PaymentStatus.PARTIAL_CANCELED,
            last_transaction_key=transaction_key)
        self._payments[payment_key] = canceled
        self.ledger.append(Movement("cancel", payment_key, payment.order_id, amount))
        return canceled

    def get(self, payment_key: str) -> TossPayment:
        payment = self._payments.get(payment_key)
        if payment is None:
            raise TossError("NOT_FOUND_PAYMENT")
        return payment

    def get_by_order_id(self, order_id: str) -> TossPayment:
        """The order's approved payment if it has one, else its latest attempt."""
        payments = self.payments_of(order_id)
        if not payments:
            raise TossError("NOT_FOUND_PAYMENT")
        return next((p for p in payments if p.status in _FINISHED), payments[-1])


def _attempt(action: Callable[[], TossPayment]) -> tuple[TossError | None, Answer]:
    try:
        return None, (200, msgspec.json.encode(action()))
    except TossError as error:
        return error, _error_answer(error)


def _error_answer(error: TossError) -> Answer:
    return error.status, error.body()


def _now() -> datetime:
    return datetime.now(_KST).replace(microsecond=0)


def _transaction_key() -> str:
    return uuid.uuid4().hex.upper()
