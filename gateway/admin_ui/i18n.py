"""Chinese for the admin UI; English is the key itself, so a missing entry shows English."""

from __future__ import annotations

from collections.abc import Callable

from aiohttp import web

LANGUAGES = ("en", "zh")
ZH: dict[str, str] = {
    "Records": "记录", "Review": "复核", "Channels": "渠道", "Routing": "路由",
    "Dead letters": "死信", "Models": "模型", "Rules": "规则", "Dashboard": "误派看板",
    "Sign in": "登录", "Sign out": "退出", "Username": "用户名", "Password": "密码",
    "Search": "搜索", "Filter": "筛选", "Channel": "渠道", "Department": "部门",
    "Severity": "严重程度", "Validity": "有效性", "Needs review": "待复核", "Overdue": "已超时",
    "From": "从", "To": "到", "Reference": "编号", "Received": "接收时间", "Subject": "主题",
    "Next page": "下一页", "any": "全部", "yes": "是", "no": "否",
    "Original": "原始输入", "Attachments": "附件", "Decision": "分类决定",
    "Confidence": "置信度", "Explanation": "解释", "Links": "关联", "Deliveries": "投递",
    "SLA clocks": "时限", "History": "历史", "Correct": "更正", "Reason for the change": "更正原因",
    "Apply correction": "提交更正", "Confirm": "确认", "Complainant": "投诉人",
    "hidden for your role": "您的角色不可见", "Invalid reason": "无效原因", "Flags": "标记",
    "Add channel": "添加渠道", "Kind": "类型", "Name": "名称", "Enabled": "已启用",
    "Save": "保存", "Test": "测试", "Enable": "启用", "Disable": "停用", "Remove": "删除",
    "Destinations": "目的地", "Routes": "路由表", "Replay": "重投", "Replay all": "全部重投",
    "Retrain now": "立即重新训练",
    "Versions": "版本",
    "Active": "当前",
    "Roll back to this": "回滚到此版本",
    "Promote": "启用此版本", "Compare": "比较", "Runs": "训练记录", "Suggest rules": "生成规则建议",
    "Accept": "接受", "Reject": "拒绝", "Phrase": "词语", "Weight": "权重", "Group": "规则组",
    "Department confusion by week": "每周部门混淆（预测→更正）",
    "Accuracy per department": "各部门准确率",
    "Most corrected rules": "最常被更正的规则", "Overdue clocks": "超时时限",
    "No records": "没有记录", "Nothing to review": "没有待复核记录", "State": "状态",
    "Destination": "目的地", "Attempts": "尝试次数", "Error": "错误", "Version": "版本",
    "Settings": "设置",
    "Secrets are references: env:NAME or file:/path": "密钥只填引用：env:NAME 或 file:/path",
    "Keys: c confirm, e edit, n next": "快捷键：c 确认，e 更正，n 下一条",
    "Rules versions": "规则版本", "Activate": "启用", "Proposed": "建议中",
    "Extracted fields": "提取字段",
    "Language": "语言", "Support": "支持数", "Score": "得分", "Purpose": "用途",
}  # fmt: skip


def language(request: web.Request) -> str:
    """From `?lang=`, then the `lang` cookie, then Accept-Language; English otherwise."""
    for value in (request.query.get("lang"), request.cookies.get("lang")):
        if value in LANGUAGES:
            return value
    accept = request.headers.get("Accept-Language", "")
    return "zh" if accept.lower().startswith("zh") else "en"


def translator(lang: str) -> Callable[[str], str]:
    if lang == "zh":
        return lambda text: ZH.get(text, text)
    return lambda text: text
