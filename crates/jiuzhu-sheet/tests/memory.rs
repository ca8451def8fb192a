//! A refused file costs little memory: each hostile workbook and text is read from a file
//! under the default limits while the process's peak resident size is watched. One test, so
//! that no other test of this binary allocates meanwhile.

use std::io::{Read, Seek, SeekFrom};
use std::ops::ControlFlow;

use jiuzhu_sheet::csv_guard::RecordGuard;
use jiuzhu_sheet::testing::{self, peak_rss};
use jiuzhu_sheet::xlsx::{Workbook, XlsxError, XlsxLimits};
use jiuzhu_sheet::{bounded::limit_of, Limit};

const BUDGET: u64 = 256 << 20;

fn refuse_workbook(mut file: std::fs::File) -> (Limit, u64) {
    file.seek(SeekFrom::Start(0)).unwrap();
    let before = peak_rss(true);
    let result = Workbook::open(&mut file, XlsxLimits::default())
        .and_then(|mut book| book.for_each_row(|_, _| ControlFlow::Continue(())));
    let used = peak_rss(false).saturating_sub(before);
    match result {
        Err(XlsxError::Limit(e)) => (e.limit, used),
        other => panic!("expected a limit, got {other:?}"),
    }
}

#[test]
fn refused_inputs_stay_within_the_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n);

    std::fs::write(path("corner.xlsx"), testing::corner_cells()).unwrap();
    let (limit, used) = refuse_workbook(std::fs::File::open(path("corner.xlsx")).unwrap());
    assert_eq!(limit, Limit::Columns(256));
    assert!(used < BUDGET, "corner cells: {used} bytes");

    let f = testing::huge_shared_string_to(
        std::fs::File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path("sst.xlsx"))
            .unwrap(),
        1 << 30,
    )
    .unwrap();
    let (limit, used) = refuse_workbook(f);
    assert_eq!(limit, Limit::XmlToken(1 << 20));
    assert!(used < BUDGET, "1 GB shared string: {used} bytes");

    // 1,048,576 rows of 70 empty cells: about 300 MB of XML, 73 million cells.
    let f = testing::empty_cells_to(
        std::fs::File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(path("cells.xlsx"))
            .unwrap(),
        1_048_576,
        70,
    )
    .unwrap();
    let (limit, used) = refuse_workbook(f);
    assert_eq!(limit, Limit::Cells(64 * 1_048_576));
    assert!(used < BUDGET, "sheet bomb: {used} bytes");

    // A 10 MB CSV of one line.
    let csv = testing::one_line_csv("a,b", 10 << 20);
    let before = peak_rss(true);
    let mut guard = RecordGuard::new(&csv[..], b',');
    let mut sink = vec![0u8; 1 << 16];
    let err = loop {
        match guard.read(&mut sink) {
            Ok(0) => panic!("read to the end"),
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert_eq!(limit_of(&err).unwrap().limit, Limit::RecordBytes(64 << 10));
    assert!(peak_rss(false) - before < BUDGET);
}
