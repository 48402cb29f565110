"""The agent workspace: queue.py (queues, bulk actions), ticket.py (the page), compose.py (reply, note),
changes.py (assign, status, priority, details, transfer), relations.py (split, merge, undo),
canned.py (canned responses), live.py (activity polling, presence). URLs: tickets/urls_agent.py."""
