"""Generated letters with known text: the OCR test set, the benchmark and `channels test`.

Letters are rendered with the CJK fonts Debian ships (fonts-noto-cjk, fonts-wqy-zenhei) on
an A4 page, then optionally degraded the way real scans and phone photos are (rotation,
blur, noise, low resolution, a perspective photo). Everything is seeded, so a run is
repeatable and a regression in accuracy is a real one.
"""

from __future__ import annotations

import io
import random
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

FONT_FILES = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
A4_INCHES = (8.27, 11.69)
DEGRADATIONS = ("rotate", "blur", "noise", "lowdpi", "photo")

_ZH_NAMES = ("张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "赵敏", "黄强", "周婷", "吴昊")
_EN_NAMES = ("Li Wei", "Wang Fang", "Chen Jing", "David Brown", "Mary Smith", "Zhou Ting")
_ZH_CITIES = (
    "上海市浦东新区世纪大道{n}号{r}室",
    "北京市朝阳区建国路{n}号{r}室",
    "广州市天河区体育西路{n}号{r}室",
    "杭州市西湖区文三路{n}号{r}室",
    "成都市武侯区人民南路{n}号{r}室",
)
_EN_CITIES = (
    "Room {r}, {n} Century Avenue, Pudong, Shanghai 200120",
    "Flat {r}, {n} Jianguo Road, Chaoyang, Beijing 100022",
    "Unit {r}, {n} Tiyu West Road, Tianhe, Guangzhou 510620",
)
_PRODUCTS = (
    ("热水器", "water heater", "JSQ24-HT3"),
    ("空调", "air conditioner", "KFR-35GW/HT1"),
    ("冰箱", "refrigerator", "BCD-520W"),
    ("洗衣机", "washing machine", "XQG100-HT8"),
    ("电动自行车", "electric bicycle", "EB-HT60"),
)
_ZH_PROBLEMS = (
    "安装后第三天就开始漏水，外壳出现裂纹，运行时噪音很大，我们全家都无法正常使用。",
    "使用不到一个月就无法启动，显示屏出现故障代码，多次重启仍然不能工作。",
    "送货时包装已经破损，机身有明显划痕和凹陷，快递员却要求我先签收。",
    "维修人员上门两次都没有修好，每次都说需要更换配件，但是一直没有消息。",
)
_EN_PROBLEMS = (
    "Three days after installation it started to leak, the casing is cracked and it makes "
    "a loud noise, so my family cannot use it at all.",
    "After less than a month it no longer starts, the display shows an error code and "
    "restarting it several times did not help.",
    "The package was already damaged on delivery, the unit has deep scratches and a dent, "
    "and the courier still asked me to sign for it.",
)


@dataclass
class SampleLetter:
    """A letter and every field a reader should find in it."""

    language: str
    name: str
    phone: str
    address: str
    order_number: str
    model: str
    date_line: str
    salutation: str
    closing: list[str]
    paragraphs: list[str]
    title: str | None = None
    labelled: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The letter's logical lines, top to bottom (paragraphs unwrapped)."""
        head = [self.title] if self.title else []
        return [
            *head,
            self.salutation,
            *self.paragraphs,
            *self.closing,
            self.name,
            *self.labelled,
            self.date_line,
        ]

    def text(self) -> str:
        return "\n".join(self.lines())


def _zh_letter(rng: random.Random) -> SampleLetter:
    cn, _en, model = rng.choice(_PRODUCTS)
    name = rng.choice(_ZH_NAMES)
    day = rng.randint(1, 28)
    order = f"HT202603{day:02d}-{rng.randint(1, 9999):04d}"
    phone = f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"
    address = rng.choice(_ZH_CITIES).format(n=rng.randint(1, 999), r=rng.randint(101, 2505))
    return SampleLetter(
        language="zh",
        name=name,
        phone=phone,
        address=address,
        order_number=order,
        model=model,
        title="投诉信" if rng.random() < 0.5 else None,
        salutation="尊敬的恒泰电器客户服务部：",
        paragraphs=[
            f"我于2026年3月{day}日在贵公司网上商城购买了一台{cn}，型号{model}，"
            f"订单号{order}。{rng.choice(_ZH_PROBLEMS)}",
            "我已经多次拨打客服电话，但是问题一直没有得到解决。请贵公司尽快安排处理，"
            "给我一个明确的答复，否则我将向消费者协会反映。",
        ],
        closing=["此致", "敬礼"],
        labelled=[f"地址：{address}", f"电话：{phone}"],
        date_line=f"2026年4月{rng.randint(1, 28)}日",
    )


def _en_letter(rng: random.Random) -> SampleLetter:
    _cn, en, model = rng.choice(_PRODUCTS)
    name = rng.choice(_EN_NAMES)
    day = rng.randint(1, 28)
    order = f"HT202603{day:02d}-{rng.randint(1, 9999):04d}"
    phone = f"13{rng.randint(0, 9)}{rng.randint(10_000_000, 99_999_999)}"
    address = rng.choice(_EN_CITIES).format(n=rng.randint(1, 999), r=rng.randint(101, 2505))
    return SampleLetter(
        language="en",
        name=name,
        phone=phone,
        address=address,
        order_number=order,
        model=model,
        title="Complaint about a faulty product" if rng.random() < 0.5 else None,
        salutation="Dear Hengtai Customer Service,",
        paragraphs=[
            f"On 15 March 2026 I bought a {en}, model {model}, from your online store, "
            f"order number {order}. {rng.choice(_EN_PROBLEMS)}",
            "I have called your hotline several times but nothing has been done. Please "
            "arrange a repair or a replacement and give me a clear answer as soon as possible.",
        ],
        closing=["Yours sincerely,"],
        labelled=[f"Address: {address}", f"Phone: {phone}"],
        date_line=f"{rng.randint(1, 28)} April 2026",
    )


def sample_letters(
    count: int, seed: int = 7, languages: tuple[str, ...] = ("zh", "en")
) -> list[SampleLetter]:
    """`count` letters alternating between `languages`, the same for the same seed."""
    rng = random.Random(seed)
    makers = {"zh": _zh_letter, "en": _en_letter}
    return [makers[languages[i % len(languages)]](rng) for i in range(count)]


def _font(index: int, pixels: int) -> ImageFont.FreeTypeFont:
    path = FONT_FILES[index % len(FONT_FILES)]
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: install fonts-noto-cjk and fonts-wqy-zenhei")
    return ImageFont.truetype(str(path), pixels)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float, indent: float) -> list[str]:
    """Break a paragraph into lines that fit: by word for Latin text, by character for CJK."""
    cjk = any(_is_cjk(ch) for ch in text)
    tokens = list(text) if cjk else text.split(" ")
    joiner = "" if cjk else " "
    lines: list[str] = []
    current = ""
    for token in tokens:
        candidate = f"{current}{joiner}{token}" if current else token
        limit = width - (indent if not lines else 0)
        if current and font.getlength(candidate) > limit:
            lines.append(current)
            current = token
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


