"""Rendering the pages: one Jinja2 environment with HTML autoescaping, texts per language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from channels.webform.i18n import CATALOGUES, Texts
from channels.webform.security import secure
from channels.webform.settings import Language, WebformSettings

_ENV = Environment(
    loader=PackageLoader("channels.webform", "templates"),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
STYLESHEET = resources.files("channels.webform").joinpath("static/form.css").read_bytes()


@dataclass(frozen=True)
class PageContext:
    """Which form a request is about, in which language, and where its pages are."""

    account: str
    settings: WebformSettings
    language: Language
    form_url: str
    status_url: str

    @property
    def t(self) -> Texts:
        return Texts(self.language)

    def local_time(self, value: str | datetime) -> str:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.astimezone(ZoneInfo(self.settings.timezone)).strftime("%Y-%m-%d %H:%M")


def render(
    context: PageContext, template: str, *, status: int = 200, here: str, title: str, **values: Any
) -> web.Response:
    return html_response(render_html(context, template, here=here, title=title, **values), status)


def html_response(html: str, status: int = 200) -> web.Response:
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    secure(response)
    return response


def render_html(
    context: PageContext, template: str, *, here: str, title: str, **values: Any
) -> str:
    settings = context.settings
    return _ENV.get_template(template).render(
        lang=context.language,
        t=context.t,
        title=title,
        company=settings.company.get(context.language),
        brand=settings.brand.get(context.language) if settings.brand else "",
        switch=[(code, CATALOGUES[code]["lang_name"]) for code in settings.languages],
        here=here,
        form_url=context.form_url,
        status_url=context.status_url,
        **values,
    )


def message_page(
    context: PageContext,
    status: int,
    topic: str,
    *,
    here: str,
    show_back: bool = True,
    **values: object,
) -> web.Response:
    """A short page for refusals: `topic` names the `msg_<topic>` texts."""
    t = context.t
    return render(
        context,
        "message.html",
        status=status,
        here=here,
        title=t(f"msg_{topic}_title"),
        message=t(f"msg_{topic}", **values),
        show_back=show_back,
    )
