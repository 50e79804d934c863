"""Who reacts to what, in one explicit place that the API, the worker and the scripts import
alike (instead of lists that one process fills at start-up and another never sees).

* A company signs up: besides its root department and admin, it gets its default pool and
  pool settings (customers).
* A company signs up: it also gets its default sales pipeline and lost reasons (pipeline).
* A user is deactivated: their customers go to the successor or back to the pool, with the
  ownership events, feed items and webhooks of a transfer or release (customers); their
  open leads likewise, to the successor or back to their pools (leads).
* A customer's timeline: its ownership events and deals (customers) with the follow-ups,
  check-ins and work logs about it (fieldwork), its opportunities' stage moves (pipeline), its
  contracts (money) and their approval steps (approvals), its service tickets' events
  (tickets), each under its own visibility rule.
* An approval ends (approved, rejected, withdrawn): the record's package moves the record
  (contracts, payments), by `record_type`.
"""

from app.approvals import timeline as approvals_timeline
from app.approvals.outcomes import ApprovalOutcome
from app.customers import ownership
from app.customers.history import TimelineSource
from app.fieldwork import timeline as fieldwork_timeline
from app.leads.pools import handover as lead_handover
from app.money import timeline as money_timeline
from app.money.contracts import service as contracts
from app.money.payments import service as payments
from app.org.users import OrgReactions
from app.pipeline import defaults as pipeline_defaults
from app.pipeline import timeline as pipeline_timeline
from app.tickets import timeline as tickets_timeline

ORG_REACTIONS = OrgReactions(
    on_signup=(ownership.on_signup, pipeline_defaults.on_signup),
    on_deactivated=(ownership.on_user_deactivated, lead_handover.on_user_deactivated),
)

TIMELINE_SOURCES: tuple[TimelineSource, ...] = (
    fieldwork_timeline.followups_on,
    fieldwork_timeline.checkins_at,
    fieldwork_timeline.logs_about,
    pipeline_timeline.opportunity_moves,
    money_timeline.contract_events,
    approvals_timeline.approval_steps,
    tickets_timeline.ticket_events,
)

APPROVAL_OUTCOMES: dict[str, ApprovalOutcome] = {
    "contract": contracts.approval_outcome,
    "payment": payments.approval_outcome,
}
