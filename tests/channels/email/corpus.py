# ruff: noqa: E501  (the corpus is data: long literal mails read better on one line)
"""A corpus of tricky mail built here, each with what the normaliser must make of it.

Every case is raw bytes as a real client or server would send them: mislabelled
charsets, HTML-only bodies, Chinese clients' quote blocks, forwards, bounces,
auto-replies, broken MIME, winmail.dat and a large attachment.
"""

from __future__ import annotations

import base64
import quopri
import struct
import zlib
from dataclasses import dataclass, field

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
COMPLAINT_ZH = "我买的热水器JSQ24-HT3漏水严重，订单号HT20260315-0042，请尽快派人维修。"
COMPLAINT_EN = "My washing machine XQG100-HT8 leaks water. Order HT20260315-0042. Please repair it."


@dataclass
class Case:
    name: str
    data: bytes
    body_has: list[str] = field(default_factory=list)
    body_lacks: list[str] = field(default_factory=list)
    subject: str | None = None  # substring the subject must contain
    sender: str | None = None  # complainant e-mail
    name_is: str | None = None
    hints: list[str] = field(default_factory=list)
    no_hints: list[str] = field(default_factory=list)
    attachments: int | None = None
    language: str | None = None
    follow_up_of: str | None = None
    phones: list[str] = field(default_factory=list)


def b64(text: str, charset: str) -> str:
    return base64.b64encode(text.encode(charset)).decode()


def word(text: str, charset: str, encoding: str = "B", encode_as: str | None = None) -> str:
    codec = encode_as or charset
    if encoding == "B":
        return f"=?{charset}?B?{b64(text, codec)}?="
    q = quopri.encodestring(text.encode(codec), header=True).decode()
    return f"=?{charset}?Q?{q}?="


def mail(
    headers: str,
    body: bytes | str,
    *,
    charset: str | None = "utf-8",
    ctype: str = "text/plain",
    cte: str | None = None,
    sender: str = "张三 <zhangsan@example.cn>",
) -> bytes:
    lines = [
        f"From: {sender}",
        "To: service@hengtai.example",
        "Date: Mon, 16 Mar 2026 10:00:00 +0800",
    ]
    lines.append(f"Message-ID: <{zlib.crc32(headers.encode())}@example.cn>")
    lines += [line for line in headers.strip().split("\n") if line]
    if ctype:
        lines.append(f"Content-Type: {ctype}" + (f"; charset={charset}" if charset else ""))
    if cte:
        lines.append(f"Content-Transfer-Encoding: {cte}")
    head = "\r\n".join(lines).encode("utf-8")
    payload = body if isinstance(body, bytes) else body.encode(charset or "utf-8")
    return head + b"\r\n\r\n" + payload


def multipart(
    headers: str, parts: list[bytes], subtype: str = "mixed", sender: str | None = None
) -> bytes:
    boundary = "==b0und4ry=="
    inner = b"".join(b"--" + boundary.encode() + b"\r\n" + part + b"\r\n" for part in parts)
    inner += b"--" + boundary.encode() + b"--\r\n"
    kwargs = {"sender": sender} if sender else {}
    return mail(
        headers + "\nMIME-Version: 1.0",
        inner,
        charset=None,
        ctype=f'multipart/{subtype}; boundary="{boundary}"',
        **kwargs,
    )


def part(
    media_type: str,
    payload: bytes,
    *,
    charset: str | None = None,
    cte: str = "8bit",
    extra: str = "",
) -> bytes:
    head = f"Content-Type: {media_type}" + (f"; charset={charset}" if charset else "")
    head += f"\r\nContent-Transfer-Encoding: {cte}"
    if extra:
        head += "\r\n" + extra
    if cte == "base64":
        payload = base64.encodebytes(payload)
    elif cte == "quoted-printable":
        payload = quopri.encodestring(payload)
    return head.encode() + b"\r\n\r\n" + payload


def attachment(
    name: str, media_type: str, data: bytes, inline: bool = False, cid: str = ""
) -> bytes:
    disposition = "inline" if inline else "attachment"
    extra = f'Content-Disposition: {disposition}; filename="{name}"'
    if cid:
        extra += f"\r\nContent-ID: <{cid}>"
    return part(f'{media_type}; name="{name}"', data, cte="base64", extra=extra)


