"""Settings of the e-mail channel kinds, as stored on their channel accounts.

Secrets (IMAP passwords, OAuth2 tokens, SMTP AUTH passwords) are references only:
`env:NAME` or `file:/path`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MiB = 1024 * 1024


def _reference(value: str | None) -> str | None:
    if value is None:
        return None
    scheme, _, target = value.partition(":")
    if scheme not in ("env", "file") or not target:
        raise ValueError("secrets are given by reference: env:NAME or file:/path")
    return value


class EmailSettings(BaseModel):
    """What every e-mail account has: limits and how it answers."""

    model_config = ConfigDict(extra="forbid")

    max_message_bytes: int = Field(default=25 * MiB, ge=1024, description="larger mail is refused")
    acknowledge: bool = Field(default=True, description="send the reference back by e-mail")
    reply_from: str | None = Field(
        default=None, description="From of acknowledgements (default: the relay's sender)"
    )
    acks_per_address_per_hour: int = Field(default=3, ge=0, description="loop and flood brake")
    company_name_zh: str = "恒泰电器"
    company_name_en: str = "Hengtai Appliances"


class ImapSettings(EmailSettings):
    """One mailbox polled over IMAP (`email.imap`)."""

    host: str
    port: int | None = Field(default=None, description="default 993 with tls, else 143")
    security: Literal["tls", "starttls", "none"] = "tls"
    verify_certificate: bool = True
    username: str
    password: str | None = Field(default=None, description="reference: env:NAME or file:/path")
    oauth2_token: str | None = Field(default=None, description="reference to an access token")
    folder: str = "INBOX"
    processed_folder: str | None = Field(
        default=None, description="move archived mail here; if unset, flag it in place"
    )
    processed_flag: str = Field(default="$ComplaintArchived", pattern=r"^[$\\]?[A-Za-z0-9_-]+$")
    poll_seconds: float = Field(default=60.0, gt=0)
    idle: bool = Field(default=True, description="use IDLE when the server offers it")
    idle_seconds: float = Field(default=300.0, gt=0, le=1740, description="re-issue IDLE after")
    batch_size: int = Field(default=50, ge=1, le=500)
    timeout_seconds: float = Field(default=60.0, gt=0)

    @field_validator("password", "oauth2_token")
    @classmethod
    def _secret_references(cls, value: str | None) -> str | None:
        return _reference(value)

    @model_validator(mode="after")
    def _credentials(self) -> ImapSettings:
        if not (self.password or self.oauth2_token):
            raise ValueError("give password or oauth2_token (a reference)")
        return self

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)


class SmtpListenerSettings(EmailSettings):
    """Mail delivered straight to the gateway (`email.smtp`), for some addresses or domains.

    Accounts that share a listen address share one server; they must agree on its TLS
    and AUTH settings.
    """

    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=2525, ge=0, le=65535)
    addresses: list[str] = Field(default_factory=list, description="recipients taken")
    domains: list[str] = Field(default_factory=list, description="every recipient at these")
    server_name: str | None = Field(default=None, description="the name in the greeting")
    tls_certificate: str | None = Field(default=None, description="PEM file; enables STARTTLS")
    tls_key: str | None = None
    require_tls: bool = False
    auth_users: dict[str, str] = Field(
        default_factory=dict, description="user name → password reference; enables AUTH"
    )
    require_auth: bool = False

    @field_validator("addresses", "domains")
    @classmethod
    def _lower(cls, values: list[str]) -> list[str]:
        return [value.strip().lower().lstrip("@") for value in values if value.strip()]

    @field_validator("auth_users")
    @classmethod
    def _auth_references(cls, values: dict[str, str]) -> dict[str, str]:
        for value in values.values():
            _reference(value)
        return values

    @model_validator(mode="after")
    def _takes_something(self) -> SmtpListenerSettings:
        if not (self.addresses or self.domains):
            raise ValueError("give the addresses or domains this account takes mail for")
        if bool(self.tls_certificate) != bool(self.tls_key):
            raise ValueError("tls_certificate and tls_key go together")
        if self.require_tls and not self.tls_certificate:
            raise ValueError("require_tls needs tls_certificate and tls_key")
        if self.require_auth and not self.auth_users:
            raise ValueError("require_auth needs auth_users")
        return self

    def takes(self, address: str) -> bool:
        address = address.strip().strip("<>").lower()
        return address in self.addresses or address.rpartition("@")[2] in self.domains
