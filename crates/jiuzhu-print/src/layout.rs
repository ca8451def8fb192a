//! A small page model: text runs, lines and filled rectangles placed on A4 pages, with measuring
//! and wrapping from the font's own advances. Documents lay out completely before any PDF is
//! written, so the page count is known for "共 N 页" and the font subset is known for the glyph ids.

use std::collections::{BTreeSet, HashMap};

use crate::font::CjkFont;
use crate::PrintError;

pub(crate) const A4_W: f32 = 595.28;
pub(crate) const A4_H: f32 = 841.89;
pub(crate) const MARGIN_X: f32 = 56.0;
pub(crate) const MARGIN_TOP: f32 = 64.0;
/// Room below the body for the page number line.
pub(crate) const MARGIN_BOTTOM: f32 = 72.0;
pub(crate) const BODY_W: f32 = A4_W - 2.0 * MARGIN_X;

#[derive(Debug, Clone)]
pub(crate) enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        text: String,
    },
    Line {
        x1: f32,
        y1: f32,
        x2: f32,
        y2: f32,
        width: f32,
    },
    FillRect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        gray: f32,
    },
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Page {
    pub ops: Vec<Op>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Center,
    Right,
}

/// Glyph lookup and advances, cached per document.
pub(crate) struct Metrics<'f> {
    face: ttf_parser::Face<'f>,
    upem: f32,
    cache: HashMap<char, Option<(u16, u16)>>,
    /// Characters the font cannot show, with the field they came from.
    missing: Vec<(String, char)>,
    field: String,
    ascent: f32,
    descent: f32,
}

impl<'f> Metrics<'f> {
    pub fn new(font: &'f CjkFont) -> Self {
        let face = font.face();
        let upem = f32::from(face.units_per_em());
        let ascent = f32::from(face.ascender()) / upem;
        let descent = -f32::from(face.descender()) / upem;
        Metrics {
            face,
            upem,
            cache: HashMap::new(),
            missing: Vec::new(),
            field: String::new(),
            ascent,
            descent,
        }
    }

    /// Names the field the following text comes from, for the missing-glyph error.
    pub fn field(&mut self, name: &str) {
        self.field.clear();
        self.field.push_str(name);
    }

    fn lookup(&mut self, c: char) -> Option<(u16, u16)> {
        if let Some(hit) = self.cache.get(&c) {
            return *hit;
        }
        let found = self.face.glyph_index(c).map(|g| {
            let adv = self.face.glyph_hor_advance(g).unwrap_or(0);
            (g.0, adv)
        });
        self.cache.insert(c, found);
        found
    }

    pub fn glyph(&mut self, c: char) -> Option<u16> {
        self.lookup(c).map(|(g, _)| g)
    }

    pub fn advance_units(&mut self, gid: u16) -> f32 {
        let adv = self
            .face
            .glyph_hor_advance(ttf_parser::GlyphId(gid))
            .unwrap_or(0);
        f32::from(adv) * 1000.0 / self.upem
    }

    pub fn width(&mut self, text: &str, size: f32) -> f32 {
        let mut units = 0u32;
        for c in text.chars() {
            match self.lookup(c) {
                Some((_, adv)) => units += u32::from(adv),
                None => {
                    if !c.is_control() {
                        let field = self.field.clone();
                        self.missing.push((field, c));
                    }
                    // Shown as .notdef; the render fails before it is written anyway.
                    units += self.upem as u32 / 2;
                }
            }
        }
        units as f32 * size / self.upem
    }

    pub fn check_missing(&self, font: &CjkFont) -> Result<(), PrintError> {
        let Some((field, _)) = self.missing.first() else {
            return Ok(());
        };
        let chars: BTreeSet<char> = self
            .missing
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, c)| *c)
            .collect();
        Err(PrintError::MissingGlyphs {
            font: font.name().to_string(),
            field: field.clone(),
            chars: chars.into_iter().collect(),
        })
    }

    pub fn ascent(&self) -> f32 {
        self.ascent
    }
    pub fn descent(&self) -> f32 {
        self.descent
    }
}

/// Characters that must not start a line (行首禁则): they stay with the previous line.
fn no_line_start(c: char) -> bool {
    "，。、；：？！）》」』”’】〕,.;:?!)]%".contains(c)
}

/// Splits text into unbreakable pieces: one per CJK character, one per run of Latin letters and
/// digits (so "13800000000" or "110101********1234" never split), spaces as their own piece.
fn tokens(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in line.char_indices() {
        // ',' keeps "1,010.00" whole; a trailing comma stays with its word anyway.
        let wordy = c.is_ascii_alphanumeric() || "*-.,@_/%".contains(c);
        if wordy {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            out.push(&line[s..i]);
        }
        out.push(&line[i..i + c.len_utf8()]);
    }
    if let Some(s) = start {
        out.push(&line[s..]);
    }
    out
}

