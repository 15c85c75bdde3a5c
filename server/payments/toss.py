"""The Toss Payments client: confirm, cancel and read payments over Toss's v1 HTTP API.

Every confirm and cancel carries an `Idempotency-Key` chosen by the caller. Toss remembers the
key (with the API key, URL and method) for 15 days and answers a repeat with the first answer,
so a call whose answer was lost can be sent again without charging or refunding twice. That is
why this client retries on network errors and timeouts, and why the key must come from the
caller: it has to be stored with the payment before the first attempt and reused by any later
retry of the same operation (a restarted request, a reconciliation job), never made up anew.

Toss's error codes are folded into a few `PaymentError`s, each an `ApiError` with the status and
code our API answers with; Toss's own code and message travel along in `details.provider_code`
and the message.
"""
from __future__ import annotations

import asyncio
import base64
import logging
import random
import uuid
from datetime import datetime
from typing import Any
from urllib.parse import quote

import aiohttp
import msgspec

from server.errors import ApiError, Code
from server.metrics import Metrics

log = logging.getLogger(__name__)

TOSS_API_URL = "https://api.tosspayments.com"
MAX_IDEMPOTENCY_KEY_LENGTH = 300      # Toss answers INVALID_IDEMPOTENCY_KEY above this


# ---- what Toss answers ----------------------------------------------------------------------
class PaymentStatus:
    """Toss's payment statuses. `TossPayment.status` stays a plain string so that a status Toss
    adds later cannot make a successful payment unreadable."""
    READY = "READY"
    IN_PROGRESS = "IN_PROGRESS"              # authenticated in the widget, waiting for confirm
    WAITING_FOR_DEPOSIT = "WAITING_FOR_DEPOSIT"
    DONE = "DONE"
    CANCELED = "CANCELED"
    PARTIAL_CANCELED = "PARTIAL_CANCELED"
    ABORTED = "ABORTED"                      # confirm failed (declined)
    EXPIRED = "EXPIRED"                      # not confirmed in time


class TossCancel(msgspec.Struct, rename="camel", kw_only=True):
    transaction_key: str
    cancel_reason: str
    cancel_amount: int
    canceled_at: datetime
    refundable_amount: int = 0
    cancel_status: str = "DONE"


class TossFailure(msgspec.Struct):
    code: str
    message: str = ""


class TossPayment(msgspec.Struct, rename="camel", kw_only=True):
    """The part of Toss's Payment object this server uses (Toss sends more; it is ignored)."""
    payment_key: str
    order_id: str
    status: str
    total_amount: int
    balance_amount: int
    order_name: str = ""
    currency: str = "KRW"
    method: str | None = None
    requested_at: datetime | None = None
    approved_at: datetime | None = None
    last_transaction_key: str | None = None
    cancels: list[TossCancel] | None = None
    failure: TossFailure | None = None


# ---- errors ---------------------------------------------------------------------------------
class PaymentError(ApiError):
    """A payment call failed. `provider_code` is Toss's error code (None when Toss never answered)."""
    status, code = 502, Code.PAYMENT_PROVIDER_ERROR

    def __init__(self, message: str, *, provider_code: str | None = None, **details: Any):
        if provider_code:
            details["provider_code"] = provider_code
        super().__init__(message, details=details)
        self.provider_code = provider_code


class PaymentDeclined(PaymentError):
    """The card or account refused (limit, balance, expired or stopped card...): try another card."""
    status, code = 402, Code.PAYMENT_DECLINED


class PaymentBelowMinimum(PaymentError):
    """Toss takes card payments from 100 KRW."""
    status, code = 400, Code.AMOUNT_BELOW_MINIMUM


class PaymentInvalid(PaymentError):
    """Toss refused the request itself (e.g. the amount differs from the one the widget showed)."""
    status, code = 400, Code.PAYMENT_INVALID


class PaymentNotFound(PaymentError):
    """No such payment, or its session expired before the confirm."""
    status, code = 404, Code.PAYMENT_NOT_FOUND


class PaymentAlreadyProcessed(PaymentError):
    """Confirmed or canceled before, by an earlier call with another (or no) idempotency key."""
    status, code = 409, Code.PAYMENT_ALREADY_PROCESSED


class PaymentNotCancelable(PaymentError):
    """The payment cannot be canceled (any more, or not by this amount)."""
    status, code = 409, Code.PAYMENT_NOT_CANCELABLE


class PaymentProviderError(PaymentError):
    """Toss failed or could not be reached.

    `outcome_unknown` is true when the operation may have happened anyway (no answer, a 5xx, a
    request still in progress): the caller must not treat it as "nothing happened", but retry
    later with the same idempotency key or read the payment back (`get_by_order_id`)."""
    status, code = 502, Code.PAYMENT_PROVIDER_ERROR

    def __init__(self, message: str, *, provider_code: str | None = None, outcome_unknown: bool = False,
                 **details: Any):
        super().__init__(message, provider_code=provider_code, **details)
        self.outcome_unknown = outcome_unknown


