//! Writes laid-out pages as PDF: one Type0/CID font holding only the glyphs used, with a
//! ToUnicode map so text can be searched, copied and extracted.

use std::collections::BTreeMap;

use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::font::CjkFont;
use crate::layout::{Metrics, Op, Page, A4_H, A4_W};
use crate::PrintError;

const FONT_KEY: Name<'static> = Name(b"F1");

fn deflate(data: &[u8]) -> Vec<u8> {
    miniz_oxide::deflate::compress_to_vec_zlib(data, 6)
}

pub(crate) fn write(font: &CjkFont, title: &str, pages: &[Page]) -> Result<Vec<u8>, PrintError> {
    let mut m = Metrics::new(font);

    // Every glyph used, in first-use order of the original font's ids, and the text it stands
    // for (ToUnicode). Several characters can share a glyph; the first one wins.
    let mut remapper = subsetter::GlyphRemapper::new();
    let mut to_unicode: BTreeMap<u16, char> = BTreeMap::new();
    for page in pages {
        for op in &page.ops {
            if let Op::Text { text, .. } = op {
                for c in text.chars() {
                    let gid = m.glyph(c).unwrap_or(0);
                    let cid = remapper.remap(gid);
                    if gid != 0 {
                        to_unicode.entry(cid).or_insert(c);
                    }
                }
            }
        }
    }
    let subset = subsetter::subset(font.data(), font.face_index(), &remapper)
        .map_err(|e| PrintError::Subset(format!("{e:?}")))?;
    let cff = font.face().tables().cff.is_some();

    let mut alloc = Ref::new(1);
    let mut next = || alloc.bump();
    let catalog_id = next();
    let tree_id = next();
    let info_id = next();
    let type0_id = next();
    let cid_id = next();
    let descriptor_id = next();
    let cmap_id = next();
    let file_id = next();
    let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (next(), next())).collect();

    let mut pdf = Pdf::new();
    pdf.catalog(catalog_id).pages(tree_id);
    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(p, _)| *p))
        .count(pages.len() as i32);
    pdf.document_info(info_id)
        .title(TextStr(title))
        .creator(TextStr("jiuzhu"))
        .producer(TextStr("jiuzhu-print"));

    // Subset tag: six capitals derived from the glyph set, so equal input gives equal bytes.
    let mut h: u32 = 2166136261;
    for (cid, c) in &to_unicode {
        h = (h ^ (u32::from(*cid) << 8 | *c as u32)).wrapping_mul(16777619);
    }
    let tag: String = (0..6)
        .map(|i| char::from(b'A' + ((h >> (i * 5)) % 26) as u8))
        .collect();
    let base = format!("{tag}+{}", font.name());
    let base = Name(base.as_bytes());

    pdf.type0_font(type0_id)
        .base_font(base)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_id)
        .to_unicode(cmap_id);

    let system_info = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };
    let widths: Vec<f32> = remapper
        .remapped_gids()
        .map(|old| m.advance_units(old))
        .collect();
    let mut cid = pdf.cid_font(cid_id);
    cid.subtype(if cff {
        CidFontType::Type0
    } else {
        CidFontType::Type2
    })
    .base_font(base)
    .system_info(system_info)
    .font_descriptor(descriptor_id)
    .default_width(1000.0);
    if !cff {
        cid.cid_to_gid_map_predefined(Name(b"Identity"));
    }
    cid.widths().consecutive(0, widths);
    cid.finish();

    let face = font.face();
    let upem = f32::from(face.units_per_em());
    let s = |v: i16| f32::from(v) * 1000.0 / upem;
    let bbox = face.global_bounding_box();
    let mut desc = pdf.font_descriptor(descriptor_id);
    desc.name(base)
        .flags(FontFlags::SYMBOLIC)
        .bbox(Rect::new(
            s(bbox.x_min),
            s(bbox.y_min),
            s(bbox.x_max),
            s(bbox.y_max),
        ))
        .italic_angle(0.0)
        .ascent(s(face.ascender()))
        .descent(s(face.descender()))
        .cap_height(s(face.capital_height().unwrap_or(face.ascender())))
        .stem_v(80.0);
    if cff {
        desc.font_file3(file_id);
    } else {
        desc.font_file2(file_id);
    }
    desc.finish();

    let mut cmap = UnicodeCmap::new(Name(b"Custom"), system_info);
    for (cid, c) in &to_unicode {
        cmap.pair(*cid, *c);
    }
    let cmap_data = cmap.finish();
    pdf.cmap(cmap_id, &cmap_data);

    let packed = deflate(&subset);
    let mut stream = pdf.stream(file_id, &packed);
    stream.filter(Filter::FlateDecode);
    if cff {
        stream.pair(Name(b"Subtype"), Name(b"OpenType"));
    }
    stream.finish();

    for (page, (page_id, content_id)) in pages.iter().zip(&page_ids) {
        let mut content = Content::new();
        for op in &page.ops {
            match op {
                Op::Text { x, y, size, text } => {
                    let mut bytes = Vec::with_capacity(text.len() * 2);
                    for c in text.chars() {
                        let gid = m.glyph(c).unwrap_or(0);
                        let cid = remapper.get(gid).unwrap_or(0);
                        bytes.extend_from_slice(&cid.to_be_bytes());
                    }
                    content
                        .begin_text()
                        .set_font(FONT_KEY, *size)
                        .next_line(*x, *y)
                        .show(Str(&bytes))
                        .end_text();
                }
                Op::Line {
                    x1,
                    y1,
                    x2,
                    y2,
                    width,
                } => {
                    content
                        .set_line_width(*width)
                        .move_to(*x1, *y1)
                        .line_to(*x2, *y2)
                        .stroke();
                }
                Op::FillRect { x, y, w, h, gray } => {
                    content
                        .save_state()
                        .set_fill_gray(*gray)
                        .rect(*x, *y, *w, *h)
                        .fill_nonzero()
                        .restore_state();
                }
            }
        }
        let data = deflate(&content.finish());
        pdf.stream(*content_id, &data).filter(Filter::FlateDecode);
        let mut p = pdf.page(*page_id);
        p.media_box(Rect::new(0.0, 0.0, A4_W, A4_H))
            .parent(tree_id)
            .contents(*content_id);
        p.resources().fonts().pair(FONT_KEY, type0_id);
        p.finish();
    }
    Ok(pdf.finish())
}