/// Wraps text to `max_w` points at `size`. Explicit newlines are kept.
pub(crate) fn wrap(m: &mut Metrics<'_>, text: &str, size: f32, max_w: f32) -> Vec<String> {
    let mut lines = Vec::new();
    for para in text.split('\n') {
        let mut cur = String::new();
        let mut cur_w = 0.0;
        for tok in tokens(para) {
            let w = m.width(tok, size);
            let first = tok.chars().next().unwrap_or(' ');
            if cur_w + w <= max_w || (!cur.is_empty() && no_line_start(first)) {
                cur.push_str(tok);
                cur_w += w;
                continue;
            }
            if w > max_w {
                // A piece longer than the line: break it by characters.
                for c in tok.chars() {
                    let cw = m.width(c.encode_utf8(&mut [0; 4]), size);
                    if cur_w + cw > max_w && !cur.is_empty() {
                        lines.push(std::mem::take(&mut cur));
                        cur_w = 0.0;
                    }
                    cur.push(c);
                    cur_w += cw;
                }
                continue;
            }
            lines.push(std::mem::take(&mut cur).trim_end().to_string());
            if tok == " " {
                cur_w = 0.0;
            } else {
                cur.push_str(tok);
                cur_w = w;
            }
        }
        lines.push(cur.trim_end().to_string());
    }
    lines
}

#[derive(Debug, Clone, Copy)]
struct Slot {
    left: f32,
    width: f32,
    top: f32,
    line_h: f32,
}

pub(crate) struct Column {
    pub title: &'static str,
    pub width: f32,
    pub align: Align,
}

/// Lays out pages top to bottom. `y` is the current top of free space, in PDF coordinates.
pub(crate) struct Canvas<'f> {
    pub m: Metrics<'f>,
    pub pages: Vec<Page>,
    pub y: f32,
}

impl<'f> Canvas<'f> {
    pub fn new(font: &'f CjkFont) -> Self {
        Canvas {
            m: Metrics::new(font),
            pages: vec![Page::default()],
            y: A4_H - MARGIN_TOP,
        }
    }

    fn page(&mut self) -> &mut Page {
        self.pages.last_mut().expect("at least one page")
    }

    pub fn new_page(&mut self) {
        self.pages.push(Page::default());
        self.y = A4_H - MARGIN_TOP;
    }

    pub fn room(&self) -> f32 {
        self.y - MARGIN_BOTTOM
    }

    pub fn ensure(&mut self, h: f32) {
        if self.room() < h {
            self.new_page();
        }
    }

    /// Baseline of a line of `size` text centred in a box `line_h` high whose top is `top`.
    fn baseline(&self, top: f32, size: f32, line_h: f32) -> f32 {
        let glyph_h = (self.m.ascent() + self.m.descent()) * size;
        top - (line_h - glyph_h) / 2.0 - self.m.ascent() * size
    }

    pub fn text_at(&mut self, x: f32, baseline: f32, size: f32, text: &str) {
        self.page().ops.push(Op::Text {
            x,
            y: baseline,
            size,
            text: text.to_string(),
        });
    }

    /// Places one line of text in the box `slot`, aligned horizontally, centred vertically.
    fn place(&mut self, slot: Slot, size: f32, line: &str, align: Align) {
        let Slot {
            left,
            width,
            top,
            line_h,
        } = slot;
        let w = self.m.width(line, size);
        let x = match align {
            Align::Left => left,
            Align::Center => left + (width - w) / 2.0,
            Align::Right => left + width - w,
        };
        let b = self.baseline(top, size, line_h);
        self.text_at(x, b, size, line);
    }

    /// A wrapped paragraph across the body width; `indent` is the first-line indent in ems
    /// (Chinese body text indents two characters).
    pub fn paragraph(&mut self, field: &str, text: &str, size: f32, align: Align, indent: usize) {
        self.m.field(field);
        let line_h = size * 1.6;
        // Indent with ideographic spaces so the indent is exactly `indent` characters wide.
        let indented = format!("{}{}", "\u{3000}".repeat(indent), text);
        for line in wrap(&mut self.m, &indented, size, BODY_W) {
            self.ensure(line_h);
            let top = self.y;
            let slot = Slot {
                left: MARGIN_X,
                width: BODY_W,
                top,
                line_h,
            };
            self.place(slot, size, &line, align);
            self.y -= line_h;
        }
    }

    pub fn gap(&mut self, h: f32) {
        self.y -= h;
    }

