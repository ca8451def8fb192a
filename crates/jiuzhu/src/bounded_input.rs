//! Text files the command line reads whole (a calculation input, a what-if caseload, policy and
//! calendar files): each kind has a size limit, checked before reading (standard input is read
//! through the limit), so that a wrong or hostile file is a clear Chinese error, not gigabytes
//! of memory. The spreadsheet importers stream instead (jiuzhu-import, jiuzhu-sheet).

use std::io::Read;
use std::path::Path;

use anyhow::{anyhow, Context};
use jiuzhu_sheet::limits::bytes_zh;

/// One household's calculation input: a few kilobytes.
pub const CALC_INPUT_BYTES: u64 = 1 << 20;
/// A what-if caseload as JSON: two million persons take about 600 MB.
pub const WHATIF_CASELOAD_BYTES: u64 = 1 << 30;
/// A policy file or a calendar year: tens of kilobytes.
pub const TOML_FILE_BYTES: u64 = 1 << 20;
/// Files of a policy directory.
pub const POLICY_DIR_FILES: usize = 1_000;

/// Reads `path` (`-` is standard input) as UTF-8 text of at most `max` bytes.
pub fn read_text(path: &Path, max: u64, what: &str) -> anyhow::Result<String> {
    let too_large = || {
        anyhow!(
            "{what}“{}”超过大小上限 {}(file over the {max}-byte limit)",
            path.display(),
            bytes_zh(max)
        )
    };
    let mut text = String::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(max + 1)
            .read_to_string(&mut text)
            .context("reading standard input")?;
    } else {
        let size = std::fs::metadata(path)
            .with_context(|| format!("reading {}", path.display()))?
            .len();
        if size > max {
            return Err(too_large());
        }
        std::fs::File::open(path)
            .and_then(|f| f.take(max + 1).read_to_string(&mut text))
            .with_context(|| format!("reading {}", path.display()))?;
    }
    if text.len() as u64 > max {
        return Err(too_large());
    }
    Ok(text)
}
