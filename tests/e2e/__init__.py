"""End-to-end test infrastructure: real SMTP, IMAP, Celery and browser processes on loopback."""