    pub fn hline(&mut self, x1: f32, x2: f32, y: f32, width: f32) {
        self.page().ops.push(Op::Line {
            x1,
            y1: y,
            x2,
            y2: y,
            width,
        });
    }

    fn vline(&mut self, x: f32, y1: f32, y2: f32, width: f32) {
        self.page().ops.push(Op::Line {
            x1: x,
            y1,
            x2: x,
            y2,
            width,
        });
    }

    fn header_row(&mut self, cols: &[Column], size: f32) {
        let pad = 4.0;
        let line_h = size * 1.4;
        self.m.field("表头");
        let wrapped: Vec<Vec<String>> = cols
            .iter()
            .map(|c| wrap(&mut self.m, c.title, size, c.width - 2.0 * pad))
            .collect();
        let n = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        let h = n as f32 * line_h + 2.0 * pad;
        let total: f32 = cols.iter().map(|c| c.width).sum();
        let top = self.y;
        self.page().ops.push(Op::FillRect {
            x: MARGIN_X,
            y: top - h,
            w: total,
            h,
            gray: 0.9,
        });
        self.cells(cols, &wrapped, size, line_h, pad, h, true);
    }

    #[allow(clippy::too_many_arguments)]
    fn cells(
        &mut self,
        cols: &[Column],
        wrapped: &[Vec<String>],
        size: f32,
        line_h: f32,
        pad: f32,
        h: f32,
        center: bool,
    ) {
        let top = self.y;
        let total: f32 = cols.iter().map(|c| c.width).sum();
        let mut x = MARGIN_X;
        for (col, lines) in cols.iter().zip(wrapped) {
            // Short cells sit in the vertical middle of a tall row.
            let block = lines.len() as f32 * line_h;
            let mut t = top - (h - block) / 2.0;
            for line in lines {
                let align = if center { Align::Center } else { col.align };
                let slot = Slot {
                    left: x + pad,
                    width: col.width - 2.0 * pad,
                    top: t,
                    line_h,
                };
                self.place(slot, size, line, align);
                t -= line_h;
            }
            x += col.width;
        }
        self.hline(MARGIN_X, MARGIN_X + total, top, 0.6);
        self.hline(MARGIN_X, MARGIN_X + total, top - h, 0.6);
        let mut x = MARGIN_X;
        self.vline(x, top, top - h, 0.6);
        for col in cols {
            x += col.width;
            self.vline(x, top, top - h, 0.6);
        }
        self.y -= h;
    }

    /// A bordered table; the header repeats at the top of every page the table continues on.
    pub fn table(&mut self, field: &str, cols: &[Column], rows: &[Vec<String>], size: f32) {
        let pad = 4.0;
        let line_h = size * 1.4;
        let header_h = line_h * 2.0 + 2.0 * pad;
        self.ensure(header_h + line_h + 2.0 * pad);
        self.header_row(cols, size);
        for (i, row) in rows.iter().enumerate() {
            self.m.field(&format!("{field}[{}]", i + 1));
            let wrapped: Vec<Vec<String>> = cols
                .iter()
                .zip(row)
                .map(|(c, text)| wrap(&mut self.m, text, size, c.width - 2.0 * pad))
                .collect();
            let n = wrapped.iter().map(Vec::len).max().unwrap_or(1);
            let h = n as f32 * line_h + 2.0 * pad;
            if self.room() < h {
                self.new_page();
                self.header_row(cols, size);
            }
            self.cells(cols, &wrapped, size, line_h, pad, h, false);
        }
    }

    /// Stamps "第 i 页 共 N 页" on every page once the count is known.
    pub fn finish(mut self, font: &CjkFont) -> Result<Vec<Page>, PrintError> {
        let n = self.pages.len();
        let size = 9.0;
        for i in 0..n {
            let label = format!("第 {} 页 共 {} 页", i + 1, n);
            let w = self.m.width(&label, size);
            self.pages[i].ops.push(Op::Text {
                x: (A4_W - w) / 2.0,
                y: MARGIN_BOTTOM / 2.0,
                size,
                text: label,
            });
        }
        self.m.check_missing(font)?;
        Ok(self.pages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latin_runs_stay_whole_and_cjk_splits_anywhere() {
        assert_eq!(
            tokens("金额1,010.00元 ok"),
            vec!["金", "额", "1,010.00", "元", " ", "ok"]
        );
        assert_eq!(tokens("3710**********1234"), vec!["3710**********1234"]);
    }

    #[test]
    fn closing_punctuation_never_starts_a_line() {
        assert!(no_line_start('，'));
        assert!(no_line_start('）'));
        assert!(!no_line_start('（'));
        assert!(!no_line_start('王'));
    }
}
