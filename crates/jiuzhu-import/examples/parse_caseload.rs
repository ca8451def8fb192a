//! Times `caseload::parse` on a pair of files:
//! `cargo run --release -p jiuzhu-import --example parse_caseload -- HOUSEHOLDS MEMBERS`.

use std::time::Instant;

use jiuzhu_import::{caseload, Input};

fn read(path: &str) -> std::io::Result<Input> {
    let name = std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Input::new(name, std::fs::read(path)?))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [h, m] = args.as_slice() else {
        return Err("usage: parse_caseload HOUSEHOLDS MEMBERS".into());
    };
    let (h, m) = (read(h)?, read(m)?);
    let valid_from = chrono::NaiveDate::from_ymd_opt(2024, 7, 1).ok_or("date")?;
    let started = Instant::now();
    match caseload::parse(
        &h,
        &m,
        valid_from,
        true,
        jiuzhu_import::caseload::Limits::COMMAND_LINE,
    ) {
        Ok(batch) => println!(
            "{} households, {} members in {:.2} s",
            batch.households.len(),
            batch.members.len(),
            started.elapsed().as_secs_f64()
        ),
        Err(errors) => {
            println!(
                "{} errors in {:.2} s",
                errors.0.len(),
                started.elapsed().as_secs_f64()
            );
            for e in errors.0.iter().take(20) {
                println!("  {e}");
            }
        }
    }
    Ok(())
}
