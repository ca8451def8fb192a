//! Every parser of input that reaches jiuzhu from outside, as a fuzz target: a function that
//! takes arbitrary bytes and must return without panicking, aborting or using memory out of
//! proportion (each reader's limits are in docs/security.md). The normal test suite runs them
//! over random bytes and over the committed regression inputs (`regressions/<target>/`);
//! `fuzz/` wraps them for cargo-fuzz, for runs of hours by hand. A crash found there becomes a
//! file in `regressions/` so that it is tried on every test run.

use std::io::Cursor;
use std::ops::ControlFlow;
use std::sync::OnceLock;

use jiuzhu_domain::{DivisionCode, IdNumber, Money, Month};
use jiuzhu_import::{caseload, divisions, Input, TableLimits};
use jiuzhu_sheet::csv_guard::RecordGuard;
use jiuzhu_sheet::text::{detect_bytes, DecodeReader, Malformed};
use jiuzhu_sheet::xlsx::{Workbook, XlsxLimits};
use jiuzhu_verify::{CaseloadBuilder, FeedIngest, FeedKind, IngestOptions, VerifyPolicy};

/// A target: its name (also its folder under `regressions/` and its cargo-fuzz binary) and
/// the function.
pub struct Target {
    pub name: &'static str,
    pub run: fn(&[u8]),
}

/// Every target.
pub const TARGETS: &[Target] = &[
    Target {
        name: "xlsx",
        run: xlsx,
    },
    Target {
        name: "csv_text",
        run: csv_text,
    },
    Target {
        name: "import_table",
        run: import_table,
    },
    Target {
        name: "feed",
        run: feed,
    },
    Target {
        name: "calc_json",
        run: calc_json,
    },
    Target {
        name: "policy_toml",
        run: policy_toml,
    },
    Target {
        name: "workflow_toml",
        run: workflow_toml,
    },
    Target {
        name: "calendar_toml",
        run: calendar_toml,
    },
    Target {
        name: "domain_values",
        run: domain_values,
    },
];

/// Limits small enough that a fuzzer's inputs reach them.
fn small_xlsx_limits() -> XlsxLimits {
    XlsxLimits {
        cells: 20_000,
        columns: 64,
        shared_strings: 2_000,
        shared_string_bytes: 1 << 20,
        sheet_xml_bytes: 16 << 20,
        ..XlsxLimits::default()
    }
}

/// The first sheet of a workbook.
pub fn xlsx(data: &[u8]) {
    if let Ok(mut book) = Workbook::open(Cursor::new(data), small_xlsx_limits()) {
        let _ = book.for_each_row(|_, cells| {
            assert!(cells.len() <= 64, "a row wider than the column limit");
            ControlFlow::Continue(())
        });
    }
}

/// Encoding detection, decoding and the CSV record guard.
pub fn csv_text(data: &[u8]) {
    let encoding = detect_bytes(data);
    let mut out = Vec::new();
    let mut decoded = DecodeReader::new(data, encoding, Malformed::Replace);
    std::io::Read::read_to_end(&mut decoded, &mut out).expect("replacing never fails");
    assert!(std::str::from_utf8(&out).is_ok(), "decoded text is UTF-8");
    let mut strict = DecodeReader::new(data, encoding, Malformed::Refuse);
    let _ = std::io::Read::read_to_end(&mut strict, &mut Vec::new());
    for delimiter in [b',', b'\t', b';'] {
        let _ = RecordGuard::new(&out[..], delimiter)
            .max_record_bytes(4096)
            .max_data_rows(1000)
            .count();
    }
}

/// The caseload and division importers, the bytes taken for a CSV, an xlsx or an unnamed file.
pub fn import_table(data: &[u8]) {
    let limits = caseload::Limits {
        members: 1_000,
        households: 1_000,
        file_bytes: 4 << 20,
    };
    let day = chrono_day();
    let households = Input::new(
        "h.csv",
        "household_id,division_code,area\nH1,371002001001,urban\n",
    );
    let members = Input::new(
        "m.csv",
        "household_id,id_number,name,relation\nH1,110101199003070011,甲,户主\n",
    );
    for name in ["f.csv", "f.xlsx", "f"] {
        let file = Input::new(name, data.to_vec());
        let _ = caseload::parse(&file, &members, day, false, limits);
        let _ = caseload::parse(&households, &file, day, true, limits);
        let _ = divisions::parse(
            &file,
            TableLimits {
                data_rows: 1_000,
                file_bytes: 4 << 20,
            },
        );
    }
}

fn chrono_day() -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(2026, 1, 1).expect("valid date")
}

/// A department delivery of every kind, in one push and in small pieces.
pub fn feed(data: &[u8]) {
    static INDEX: OnceLock<jiuzhu_verify::CaseloadIndex> = OnceLock::new();
    let index = INDEX.get_or_init(|| {
        let mut b = CaseloadBuilder::new(4);
        let h = b
            .add_household(1, jiuzhu_domain::Area::Urban)
            .expect("one household");
        let id = IdNumber::parse("110101199003070011").expect("valid id");
        b.add_member_ix(h, &id).expect("one member");
        b.build()
    });
    let policy = jiuzhu_verify::Thresholds::from(VerifyPolicy::bench_default());
    let month = Month::new(2026, 1).expect("a month");
    for kind in FeedKind::ALL {
        for chunk in [data.len().max(1), 7] {
            let mut ingest =
                FeedIngest::new(*kind, index, &policy, month, IngestOptions::default());
            let mut failed = false;
            for piece in data.chunks(chunk) {
                if ingest.push(piece).is_err() {
                    failed = true;
                    break;
                }
            }
            if !failed {
                let _ = ingest.finish();
            }
        }
    }
}

fn policies() -> &'static jiuzhu_policy::PolicyLibrary {
    static LIB: OnceLock<jiuzhu_policy::PolicyLibrary> = OnceLock::new();
    LIB.get_or_init(|| jiuzhu_policy::PolicyLibrary::builtin().expect("shipped policies load"))
}

/// The calculation input (`jiuzhu calc`, `POST /api/v1/calc`) and a what-if caseload.
pub fn calc_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let month = jiuzhu_policy::Month::parse("2026-01").expect("valid month");
    let _ = jiuzhu_policy::calc_json(policies(), text, month);
    if let Ok(items) = serde_json::from_str::<Vec<serde_json::Value>>(text) {
        let _ = jiuzhu_policy::caseload::read_caseload(&items);
    }
}

/// A policy file.
pub fn policy_toml(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let _ = jiuzhu_policy::PolicyLibrary::from_texts([("fuzz.toml".to_string(), text)]);
}

/// A workflow file.
pub fn workflow_toml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = jiuzhu_workflow::Workflows::load(&[("fuzz.toml", &text)]);
}

/// A calendar overlay (a year's notice of the State Council, an administrator's edit).
pub fn calendar_toml(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = jiuzhu_workflow::WorkCalendar::load(
        jiuzhu_workflow::calendar::CN_CALENDAR,
        &[("fuzz", &text)],
    );
}

/// The values typed into forms and cells: identity numbers, amounts, division codes.
pub fn domain_values(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(id) = IdNumber::parse(&text) {
        let _ = id.to_string();
    }
    if let Ok(m) = Money::parse(&text) {
        assert_eq!(
            Money::parse(&m.to_string()).ok(),
            Some(m),
            "amounts round-trip"
        );
    }
    let _ = DivisionCode::parse(&text);
}
