"""Results tables that render as tables in the book and as text in a terminal."""


def _format(value, digits):
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    text = "" if value is None else str(value)
    return text.replace("|", r"\|")  # a bare | would end the Markdown cell


class Table:
    """A results table: shown as Markdown in notebooks, plain text elsewhere.

    Args:
        headers: column names.
        rows: lists of cell values; floats are printed with `digits` decimals.
        digits: decimals for float cells.
        caption: optional line printed above the table.

    Example:

    >>> Table(["model", "error"], [["PCA", 12.25]]).to_markdown()
    '| model | error |\\n| --- | --- |\\n| PCA | 12.25 |'
    """

    def __init__(self, headers, rows, digits=2, caption=None):
        rows = [list(row) for row in rows]
        for row in rows:
            if len(row) != len(headers):
                raise ValueError(
                    f"Every row needs {len(headers)} cells, one per header. Received: row={row!r}"
                )
        self.headers, self.rows, self.digits, self.caption = list(headers), rows, digits, caption

    def to_markdown(self):
        """The table as GitHub-flavoured Markdown."""
        def line(cells):
            return "| " + " | ".join(cells) + " |"

        lines = [line(_format(h, self.digits) for h in self.headers), line("---" for _ in self.headers)]
        lines += [line(_format(v, self.digits) for v in row) for row in self.rows]
        text = "\n".join(lines)
        return f"**{self.caption}**\n\n{text}" if self.caption else text

    def _repr_markdown_(self):
        return self.to_markdown()

    def __repr__(self):
        return self.to_markdown()
