"""Extension points of the SLA sweep, called after its transaction has committed."""


def ticket_escalated(*, ticket_id: int, level: int, event_id: int) -> None:
    """A ticket reached escalation `level` (its TicketEvent is `event_id`). Called once per level reached,
    after commit, in the sweep's process: keep it quick (queue a task for anything slow). A worker killed
    between the commit and this call skips it; the durable record is the TicketEvent and the sla.Notice."""

