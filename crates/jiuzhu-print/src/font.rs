//! Finding and loading the CJK font. The font is read once per process and shared: a loaded
//! [`CjkFont`] is immutable and cheap to pass by reference to every render call.

use std::path::{Path, PathBuf};

use crate::PrintError;

/// Where Debian's CJK font packages put their files, in order of preference. The first is what
/// CI installs (`fonts-wqy-microhei`); TrueType outlines subset smallest.
pub const DEFAULT_FONT_PATHS: &[&str] = &[
    // fonts-wqy-microhei
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    // fonts-noto-cjk (CFF outlines; the Simplified Chinese face is picked from the collection)
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc",
    // fonts-wqy-zenhei
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    // fonts-arphic-uming
    "/usr/share/fonts/truetype/arphic/uming.ttc",
];

/// The environment variable the binary reads for an explicit font path (the crate itself never
/// reads the environment; the caller passes the path).
pub const FONT_ENV: &str = "JIUZHU_FONT";

/// Characters every usable font must have: a Latin-only font, or a CJK-only fallback font such as
/// fonts-droid-fallback's DroidSansFallbackFull.ttf (no digits), fails at load time instead of
/// producing a PDF with empty boxes.
const PROBE: &str = "最低生活保障公示决定书第页共0123456789元（）：，。ABCXYZ*";

/// A loaded TrueType/OpenType font (a face of a collection, or a single font file).
pub struct CjkFont {
    data: Vec<u8>,
    index: u32,
    path: PathBuf,
    name: String,
}

impl std::fmt::Debug for CjkFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CjkFont")
            .field("path", &self.path)
            .field("index", &self.index)
            .field("name", &self.name)
            .field("bytes", &self.data.len())
            .finish()
    }
}

impl CjkFont {
    /// Loads `explicit` if given (an error if it is unusable: an explicit choice is never
    /// silently replaced), otherwise the first usable font of [`DEFAULT_FONT_PATHS`].
    pub fn locate(explicit: Option<&Path>) -> Result<CjkFont, PrintError> {
        if let Some(path) = explicit {
            return CjkFont::from_file(path, None);
        }
        let candidates: Vec<PathBuf> = DEFAULT_FONT_PATHS.iter().map(PathBuf::from).collect();
        CjkFont::first_of(&candidates)
    }

    /// Loads the first existing, usable font among `candidates`.
    pub fn first_of(candidates: &[PathBuf]) -> Result<CjkFont, PrintError> {
        for path in candidates {
            if path.is_file() {
                if let Ok(font) = CjkFont::from_file(path, None) {
                    return Ok(font);
                }
            }
        }
        Err(PrintError::FontNotFound {
            tried: candidates.to_vec(),
        })
    }

    /// Reads a font file. For a collection (`.ttc`) `face` selects the face; `None` picks the
    /// Simplified Chinese face (Noto CJK ships JP, KR, SC, TC, HK faces in one file).
    pub fn from_file(path: &Path, face: Option<u32>) -> Result<CjkFont, PrintError> {
        let data = std::fs::read(path).map_err(|source| PrintError::FontRead {
            path: path.to_path_buf(),
            source,
        })?;
        CjkFont::from_bytes(data, face, path)
    }

    /// Uses font data already in memory; `origin` is only used in messages.
    pub fn from_bytes(
        data: Vec<u8>,
        face: Option<u32>,
        origin: &Path,
    ) -> Result<CjkFont, PrintError> {
        let invalid = |reason: String| PrintError::FontInvalid {
            path: origin.to_path_buf(),
            reason,
        };
        let count = ttf_parser::fonts_in_collection(&data).unwrap_or(1);
        let index = match face {
            Some(i) if i >= count => {
                return Err(invalid(format!("face {i} requested, the file has {count}")))
            }
            Some(i) => i,
            None => pick_simplified_face(&data, count),
        };
        let parsed = ttf_parser::Face::parse(&data, index).map_err(|e| invalid(e.to_string()))?;
        if PROBE.chars().any(|c| parsed.glyph_index(c).is_none()) {
            return Err(PrintError::FontNotChinese {
                path: origin.to_path_buf(),
            });
        }
        let name = postscript_name(&parsed).unwrap_or_else(|| "CJKFont".to_string());
        Ok(CjkFont {
            data,
            index,
            path: origin.to_path_buf(),
            name,
        })
    }

    /// The file the font came from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The face index inside a collection (0 for a single font).
    pub fn face_index(&self) -> u32 {
        self.index
    }

    /// The PostScript name, as embedded in PDFs.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub(crate) fn data(&self) -> &[u8] {
        &self.data
    }

    pub(crate) fn face(&self) -> ttf_parser::Face<'_> {
        // Parsed successfully in the constructor and the data is immutable since.
        ttf_parser::Face::parse(&self.data, self.index).expect("font validated at load")
    }
}

fn pick_simplified_face(data: &[u8], count: u32) -> u32 {
    let mut first_with_chinese = None;
    for i in 0..count {
        let Ok(face) = ttf_parser::Face::parse(data, i) else {
            continue;
        };
        if PROBE.chars().any(|c| face.glyph_index(c).is_none()) {
            continue;
        }
        let family = face
            .names()
            .into_iter()
            .filter(|n| n.name_id == ttf_parser::name_id::FAMILY && n.is_unicode())
            .filter_map(|n| n.to_string())
            .collect::<Vec<_>>();
        if family
            .iter()
            .any(|f| f.ends_with(" SC") || f.contains(" SC "))
        {
            return i;
        }
        first_with_chinese.get_or_insert(i);
    }
    first_with_chinese.unwrap_or(0)
}

fn postscript_name(face: &ttf_parser::Face<'_>) -> Option<String> {
    let raw = face
        .names()
        .into_iter()
        .filter(|n| n.name_id == ttf_parser::name_id::POST_SCRIPT_NAME)
        .find_map(|n| {
            n.to_string().or_else(|| {
                // Mac Roman names are plain ASCII for PostScript names.
                n.name
                    .is_ascii()
                    .then(|| String::from_utf8_lossy(n.name).into_owned())
            })
        })?;
    let clean: String = raw
        .chars()
        .filter(|c| c.is_ascii_graphic() && !"[](){}<>/%#".contains(*c))
        .collect();
    (!clean.is_empty()).then_some(clean)
}
