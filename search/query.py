"""What the user typed, as a PostgreSQL tsquery (or, on SQLite, as substring conditions).

Syntax, as in web search engines: words must all appear (in any form: "сервер" finds "серверы"),
"a quoted phrase" must appear as such, -word excludes. Each term is parsed by every configuration of
search.sql.CONFIGS and the results are OR-ed, so a term matches its exact form and its stem in each
language; terms are AND-ed.
"""

import re
from dataclasses import dataclass

from django.db.models import BooleanField, Expression, F, Field, FloatField, Func, TextField

from . import sql

MAX_TERMS = 8
_TOKEN = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')
_WORDY = re.compile(r"\w")


@dataclass(frozen=True)
class Term:
    text: str
    negated: bool = False


def parse_terms(text: str) -> list[Term]:
    terms = []
    for m in _TOKEN.finditer(text or ""):
        neg, body = (m.group(1), m.group(2)) if m.group(2) is not None else (m.group(3), m.group(4))
        body = body.strip()
        if body and _WORDY.search(body):
            terms.append(Term(body[:100], negated=bool(neg)))
    return terms[:MAX_TERMS]


def positive(terms: list[Term]) -> list[Term]:
    return [t for t in terms if not t.negated]


def _term_sql(term: Term) -> tuple[str, list]:
    parts = " || ".join(f"phraseto_tsquery('{c}'::regconfig, %s)" for c in sql.CONFIGS)
    text = f"({parts})"
    return (f"(!! {text})" if term.negated else text), [term.text] * len(sql.CONFIGS)


def tsquery_sql(terms: list[Term], *, any_term: bool = False) -> tuple[str, list]:
    """SQL and parameters of the tsquery: all terms (negations included), or with any_term=True any one
    of the positive terms (used to find candidate rows and to highlight)."""
    chosen = positive(terms) if any_term else terms
    pieces = [_term_sql(t) for t in chosen]
    joiner = " || " if any_term else " && "
    return "(" + joiner.join(p for p, _ in pieces) + ")", [x for _, ps in pieces for x in ps]


class TSVectorField(Field):
    """A tsvector column (search.models.TicketVector); written by triggers only."""

    def db_type(self, connection):
        return "tsvector"


class TSQuery(Expression):
    def __init__(self, terms: list[Term], *, any_term: bool = False):
        super().__init__(output_field=TextField())
        self.terms, self.any_term = terms, any_term

    def as_sql(self, compiler, connection):
        return tsquery_sql(self.terms, any_term=self.any_term)


class Matches(Func):
    """vector @@ tsquery, usable in filter()."""

    template = "%(expressions)s"
    arg_joiner = " @@ "
    output_field = BooleanField()
    conditional = True


class Concat(Func):
    """vector || coalesce(other, '') for a ticket's public text and its notes together."""

    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = TSVectorField()


class Coalesced(Func):
    template = "coalesce(%(expressions)s, ''::tsvector)"
    output_field = TSVectorField()


class Rank(Func):
    function = "ts_rank"
    output_field = FloatField()


class VectorOf(Func):
    """helpdesk_search_vector(text): the lexemes of a text column (the subject-only filter's recheck)."""

    function = "helpdesk_search_vector"
    output_field = TSVectorField()


# The vectors are columns of search.models.TicketVector: `on` is "" in a query of that model, and
# "search_vector__" in a query of Ticket (a join on the primary key).


def public_vector(on: str = "search_vector__") -> F:
    return F(f"{on}public")


def notes_vector(on: str = "search_vector__") -> F:
    return F(f"{on}notes")


def all_vector(on: str = "search_vector__") -> Concat:
    return Concat(public_vector(on), Coalesced(notes_vector(on)))


class Casefold(Func):
    """Case-insensitive comparison in any script: lower() on PostgreSQL, Python's casefold on SQLite."""

    function = "lower"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, function="helpdesk_casefold", **extra)
