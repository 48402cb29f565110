"""A mail's HTML goes through bleach once when nothing is cut from it, twice (each half) when a quote is.

parse() sanitizes the HTML part; storing the message (tickets.message_body.render_body) splits off the
quoted history. Only a string that is still exactly what bleach returned (SanitizedHtml) may skip the
second pass; anything else, and both halves of a cut, is sanitized again.
"""

import pytest

from mailgateway import sanitize
from mailgateway.parsing import parse
from mailgateway.sanitize import SanitizedHtml, sanitize_html
from tickets import message_body
from tickets.message_body import render_body

from .mails import mail


@pytest.fixture
def bleach_calls(monkeypatch):
    calls = []
    real = sanitize.sanitize_html

    def counting(html):
        calls.append(html)
        return real(html)

    monkeypatch.setattr(message_body, "sanitize_html", counting)
    return calls


def test_the_mark_is_lost_by_any_change():
    clean = sanitize_html("<p>hi <b>there</b></p>")
    assert isinstance(clean, SanitizedHtml)
    assert not isinstance(clean + "<script>alert(1)</script>", SanitizedHtml)
    assert not isinstance(clean[:3], SanitizedHtml)
    assert not isinstance(clean.replace("hi", "<img src=x onerror=alert(1)>"), SanitizedHtml)


def test_parsed_html_without_a_quote_is_stored_as_bleach_returned_it(bleach_calls):
    parsed = parse(mail(body="hi there", html='<p onclick="x()">hi <b>there</b></p><script>alert(1)</script>'))
    assert isinstance(parsed.html, SanitizedHtml)
    rendered = render_body(parsed.text, parsed.html)
    assert bleach_calls == []
    assert rendered.shown == f'<div class="msg-body msg-html">{parsed.html}</div>'
    assert "onclick" not in rendered.shown and "alert" not in rendered.shown


def test_parsed_html_with_a_quote_is_sanitized_again_in_both_halves(bleach_calls):
    html = '<div>Thanks!</div><blockquote type="cite"><div>Old <i>advice</i></div></blockquote>'
    parsed = parse(mail(body="Thanks!", html=html))
    rendered = render_body(parsed.text, parsed.html)
    assert len(bleach_calls) == 2 and not any(isinstance(c, SanitizedHtml) for c in bleach_calls)
    assert "Thanks!" in rendered.shown and "Old <i>advice</i>" in rendered.quoted


def test_html_that_did_not_come_from_bleach_is_always_sanitized(bleach_calls):
    rendered = render_body("", '<p>hi</p><script>alert(1)</script><a href="javascript:x()">x</a>')
    assert len(bleach_calls) == 2
    assert "alert" not in rendered.shown and "javascript" not in rendered.shown
