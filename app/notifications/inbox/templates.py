"""Notification texts, Chinese and English, chosen by the recipient's locale."""

from typing import Any

# kind → locale → (title, body); placeholders come from the notification's params.
TEMPLATES: dict[str, dict[str, tuple[str, str]]] = {
    "comment": {
        "zh-CN": ("新评论", "{actor}评论了你的{subject}：{excerpt}"),
        "en": ("New comment", "{actor} commented on your {subject}: {excerpt}"),
    },
    "reply": {
        "zh-CN": ("新回复", "{actor}回复了你的评论：{excerpt}"),
        "en": ("New reply", "{actor} replied to your comment: {excerpt}"),
    },
    "mention": {
        "zh-CN": ("有人提到了你", "{actor}在评论中提到了你：{excerpt}"),
        "en": ("You were mentioned", "{actor} mentioned you in a comment: {excerpt}"),
    },
    "like": {
        "zh-CN": ("收到点赞", "{likers}赞了你的{subject}"),
        "en": ("New likes", "{likers} liked your {subject}"),
    },
    "record_on_your_customer": {
        "zh-CN": ("客户有新动态", "{actor}在客户「{customer}」添加了{record}"),
        "en": ("Activity on your customer", "{actor} added a {record} on {customer}"),
    },
    "customer_claimed": {
        "zh-CN": ("客户被领取", "{actor}从公海领取了客户「{customer}」"),
        "en": ("Customer claimed", "{actor} claimed {customer} from the pool"),
    },
    "customer_transferred_to_you": {
        "zh-CN": ("客户转给了你", "{actor}把客户「{customer}」转给了你"),
        "en": ("Customer transferred to you", "{actor} transferred {customer} to you"),
    },
    "customers_handed_over": {
        "zh-CN": ("客户已移交给你", "{actor}把{from_user}的{count}个客户移交给了你"),
        "en": (
            "Customers handed over to you",
            "{actor} handed {count} of {from_user}'s customers over to you",
        ),
    },
    "deal_won": {
        "zh-CN": ("成交确认", "{actor}与客户「{customer}」成交 {amount}"),
        "en": ("Deal won", "{actor} closed a deal with {customer} {amount}"),
    },
    "lead_assigned": {
        "zh-CN": ("新线索分配给你", "{actor}把线索「{lead}」（{company_name}）分配给了你"),
        "en": ("Lead assigned to you", "{actor} assigned the lead {lead} ({company_name}) to you"),
    },
    "leads_assigned": {
        "zh-CN": ("新线索分配给你", "{actor}给你分配了{count}条线索"),
        "en": ("Leads assigned to you", "{actor} assigned {count} leads to you"),
    },
    "lead_recycled": {
        "zh-CN": ("线索已回收", "线索「{lead}」（{company_name}）{days}天未跟进，已退回线索池"),
        "en": (
            "Lead recycled",
            "{lead} ({company_name}) had no follow-up for {days} days and went back to its pool",
        ),
    },
    "opportunity_stale": {
        "zh-CN": ("商机停滞", "商机「{opportunity}」（{customer}）已{days}天未成交，请推进或关闭"),
        "en": (
            "Opportunity gone stale",
            "{opportunity} ({customer}) has been open {days} days: move it on or close it",
        ),
    },
    "opportunity_stage_changed": {
        "zh-CN": ("商机阶段变化", "{actor}把商机「{opportunity}」从{from_stage}推进到{to_stage}"),
        "en": (
            "Opportunity moved",
            "{actor} moved {opportunity} from {from_stage} to {to_stage}",
        ),
    },
    "contract_activated": {
        "zh-CN": ("合同生效", "{actor}与客户「{customer}」的合同{number}已生效，金额 {amount}"),
        "en": (
            "Contract active",
            "{actor}'s contract {number} with {customer} is active: {amount}",
        ),
    },
    "contract_expiring": {
        "zh-CN": ("合同即将到期", "客户「{customer}」的合同{number}将于{end_date}到期"),
        "en": ("Contract expiring", "Contract {number} with {customer} ends on {end_date}"),
    },
    "payment_due": {
        "zh-CN": (
            "回款即将到期",
            "客户「{customer}」合同{number}的一期回款 {amount} 将于{due_date}到期",
        ),
        "en": (
            "Payment due",
            "An instalment of {amount} on {number} ({customer}) is due {due_date}",
        ),
    },
    "payment_overdue": {
        "zh-CN": (
            "回款已逾期",
            "客户「{customer}」合同{number}的回款 {amount} 已于{due_date}逾期（{days}天）",
        ),
        "en": (
            "Payment overdue",
            "{amount} on {number} ({customer}) was due {due_date} ({days} days overdue)",
        ),
    },
    "payment_recorded": {
        "zh-CN": ("新回款登记", "{actor}登记了客户「{customer}」合同{number}的回款 {amount}"),
        "en": ("Payment recorded", "{actor} recorded {amount} on {number} ({customer})"),
    },
    "approval_requested": {
        "zh-CN": ("待你审批", "{actor}提交了{title}，请审批"),
        "en": ("Approval requested", "{actor} submitted {title} for your approval"),
    },
    "approval_decided": {
        "zh-CN": ("审批结果", "{title}已{decision_zh}（{actor}）"),
        "en": ("Approval decided", "{title} was {decision} by {actor}"),
    },
    "customer_released": {
        "zh-CN": ("客户退回公海", "{actor}把客户「{customer}」退回了公海：{reason}"),
        "en": ("Customer released", "{actor} released {customer} to the pool: {reason}"),
    },
    "customer_recycled": {
        "zh-CN": ("客户已回收到公海", "客户「{customer}」已回收到公海：{reason_text}"),
        "en": ("Customer recycled", "{customer} went back to the pool: {reason_text}"),
    },
    "recycle_warning": {
        "zh-CN": (
            "客户即将被回收",
            "客户「{customer}」将于{due_local}回收到公海（{reason_text}），请及时跟进",
        ),
        "en": (
            "Customer about to be recycled",
            "{customer} goes back to the pool on {due_local} ({reason_text}) unless you follow up",
        ),
    },
    "followup_overdue": {
        "zh-CN": ("跟进已逾期", "客户「{customer}」计划于{due_local}跟进，已逾期"),
        "en": ("Follow-up overdue", "Your follow-up with {customer} was due {due_local}"),
    },
    "customer_forgotten": {
        "zh-CN": ("客户好久没联系了", "客户「{customer}」已有{days}天没有跟进或拜访"),
        "en": ("Forgotten customer", "No follow-up or visit with {customer} for {days} days"),
    },
    "contact_birthday": {
        "zh-CN": ("客户生日提醒", "今天是{customer}的{contact}的生日"),
        "en": ("Birthday today", "Today is the birthday of {contact} at {customer}"),
    },
    "manager_digest": {
        "zh-CN": ("团队昨日简报", "昨天团队拜访{visits}次，跟进{followups}条，异常签到{flagged}次"),
        "en": (
            "Your team yesterday",
            "Yesterday your team made {visits} visits, {followups} follow-ups, "
            "{flagged} flagged check-ins",
        ),
    },
    "plan_reminder": {
        "zh-CN": ("拜访提醒", "{time}拜访客户「{customer}」"),
        "en": ("Visit reminder", "Visit {customer} at {time}"),
    },
    "task_assigned": {
        "zh-CN": ("新待办", "{actor}给你安排了待办「{title}」，截止{due_local}"),
        "en": ("New task", "{actor} gave you the task {title}, due {due_local}"),
    },
    "task_due": {
        "zh-CN": ("待办提醒", "待办「{title}」将于{due_local}到期"),
        "en": ("Task due", "{title} is due {due_local}"),
    },
    "ticket_assigned": {
        "zh-CN": ("新工单", "{actor}把客户「{customer}」的工单分配给了你：{excerpt}"),
        "en": ("Ticket assigned", "{actor} assigned you a ticket of {customer}: {excerpt}"),
    },
    "ticket_overdue": {
        "zh-CN": (
            "工单已超时",
            "客户「{customer}」的{priority_zh}工单已超过处理时限（{due_local}）",
        ),
        "en": ("Ticket overdue", "A {priority} ticket of {customer} was due {due_local}"),
    },
}