def render(letter: SampleLetter, dpi: int = 300, font_index: int = 0) -> Image.Image:
    """The letter on a white A4 page in 12 pt type, paragraphs indented, as a grey image."""
    width, height = (round(side * dpi) for side in A4_INCHES)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    size = round(12 / 72 * dpi)
    font = _font(font_index, size)
    margin = dpi  # one inch
    step = round(size * 1.7)
    text_width = width - 2 * margin
    indent = font.getlength("中中") if letter.language == "zh" else font.getlength("    ")
    y = margin
    if letter.title:
        title_x = (width - font.getlength(letter.title)) / 2
        draw.text((title_x, y), letter.title, font=font, fill=0)
        y += 2 * step
    draw.text((margin, y), letter.salutation, font=font, fill=0)
    y += step
    for paragraph in letter.paragraphs:
        for number, line in enumerate(_wrap(paragraph, font, text_width, indent)):
            draw.text((margin + (indent if number == 0 else 0), y), line, font=font, fill=0)
            y += step
        y += step // 3
    for line in letter.closing:
        draw.text((margin + (indent if line == "此致" else 0), y), line, font=font, fill=0)
        y += step
    y += step // 2
    for line in [letter.name, *letter.labelled, letter.date_line]:
        draw.text((margin, y), line, font=font, fill=0)
        y += step
    return page


