"""The hotline's HTTP side: one Twilio webhook route per call step, and the import API.

Every webhook is checked against `X-Twilio-Signature` with the account's auth
token over the public URL (`host.public_base_url` + path and query, as Twilio
signed it) before anything is stored; a request that fails gets 403 and
leaves no trace. A step that cannot answer within the time budget tells the
caller so and hangs up: Twilio waits 15 s at most, and what the caller said
is kept already, so the status callback still archives the call.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import ValidationError
from twilio.request_validator import RequestValidator
from twilio.twiml.voice_response import VoiceResponse

from channels.base import AccountView, ChannelHost
from channels.hotline.callflow import STEPS, Call, Step, base_url
from channels.hotline.phones import e164
from channels.hotline.settings import HotlineSettings
from channels.hotline.texts import say
from channels.hotline.twiml import goodbye, speak

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger(__name__)
KIND = "hotline.twilio"
TIME_BUDGET_SECONDS = 10.0  # well inside Twilio's 15 s
ACCOUNT_CACHE_SECONDS = 1.0
TOKEN_CACHE_SECONDS = 60.0  # a rotated token file is read again within a minute


class AccountCache:
    """Accounts seen in the last second: a call's steps come in quick succession.

    Only found accounts are kept, so a number added at run time answers at
    once; a change or a disable takes effect within a second. The validated
    settings and the signature validator are kept with the account while its
    settings stay the same: per request they cost more than the step's own work.
    """

    def __init__(self, host: ChannelHost) -> None:
        self.host = host
        self._seen: dict[str, tuple[float, AccountView]] = {}
        self._parsed: dict[str, tuple[str, float, HotlineSettings, RequestValidator | None]] = {}

    async def get(self, name: str) -> AccountView | None:
        now = time.monotonic()
        hit = self._seen.get(name)
        if hit and now - hit[0] < ACCOUNT_CACHE_SECONDS:
            return hit[1]
        account = await self.host.account(name)
        if len(self._seen) > 1_000:
            self._seen.clear()
            self._parsed.clear()
        if account is not None:
            self._seen[name] = (now, account)
        return account

    def settings(self, account: AccountView) -> tuple[HotlineSettings, RequestValidator | None]:
        """Validated settings and a validator over the resolved token (None: no token);
        raises ValidationError or ValueError (token unreadable) as the uncached path would."""
        key = json.dumps(account.settings, sort_keys=True, default=str)
        now = time.monotonic()
        hit = self._parsed.get(account.name)
        if hit and hit[0] == key and now - hit[1] < TOKEN_CACHE_SECONDS:
            return hit[2], hit[3]
        settings = HotlineSettings.model_validate(account.settings)
        validator = (
            RequestValidator(self.host.secret(settings.auth_token))
            if settings.number and settings.auth_token
            else None
        )
        self._parsed[account.name] = (key, now, settings, validator)
        return settings, validator


def _refuse(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def _twiml(response: VoiceResponse) -> web.Response:
    return web.Response(text=str(response), content_type="text/xml", charset="utf-8")


async def _hotline_account(
    accounts: AccountCache, name: str
) -> tuple[AccountView, HotlineSettings, RequestValidator] | web.Response:
    account = await accounts.get(name)
    if account is None or account.kind != KIND:
        return _refuse(404, "unknown_channel_account", "no such hotline account")
    try:
        settings, validator = accounts.settings(account)
    except ValidationError:
        log.error("hotline account has invalid settings", extra={"account": name})
        return _refuse(500, "invalid_settings", "the account's settings are invalid")
    except ValueError as exc:
        log.error("hotline auth token unreadable", extra={"account": name})
        return _refuse(500, "secret_unreadable", str(exc))
    if validator is None:
        return _refuse(404, "no_number", "this hotline account takes no calls")
    return account, settings, validator


def step_handler(host: ChannelHost, accounts: AccountCache, step: Step) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        found = await _hotline_account(accounts, request.match_info["account"])
        if isinstance(found, web.Response):
            return found
        account, settings, validator = found
        form = await request.post()
        params = {key: value for key, value in form.items() if isinstance(value, str)}
        url = host.public_base_url.rstrip("/") + request.raw_path
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not validator.validate(url, params, signature):
            return _refuse(403, "bad_signature", "X-Twilio-Signature does not match")
        if not account.enabled:
            return _refuse(403, "channel_disabled", f"{account.name} is disabled")
        if "To" in params and e164(params["To"], settings.default_region) != settings.number:
            return _refuse(404, "unknown_number", "the called number is not this account's")
        if not params.get("CallSid"):
            return _refuse(400, "missing_call_sid", "CallSid is required")
        language = request.query.get("lang", "")
        call = Call(
            host=host,
            account=account,
            settings=settings,
            sid=params["CallSid"],
            params=params,
            language=language if language in settings.languages else settings.languages[0],
            attempt=_attempt(request.query.get("attempt", "1")),
            step_url=base_url(host.public_base_url, account.name),
        )
        try:
            async with asyncio.timeout(TIME_BUDGET_SECONDS):
                return _twiml(await step(call))
        except TimeoutError:
            log.error("hotline step too slow", extra={"account": account.name})
            response = VoiceResponse()
            speak(response, say(settings, call.language, "technical"), call.language)
            return _twiml(goodbye(response, settings, call.language))

    return handle


def _attempt(value: str) -> int:
    return int(value) if value.isdigit() and 0 < int(value) < 100 else 1


def voice_routes(host: ChannelHost) -> list[web.AbstractRouteDef]:
    accounts = AccountCache(host)
    return [
        web.post(f"/hotline/twilio/{{account}}/{name}", step_handler(host, accounts, step))
        for name, step in STEPS.items()
    ]
