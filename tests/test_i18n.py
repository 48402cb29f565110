"""Catalog completeness and untranslated template text (issue 10).

The catalog check regenerates each catalog from the current source in a scratch copy (so nothing in the
work tree changes) and fails on any untranslated or fuzzy entry. The template check fails on visible text
outside {% translate %}/{% blocktranslate %}; the Python check fails on literal user-facing strings
(messages, validation errors, field labels, choice labels) that are not wrapped in gettext.
"""

import ast
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
# Every top-level directory is source (apps added later are checked without editing this list), except these.
NOT_SOURCE = {"tests", "var", "media", "node_modules", "benchmarks", "htmlcov", "build", "dist", "__pycache__"}
TRANSLATED = [code for code, _ in settings.LANGUAGES if code != "en"]


def _source_dirs() -> list[Path]:
    return [p for p in ROOT.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name not in NOT_SOURCE]


def _python_sources():
    for d in _source_dirs():
        for path in d.rglob("*.py"):
            if "migrations" not in path.parts and ".venv" not in path.parts:
                yield path


def _entries(po_text: str):
    """(msgid, [each msgstr form, joined], is_fuzzy) for each entry of a .po file (header skipped)."""
    for block in po_text.split("\n\n"):
        lines = [line for line in block.splitlines() if line.strip()]
        fuzzy = any(line.startswith("#,") and "fuzzy" in line for line in lines)
        msgid, forms, current = [], [], None
        for line in lines:
            if line.startswith("#"):
                continue
            if line.startswith("msgid "):
                current = msgid
                current.append(line[6:])
            elif line.startswith("msgid_plural"):
                current = None
            elif line.startswith("msgstr"):
                current = [line.split(" ", 1)[1]]
                forms.append(current)  # msgstr or one msgstr[n]; continuation lines extend it
            elif line.startswith('"') and current is not None:
                current.append(line)
        ident = "".join(s.strip('"') for s in msgid)
        if ident:
            yield ident, ["".join(s.strip('"') for s in form) for form in forms], fuzzy


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    scratch = tmp_path_factory.mktemp("i18n")
    ignore = shutil.ignore_patterns("__pycache__", "*.mo", "node_modules", ".venv")
    for d in _source_dirs():
        shutil.copytree(d, scratch / d.name, ignore=ignore)
    shutil.copy(ROOT / "manage.py", scratch / "manage.py")
    env = {"DJANGO_SETTINGS_MODULE": "helpdesk_site.settings", "DEBUG": "true", "HELPDESK_VAR_DIR": str(scratch / "var"),
           "PATH": "/usr/bin:/bin", "PYTHONPATH": str(scratch)}
    for domain in DOMAINS:
        args = [sys.executable, "manage.py", "makemessages", "--no-obsolete", "--no-location", "-d", domain]
        if domain == "djangojs":
            args += ["--ignore", "*.min.js"]  # vendored libraries carry no strings of ours
        for lang in TRANSLATED:
            args += ["-l", lang]
        subprocess.run(args, cwd=scratch, env=env, check=True, capture_output=True)
    return scratch


# JavaScript strings get their own catalog once a script calls gettext() (via JavaScriptCatalog).
DOMAINS = ["django"] + (["djangojs"] if (ROOT / "locale" / "ru" / "LC_MESSAGES" / "djangojs.po").exists() else [])


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalog_is_complete(regenerated, lang, domain):
    # An app with its own locale/ directory gets its strings there (makemessages picks the nearest one).
    catalogs = sorted(regenerated.glob(f"**/locale/{lang}/LC_MESSAGES/{domain}.po"))
    assert catalogs
    missing = [
        f"{po.relative_to(regenerated)}: {msgid}"
        for po in catalogs
        for msgid, strs, fuzzy in _entries(po.read_text())
        if fuzzy or not all(strs)
    ]
    assert not missing, f"{len(missing)} untranslated or fuzzy {lang} entries, e.g. {missing[:10]}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_compiled_catalog_is_current(lang):
    po = ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    assert mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime - 1, f"run compilemessages for {lang}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_catalog_is_valid_and_placeholders_match(lang):
    """msgfmt --check: placeholders of python-format entries match, plural count agrees with the header."""
    po = ROOT / "locale" / lang / "LC_MESSAGES" / "django.po"
    result = subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(po)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("lang", "forms"), [("ru", 3), ("uk", 3), ("de", 2)])