_KINDS: dict[str, type[PaymentError]] = {code: kind for kind, codes in (
    (PaymentDeclined, """REJECT_CARD_PAYMENT REJECT_CARD_COMPANY REJECT_ACCOUNT_PAYMENT
        REJECT_TOSSPAY_INVALID_ACCOUNT INVALID_REJECT_CARD INVALID_CARD_EXPIRATION INVALID_STOPPED_CARD
        INVALID_CARD_LOST_OR_STOLEN INVALID_CARD_NUMBER INVALID_PASSWORD INVALID_CARD_PASSWORD
        INVALID_AUTHORIZE_AUTH INVALID_CARD_INSTALLMENT_PLAN EXCEED_MAX_CARD_INSTALLMENT_PLAN
        NOT_SUPPORTED_INSTALLMENT_PLAN_CARD_OR_MERCHANT NOT_SUPPORTED_MONTHLY_INSTALLMENT_PLAN
        NOT_ALLOWED_POINT_USE EXCEED_MAX_DAILY_PAYMENT_COUNT EXCEED_MAX_PAYMENT_AMOUNT EXCEED_MAX_AMOUNT
        EXCEED_MAX_ONE_DAY_AMOUNT EXCEED_MAX_MONTHLY_PAYMENT_AMOUNT EXCEED_MAX_AUTH_COUNT
        EXCEED_MAX_ONE_DAY_WITHDRAW_AMOUNT EXCEED_MAX_ONE_TIME_WITHDRAW_AMOUNT NOT_AVAILABLE_BANK
        NOT_AVAILABLE_PAYMENT RESTRICTED_TRANSFER_ACCOUNT FDS_ERROR"""),
    (PaymentBelowMinimum, "BELOW_MINIMUM_AMOUNT"),
    (PaymentInvalid, "INVALID_REQUEST INVALID_REQUIRED_PARAM UNAPPROVED_ORDER_ID"),
    (PaymentNotFound, "NOT_FOUND_PAYMENT NOT_FOUND_PAYMENT_SESSION NOT_FOUND"),
    (PaymentAlreadyProcessed, "ALREADY_PROCESSED_PAYMENT ALREADY_CANCELED_PAYMENT ALREADY_REFUND_PAYMENT "
                              "DUPLICATED_ORDER_ID"),
    (PaymentNotCancelable, """NOT_CANCELABLE_AMOUNT NOT_CANCELABLE_PAYMENT EXCEED_MAX_REFUND_DUE
        NOT_ALLOWED_PARTIAL_REFUND NOT_ALLOWED_PARTIAL_REFUND_WAITING_DEPOSIT NOT_MATCHES_REFUNDABLE_AMOUNT
        REFUND_REJECTED NOT_CANCELABLE_PAYMENT_FOR_DORMANT_USER EXCEED_CANCEL_AMOUNT_DISCOUNT_AMOUNT"""),
) for code in codes.split()}

# The one answer Toss documents as "ask again": the first request with this key is still running.
_STILL_PROCESSING = "IDEMPOTENT_REQUEST_PROCESSING"


def error_for(status: int, code: str | None, message: str) -> PaymentError:
    """The exception for one Toss error answer. Anything not classified above (PROVIDER_ERROR,
    UNAUTHORIZED_KEY, 5xx, codes Toss adds later) is the provider's failure, not the buyer's."""
    kind = _KINDS.get(code or "")
    if kind is not None:
        return kind(message or code or "", provider_code=code)
    unknown = status >= 500 or code == _STILL_PROCESSING
    return PaymentProviderError(message or f"Toss Payments answered {status}.", provider_code=code,
                                outcome_unknown=unknown)


