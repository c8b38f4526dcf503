"""Page texts in Simplified Chinese and English, and choosing the language of a request.

The catalogue is plain data: every key exists in both languages (a test
checks it), so a page never shows a key name or half a translation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from channels.webform.settings import LANGUAGES, Language

LANGUAGE_COOKIE = "wf_lang"

ZH: dict[str, str] = {
    "lang_name": "中文",
    "skip": "跳到主要内容",
    "form_title": "在线投诉",
    "form_intro": "请告诉我们发生了什么。带 * 的是必填项。"
    "我们会保密您的个人信息，只用于处理本次投诉。",
    "section_contact": "联系方式",
    "section_product": "产品与订单",
    "section_event": "发生了什么",
    "section_photos": "照片",
    "name": "姓名",
    "phone": "手机号码",
    "phone_hint": "中国大陆手机号，例如 138 1234 5678。",
    "email": "电子邮箱",
    "email_hint": "我们会把受理编号发到这个邮箱。",
    "contact_rule": "要让我们联系您，请至少填写手机号码或电子邮箱中的一项。",
    "preferred_contact": "希望的联系方式",
    "contact_phone": "电话",
    "contact_sms": "短信",
    "contact_email": "电子邮件",
    "anonymous": "我不留联系方式，匿名提交",
    "anonymous_hint": "匿名投诉会被记录，但我们无法核实、无法回复您，也无法让您查询进度；"
    "因信息不完整，它通常不能作为正式投诉受理。",
    "consent": "我同意{company}为处理本投诉通过上述方式联系我",
    "consent_short": "同意联系",
    "order_number": "订单号",
    "order_hint": "例如 HT20260315-0042（如有）。",
    "product_model": "产品型号",
    "model_hint": "见铭牌或说明书，例如 KFR-35GW/HT1。",
    "serial": "序列号 / 批次号",
    "quantity": "数量",
    "occurred_on": "发生日期",
    "location": "发生地点",
    "location_hint": "例如 城市、区县，或门店名称。",
    "description": "问题描述",
    "description_hint": "发生了什么、什么时候开始、您希望我们怎么处理。",
    "photos": "问题照片",
    "photos_hint": "最多 {count} 张 JPEG、PNG 或 HEIC 照片，每张不超过 {size} MB。"
    "照片会重新编码并去除位置等拍摄信息后保存。",
    "honeypot": "请勿填写此项",
    "submit": "提交投诉",
    "required": "必填",
    "errors_title": "请修改以下问题后再提交：",
    "err_required": "请填写此项。",
    "err_too_long": "内容太长，最多 {max} 个字。",
    "err_too_short": "请再多描述一些，至少 {min} 个字。",
    "err_phone": "请填写有效的中国大陆手机号码（11 位，以 1 开头）。",
    "err_email": "请填写有效的电子邮箱地址。",
    "err_contact_or_anonymous": "请填写手机号码或电子邮箱；若不想留联系方式，请勾选“匿名提交”。",
    "err_anonymous_with_contact": "您已填写联系方式，请取消勾选“匿名提交”。",
    "err_consent": "请勾选同意联系，否则我们无法用您留下的方式回复您。",
    "err_preferred": "所选联系方式需要对应的手机号码或邮箱。",
    "err_quantity": "请填写 1 到 100000 之间的整数。",
    "err_date": "请填写有效日期（不能晚于今天）。",
    "err_choice": "请从列表中选择。",
    "err_photo_type": "只能上传 JPEG、PNG 或 HEIC 照片（按文件内容判断，而非扩展名）。",
    "err_photo_size": "照片过大，每张不超过 {size} MB。",
    "err_photo_count": "最多上传 {count} 张照片。",
    "err_photo_broken": "无法读取这张照片，文件可能已损坏。",
    "err_photo_none": "此表单不接受照片。",
    "done_title": "投诉已提交",
    "done_reference": "您的受理编号",
    "done_keep": "请记下这个编号：查询进度或再次联系我们时需要它。",
    "done_next": "接下来",
    "done_ack_email": "确认邮件会发到 {email}。",
    "done_ack_phone": "我们会按您留下的手机号码联系您。",
    "done_anonymous": "您是匿名提交的：我们无法回复您，也无法让您查询进度。",
    "done_step_review": "我们会核实并分类您的投诉，转给负责的部门；涉及安全的问题会立即上报。",
    "done_step_first": "一般在 24 小时内首次答复您。",
    "done_step_final": "最迟在 15 个工作日内给您最终答复。",
    "done_lookup": "查询处理进度",
    "status_title": "查询投诉进度",
    "status_intro": "请输入受理编号，以及提交时留下的手机号码或电子邮箱。",
    "reference": "受理编号",
    "reference_hint": "例如 QC-202611-000042。",
    "contact": "手机号码或电子邮箱",
    "lookup": "查询",
    "status_not_found": "没有找到与这个编号和联系方式相符的投诉。请检查后再试。",
    "status_result": "投诉 {reference}",
    "status_label": "当前状态",
    "status_received_at": "提交时间",
    "status_history": "处理记录",
    "status_due_first": "首次答复期限",
    "status_due_final": "最终答复期限",
    "status_outcome": "处理结论",
    "st_received": "已收到，等待处理",
    "st_open": "处理中",
    "st_in_progress": "处理中",
    "st_resolved": "已解决",
    "st_closed": "已结案",
    "st_reopened": "已重新处理",
    "ev_received": "已收到投诉",
    "ev_registered": "已登记并分类",
    "ev_forwarded": "已转交负责部门",
    "ev_acknowledged": "已发送受理确认",
    "ev_follow_up": "收到补充信息",
    "ev_status_changed": "状态已更新",
    "ev_closed": "已结案",
    "ev_reopened": "已重新处理",
    "ev_resolved": "已解决",
    "out_no_contact": "没有可用的联系方式，无法核实和回复。",
    "out_not_specific": "描述不够具体，无法核实调查。",
    "out_out_of_scope": "不属于我们的产品或服务范围。",
    "out_in_litigation": "已进入诉讼或仲裁程序。",
    "out_expired": "超出投诉期限或保修期。",
    "out_not_a_complaint": "属于咨询、建议或表扬，已转相关人员，不作为投诉处理。",
    "out_spam": "无法作为投诉处理。",
    "msg_csrf_title": "页面已过期",
    "msg_csrf": "为了安全，表单需要重新打开后再提交。"
    "请返回表单页面再试一次（需要允许本网站的 Cookie）。",
    "msg_rate_title": "操作过于频繁",
    "msg_rate": "来自您网络的请求太多，请在 {minutes} 分钟后再试。",
    "msg_rejected_title": "无法接收",
    "msg_rejected": "这次提交无法被接收。",
    "msg_too_large_title": "提交内容过大",
    "msg_too_large": "提交的内容超过了允许的大小（照片最多 {count} 张，每张不超过 {size} MB）。",
    "msg_not_found_title": "没有这个表单",
    "msg_not_found": "这个地址没有投诉表单。",
    "msg_closed_title": "表单已关闭",
    "msg_closed": "这个投诉表单目前不接受提交。您可以通过其他渠道联系我们。",
    "msg_unavailable_title": "暂时无法提交",
    "msg_unavailable": "系统暂时无法接收投诉，请稍后再试。您填写的内容没有被保存。",
    "back_to_form": "返回投诉表单",
    "new_complaint": "提交新的投诉",
    "choose": "请选择",
}

EN: dict[str, str] = {
    "lang_name": "English",
    "skip": "Skip to main content",
    "form_title": "Make a complaint",
    "form_intro": "Tell us what happened. Fields marked * are required. Your personal data "
    "is kept confidential and used only to handle this complaint.",
    "section_contact": "How to reach you",
    "section_product": "Product and order",
    "section_event": "What happened",
    "section_photos": "Photos",
    "name": "Name",
    "phone": "Mobile number",
    "phone_hint": "A mainland China mobile number, e.g. 138 1234 5678.",
    "email": "Email",
    "email_hint": "We send your reference number to this address.",
    "contact_rule": "For us to contact you, give a mobile number or an email address (or both).",
    "preferred_contact": "Preferred way to contact you",
    "contact_phone": "Phone call",
    "contact_sms": "Text message",
    "contact_email": "Email",
    "anonymous": "I give no contact details and complain anonymously",
    "anonymous_hint": "An anonymous complaint is recorded, but we cannot check it, answer you "
    "or let you look up its status; without a contact it usually cannot be accepted as a "
    "formal complaint.",
    "consent": "I agree that {company} may contact me in the ways above about this complaint",
    "consent_short": "Consent",
    "order_number": "Order number",
    "order_hint": "For example HT20260315-0042, if you have one.",
    "product_model": "Product model",
    "model_hint": "On the rating plate or in the manual, e.g. KFR-35GW/HT1.",
    "serial": "Serial or batch number",
    "quantity": "Quantity",
    "occurred_on": "Date it happened",
    "location": "Where it happened",
    "location_hint": "For example the city and district, or the shop.",
    "description": "What is the problem?",
    "description_hint": "What happened, since when, and what you would like us to do.",
    "photos": "Photos of the problem",
    "photos_hint": "Up to {count} JPEG, PNG or HEIC photos, at most {size} MB each. Photos are "
    "re-encoded and their location and camera data removed before they are stored.",
    "honeypot": "Leave this field empty",
    "submit": "Send complaint",
    "required": "required",
    "errors_title": "Please correct the following and send again:",
    "err_required": "Please fill this in.",
    "err_too_long": "This is too long: at most {max} characters.",
    "err_too_short": "Please tell us a little more: at least {min} characters.",
    "err_phone": "Enter a valid mainland China mobile number (11 digits starting with 1).",
    "err_email": "Enter a valid email address.",
    "err_contact_or_anonymous": "Give a mobile number or an email address, or tick "
    "“complain anonymously”.",
    "err_anonymous_with_contact": "You gave contact details: untick “complain anonymously”.",
    "err_consent": "Tick the consent box, otherwise we cannot answer you on the contact you gave.",
    "err_preferred": "The way you chose needs the matching mobile number or email.",
    "err_quantity": "Enter a whole number from 1 to 100000.",
    "err_date": "Enter a valid date, not later than today.",
    "err_choice": "Choose one from the list.",
    "err_photo_type": "Only JPEG, PNG or HEIC photos can be uploaded (judged by the file's "
    "content, not its name).",
    "err_photo_size": "A photo is too large: at most {size} MB each.",
    "err_photo_count": "At most {count} photos can be uploaded.",
    "err_photo_broken": "A photo could not be read; the file may be damaged.",
    "err_photo_none": "This form takes no photos.",
    "done_title": "Complaint received",
    "done_reference": "Your reference number",
    "done_keep": "Keep this number: you need it to look up the status or to contact us again.",
    "done_next": "What happens next",
    "done_ack_email": "A confirmation is sent to {email}.",
    "done_ack_phone": "We will contact you on the mobile number you gave.",
    "done_anonymous": "You complained anonymously: we cannot answer you or let you look up "
    "the status.",
    "done_step_review": "We check and classify your complaint and pass it to the department "
    "responsible; safety issues are escalated at once.",
    "done_step_first": "You get a first answer within 24 hours as a rule.",
    "done_step_final": "You get a final answer within 15 working days at the latest.",
    "done_lookup": "Look up the status",
    "status_title": "Look up a complaint",
    "status_intro": "Enter the reference number and the mobile number or email you gave.",
    "reference": "Reference number",
    "reference_hint": "For example QC-202611-000042.",
    "contact": "Mobile number or email",
    "lookup": "Look up",
    "status_not_found": "No complaint matches this reference and contact. Please check them "
    "and try again.",
    "status_result": "Complaint {reference}",
    "status_label": "Status",
    "status_received_at": "Received",
    "status_history": "History",
    "status_due_first": "First answer due",
    "status_due_final": "Final answer due",
    "status_outcome": "Outcome",
    "st_received": "Received, waiting to be handled",
    "st_open": "Being handled",
    "st_in_progress": "Being handled",
    "st_resolved": "Resolved",
    "st_closed": "Closed",
    "st_reopened": "Reopened",
    "ev_received": "Complaint received",
    "ev_registered": "Registered and classified",
    "ev_forwarded": "Passed to the department responsible",
    "ev_acknowledged": "Confirmation sent",
    "ev_follow_up": "Further information received",
    "ev_status_changed": "Status updated",
    "ev_closed": "Closed",
    "ev_reopened": "Reopened",
    "ev_resolved": "Resolved",
    "out_no_contact": "No usable contact: it cannot be checked or answered.",
    "out_not_specific": "Not specific enough to be investigated.",
    "out_out_of_scope": "Not about our products or services.",
    "out_in_litigation": "Already in court or arbitration.",
    "out_expired": "Outside the time limit or the warranty period.",
    "out_not_a_complaint": "A question, suggestion or praise: passed on, not handled as a "
    "complaint.",
    "out_spam": "It cannot be handled as a complaint.",
    "msg_csrf_title": "This page has expired",
    "msg_csrf": "For your security the form must be opened again before sending. Go back to "
    "the form and try again (cookies from this site must be allowed).",
    "msg_rate_title": "Too many requests",
    "msg_rate": "Too many requests came from your network. Please try again in {minutes} minutes.",
    "msg_rejected_title": "Not accepted",
    "msg_rejected": "This submission could not be accepted.",
    "msg_too_large_title": "Submission too large",
    "msg_too_large": "What you sent is larger than allowed (at most {count} photos of {size} MB "
    "each).",
    "msg_not_found_title": "No such form",
    "msg_not_found": "There is no complaint form at this address.",
    "msg_closed_title": "This form is closed",
    "msg_closed": "This complaint form takes no submissions at the moment. Please contact us "
    "another way.",
    "msg_unavailable_title": "Temporarily unavailable",
    "msg_unavailable": "We cannot take complaints at the moment; please try again later. "
    "What you entered was not stored.",
    "back_to_form": "Back to the complaint form",
    "new_complaint": "Make another complaint",
    "choose": "Choose",
}

CATALOGUES: Mapping[Language, Mapping[str, str]] = {"zh-CN": ZH, "en": EN}


class Texts:
    """The texts of one language; `t("key", size=10)` formats placeholders."""

    def __init__(self, language: Language) -> None:
        self.language = language
        self._texts = CATALOGUES[language]

    def __call__(self, key: str, **values: object) -> str:
        text = self._texts.get(key) or EN.get(key) or key
        return text.format(**values) if values else text


def _from_accept_language(header: str, offered: Sequence[Language]) -> Language | None:
    """The best offered language by the q-values of an Accept-Language header."""
    choices: list[tuple[float, int, Language]] = []
    for position, item in enumerate(header.split(",")[:20]):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        match = _match(tag.strip().lower(), offered)
        if match is not None and quality > 0:
            choices.append((-quality, position, match))
    return min(choices)[2] if choices else None


def _match(tag: str, offered: Sequence[Language]) -> Language | None:
    if tag.startswith("zh"):
        # Simplified Chinese serves every Chinese reader better than English.
        return "zh-CN" if "zh-CN" in offered else None
    if tag.startswith("en"):
        return "en" if "en" in offered else None
    return None


def choose_language(
    query: str | None, cookie: str | None, accept_language: str | None, offered: Sequence[Language]
) -> Language:
    """An explicit switch (query, then cookie) wins over the browser's Accept-Language."""
    for explicit in (query, cookie):
        for language in offered:
            if explicit and explicit.lower() == language.lower():
                return language
    if accept_language:
        negotiated = _from_accept_language(accept_language, offered)
        if negotiated is not None:
            return negotiated
    return offered[0] if offered else LANGUAGES[0]