def test_plural_forms_header(lang, forms):
    po = (ROOT / "locale" / lang / "LC_MESSAGES" / "django.po").read_text()
    assert f"nplurals={forms};" in po


@pytest.mark.parametrize(
    ("lang", "n", "expected"),
    [("ru", 1, "1 письмо"), ("ru", 3, "3 письма"), ("ru", 5, "5 писем"), ("ru", 21, "21 письмо"),
     ("ru", 12, "12 писем"), ("uk", 22, "22 листи"), ("uk", 11, "11 листів"), ("de", 1, "1 E-Mail "),
     ("de", 2, "2 E-Mails")],
)
def test_plural_forms_are_used(lang, n, expected):
    from django.utils import translation

    with translation.override(lang):
        text = translation.ngettext("%(n)d email queued for sending.", "%(n)d emails queued for sending.", n)
    assert (text % {"n": n}).startswith(expected)


COMMENT_BLOCK = re.compile(r"{%\s*comment\b.*?%}.*?{%\s*endcomment\s*%}", re.S)
KBD = re.compile(r"<kbd>.*?</kbd>", re.S)  # key names (Esc, Enter) are printed on the keyboard in English
TAG = re.compile(r"{%.*?%}|{{.*?}}|{#.*?#}|<!--.*?-->", re.S)
BLOCKTRANS = re.compile(r"{%\s*blocktrans(?:late)?\b.*?{%\s*endblocktrans(?:late)?\s*%}", re.S)
SCRIPT_STYLE = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)
HTML_TAG = re.compile(r"<[^>]+>", re.S)
WORD = re.compile(r"[A-Za-zА-Яа-яЁё]{2,}")
# Not user-facing prose: product/brand names and technical tokens that stay as they are in every language.
ALLOWED = {"Helpdesk", "API", "CSV", "SLA", "RSS", "Atom", "URL", "ID", "OK", "Email", "HTML", "PDF"}


ATTRS = re.compile(r'\b(?:alt|title|placeholder|aria-label)="([^"]*)"')


def _visible_text(source: str) -> list[str]:
    text = COMMENT_BLOCK.sub(" ", source)
    text = KBD.sub(" ", text)
    text = BLOCKTRANS.sub(" ", text)
    text = SCRIPT_STYLE.sub(" ", text)
    text = TAG.sub(" ", text)
    attributes = " ".join(ATTRS.findall(text))  # user-facing attribute text counts too
    text = HTML_TAG.sub(" ", text) + " " + attributes
    text = re.sub(r"&[a-z]+;|&#\d+;", " ", text)
    return [w for w in WORD.findall(text) if w not in ALLOWED]


def _templates():
    dirs = [ROOT / "templates"] + [p for p in ROOT.glob("*/templates") if ".venv" not in str(p)]
    for d in dirs:
        yield from (p for p in d.rglob("*") if p.suffix in {".html", ".txt"} and "admin" not in p.parts)


def test_templates_have_no_untranslated_text():
    offenders = {}
    for path in _templates():
        words = _visible_text(path.read_text())
        if words:
            offenders[str(path.relative_to(ROOT))] = words[:8]
    assert not offenders, f"untranslated template text: {offenders}"


# Calls whose literal string arguments reach users: flash messages, validation errors, field and choice
# labels, admin action/display descriptions.
MESSAGE_CALLS = {"success", "error", "info", "warning", "debug", "add_message", "ValidationError", "add_error"}
LABEL_KEYWORDS = {"label", "help_text", "verbose_name", "verbose_name_plural", "empty_label", "description"}
CHOICES_BASES = {"TextChoices", "IntegerChoices", "Choices"}
# Names of protocol elements that are the same in every language.
TECHNICAL_LITERALS = {"Message-ID", "In-Reply-To", "References"}


def _is_literal_text(node) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(WORD.search(node.value)) and node.value not in TECHNICAL_LITERALS
    return isinstance(node, ast.JoinedStr)


RELATION_FIELDS = {"OneToOneField", "ManyToManyField"}  # their first argument is a model, not a label
LEVEL_CALLS = {"success", "error", "info", "warning", "debug"}


