"""How the report is laid out: blocks (heading, paragraph, table, figure) that the PDF and
the HTML file both render, so the two formats carry the same content.

PDF pages are A4 portrait, filled top to bottom by _PdfPages: tables are typeset as drawn
text grids (bold header, rules between rows, right-aligned numbers, wrapped cells, the
header repeated on every page they run onto); figures are drawn into a box of the page.
Pages that hold only text in the cp1252 encoding are written with the PDF core fonts, which
keeps long lists fast. No text is smaller than MIN_PT at print size.
"""
import base64
import functools
import html
import io
import logging

from jerklog import __version__

PAGE = (8.27, 11.69)          # A4 portrait, inches
MARGIN = 0.55                 # left and right, inches
TOP = 0.5                     # top margin
BOTTOM = 0.5                  # room for the footer
CONTENT_W = PAGE[0] - 2 * MARGIN
MIN_PT = 7.0                  # the smallest text on any page, at print size
LINE = 1.3                    # line height / font size


# -- blocks -----------------------------------------------------------------------------------
class Heading:
    def __init__(self, text, new_page=False):
        self.text, self.new_page = text, new_page


class Para:
    def __init__(self, text, size=8.0, bold=False, colour="#111111"):
        self.text, self.size, self.bold, self.colour = text, size, bold, colour


class Table:
    """head: column titles; rows: tuples of cells (str); widths: relative column widths;
    align: 'l' or 'r' per column; label: the first column bold (a question-answer table);
    wrap: wrap long cells (else they are cut with an ellipsis)."""

    def __init__(self, head, rows, widths=None, align=None, size=7.5, label=False,
                 wrap=True, key=None, pad=0.04):
        self.head = tuple(head) if head else None
        self.rows = [tuple("" if c is None else str(c) for c in r) for r in rows]
        n = len(self.head) if self.head else (len(self.rows[0]) if self.rows else 1)
        self.widths = tuple(widths) if widths else (1,) * n
        self.align = tuple(align) if align else ("l",) * n
        self.size, self.label, self.wrap, self.key, self.pad = size, label, wrap, key, pad


class Figure:
    """A chart: draw(box) draws it into a _Box height inches tall and CONTENT_W wide."""

    def __init__(self, key, title, height, draw):
        self.key, self.title, self.height, self.draw = key, title, height, draw


class Section:
    """A titled run of blocks; new_page: start it on a fresh PDF page."""

    def __init__(self, title, blocks, new_page=False, key=None):
        self.title, self.blocks, self.new_page, self.key = title, blocks, new_page, key


