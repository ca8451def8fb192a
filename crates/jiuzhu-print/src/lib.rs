//! Printable documents of jiuzhu as PDF: the public notice (公示, [`Notice`]) and the decision
//! letter (决定书, [`DecisionLetter`]).
//!
//! Plain data in, PDF bytes out: no HTTP, no database, no clock (dates come in the data).
//!
//! # Fonts
//!
//! No font ships with the crate. The caller loads one [`CjkFont`] per process and passes it to
//! every render:
//!
//! ```no_run
//! # fn main() -> Result<(), jiuzhu_print::PrintError> {
//! // `--font PATH` / JIUZHU_FONT in the binary; `None` searches DEFAULT_FONT_PATHS.
//! let font = jiuzhu_print::CjkFont::locate(None)?;
//! # let notice: jiuzhu_print::Notice = unimplemented!();
//! let pdf: Vec<u8> = jiuzhu_print::render_notice(&font, &notice)?;
//! # Ok(()) }
//! ```
//!
//! An explicit path that is unusable is an error (it is never silently replaced); without one,
//! the Debian paths of [`DEFAULT_FONT_PATHS`] are tried in order and [`PrintError::FontNotFound`]
//! lists them all when none works. A font without Chinese glyphs is refused at load time, and a
//! document containing a character the font lacks (a rare name character, say) fails with
//! [`PrintError::MissingGlyphs`] naming the field, rather than printing an empty box in a legal
//! document. TrueType (`glyf`) and CFF-flavoured OpenType fonts and collections (`.ttc`) work;
//! only the glyphs used are embedded, so a notice is tens of kilobytes.
//!
//! # Privacy contract
//!
//! The crate prints what it is given; it does not decide who appears on a notice. Leaving out
//! minors, people under the protected procedure (HIV, R-PR-7) and any sensitive fact is the
//! caller's job, done before building the [`Notice`]. The one check made here is a last guard: a
//! notice row whose identity number contains no `*` is refused with
//! [`PrintError::UnmaskedIdNumber`].

mod error;
mod font;
mod layout;
mod letter;
mod notice;
mod pdf;

pub use error::PrintError;
pub use font::{CjkFont, DEFAULT_FONT_PATHS, FONT_ENV};
pub use letter::{
    default_remedy, render_decision_letter, Decision, DecisionLetter, ExplanationLine,
};
pub use notice::{render_notice, Notice, NoticeRow};

use chrono::{Datelike, NaiveDate};

pub(crate) fn zh_date(d: NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

pub(crate) fn check_nonempty(field: &str, value: &str) -> Result<(), PrintError> {
    if value.trim().is_empty() {
        return Err(PrintError::EmptyField {
            field: field.to_string(),
        });
    }
    Ok(())
}