def _is_user_message(node: ast.Call) -> bool:
    """messages.warning(request, ...) reaches the user; logger.warning(...) does not."""
    func = node.func
    if _call_name(node) not in LEVEL_CALLS:
        return True
    return isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "messages"


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def _untranslated_python(tree) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            args = node.args[1:] if name == "add_error" else node.args  # add_error(field_name, message)
            if name in MESSAGE_CALLS and _is_user_message(node) and any(_is_literal_text(a) for a in args):
                lines.append(node.lineno)
            if name.endswith("Field") and name not in RELATION_FIELDS and node.args and _is_literal_text(node.args[0]):
                lines.append(node.lineno)  # a model/form field's positional verbose name
            lines += [kw.value.lineno for kw in node.keywords if kw.arg in LABEL_KEYWORDS and _is_literal_text(kw.value)]
        elif isinstance(node, ast.ClassDef) and {getattr(b, "attr", getattr(b, "id", "")) for b in node.bases} & CHOICES_BASES:
            for stmt in node.body:
                value = getattr(stmt, "value", None)
                if isinstance(stmt, ast.Assign) and isinstance(value, ast.Tuple) and _is_literal_text(value.elts[-1]):
                    lines.append(stmt.lineno)  # a choice label shown in forms, lists and the admin
    return lines


def test_python_user_facing_strings_are_translatable():
    offenders = {}
    for path in _python_sources():
        lines = _untranslated_python(ast.parse(path.read_text(), filename=str(path)))
        if lines:
            offenders[str(path.relative_to(ROOT))] = sorted(lines)
    assert not offenders, f"user-facing literals not wrapped in gettext (file: lines): {offenders}"


def test_python_check_catches_unwrapped_strings():
    """The check above can fail: it flags each kind of unwrapped literal it is meant to catch."""
    source = """
class Colour(models.TextChoices):
    RED = "red", "Red"
    BLUE = "blue", _("Blue")
name = models.CharField("name", max_length=5)
title = models.CharField(_("title"), help_text="Shown on top")
messages.success(request, "Saved the ticket.")
messages.success(request, _("Saved the ticket."))
raise ValidationError(f"Bad value {x}")
logger.warning("Polling mailbox %s failed", mailbox)
ticket = models.OneToOneField("tickets.Ticket", on_delete=models.CASCADE)
form.add_error("subject", "Too long")
form.add_error("subject", _("Too long"))
"""
    assert sorted(_untranslated_python(ast.parse(source))) == [3, 5, 6, 7, 9, 12]


def test_template_check_sees_text_but_not_comments_keys_or_translated_text():
    source = """{% load i18n %}{% comment %}Sanitized when stored.{% endcomment %}
<p><kbd>Esc</kbd> {% translate "Close" %}</p>{% blocktranslate %}Hello {{ name }}{% endblocktranslate %}
<input placeholder="Search here"> <h2>Details</h2>"""
    assert _visible_text(source) == ["Details", "Search", "here"]


def test_entries_parser_sees_missing_forms_and_fuzzy():
    po = """msgid ""
msgstr "Language: ru\\n"

msgid "Log in"
msgstr "Войти"

msgid "%(n)d email"
msgid_plural "%(n)d emails"
msgstr[0] "%(n)d письмо"
msgstr[1] ""
msgstr[2] "%(n)d писем"

#, fuzzy
msgid "Long text"
msgstr ""
"Длинный "
"текст"
"""
    entries = {msgid: (forms, fuzzy) for msgid, forms, fuzzy in _entries(po)}
    assert entries["Log in"] == (["Войти"], False)
    assert entries["%(n)d email"][0] == ["%(n)d письмо", "", "%(n)d писем"]
    assert entries["Long text"] == (["Длинный текст"], True)


@pytest.mark.parametrize("lang", ["ru", "uk"])
def test_timeline_fixed_words_are_translated(lang):
    """tickets.timeline_html keeps its fixed words in a dict: gettext_noop must mark them, or makemessages
    drops them from the catalogs and a Russian agent reads "Undo merge" (it happened)."""
    from django.utils import translation

    from tickets import timeline_html

    with translation.override(lang):
        texts = timeline_html._texts(lang)
    untranslated = [key for key, msgid in timeline_html._MSGIDS.items() if texts[key] == msgid]
    assert untranslated == []