# ---- the client -----------------------------------------------------------------------------
class TossPayments:
    """One instance per application, on the shared client session.

    Each call is tried `1 + retries` times, each attempt limited to `timeout_seconds`, waiting
    `backoff_seconds` (doubled per retry, with jitter) in between. Only a failure to get an answer
    is retried — a connection error, a timeout — plus IDEMPOTENT_REQUEST_PROCESSING, which Toss
    documents as "send it again". Any other answer, 4xx or 5xx, goes straight to the caller as a
    `PaymentError`: it is Toss's decision (a declined card stays declined). After a 5xx or no
    answer at all the outcome is unknown (`PaymentProviderError.outcome_unknown`); the caller
    settles it later with the same key or by reading the payment back.
    """

    def __init__(self, http: aiohttp.ClientSession, *, base_url: str, secret_key: str,
                 timeout_seconds: float, retries: int, backoff_seconds: float, metrics: Metrics | None = None):
        self.base_url = base_url.rstrip("/")
        self._metrics = metrics or Metrics()
        self._http = http
        # Basic auth with the secret key as user name and no password: base64("secretKey:").
        self._authorization = "Basic " + base64.b64encode(f"{secret_key}:".encode()).decode()
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._attempts = 1 + retries
        self._backoff = backoff_seconds

    @staticmethod
    def new_idempotency_key() -> str:
        """A fresh key for a new confirm or cancel. Store it with the payment before the first call."""
        return uuid.uuid4().hex

    async def confirm(self, *, payment_key: str, order_id: str, amount: int, idempotency_key: str) -> TossPayment:
        """Approve the payment the buyer authorised in the widget, for the amount we computed."""
        return await self._call("confirm", "POST", "/v1/payments/confirm",
                                {"paymentKey": payment_key, "orderId": order_id, "amount": amount},
                                idempotency_key=idempotency_key)

    async def cancel(self, payment_key: str, *, reason: str, idempotency_key: str,
                     amount: int | None = None) -> TossPayment:
        """Refund the whole balance, or `amount` of it (a partial cancel)."""
        body: dict[str, Any] = {"cancelReason": reason}
        if amount is not None:
            body["cancelAmount"] = amount
        return await self._call("cancel", "POST", f"/v1/payments/{quote(payment_key, safe='')}/cancel", body,
                                idempotency_key=idempotency_key)

    async def get(self, payment_key: str) -> TossPayment:
        return await self._call("lookup", "GET", f"/v1/payments/{quote(payment_key, safe='')}")

    async def get_by_order_id(self, order_id: str) -> TossPayment:
        """The payment of one of our orders: how a lost answer is reconciled."""
        return await self._call("lookup", "GET", f"/v1/payments/orders/{quote(order_id, safe='')}")

    async def _call(self, operation: str, method: str, path: str, body: dict[str, Any] | None = None, *,
                    idempotency_key: str | None = None) -> TossPayment:
        """`operation` (confirm, cancel, lookup) names the call in /metrics."""
        headers = {"Authorization": self._authorization}
        data = None
        if body is not None:
            data = msgspec.json.encode(body)
            headers["Content-Type"] = "application/json"
        if method == "POST":
            if not idempotency_key or len(idempotency_key) > MAX_IDEMPOTENCY_KEY_LENGTH:
                raise ValueError("confirm and cancel need an idempotency key of 1 to 300 characters")
            headers["Idempotency-Key"] = idempotency_key
        url = self.base_url + path
        problem = ""
        for attempt in range(1, self._attempts + 1):
            if attempt > 1:
                await asyncio.sleep(self._backoff * 2 ** (attempt - 2) * random.uniform(0.5, 1))
            try:
                with self._metrics.toss_attempt(operation):
                    async with self._http.request(method, url, data=data, headers=headers,
                                                  timeout=self._timeout) as resp:
                        status, raw = resp.status, await resp.read()
            except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError, TimeoutError) as exc:
                self._metrics.toss_error(operation, "timeout" if isinstance(exc, TimeoutError) else "network")
                problem = type(exc).__name__
                log.warning("toss %s %s: %s (attempt %d of %d)", method, path, problem, attempt, self._attempts)
                continue
            if status == 200:
                return _decode_payment(raw)
            error = _decode_error(status, raw)
            if isinstance(error, PaymentProviderError):     # the provider's failure, not the buyer's
                self._metrics.toss_error(operation, "provider")
            if error.provider_code != _STILL_PROCESSING:
                if isinstance(error, PaymentProviderError):
                    log.error("toss %s %s answered %d %s", method, path, status, error.provider_code)
                raise error
            problem = _STILL_PROCESSING
            log.warning("toss %s %s: %s (attempt %d of %d)", method, path, problem, attempt, self._attempts)
        log.error("toss %s %s: no answer after %d attempts (%s)", method, path, self._attempts, problem)
        raise PaymentProviderError(f"Toss Payments did not answer in time ({problem}); try again shortly.",
                                   provider_code=problem if problem == _STILL_PROCESSING else None,
                                   outcome_unknown=True, attempts=self._attempts)


def _decode_payment(raw: bytes) -> TossPayment:
    try:
        return msgspec.json.decode(raw, type=TossPayment)
    except msgspec.DecodeError as exc:
        # A 200 we cannot read: the operation probably happened, so say so.
        log.error("toss answered a payment this client cannot read: %s", exc)
        raise PaymentProviderError("Toss Payments answered in an unexpected shape.", outcome_unknown=True) from None


def _decode_error(status: int, raw: bytes) -> PaymentError:
    try:
        failure = msgspec.json.decode(raw, type=TossFailure)
    except msgspec.DecodeError:
        return error_for(status, None, "")
    return error_for(status, failure.code, failure.message)