REASONS = {
    "zh-CN": {"no_followup": "长期未跟进", "no_deal": "长期未成交"},
    "en": {"no_followup": "no follow-up in time", "no_deal": "no deal in time"},
}

SUBJECT_NAMES = {
    "zh-CN": {
        "followup": "跟进记录",
        "checkin": "签到",
        "log": "日志",
        "ownership": "客户动态",
        "comment": "评论",
    },
    "en": {
        "followup": "follow-up",
        "checkin": "check-in",
        "log": "work log",
        "ownership": "customer update",
        "comment": "comment",
    },
}


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def render(kind: str, locale: str, params: dict[str, Any]) -> tuple[str, str]:
    """(title, body) of a notification in the locale (English when the locale is unknown)."""
    texts = TEMPLATES[kind]
    chosen = locale if locale in texts else "en"
    names = SUBJECT_NAMES[chosen]
    values = _Blank({k: v for k, v in params.items() if v is not None})
    for key in ("subject", "record"):
        if key in values:
            values[key] = names.get(values[key], values[key])
    if "reason" in params and params["reason"] in REASONS[chosen]:
        values["reason_text"] = REASONS[chosen][params["reason"]]
    if "likers" in params:
        values["likers"] = likers_text(chosen, params["likers"], params.get("like_count", 1))
    title, body = texts[chosen]
    return title.format_map(values)[:200], body.format_map(values)


def likers_text(locale: str, names: list[str], count: int) -> str:
    """'王五' / '王五、李四等3人' / 'Wang' / 'Wang and 2 others'."""
    first = names[0] if names else "?"
    if count <= 1:
        return first
    if locale == "zh-CN":
        return f"{first}等{count}人"
    return f"{first} and {count - 1} other{'s' if count > 2 else ''}"