def degrade(page: Image.Image, how: str, seed: int = 1) -> Image.Image:
    """A worse copy of `page`: one of DEGRADATIONS (a photo combines several)."""
    rng = random.Random(seed)
    if how == "rotate":
        return page.rotate(rng.choice((-3, -2, 2, 3)), expand=True, fillcolor=255)
    if how == "blur":
        return page.filter(ImageFilter.GaussianBlur(1.2))
    if how == "noise":
        return _noise(page, rng, sigma=25, salt=0.01)
    if how == "lowdpi":
        small = page.resize((page.width // 2, page.height // 2), Image.Resampling.BILINEAR)
        return _jpeg(small, quality=50)
    if how == "photo":
        return _photo(page, rng)
    raise ValueError(f"unknown degradation {how!r} (known: {', '.join(DEGRADATIONS)})")


def _noise(page: Image.Image, rng: random.Random, sigma: float, salt: float) -> Image.Image:
    import numpy as np

    generator = np.random.default_rng(rng.randint(0, 2**31))
    pixels = np.asarray(page.convert("L"), dtype=np.float64)
    pixels = pixels + generator.normal(0, sigma, pixels.shape)
    mask = generator.random(pixels.shape)
    pixels[mask < salt / 2] = 0
    pixels[mask > 1 - salt / 2] = 255
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def _jpeg(page: Image.Image, quality: int) -> Image.Image:
    buffer = io.BytesIO()
    page.convert("L").save(buffer, "JPEG", quality=quality)
    return Image.open(io.BytesIO(buffer.getvalue()))


def _photo(page: Image.Image, rng: random.Random) -> Image.Image:
    """A phone photo: the page seen at an angle, unevenly lit, a little soft, JPEG-compressed."""
    import numpy as np

    w, h = page.size
    canvas = Image.new("L", (round(w * 1.1), round(h * 1.1)), 90)
    canvas.paste(page, (round(w * 0.05), round(h * 0.05)))
    cw, ch = canvas.size
    d = 0.03
    quad = (  # where the canvas corners are sampled from: a mild keystone
        rng.uniform(0, d) * cw,
        rng.uniform(0, d) * ch,
        rng.uniform(0, d) * cw,
        ch - rng.uniform(0, d) * ch,
        cw - rng.uniform(0, d) * cw,
        ch - rng.uniform(0, d) * ch,
        cw - rng.uniform(0, d) * cw,
        rng.uniform(0, d) * ch,
    )
    warped = canvas.transform(canvas.size, Image.Transform.QUAD, quad, Image.Resampling.BILINEAR)
    shade = np.linspace(1.0, 0.7, cw, dtype=np.float32)[None, :]
    pixels = np.asarray(warped, dtype=np.float32) * shade
    lit = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).rotate(
        rng.uniform(-2.5, 2.5), expand=False, fillcolor=90
    )
    return _jpeg(lit.filter(ImageFilter.GaussianBlur(0.7)), quality=70)


def photo_with_exif_rotation(page: Image.Image) -> bytes:
    """A JPEG stored sideways with EXIF orientation 6, as phones save portrait shots."""
    stored = page.convert("L").rotate(90, expand=True)  # rotated 90° counter-clockwise
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to view"
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", quality=85, exif=exif.tobytes())
    return buffer.getvalue()


def to_bytes(page: Image.Image, fmt: str = "PNG", dpi: int = 300) -> bytes:
    buffer = io.BytesIO()
    page.save(buffer, fmt, dpi=(dpi, dpi))
    return buffer.getvalue()


def _is_cjk(ch: str) -> bool:
    return "\u3400" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


def comparable(text: str) -> str:
    """NFKC, no whitespace: how texts are compared (line breaks are layout, not content)."""
    return "".join(unicodedata.normalize("NFKC", text).split())


def char_accuracy(reference: str, hypothesis: str) -> float:
    """1 − edit distance / reference length, on `comparable` text (floored at 0)."""
    ref, hyp = comparable(reference), comparable(hypothesis)
    if not ref:
        return 1.0 if not hyp else 0.0
    previous = list(range(len(hyp) + 1))
    for i, a in enumerate(ref, 1):
        current = [i]
        for j, b in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return max(0.0, 1 - previous[-1] / len(ref))
