use std::process::ExitCode;

use clap::Parser;
use sra::cli::{Cli, EXIT_ERROR, PlanFileInvalid};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    match runtime.block_on(sra::cli::run(cli)) {
        Ok(code) => code,
        Err(err) => {
            if let Some(invalid) = err.downcast_ref::<PlanFileInvalid>() {
                eprintln!("{invalid}");
            } else {
                eprintln!("error: {err:#}");
                if let Some(hint) = sra::aws::hint_of(&err) {
                    eprintln!("  hint: {hint}");
                }
            }
            ExitCode::from(EXIT_ERROR)
        }
    }
}
