"""Email-to-ticket gateway.

Pure, database-free layer (importable without Django configured):
* ``mailgateway.parsing.parse(raw: bytes) -> ParsedEmail``: headers, addresses, bodies, attachments,
  auto-reply and bounce detection; never raises.
* ``mailgateway.sanitize``: ``sanitize_html`` (bleach allow-list, remote images parked in
  ``data-remote-src``, ``cid:`` images kept) and ``html_to_text``.
* ``mailgateway.quoting``: ``split_quoted`` / ``split_quoted_html`` separate a reply from the quote.
* ``mailgateway.charsets``: charset guessing and RFC 2047 decoding used by the parser.
"""
