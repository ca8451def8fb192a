//! `jiuzhu-bench`: the platform against the peer tools of shared/bench, on the same files:
//! `dibao` ([`dibao`], the policy engine alone) and `verify` ([`verify`], the monthly comparison
//! as `jiuzhu verify run` makes it).

use std::process::ExitCode;

mod dibao;
mod verify;

pub(crate) const USAGE: &str = "\
jiuzhu-bench: the benchmarks against the peer tools of shared/bench (docs/policy.md, docs/feeds.md)

usage:
  jiuzhu-bench dibao --csv DIR --month YYYY-MM [--urban-standard 850] [--explain] [--dump-explanations FILE]
      benefits of every household of DIR/households.csv and DIR/persons.csv for the month
  jiuzhu-bench verify --dir DIR --month YYYY-MM --out FILE
      the monthly comparison of DIR's caseload against its seven department files; the warning
      list goes to FILE
  jiuzhu-bench --help
      this text";

fn main() -> ExitCode {
    if std::env::args()
        .skip(1)
        .any(|a| matches!(a.as_str(), "--help" | "-h" | "help"))
    {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let result = if std::env::args().nth(1).as_deref() == Some("verify") {
        verify::main()
    } else {
        dibao::run()
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jiuzhu-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
