//! Builds a [`CaseloadIndex`] from the benchmark's caseload CSVs (`caseload_households.csv`:
//! `household_id,division_code,area`; `caseload_members.csv`: `household_id,id_number,...`).
//! The product builds the index from its store instead; this serves the benchmark and tests.

use std::io::Read;

use jiuzhu_domain::{Area, IdNumber};

use crate::caseload::{CaseloadBuilder, CaseloadIndex};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("reading the caseload: {0}")]
    Io(#[from] std::io::Error),
    #[error("{file} line {line}: {reason}")]
    Row {
        file: &'static str,
        line: usize,
        reason: String,
    },
}

fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .skip(1)
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty())
}

/// Loads households then members (ids fully validated, GB 11643).
pub fn caseload_csv<H: Read, M: Read>(
    mut households: H,
    mut members: M,
) -> Result<CaseloadIndex, LoadError> {
    let mut text = String::new();
    households.read_to_string(&mut text)?;
    let bad = |file, line, reason: String| LoadError::Row { file, line, reason };
    let hh: Vec<(usize, &str)> = lines(&text).collect();
    let mut mtext = String::new();
    members.read_to_string(&mut mtext)?;
    let mut b = CaseloadBuilder::new(mtext.len() / 40 + 16);
    for (line, l) in hh {
        let mut f = l.split(',');
        let (Some(id), Some(_division), Some(area)) = (f.next(), f.next(), f.next()) else {
            return Err(bad("households", line, "列数不足".into()));
        };
        let id: i64 = id
            .trim()
            .parse()
            .map_err(|_| bad("households", line, format!("家庭编号“{id}”无效")))?;
        let area = Area::parse(area)
            .ok_or_else(|| bad("households", line, format!("城乡“{area}”无效")))?;
        b.add_household(id, area)
            .map_err(|e| bad("households", line, e.message_zh()))?;
    }
    for (line, l) in lines(&mtext) {
        let mut f = l.split(',');
        let (Some(h), Some(id)) = (f.next(), f.next()) else {
            return Err(bad("members", line, "列数不足".into()));
        };
        let h: i64 = h
            .trim()
            .parse()
            .map_err(|_| bad("members", line, format!("家庭编号“{h}”无效")))?;
        let id = IdNumber::parse(id).map_err(|e| bad("members", line, e.message_zh()))?;
        b.add_member(h, &id)
            .map_err(|e| bad("members", line, e.message_zh()))?;
    }
    Ok(b.build())
}
