"""The built-in Toss Payments sandbox: Toss's payment rules, in memory, for runs without Toss keys.

With no TICKETBLUE_TOSS_SECRET_KEY the server hosts this sandbox and its Toss client talks to it
over real HTTP (the wire protocol is in server/payments/sandbox_http.py). It keeps Toss's rules:
Basic auth with the sandbox secret key, confirm within the session of a checkout and for the
checkout's amount, 100 KRW minimum, one approval per payment, full and partial cancels up to the
balance, Idempotency-Key replay, and Toss's error codes and messages.

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
The same queue is reachable over HTTP (POST /sandbox/toss/failures), and Toss's own test header
`TossPayments-Test-Code: <code>` is honoured like Refuse(code).
"""
from __future__ import annotations

import asyncio
import secrets
import time
import uuid
from collections import defaultdict, deque
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Annotated, Callable, Literal

import msgspec

from server.payments.toss import PaymentStatus, TossCancel, TossFailure, TossPayment
from server.schemas.common import Request

SANDBOX_SECRET_KEY = "test_sk_sandbox"
MINIMUM_CARD_AMOUNT = 100
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
class _Answer:
    fingerprint: bytes
    status: int
    body: bytes


class TossSandbox:
    session_seconds: float = 600      # Toss allows ten minutes from the widget to the confirm

    def __init__(self) -> None:
        self._payments: dict[str, TossPayment] = {}
        self._checked_out: dict[str, float] = {}
        self._orders: dict[str, list[str]] = defaultdict(list)
        self._answers: dict[tuple[str, str], _Answer] = {}
        self._failures: dict[str, deque[Failure]] = defaultdict(deque)
        self.ledger: list[Movement] = []
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

    def close(self) -> None:
        self.closing.set()

    # -- idempotency --
    def remembered(self, idempotency_key: str | None, scope: str, fingerprint: bytes,
                   action: Callable[[], TossPayment]) -> tuple[int, bytes]:
        """The answer to a POST, replayed for a repeated Idempotency-Key as Toss does: the key is
        scoped by method and URL (`scope`) and, for the sandbox, bound to the request body."""
        if idempotency_key is not None and len(idempotency_key) > 300:
            return _error_answer(TossError("INVALID_IDEMPOTENCY_KEY"))
        stored = self._answers.get((idempotency_key, scope)) if idempotency_key is not None else None
        if stored is not None:
            if stored.fingerprint != fingerprint:
                return _error_answer(TossError("IDEMPOTENCY_KEY_REUSED"))
            return stored.status, stored.body
        try:
            answer = 200, msgspec.json.encode(action())
        except TossError as error:
            if error.transient:
                return _error_answer(error)
            answer = _error_answer(error)
        if idempotency_key is not None:
            self._answers[(idempotency_key, scope)] = _Answer(fingerprint, *answer)
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
        if any(self._payments[key].status in _FINISHED for key in self._orders[order_id]):
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
        payments = [self._payments[key] for key in self._orders.get(order_id, ())]
        if not payments:
            raise TossError("NOT_FOUND_PAYMENT")
        return next((p for p in payments if p.status in _FINISHED), payments[-1])


def _error_answer(error: TossError) -> tuple[int, bytes]:
    return error.status, error.body()


def _now() -> datetime:
    return datetime.now(_KST).replace(microsecond=0)


def _transaction_key() -> str:
    return uuid.uuid4().hex.upper()
