"""Plain-text (Markdown) tables and number formatting for the benchmarks."""

import math


def fmt(value, digits=3, unit=""):
    """``value`` with ``digits`` significant digits; ``-`` for missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if isinstance(value, str):
        return value
    if value == 0:
        return "0" + unit
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:.{decimals}f}{unit}"


def ratio(numerator, denominator, digits=3):
    """``numerator / denominator`` formatted with an ``x``, or ``-``."""
    if numerator is None or denominator is None or denominator <= 0:
        return "-"
    return fmt(numerator / denominator, digits, "x")


def table(headers, rows):
    """A Markdown table with padded columns (numbers right-aligned)."""
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[j]) for row in cells) for j in range(len(headers))]
    numeric = [all(_looks_numeric(row[j]) for row in cells[1:])
               for j in range(len(headers))]

    def line(row):
        parts = [c.rjust(w) if num else c.ljust(w)
                 for c, w, num in zip(row, widths, numeric)]
        return "| " + " | ".join(parts) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if num else ("-" * (w + 2))
                          for w, num in zip(widths, numeric)) + "|"
    return "\n".join([line(cells[0]), rule] + [line(row) for row in cells[1:]])


def _looks_numeric(text):
    text = text.strip().lstrip(">< ").rstrip("xs%")
    if text in ("-", ""):
        return True
    try:
        float(text)
        return True
    except ValueError:
        return False


def say(text=""):
    """Print at once (the benchmark runs for minutes)."""
    print(text, flush=True)


def heading(text, level=2):
    return "\n" + "#" * level + " " + text + "\n"
