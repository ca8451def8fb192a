//! The benchmark binary explains itself.

use std::process::Command;

#[test]
fn help_names_both_benchmarks() {
    for arg in ["--help", "-h"] {
        let o = Command::new(env!("CARGO_BIN_EXE_jiuzhu-bench"))
            .arg(arg)
            .output()
            .unwrap();
        assert!(o.status.success());
        let text = String::from_utf8(o.stdout).unwrap();
        assert!(
            text.contains("jiuzhu-bench dibao --csv DIR --month YYYY-MM"),
            "{text}"
        );
        assert!(text.contains("jiuzhu-bench verify --dir DIR --month YYYY-MM --out FILE"));
    }
    let o = Command::new(env!("CARGO_BIN_EXE_jiuzhu-bench"))
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("usage:"));
}