# -- text measurement and wrapping ------------------------------------------------------------
@functools.lru_cache(maxsize=None)
def _em(ch, bold):
    """Advance of one character of DejaVu Sans (the widest font the report uses), in em."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath
    fp = FontProperties(family="DejaVu Sans", weight="bold" if bold else "normal", size=100)
    return TextToPath().get_text_width_height_descent(ch, fp, ismath=False)[0] / 100.0


def text_width(s, size, bold=False):
    """Width of s in points at size points (no kerning: slightly generous)."""
    return size * sum(_em(c, bold) for c in s)


def wrap(text, width_pt, size, bold=False, cut=True):
    """Lines of text, each at most width_pt wide; a word longer than a line is cut (unless
    cut is False: then it overflows)."""
    out = []
    space = text_width(" ", size, bold)
    for para in str(text).split("\n"):
        line, w = "", 0.0
        for word in para.split(" "):
            ww = text_width(word, size, bold)
            if line and w + space + ww <= width_pt:
                line, w = line + " " + word, w + space + ww
                continue
            if line:
                out.append(line)
            while cut and ww > width_pt and len(word) > 1:
                k = len(word)
                while k > 1 and text_width(word[:k], size, bold) > width_pt:
                    k -= 1
                out.append(word[:k])
                word = word[k:]
                ww = text_width(word, size, bold)
            line, w = word, ww
        out.append(line)
    return out


def fit(text, width_pt, size, bold=False):
    """text cut with an ellipsis to fit width_pt."""
    if text_width(text, size, bold) <= width_pt:
        return text
    while text and text_width(text + "\u2026", size, bold) > width_pt:
        text = text[:-1]
    return text + "\u2026"


def _core_ok(text):
    try:
        text.encode("cp1252")
        return True
    except UnicodeEncodeError:
        return False


# -- PDF --------------------------------------------------------------------------------------
NOT_A_DIAGNOSIS = ("This report summarises what wearable motion sensors recorded. It is not a "
                   "diagnosis: a doctor interprets it.")


def footer(fig, page):
    fig.text(0.5, 0.22 / PAGE[1], "%s  |  jerklog %s  |  page %d" % (
        NOT_A_DIAGNOSIS, __version__, page), ha="center", va="baseline", fontsize=MIN_PT,
        color="#444444")


class _Box:
    """A rectangle of a figure, in inches from its lower left corner; axes and text are
    placed in inches inside it."""

    def __init__(self, fig, x0, y0, w, h):
        self.fig, self.x0, self.y0, self.w, self.h = fig, x0, y0, w, h
        self.fw, self.fh = fig.get_size_inches()

    def rect(self, left, bottom, width, height):
        return [(self.x0 + left) / self.fw, (self.y0 + bottom) / self.fh, width / self.fw,
                height / self.fh]

    def axes(self, left, bottom, width, height, **kw):
        return self.fig.add_axes(self.rect(left, bottom, width, height), **kw)

    def text(self, x, y, s, **kw):
        kw.setdefault("fontsize", MIN_PT)
        return self.fig.text((self.x0 + x) / self.fw, (self.y0 + y) / self.fh, s, **kw)

    def row(self, n, left=0.6, right=0.1, bottom=0.45, top=0.3, gap=0.7, **kw):
        """n axes side by side filling the box."""
        w = (self.w - left - right - gap * (n - 1)) / n
        return [self.axes(left + i * (w + gap), bottom, w, self.h - bottom - top, **kw)
                for i in range(n)]


class _PdfPages:
    """Fills A4 pages top to bottom; each page is saved (with its footer) when the next
    begins, so a long report never holds more than one page in memory."""

    def __init__(self, pdf, plt, page=0):
        self.pdf, self.plt, self.page = pdf, plt, page
        self.fig = None
        self.y = 0.0
        self.core = True

    # page handling
    def new_page(self):
        self.flush()
        self.fig = self.plt.figure(figsize=PAGE)
        self.page += 1
        self.y = PAGE[1] - TOP
        self.core = True
        return self.fig

    def flush(self):
        if self.fig is None:
            return
        footer(self.fig, self.page)
        save(self.pdf, self.fig, self.plt, self.core)
        self.fig = None

    def need(self, h):
        if self.fig is None or self.y - h < BOTTOM + 0.1:
            self.new_page()

    def text(self, x, y, s, **kw):
        if self.core and not _core_ok(s):
            self.core = False
        return self.fig.text(x / PAGE[0], y / PAGE[1], s, **kw)

    def rule(self, y, x0=MARGIN, x1=MARGIN + CONTENT_W, colour="#bbbbbb", lw=0.4):
        from matplotlib.lines import Line2D
        self.fig.add_artist(Line2D([x0 / PAGE[0], x1 / PAGE[0]], [y / PAGE[1], y / PAGE[1]],
                                   color=colour, lw=lw, transform=self.fig.transFigure))

    # blocks
    def heading(self, text, size=11.0, keep=1.2):
        self.need(0.3 + keep)         # keep a heading with what follows
        self.text(MARGIN, self.y, text, fontsize=size, weight="bold", va="top")
        self.y -= size * LINE / 72 + 0.08

    def para(self, p):
        lh = p.size * LINE / 72
        for line in wrap(p.text, CONTENT_W * 72, p.size, p.bold):
            self.need(lh)
            self.text(MARGIN, self.y, line, fontsize=p.size, va="top", color=p.colour,
                      weight="bold" if p.bold else "normal")
            self.y -= lh
        self.y -= 0.06

    def table(self, t, x0=MARGIN, width=CONTENT_W):
        """A drawn text grid; advances y."""
        pad, hpad = t.pad, 0.04        # inches above and below, left and right of a cell
        tot = float(sum(t.widths))
        ws = [width * w / tot for w in t.widths]
        xs = [x0 + sum(ws[:i]) for i in range(len(ws))]
        size = t.size
        lh = size * LINE / 72
        inner = [max(w - 2 * hpad, 0.05) * 72 for w in ws]

        def cells(row, bold_first, head=False):
            out = []
            for i, c in enumerate(row):
                bold = head or (bold_first and i == 0)
                if head:
                    out.append(wrap(c, inner[i], size, True, cut=False))
                elif t.wrap:
                    out.append(wrap(c, inner[i], size, bold))
                else:
                    out.append([fit(c, inner[i], size, bold)])
            return out

        def draw(row_lines, bold_row, bold_first):
            n = max(len(x) for x in row_lines)
            for i, lines in enumerate(row_lines):
                bold = bold_row or (bold_first and i == 0)
                right = t.align[i] == "r"
                x = xs[i] + ws[i] - hpad if right else xs[i] + hpad
                for k, line in enumerate(lines):
                    if line:
                        self.text(x, self.y - pad - k * lh, line, fontsize=size, va="top",
                                  ha="right" if right else "left",
                                  weight="bold" if bold else "normal")
            self.y -= n * lh + 2 * pad

        head = cells(t.head, False, head=True) if t.head else None
        head_h = (max(len(x) for x in head) * lh + 2 * pad) if head else 0.0

        def start():
            if head:
                self.rule(self.y, x0, x0 + width, "#333333", 0.7)
                draw(head, True, False)
                self.rule(self.y, x0, x0 + width, "#333333", 0.5)
            else:
                self.rule(self.y, x0, x0 + width, "#333333", 0.7)

        started = False
        k = 0
        for row in t.rows:
            lines = cells(row, t.label)
            h = max(len(x) for x in lines) * lh + 2 * pad
            if not started:
                if self.fig is None or self.y - head_h - h < BOTTOM + 0.1:
                    self.new_page()
                start()
                started = True
            elif self.y - h < BOTTOM + 0.1:
                self.new_page()
                start()
                k = 0
            draw(lines, False, t.label)
            k += 1
            if t.wrap or k % 5 == 0:    # a long list: a rule every five rows
                self.rule(self.y, x0, x0 + width)
        if not started:               # no rows: the header alone, then a word
            self.need(head_h + lh)
            start()
            self.text(x0 + hpad, self.y - pad, "(none)", fontsize=size, va="top")
            self.y -= lh + 2 * pad
        self.y -= 0.12

    def figure(self, f):
        self.need(f.height + 0.05)
        self.core = False
        f.draw(_Box(self.fig, MARGIN, self.y - f.height, CONTENT_W, f.height))
        self.y -= f.height + 0.12

    def section(self, s):
        if s.new_page or self.fig is None:
            self.new_page()
        if s.title:
            self.need(0.35 + _first_height(s.blocks))      # a title stays with its start
            self.heading(s.title)
        for i, b in enumerate(s.blocks):
            if isinstance(b, Heading):
                if b.new_page:
                    self.new_page()
                self.heading(b.text, 9.5, _first_height(s.blocks[i + 1:]))
            elif isinstance(b, Para):
                self.para(b)
            elif isinstance(b, Table):
                self.table(b)
            elif isinstance(b, Figure):
                self.figure(b)


def _first_height(blocks):
    """Inches the first of blocks needs on the page its heading is on."""
    for b in blocks:
        if isinstance(b, Figure):
            return b.height
        if isinstance(b, Table):
            return 1.0
        if isinstance(b, Para):
            return 0.5
    return 0.5


def save(pdf, fig, plt, core=False):
    """Save one page; core: with the PDF core fonts (the page's text is all cp1252)."""
    import matplotlib
    if core:
        log = logging.getLogger("matplotlib.font_manager")
        level = log.level
        log.setLevel(logging.ERROR)
        try:
            with matplotlib.rc_context({"pdf.use14corefonts": True}):
                pdf.savefig(fig)
        finally:
            log.setLevel(level)
    else:
        pdf.savefig(fig)
    plt.close(fig)


# -- HTML -------------------------------------------------------------------------------------
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:60em;
margin:1.5em auto;padding:0 1em;color:#111;font-size:14px;line-height:1.35}
h1{font-size:1.6em;margin:0 0 .2em} h2{font-size:1.25em;margin-top:2em;border-bottom:1px
solid #bbb} h3{font-size:1.05em;margin:1.2em 0 .3em} p{margin:.3em 0}
.warn{color:#a50f15;font-weight:bold}
table{border-collapse:collapse;font-size:12.5px;margin:.4em 0 1em}
th,td{border-bottom:1px solid #ccc;padding:3px 7px;text-align:left;vertical-align:top}
thead th{border-top:2px solid #333;border-bottom:1.5px solid #333;background:#f4f4f4}
td.r,th.r{text-align:right;font-variant-numeric:tabular-nums}
table.summary{width:100%;font-size:14px} table.summary th{width:7.5em;background:#f4f4f4}
img{max-width:100%;display:block} .small{color:#555;font-size:12px}
@media print{section{page-break-before:always} #summary{page-break-before:avoid}}
"""


def png(fig, dpi=110):
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def html_table(t, cls=""):
    out = ['<table%s>' % (' class="%s"' % cls if cls else "")]
    if t.head:
        out.append("<thead><tr>%s</tr></thead>" % "".join(
            '<th%s>%s</th>' % (' class="r"' if a == "r" else "",
                               html.escape(h.replace("-\n", "").replace("\n", " ")))
            for h, a in zip(t.head, t.align)))
    out.append("<tbody>")
    for r in t.rows:
        cells = []
        for i, (c, a) in enumerate(zip(r, t.align)):
            tag = "th" if t.label and i == 0 else "td"
            cells.append('<%s%s>%s</%s>' % (tag, ' class="r"' if a == "r" else "",
                                            html.escape(c), tag))
        out.append("<tr>%s</tr>" % "".join(cells))
    out.append("</tbody></table>")
    return "\n".join(out)


def html_figure(f, plt, dpi=110):
    fig = plt.figure(figsize=(CONTENT_W + 0.2, f.height))
    f.draw(_Box(fig, 0.1, 0.0, CONTENT_W, f.height))
    data = png(fig, dpi)
    plt.close(fig)
    return '<img alt="%s" title="%s" src="data:image/png;base64,%s">' % (
        html.escape(f.key), html.escape(f.title), data)


def html_section(s, plt):
    out = ['<section%s>' % (' id="%s"' % s.key if s.key else "")]
    if s.title:
        out.append("<h2>%s</h2>" % html.escape(s.title))
    for b in s.blocks:
        if isinstance(b, Heading):
            out.append("<h3>%s</h3>" % html.escape(b.text))
        elif isinstance(b, Para):
            style = ' class="warn"' if b.bold else ""
            out.append("<p%s>%s</p>" % (style, html.escape(b.text)))
        elif isinstance(b, Table):
            out.append(html_table(b))
        elif isinstance(b, Figure):
            out.append(html_figure(b, plt))
    out.append("</section>")
    return "\n".join(out)
