"""Fixtures for the web form: a running gateway, a browser-like form client, test photos."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import FormData
from PIL import ExifTags, Image

from tests.conftest import make_settings
from tests.gateway.harness import Gateway, running_gateway
from tests.twilio_api import twilio_api  # noqa: F401  (a fixture)

TOKEN = re.compile(r'name="_csrf" value="([^"]+)"')
REFERENCE = re.compile(r'id="reference">(QC-\d{6}-\d{6})<')


def jpeg_with_gps(size: tuple[int, int] = (64, 32), orientation: int = 6) -> bytes:
    """A JPEG carrying a GPS position, a camera owner and an orientation tag."""
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((20, 20, 220), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Artist] = "Zhang San 13812345678"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (31.0, 14.0, 5.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (121.0, 28.0, 9.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", size, (0, 128, 0, 200)).save(out, "PNG")
    return out.getvalue()


@dataclass
class FormClient:
    """Talks to the form the way a browser does: GET for a token, POST multipart."""

    gw: Gateway
    path: str = "/"

    async def token(self, path: str | None = None, **headers: str) -> str:
        response = await self.gw.client.get(path or self.path, headers=headers)
        assert response.status == 200, await response.text()
        match = TOKEN.search(await response.text())
        assert match, "no CSRF token on the page"
        return match.group(1)

    async def post(
        self,
        fields: dict[str, str],
        photos: list[tuple[str, bytes, str]] | None = None,
        *,
        path: str | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str]:
        form = FormData()
        form.add_field("_csrf", token if token is not None else await self.token(path))
        for name, value in fields.items():
            form.add_field(name, value)
        for filename, data, content_type in photos or []:
            form.add_field("photos", data, filename=filename, content_type=content_type)
        response = await self.gw.client.post(path or self.path, data=form, headers=headers or {})
        return response.status, await response.text()


def good_fields(**changes: str) -> dict[str, str]:
    fields = {
        "lang": "zh-CN",
        "name": "张三",
        "phone": "138 1234 5678",
        "email": "zhang.san@example.com",
        "preferred_contact": "phone",
        "order_number": "HT20260315-0042",
        "product_model": "KFR-35GW/HT1",
        "serial": "SN2603A17745",
        "quantity": "1",
        "occurred_on": "",
        "location": "上海市浦东新区",
        "description": "空调KFR-35GW/HT1安装后第三天外壳开裂，制冷时噪音很大，要求上门维修。",
        "consent": "1",
        "website": "",
    }
    fields.update(changes)
    return {key: value for key, value in fields.items() if value is not None}


def reference_in(html: str) -> str:
    match = REFERENCE.search(html)
    assert match, f"no reference on the page: {html[:500]}"
    return match.group(1)


@pytest.fixture
async def webgw(sqlite_url: str, classify_step: Any) -> AsyncIterator[Gateway]:
    async with running_gateway(make_settings(sqlite_url), classify_step) as gw:
        yield gw


@pytest.fixture
def form(webgw: Gateway) -> FormClient:
    return FormClient(webgw)
