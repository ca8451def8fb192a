//! The files that once aborted every importer of the command line (a 512 GB allocation from a
//! 1.5 KB workbook; gigabytes from a 1 MB shared string or a 10 MB line) are refused with a
//! Chinese message naming the limit, exit code 2, and little memory. One test, so that the
//! children's peak memory (getrusage) is only theirs.

use std::path::Path;
use std::process::{Command, Output};

use jiuzhu_sheet::testing;

const BUDGET: u64 = 256 << 20;

fn jiuzhu(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jiuzhu"))
        .args(args)
        .env(
            "JIUZHU_DATABASE",
            format!("sqlite://{}", dir.join("t.sqlite").display()),
        )
        .env("JIUZHU_LOG", "warn")
        .output()
        .expect("run jiuzhu")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The largest resident set of any child waited for so far.
fn children_peak_rss() -> u64 {
    // SAFETY: getrusage writes into the struct it is given and nothing else.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut u);
        u
    };
    usage.ru_maxrss as u64 * 1024
}

fn refused(o: &Output, expected: &str) {
    let t = text(o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains(expected), "expected {expected:?} in:\n{t}");
}

#[test]
fn hostile_files_are_refused_by_every_importer_with_little_memory() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n);
    let s = |n: &str| p(n).display().to_string();
    std::fs::write(
        p("d.csv"),
        "code,name\n370000,山东省\n371000,威海市\n371002,环翠区\n371002001,环翠楼街道\n",
    )
    .unwrap();
    let ok = jiuzhu(dir.path(), &["import", "divisions", &s("d.csv")]);
    assert!(ok.status.success(), "{}", text(&ok));
    let ok = jiuzhu(
        dir.path(),
        &[
            "verify",
            "add-source",
            "--kind",
            "deposits",
            "--code",
            "某银行",
            "--name",
            "某银行环翠支行",
            "--division",
            "371002",
        ],
    );
    assert!(ok.status.success(), "{}", text(&ok));
    let idle = children_peak_rss();

    std::fs::write(p("corner.xlsx"), testing::corner_cells()).unwrap();
    std::fs::write(
        p("members.xlsx"),
        testing::corner_cell_after_header(&["household_id", "id_number", "name", "relation"]),
    )
    .unwrap();
    let f = std::fs::File::create(p("sst.xlsx")).unwrap();
    testing::huge_shared_string_to(f, 1 << 30).unwrap();
    std::fs::write(
        p("line.csv"),
        testing::one_line_csv("household_id,id_number,name,relation", 10 << 20),
    )
    .unwrap();
    std::fs::write(
        p("h.csv"),
        "household_id,division_code,area\nH1,371002001,urban\n",
    )
    .unwrap();
    let columns = "列数上限 256 列";
    let token = "单个 XML 标记或文本长度上限 1 MB";

    refused(
        &jiuzhu(dir.path(), &["import", "divisions", &s("corner.xlsx")]),
        columns,
    );
    for members in ["members.xlsx", "sst.xlsx"] {
        let o = jiuzhu(
            dir.path(),
            &["import", "caseload", &s("h.csv"), &s(members)],
        );
        refused(
            &o,
            if members == "sst.xlsx" {
                token
            } else {
                columns
            },
        );
    }
    refused(
        &jiuzhu(
            dir.path(),
            &["import", "caseload", &s("h.csv"), &s("line.csv")],
        ),
        "每行长度上限 64 KB",
    );
    for (file, expected) in [("corner.xlsx", columns), ("sst.xlsx", token)] {
        let o = jiuzhu(
            dir.path(),
            &[
                "import",
                "feed",
                "--kind",
                "deposits",
                "--source",
                "某银行",
                "--data-date",
                "2024-06-30",
                &s(file),
            ],
        );
        refused(&o, expected);
    }
    // A one-line delivery is a header over the limit: refused as a whole.
    std::fs::write(p("feed.csv"), vec![b'9'; 10 << 20]).unwrap();
    let o = jiuzhu(
        dir.path(),
        &[
            "import",
            "feed",
            "--kind",
            "deposits",
            "--source",
            "某银行",
            "--data-date",
            "2024-06-30",
            &s("feed.csv"),
        ],
    );
    refused(&o, "每行长度上限 64 KB");

    // Whole-text inputs are bounded by size before they are read.
    std::fs::write(p("calc.json"), vec![b' '; 2 << 20]).unwrap();
    let o = jiuzhu(dir.path(), &["calc", "--input", &s("calc.json")]);
    assert!(!o.status.success());
    assert!(text(&o).contains("超过大小上限 1 MB"), "{}", text(&o));

    let peak = children_peak_rss();
    eprintln!("importers: idle {} MB, peak {} MB", idle >> 20, peak >> 20);
    assert!(
        peak < idle + BUDGET,
        "an importer's peak {} MB, idle {} MB",
        peak >> 20,
        idle >> 20
    );
}
