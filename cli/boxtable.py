"""A right-aligned table drawn straight into a rich ``Text``, with the look of rich's default ``Table``.

The live view redraws its epoch table several times a second on a training thread's time, and laying out
a rich ``Table`` costs milliseconds; this costs a few hundred microseconds for the same picture.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

Row = tuple[Sequence[str], str]  # the cells and a style for the whole row ("" for none)


def column_widths(headers: Sequence[str], rows: Sequence[Row], width: int) -> list[int]:
    """Each column's width inside its borders (one space of padding each side), spread to fill ``width``."""
    cells = [max([len(header), *(len(cells[index]) for cells, _ in rows)]) + 2 for index, header in enumerate(headers)]
    spare = width - (len(headers) + 1) - sum(cells)
    if spare > 0:
        share, rest = divmod(spare, len(headers))
        cells = [cell + share + (1 if index < rest else 0) for index, cell in enumerate(cells)]
    return cells


def box_table(
    headers: Sequence[str],
    rows: Sequence[Row],
    width: int,
    border_style: str = "bright_black",
    header_style: str = "bold cyan",
) -> Text:
    """Headers and rows, every cell right-aligned, framed like ``rich.box.HEAVY_HEAD``."""
    widths = column_widths(headers, rows, width)
    text = Text(no_wrap=True, overflow="crop")

    def rule(left: str, middle: str, right: str, line: str) -> None:
        text.append(left + middle.join(line * cell for cell in widths) + right + "\n", style=border_style)

    def cells(values: Sequence[str], edge: str, style: str) -> None:
        text.append(edge, style=border_style)
        for value, cell in zip(values, widths, strict=True):
            text.append(" " + value.rjust(cell - 2) + " ", style=style)
            text.append(edge, style=border_style)
        text.append("\n")

    rule("┏", "┳", "┓", "━")
    cells(headers, "┃", header_style)
    rule("┡", "╇", "┩", "━")
    for values, style in rows:
        cells(values, "│", style)
    rule("└", "┴", "┘", "─")
    text.rstrip()
    return text