def tnef(body: str, files: list[tuple[str, bytes]]) -> bytes:
    """A minimal winmail.dat: TNEF signature, a body attribute, attachments."""

    def attribute(level: int, kind: int, data: bytes) -> bytes:
        checksum = sum(data) & 0xFFFF
        return struct.pack("<BII", level, kind, len(data)) + data + struct.pack("<H", checksum)

    out = struct.pack("<IH", 0x223E9F78, 1)
    out += attribute(1, 0x00089006, b"\x00\x00\x01\x00")  # TNEF version
    out += attribute(1, 0x0002800C, body.encode("cp1252"))  # body
    for name, data in files:
        out += attribute(2, 0x00069002, b"\x00" * 14)  # attachment render data starts one
        out += attribute(2, 0x00018010, name.encode() + b"\x00")  # title
        out += attribute(2, 0x0006800F, data)  # data
    return out


def build_cases() -> list[Case]:
    cases: list[Case] = []
    add = cases.append

    # --- charsets and headers -------------------------------------------------------------
    add(
        Case(
            "utf8_plain",
            mail("Subject: 热水器漏水", COMPLAINT_ZH),
            body_has=["JSQ24-HT3"],
            subject="热水器",
            language="zh",
            sender="zhangsan@example.cn",
            name_is="张三",
        )
    )
    add(
        Case(
            "gb2312_really_gbk",
            mail(
                f"Subject: {word('冰箱不制冷，镕', 'gb2312', encode_as='gbk')}",
                "冰箱坏了，镕铁的味道，喆".encode("gbk"),
                charset="gb2312",
            ),
            body_has=["镕铁", "喆"],
            subject="镕",
        )
    )
    add(
        Case(
            "gb18030_declared",
            mail(
                f"Subject: {word('空调漏水', 'gb18030')}",
                COMPLAINT_ZH.encode("gb18030"),
                charset="gb18030",
            ),
            body_has=["漏水严重"],
            subject="空调",
        )
    )
    add(
        Case(
            "big5_traditional",
            mail(
                f"Subject: {word('熱水器漏電', 'big5')}",
                "我們的熱水器漏電，請儘快處理。".encode("big5"),
                charset="big5",
            ),
            body_has=["熱水器漏電"],
            subject="漏電",
            language="zh",
        )
    )
    add(
        Case(
            "big5_hkscs_chars",
            mail(
                "Subject: hk",
                "香港用戶：冰箱壞咗，唔該盡快維修。".encode("big5hkscs"),
                charset="big5",
            ),
            body_has=["壞咗", "唔該"],
        )
    )
    add(
        Case(
            "iso2022jp",
            mail(
                f"Subject: {word('炊飯器の故障', 'iso-2022-jp')}",
                "炊飯器が壊れました。交換してください。".encode("iso-2022-jp"),
                charset="iso-2022-jp",
                cte="7bit",
            ),
            body_has=["炊飯器が壊れました"],
            subject="炊飯器",
            language="ja",
        )
    )
    add(
        Case(
            "windows1252_smart_quotes",
            mail(
                "Subject: =?windows-1252?Q?Broken_=93door=94?=",
                "The door \u201chandle\u201d broke \u2013 fix it. Order HT20260315-0042".encode(
                    "cp1252"
                ),
                charset="windows-1252",
            ),
            body_has=["\u201chandle\u201d", "\u2013"],
            subject="\u201cdoor\u201d",
            language="en",
        )
    )
    add(
        Case(
            "latin1_label_cp1252_bytes",
            mail(
                "Subject: euro",
                "It cost 300\u20ac and broke".encode("cp1252"),
                charset="iso-8859-1",
            ),
            body_has=["300\u20ac"],
        )
    )
    add(
        Case(
            "windows1251",
            mail(
                "Subject: =?windows-1251?B?" + b64("Холодильник", "cp1251") + "?=",
                "Холодильник сломался, прошу ремонт.".encode("cp1251"),
                charset="windows-1251",
            ),
            body_has=["Холодильник сломался"],
            subject="Холодильник",
        )
    )
    add(
        Case(
            "utf8_labelled_latin1",
            mail("Subject: mislabel", COMPLAINT_ZH.encode(), charset="iso-8859-1"),
            body_has=["漏水严重"],
        )
    )
    add(
        Case(
            "gbk_labelled_latin1",
            mail(
                "Subject: mislabel2",
                ("我家的微波炉冒烟了，差点起火，这是很严重的安全问题，请马上联系我。" * 2).encode(
                    "gbk"
                ),
                charset="iso-8859-1",
            ),
            body_has=["微波炉冒烟"],
        )
    )
    add(
        Case(
            "no_charset_gbk",
            mail(
                "Subject: nocharset",
                "电饭煲坏了，煮饭煮不熟，请退货。型号ABC。".encode("gbk"),
                charset=None,
            ),
            body_has=["电饭煲坏了"],
        )
    )
    add(
        Case(
            "unknown_charset_label",
            mail("Subject: x", COMPLAINT_ZH.encode(), charset="x-unknown-thing"),
            body_has=["漏水严重"],
        )
    )
    add(
        Case(
            "raw_8bit_utf8_subject",
            mail("Subject: 油烟机噪音大", "油烟机噪音很大"),
            subject="油烟机噪音大",
        )
    )
    add(
        Case(
            "raw_8bit_gbk_subject",
            mail("", "洗衣机不排水".encode("gbk"), charset="gbk")
            .replace(b"MIME", b"MIME")
            .replace(b"To: ", "Subject: 洗衣机不排水\r\nTo: ".encode("gbk")),
            subject="洗衣机不排水",
        )
    )
    add(
        Case(
            "rfc2047_split_multibyte",
            mail(
                "Subject: =?utf-8?B?"
                + base64.b64encode("热水".encode()[:4]).decode()
                + "?= =?utf-8?B?"
                + base64.b64encode("热水".encode()[4:] + "器坏了".encode()).decode()
                + "?=",
                "x",
            ),
            subject="热水器坏了",
        )
    )
    add(
        Case(
            "rfc2047_q_gbk",
            mail(
                f"Subject: {word('售后服务太差', 'gbk', 'Q')}",
                "售后不理人".encode("gbk"),
                charset="gbk",
            ),
            subject="售后服务太差",
        )
    )
    add(
        Case(
            "rfc2047_mixed_charsets",
            mail(f"Subject: {word('冰箱', 'gb2312')} and {word('熱水器', 'big5')}", "x"),
            subject="冰箱 and 熱水器",
        )
    )
    add(
        Case(
            "encoded_from_name",
            mail("Subject: n", COMPLAINT_ZH, sender=f"{word('李四', 'gb2312')} <lisi@163.com>"),
            sender="lisi@163.com",
            name_is="李四",
        )
    )
    add(
        Case(
            "broken_base64_word",
            mail("Subject: =?utf-8?B?5Yaw566x5Z2P5LqG?= tail", "x"),
            subject="冰箱坏了",
        )
    )
    add(
        Case(
            "folded_long_subject",
            mail(
                "Subject: =?utf-8?B?"
                + b64("微波炉", "utf-8")
                + "?=\n =?utf-8?B?"
                + b64("加热不均匀", "utf-8")
                + "?=",
                "x",
            ),
            subject="微波炉加热不均匀",
        )
    )
    add(
        Case(
            "reply_to_preferred",
            mail(
                "Subject: form\nReply-To: 王五 <wangwu@qq.com>",
                COMPLAINT_ZH,
                sender="Web Form <form@hengtai.example>",
            ),
            sender="wangwu@qq.com",
            name_is="王五",
        )
    )
    add(
        Case(
            "quoted_printable_utf8",
            mail("Subject: qp", quopri.encodestring(COMPLAINT_ZH.encode()), cte="quoted-printable"),
            body_has=["JSQ24-HT3漏水"],
        )
    )
    add(
        Case(
            "base64_body_gbk",
            mail(
                "Subject: b64",
                base64.encodebytes(COMPLAINT_ZH.encode("gbk")),
                charset="gbk",
                cte="base64",
            ),
            body_has=["订单号HT20260315-0042"],
        )
    )

    # --- HTML -------------------------------------------------------------------------------
    html = "<html><head><style>p{color:red}</style><script>alert(1)</script></head><body><p>您好，</p><p>我的<b>空调</b>KFR-35GW/HT1&nbsp;不制冷。</p><table><tr><td>订单</td><td>HT20260315-0042</td></tr></table></body></html>"
    add(
        Case(
            "html_only",
            mail("Subject: html", html, ctype="text/html"),
            body_has=["空调", "KFR-35GW/HT1", "HT20260315-0042"],
            body_lacks=["<p>", "alert", "color:red"],
        )
    )
    add(
        Case(
            "html_only_gbk_qp",
            mail(
                "Subject: html2",
                quopri.encodestring(html.encode("gbk")),
                charset="gb2312",
                ctype="text/html",
                cte="quoted-printable",
            ),
            body_has=["不制冷"],
            body_lacks=["<b>"],
        )
    )
    add(
        Case(
            "alternative_prefers_plain",
            multipart(
                "Subject: alt",
                [
                    part("text/plain", b"PLAIN VERSION washer leaks", charset="utf-8"),
                    part("text/html", b"<p>HTML VERSION</p>", charset="utf-8"),
                ],
                "alternative",
            ),
            body_has=["PLAIN VERSION"],
            body_lacks=["HTML VERSION"],
        )
    )
    add(
        Case(
            "alternative_empty_plain",
            multipart(
                "Subject: alt2",
                [
                    part("text/plain", b"\r\n", charset="utf-8"),
                    part(
                        "text/html",
                        "<div>只有HTML里有内容：油烟机漏油</div>".encode(),
                        charset="utf-8",
                    ),
                ],
                "alternative",
            ),
            body_has=["油烟机漏油"],
        )
    )
    related = multipart(
        "Subject: rel",
        [
            part(
                "text/html",
                '<p>看图：门把手断了</p><img src="cid:img1@x">'.encode(),
                charset="utf-8",
            ),
            attachment("photo.png", "image/png", PNG, inline=True, cid="img1@x"),
        ],
        "related",
    )
    add(
        Case(
            "html_with_inline_image",
            related,
            body_has=["门把手断了"],
            attachments=1,
            hints=["photos"],
        )
    )
    nested_alt = multipart(
        "Subject: nest",
        [
            b'Content-Type: multipart/alternative; boundary="inner"\r\n\r\n--inner\r\n'
            + part("text/plain", "内层正文：电动车EB-HT60刹车失灵".encode(), charset="utf-8")
            + b"\r\n--inner\r\n"
            + part("text/html", b"<p>inner html</p>", charset="utf-8")
            + b"\r\n--inner--\r\n",
            attachment("invoice.pdf", "application/pdf", PDF),
        ],
    )
    add(
        Case(
            "nested_multiparts",
            nested_alt,
            body_has=["刹车失灵"],
            body_lacks=["inner html"],
            attachments=1,
            hints=["documents"],
        )
    )
    add(
        Case(
            "html_entities_and_br",
            mail(
                "Subject: br",
                "Line one<br>Line&nbsp;two &amp; three<br/>&#27700;",
                ctype="text/html",
            ),
            body_has=["Line one\nLine two & three", "水"],
        )
    )
    add(
        Case(
            "html_outlook_quote",
            mail(
                "Subject: RE: 投诉",
                '<div>还是没修好，第三次了！</div><div id="divRplyFwdMsg"><hr><b>发件人:</b> 恒泰客服<br><b>发送时间:</b> 2026年3月10日<br><b>收件人:</b> 我<br><b>主题:</b> 投诉<br></div><div>旧的内容不要</div>',
                ctype="text/html",
            ),
            body_has=["第三次"],
            body_lacks=["旧的内容"],
        )
    )

    # --- quoted replies and signatures ------------------------------------------------------
    add(
        Case(
            "gmail_en_quote",
            mail(
                "Subject: Re: leak",
                "Still leaking!\n\nOn Mon, Mar 16, 2026 at 10:00 AM Hengtai <s@hengtai.example> wrote:\n> We fixed it.\n> Regards",
            ),
            body_has=["Still leaking!"],
            body_lacks=["We fixed it", "wrote:"],
        )
    )
    add(
        Case(
            "gmail_en_quote_wrapped",
            mail(
                "Subject: Re: leak",
                "Not fixed.\n\nOn Mon, Mar 16, 2026 at 10:00 AM Hengtai Service <service@hengtai.example>\nwrote:\n\n> old",
            ),
            body_has=["Not fixed."],
            body_lacks=["old", "wrote"],
        )
    )
    add(
        Case(
            "gmail_zh_quote",
            mail(
                "Subject: 回复：热水器",
                "师傅没来，请回电。\n\n在 2026年3月16日周一 上午10:00，恒泰客服 <s@hengtai.example> 写道：\n> 我们已安排师傅上门。\n",
            ),
            body_has=["师傅没来"],
            body_lacks=["写道", "已安排"],
        )
    )
    add(
        Case(
            "apple_zh_quote",
            mail(
                "Subject: 回复：冰箱",
                "还是不制冷\n\n> 在 2026年3月16日，10:00，恒泰客服 <s@hengtai.example> 写道：\n> \n> 请您重启试试\n",
            ),
            body_has=["还是不制冷"],
            body_lacks=["重启"],
        )
    )
    add(
        Case(
            "qq_original_block",
            mail(
                "Subject: 回复：空调",
                '维修后又坏了！\n\n\n------------------ 原始邮件 ------------------\n发件人: "恒泰客服"<s@hengtai.example>;\n发送时间: 2026年3月16日(星期一) 上午10:00\n收件人: "我"<me@qq.com>;\n主题: 回复：空调\n\n已经修好了。\n',
            ),
            body_has=["维修后又坏了"],
            body_lacks=["已经修好了", "原始邮件"],
        )
    )
    add(
        Case(
            "outlook_zh_block",
            mail(
                "Subject: 答复: 退款",
                "退款还没到账。\n\n发件人: 恒泰财务 <finance@hengtai.example>\n发送时间: 2026年3月16日 10:00\n收件人: me@corp.cn\n主题: 退款\n\n已退款。",
            ),
            body_has=["退款还没到账"],
            body_lacks=["已退款。"],
        )
    )
    add(
        Case(
            "outlook_en_block",
            mail(
                "Subject: RE: refund",
                "Where is my refund?\n\n________________________________\nFrom: Hengtai Finance <finance@hengtai.example>\nSent: Monday, March 16, 2026 10:00 AM\nTo: me@corp.com\nSubject: refund\n\nRefunded.",
            ),
            body_has=["Where is my refund?"],
            body_lacks=["Refunded."],
        )
    )
    add(
        Case(
            "outlook_original_message",
            mail(
                "Subject: RE: x",
                "Second reminder.\n\n-----Original Message-----\nFrom: Hengtai\nSent: Monday\nTo: me\nSubject: x\n\nold text",
            ),
            body_has=["Second reminder."],
            body_lacks=["old text"],
        )
    )
    add(
        Case(
            "foxmail_block",
            mail(
                "Subject: 回复：微波炉",
                "微波炉又冒烟了\n\n------------------&nbsp;Original&nbsp;------------------\n".replace(
                    "&nbsp;", " "
                )
                + 'From: "恒泰"<s@hengtai.example>;\nDate: Mon, Mar 16, 2026\nTo: "me"<me@foxmail.com>;\nSubject: 微波炉\n\n请勿回复旧内容',
            ),
            body_has=["又冒烟了"],
            body_lacks=["旧内容"],
        )
    )
    add(
        Case(
            "netease_block",
            mail(
                "Subject: 回复：电饭煲",
                "还没收到换货\n\n---- 回复的原邮件 ----\n| 发件人 | 恒泰 |\n| 日期 | 2026年03月16日 |\n旧",
            ),
            body_has=["还没收到换货"],
            body_lacks=["回复的原邮件"],
        )
    )
    add(
        Case(
            "traditional_quote",
            mail(
                "Subject: 回覆：冷氣",
                "冷氣還是不冷\n\n於 2026年3月16日 週一 上午10:00，恒泰客服 <s@hengtai.example> 寫道：\n> 舊內容",
            ),
            body_has=["冷氣還是不冷"],
            body_lacks=["舊內容"],
        )
    )
    add(
        Case(
            "iphone_signoff_zh",
            mail("Subject: 漏水", "洗衣机漏水，地板都泡了。\n\n发自我的iPhone"),
            body_has=["地板都泡了"],
            body_lacks=["iPhone"],
        )
    )
    add(
        Case(
            "huawei_signoff",
            mail("Subject: 漏水2", "油烟机掉下来了\n\n发自我的华为手机"),
            body_has=["掉下来了"],
            body_lacks=["华为手机"],
        )
    )
    add(
        Case(
            "netease_master_signoff",
            mail("Subject: s", "电动车电池鼓包\n\n发自网易邮箱大师"),
            body_has=["鼓包"],
            body_lacks=["网易邮箱大师"],
        )
    )
    add(
        Case(
            "sent_from_iphone_en",
            mail("Subject: s", "The fridge is warm.\n\nSent from my iPhone"),
            body_has=["fridge is warm"],
            body_lacks=["Sent from"],
        )
    )
    add(
        Case(
            "dash_signature_with_phone",
            mail(
                "Subject: sig", "冰箱异响，请联系我。\n-- \n张三\n手机：13812345678\n上海市浦东新区"
            ),
            body_has=["冰箱异响"],
            body_lacks=["浦东新区"],
            phones=["+8613812345678"],
        )
    )
    add(
        Case(
            "inline_gt_quotes_only_kept",
            mail("Subject: q", "> only a quote line\n> nothing else"),
            body_has=["only a quote line"],
        )
    )

    # --- forwarded mail ---------------------------------------------------------------------
    add(
        Case(
            "gmail_forward_en",
            mail(
                "Subject: Fwd: broken fridge",
                "Please handle.\n\n---------- Forwarded message ---------\nFrom: Li Si <lisi@163.com>\nDate: Mon, Mar 16, 2026 at 9:00 AM\nSubject: broken fridge\nTo: <staff@hengtai.example>\n\nMy fridge BCD-520W is broken.",
                sender="Staff <staff@hengtai.example>",
            ),
            body_has=["BCD-520W is broken", "Please handle."],
            sender="lisi@163.com",
            name_is="Li Si",
            subject="broken fridge",
            hints=["forwarded"],
        )
    )
    add(
        Case(
            "gmail_forward_zh",
            mail(
                "Subject: Fwd: 冰箱",
                "---------- 转发的邮件 ---------\n发件人： 李四 <lisi@163.com>\n日期：2026年3月16日周一 09:00\n主题：冰箱不制冷\n收件人： <staff@hengtai.example>\n\n冰箱BCD-520W不制冷",
                sender="staff@hengtai.example",
            ),
            body_has=["不制冷"],
            sender="lisi@163.com",
            subject="冰箱不制冷",
            hints=["forwarded"],
        )
    )
    add(
        Case(
            "outlook_forward_fw",
            mail(
                "Subject: FW: washer",
                "FYI\n\n________________________________\nFrom: Wang Wu <ww@corp.com>\nSent: Monday\nTo: sales\nSubject: washer\n\nMy washer leaks.",
                sender="sales@hengtai.example",
            ),
            body_has=["My washer leaks."],
            sender="ww@corp.com",
            hints=["forwarded"],
        )
    )
    add(
        Case(
            "qq_forward",
            mail(
                "Subject: 转发：油烟机",
                '\n\n------------------ 原始邮件 ------------------\n发件人: "赵六"<zhao6@qq.com>;\n发送时间: 2026年3月16日(星期一) 上午9:00\n收件人: "客服"<kf@hengtai.example>;\n主题: 油烟机\n\n油烟机吸力很小',
                sender="kf@hengtai.example",
            ),
            body_has=["吸力很小"],
            sender="zhao6@qq.com",
            hints=["forwarded"],
        )
    )
    apple_fwd = mail(
        "Subject: Fwd: microwave",
        "Begin forwarded message:\n\nFrom: Chen <chen@icloud.com>\nSubject: microwave\nDate: 16 March 2026\nTo: staff@hengtai.example\n\nMicrowave sparks inside.",
        sender="staff@hengtai.example",
    )
    add(
        Case(
            "apple_forward",
            apple_fwd,
            body_has=["sparks inside"],
            sender="chen@icloud.com",
            hints=["forwarded"],
        )
    )
    inner = mail(
        "Subject: 电动车刹车失灵",
        "电动车EB-HT60刹车失灵，差点出事故。".encode(),
        sender="孙七 <sun7@126.com>",
    )
    add(
        Case(
            "attached_rfc822_forward",
            multipart(
                "Subject: Fwd: 电动车",
                [
                    part("text/plain", "转给你们处理".encode(), charset="utf-8"),
                    b"Content-Type: message/rfc822\r\nContent-Disposition: attachment\r\n\r\n"
                    + inner,
                ],
                sender="staff@hengtai.example",
            ),
            body_has=["刹车失灵", "转给你们处理"],
            sender="sun7@126.com",
            subject="电动车刹车失灵",
            hints=["forwarded"],
        )
    )
    add(
        Case(
            "attached_rfc822_only",
            multipart(
                "Subject: complaint attached",
                [b"Content-Type: message/rfc822\r\n\r\n" + inner],
                sender="staff@hengtai.example",
            ),
            body_has=["刹车失灵"],
            sender="sun7@126.com",
            hints=["forwarded"],
        )
    )

    # --- bounces, auto-replies, lists -------------------------------------------------------
    dsn = multipart(
        "Subject: Delivery Status Notification (Failure)\nAuto-Submitted: auto-replied",
        [
            part(
                "text/plain",
                b"Delivery to the following recipient failed permanently: x@y.com",
                charset="us-ascii",
            ),
            part(
                "message/delivery-status",
                b"Reporting-MTA: dns; mx.example\r\n\r\nFinal-Recipient: rfc822; x@y.com\r\nAction: failed\r\nStatus: 5.1.1\r\n",
            ),
            b"Content-Type: message/rfc822\r\n\r\n"
            + mail("Subject: We received your complaint [QC-202603-000001]", "ack"),
        ],
        "report; report-type=delivery-status",
        sender="Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
    )
    add(Case("dsn_bounce", dsn, hints=["bounce", "auto_reply"], follow_up_of=None))
    add(
        Case(
            "qmail_bounce",
            mail(
                "Subject: failure notice\nReturn-Path: <>",
                "Hi. This is the qmail-send program. I'm afraid I wasn't able to deliver your message.",
                sender="MAILER-DAEMON@mx.example.net",
            ),
            hints=["bounce"],
        )
    )
    add(
        Case(
            "zh_bounce_subject",
            mail(
                "Subject: 系统退信\nReturn-Path: <>",
                "抱歉，您的邮件被退回。",
                sender="postmaster@163.com",
            ),
            hints=["bounce"],
        )
    )
    add(
        Case(
            "auto_submitted_ooo",
            mail(
                "Subject: Out of Office: leak\nAuto-Submitted: auto-replied",
                "I am out of the office until Monday.",
            ),
            hints=["auto_reply"],
        )
    )
    add(
        Case(
            "x_autoreply",
            mail("Subject: Re: 您的投诉\nX-Autoreply: yes", "您好，我已收到您的邮件，会尽快回复。"),
            hints=["auto_reply"],
        )
    )
    add(
        Case(
            "zh_auto_subject",
            mail("Subject: 自动回复: 关于热水器", "本人休假中，3月20日后回复。"),
            hints=["auto_reply"],
        )
    )
    add(
        Case(
            "en_auto_subject",
            mail("Subject: Automatic reply: washer", "Thank you for your email."),
            hints=["auto_reply"],
        )
    )
    add(
        Case(
            "precedence_bulk",
            mail("Subject: Big sale!\nPrecedence: bulk", "Buy now"),
            hints=["bulk", "auto_reply"],
        )
    )
    add(Case("precedence_junk", mail("Subject: hello\nPrecedence: junk", "spam"), hints=["bulk"]))
    add(
        Case(
            "mailing_list",
            mail(
                "Subject: [appliance-list] fridge tips\nList-Id: <appliances.lists.example>\nList-Unsubscribe: <mailto:leave@lists.example>",
                "Digest",
            ),
            hints=["mailing_list", "auto_reply"],
        )
    )
    add(
        Case(
            "auto_submitted_no_is_human",
            mail("Subject: 冰箱\nAuto-Submitted: no", COMPLAINT_ZH),
            no_hints=["auto_reply"],
        )
    )
    add(
        Case(
            "holiday_word_not_auto",
            mail("Subject: 休假期间热水器坏了", COMPLAINT_ZH),
            no_hints=["auto_reply"],
        )
    )

    # --- threading --------------------------------------------------------------------------
    add(
        Case(
            "reference_in_subject",
            mail("Subject: Re: We received your complaint [QC-202603-000042]", "还有照片补充"),
            follow_up_of="QC-202603-000042",
        )
    )
    add(
        Case(
            "reference_in_body",
            mail("Subject: 补充", "关于QC-202603-000043，师傅一直没来"),
            follow_up_of="QC-202603-000043",
        )
    )
    add(
        Case(
            "reply_to_our_ack",
            mail(
                "Subject: Re: 您的投诉已受理\nIn-Reply-To: <ack.QC-202603-000044.abc123@hengtai.example>",
                "谢谢",
            ),
            follow_up_of="QC-202603-000044",
        )
    )
    add(
        Case(
            "reference_in_quote",
            mail(
                "Subject: Re: x",
                "补充说明：是二楼那台。\n\n在 2026年3月16日 恒泰 <s@hengtai.example> 写道：\n> 您的受理编号 QC-202603-000045",
            ),
            follow_up_of="QC-202603-000045",
            body_lacks=["受理编号"],
        )
    )

    # --- attachments and broken MIME --------------------------------------------------------
    add(
        Case(
            "photo_attachment",
            multipart(
                "Subject: 照片",
                [
                    part("text/plain", "见附件照片，外壳破裂".encode(), charset="utf-8"),
                    attachment("crack.png", "image/png", PNG),
                ],
            ),
            attachments=1,
            hints=["photos"],
            body_has=["外壳破裂"],
        )
    )
    add(
        Case(
            "rfc2231_filename",
            multipart(
                "Subject: 附件名",
                [
                    part("text/plain", b"see file", charset="utf-8"),
                    part(
                        "image/png",
                        PNG,
                        cte="base64",
                        extra="Content-Disposition: attachment; filename*=UTF-8''%E7%85%A7%E7%89%87.png",
                    ),
                ],
            ),
            attachments=1,
        )
    )
    add(
        Case(
            "encoded_word_filename",
            multipart(
                "Subject: 附件名2",
                [
                    part("text/plain", b"see file", charset="utf-8"),
                    part(
                        "application/pdf",
                        PDF,
                        cte="base64",
                        extra=f'Content-Disposition: attachment; filename="{word("发票.pdf", "gb2312")}"',
                    ),
                ],
            ),
            attachments=1,
            hints=["documents"],
        )
    )
    add(
        Case(
            "winmail_dat",
            multipart(
                "Subject: outlook rtf",
                [
                    part("text/plain", b"See attached", charset="us-ascii"),
                    attachment(
                        "winmail.dat",
                        "application/ms-tnef",
                        tnef("The dryer is broken", [("receipt.txt", b"receipt 123")]),
                    ),
                ],
            ),
            body_has=["See attached", "The dryer is broken"],
            attachments=1,
        )
    )
    add(
        Case(
            "huge_attachment",
            multipart(
                "Subject: video",
                [
                    part("text/plain", "视频见附件，冰箱异响".encode(), charset="utf-8"),
                    attachment("noise.bin", "application/octet-stream", bytes(range(256)) * 20000),
                ],
            ),
            attachments=1,
            body_has=["冰箱异响"],
        )
    )
    add(
        Case(
            "missing_close_boundary",
            mail(
                "Subject: broken\nMIME-Version: 1.0",
                b"--XX\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
                + "边界没有结束：门铰链断了".encode()
                + b"\r\n",
                charset=None,
                ctype='multipart/mixed; boundary="XX"',
            ),
            body_has=["门铰链断了"],
        )
    )
    add(
        Case(
            "missing_boundary_param",
            mail(
                "Subject: noboundary\nMIME-Version: 1.0",
                "没有边界参数的多部分：水管爆了".encode(),
                charset=None,
                ctype="multipart/mixed",
            ),
            body_has=["水管爆了"],
            hints=["incomplete"],
        )
    )
    add(
        Case(
            "bad_base64_body",
            mail("Subject: badb64", b"5Yaw566x5Z2P5LqG!!!@@@", cte="base64"),
            subject="badb64",
        )
    )
    add(
        Case(
            "garbage_headers",
            b"This is not a mail header at all\r\n\xff\xfe\x00garbage\r\n\r\nbody \xe5\x86\xb0",
            hints=["incomplete"],
        )
    )
    add(Case("empty_message", b"", hints=["incomplete"]))
    add(Case("headers_only", b"From: a@b.cn\r\nSubject: only headers\r\n", subject="only headers"))
    add(
        Case(
            "no_from",
            mail("Subject: anon", COMPLAINT_ZH).replace(b"From: ", b"X-Old-From: "),
            body_has=["漏水严重"],
            sender=None,
        )
    )
    add(
        Case(
            "lf_line_endings",
            mail("Subject: lf", COMPLAINT_EN).replace(b"\r\n", b"\n"),
            body_has=["XQG100-HT8 leaks"],
            language="en",
            subject="lf",
        )
    )
    add(
        Case(
            "utf8_8bit_headers_smtputf8",
            mail("Subject: 地址", "x", sender="用户 <用户@例子.中国>"),
            sender="用户@例子.中国",
        )
    )
    add(
        Case(
            "text_plain_attachment_not_body",
            multipart(
                "Subject: log",
                [
                    part("text/plain", "正文：风扇停转".encode(), charset="utf-8"),
                    part(
                        "text/plain",
                        b"LOGFILE CONTENT",
                        charset="utf-8",
                        extra='Content-Disposition: attachment; filename="log.txt"',
                    ),
                ],
            ),
            body_has=["风扇停转"],
            body_lacks=["LOGFILE"],
            attachments=1,
        )
    )
    return cases


CASES = build_cases()
