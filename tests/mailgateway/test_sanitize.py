"""sanitize_html(): nothing active or remote survives, formatting and cid: images do."""

from __future__ import annotations

import pytest

from mailgateway.sanitize import html_to_text, sanitize_html, text_to_html


def test_script_and_style_are_removed_with_their_content():
    html = "<p>hi</p><script>alert('x')</script><style>p { color: red }</style><SCRIPT src=a.js></SCRIPT>"
    assert sanitize_html(html) == "<p>hi</p>"


def test_unclosed_script_does_not_leak_code():
    assert "alert" not in sanitize_html("<p>hi</p><script>alert(1)")


@pytest.mark.parametrize(
    "html",
    [
        '<a href="javascript:alert(1)">x</a>',
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="&#106;avascript:alert(1)">x</a>',
        '<a href="vbscript:msgbox(1)">x</a>',
        '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    ],
)
def test_dangerous_link_protocols_are_dropped(html):
    cleaned = sanitize_html(html)
    assert "href" not in cleaned
    assert "x" in cleaned


def test_event_handlers_and_unknown_tags_are_dropped():
    cleaned = sanitize_html('<div onclick="evil()" onmouseover="x"><form><input value="a"></form>ok</div>')
    assert cleaned.replace("\n", "") == "<div>ok</div>"


def test_allowed_formatting_survives():
    html = (
        "<h1>T</h1><p><b>b</b> <i>i</i> <u>u</u> <strong>s</strong> <em>e</em></p><ul><li>1</li></ul>"
        '<blockquote type="cite">q</blockquote><pre><code>c</code></pre>'
        '<table><thead><tr><th>h</th></tr></thead><tbody><tr><td colspan="2">d</td></tr></tbody></table><hr>'
        '<a href="mailto:a@b.example" title="t">m</a>'
    )
    assert sanitize_html(html) == html


def test_style_is_filtered_to_allowed_properties():
    cleaned = sanitize_html(
        '<span style="color: red; position: fixed; background-image: url(http://x/)">s</span>'
    )
    assert cleaned == '<span style="color: red;">s</span>'


def test_style_with_entity_quotes_keeps_following_declarations():
    cleaned = sanitize_html(
        '<div style="font-family: &quot;Hiragino Sans&quot;, sans-serif; font-size: 12pt">x</div>'
    )
    assert "font-size: 12pt" in cleaned


def test_remote_images_do_not_load_but_cid_images_stay():
    cleaned = sanitize_html('<img src="https://t.example/p.gif"><img src="cid:logo@x" alt="logo">')
    assert cleaned == '<img data-remote-src="https://t.example/p.gif"><img src="cid:logo@x" alt="logo">'


def test_data_remote_src_from_the_sender_is_not_trusted():
    assert sanitize_html('<img data-remote-src="https://x/" src="javascript:x">') == "<img>"


def test_only_the_body_of_a_full_document_is_kept():
    html = "<!DOCTYPE html><html><head><title>Secret</title><meta charset=utf-8></head><body><p>Body</p></body></html>"
    assert sanitize_html(html) == "<p>Body</p>"


def test_comments_and_conditional_comments_are_removed():
    assert sanitize_html("<!--[if mso]><p>mso</p><![endif]--><p>x</p>") == "<p>x</p>"


def test_empty_input():
    assert sanitize_html("") == "" and html_to_text("  ") == ""


def test_html_to_text_is_readable_and_ignores_scripts():
    text = html_to_text(
        "<p>Hello<br>World</p><script>alert(1)</script><ul><li>one</li></ul><style>x{}</style>"
    )
    assert "Hello\nWorld" in text
    assert "one" in text
    assert "alert" not in text and "x{}" not in text


def test_text_to_html_escapes():
    assert text_to_html("a < b\nc") == "<div>a &lt; b<br>c</div>"
