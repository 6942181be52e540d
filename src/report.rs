//! Progress and status on stderr. Data goes to stdout elsewhere; nothing in the
//! core prints.

use std::io::Write;
use std::time::Instant;

/// Writes progress lines to stderr.
pub struct Reporter {
    pub verbose: u8,
    start: Instant,
}

impl Reporter {
    pub fn new(verbose: u8) -> Reporter {
        Reporter { verbose, start: Instant::now() }
    }

    /// A line of progress, e.g. `account.log_archive: creating account`.
    pub fn progress(&self, msg: impl AsRef<str>) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}", msg.as_ref());
    }

    /// Only with `-v`: which call, where.
    pub fn debug(&self, msg: impl AsRef<str>) {
        if self.verbose > 0 {
            let t = self.start.elapsed().as_secs_f64();
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "[{t:7.3}s] {}", msg.as_ref());
        }
    }
}
