"""Read the report tables as a user sees them: {row header: [cell texts]} per table id."""

from html.parser import HTMLParser


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables: dict[str, dict[str, list[str]]] = {}
        self.summary: dict[str, str] = {}
        self._table = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._dd: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id"):
            self._table = self.tables.setdefault(attrs["id"], {})
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "dd" and attrs.get("id"):
            self._dd, self._cell = attrs["id"], []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._row is not None and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                self._table[self._row[0]] = self._row[1:]
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag == "dd" and self._dd:
            self.summary[self._dd] = " ".join("".join(self._cell).split())
            self._dd, self._cell = None, None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def read_page(html: str) -> _Tables:
    parser = _Tables()
    parser.feed(html)
    return parser
