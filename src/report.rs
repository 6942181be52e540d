//! Progress and status on stderr. Data goes to stdout elsewhere; nothing in the
//! core prints.
//!
//! On a terminal, waits (account creation, a role becoming assumable) show as one
//! spinner line that updates in place; anywhere else (CI logs, pipes) every update
//! is a plain line, so logs read the same as they did live.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Writes progress lines to stderr.
pub struct Reporter {
    pub verbose: u8,
    start: Instant,
    /// Whether stderr is a terminal that may show a spinner.
    live: bool,
    spinner: Mutex<Option<indicatif::ProgressBar>>,
    /// When a wait last said something: [`Reporter::while_running`] stays quiet
    /// for a moment after, so that wait's message is what shows.
    last_wait: Mutex<Option<Instant>>,
    /// Where there is no spinner, when each wait (its words, digits left out)
    /// last printed a line: a long wait prints its first line, then one every
    /// half minute, not one at every poll.
    wait_lines: Mutex<std::collections::HashMap<String, Instant>>,
    /// Work started at AWS that goes on without sra (a CreateAccount request),
    /// by key: what a Ctrl-C leaves running.
    in_flight: Mutex<std::collections::BTreeMap<String, String>>,
}

/// How often a wait that says the same thing prints a line where there is no spinner.
const WAIT_LINE_EVERY: Duration = Duration::from_secs(30);

impl Reporter {
    pub fn new(verbose: u8) -> Reporter {
        let live = std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
        Reporter {
            verbose,
            start: Instant::now(),
            live,
            spinner: Mutex::new(None),
            last_wait: Mutex::new(None),
            wait_lines: Mutex::new(Default::default()),
            in_flight: Mutex::new(Default::default()),
        }
    }

    /// Work at AWS that runs on without sra has started (`what` says it, with
    /// its request id).
    pub fn started(&self, key: impl Into<String>, what: impl Into<String>) {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).insert(key.into(), what.into());
    }

    /// That work has ended.
    pub fn finished(&self, key: &str) {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
    }

    /// What is still running at AWS, in words.
    pub fn still_running(&self) -> Vec<String> {
        self.in_flight.lock().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }

    fn clear_spinner(&self) {
        if let Some(s) = self.spinner.lock().unwrap_or_else(|e| e.into_inner()).take() {
            s.finish_and_clear();
        }
    }

    /// A line of progress, e.g. `account.log_archive: creating account`.
    pub fn progress(&self, msg: impl AsRef<str>) {
        self.clear_spinner();
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "{}", msg.as_ref());
    }

    /// An update of a wait in progress: a spinner on a terminal, a line elsewhere.
    pub fn waiting(&self, msg: impl AsRef<str>) {
        *self.last_wait.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        self.show_wait(msg)
    }

    fn show_wait(&self, msg: impl AsRef<str>) {
        if !self.live {
            let words: String = msg.as_ref().chars().filter(|c| !c.is_ascii_digit()).collect();
            let mut lines = self.wait_lines.lock().unwrap_or_else(|e| e.into_inner());
            if lines.get(&words).is_some_and(|at| at.elapsed() < WAIT_LINE_EVERY) {
                return;
            }
            lines.insert(words, Instant::now());
            drop(lines);
            return self.progress(msg);
        }
        let mut slot = self.spinner.lock().unwrap_or_else(|e| e.into_inner());
        let spinner = slot.get_or_insert_with(|| {
            let s = indicatif::ProgressBar::new_spinner();
            s.enable_steady_tick(Duration::from_millis(120));
            s
        });
        spinner.set_message(msg.as_ref().to_string());
    }

    /// Run `work` while showing `status()` about it: on a terminal a spinner
    /// updated every half second, elsewhere a line every 10 seconds (so a short
    /// run prints nothing more). A wait inside `work` that speaks for itself
    /// (see [`Reporter::waiting`]) is left on screen meanwhile.
    pub async fn while_running<T>(&self, work: impl std::future::Future<Output = T>, status: impl Fn() -> String) -> T {
        let every = if self.live { Duration::from_millis(500) } else { Duration::from_secs(10) };
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        let mut work = std::pin::pin!(work);
        let out = loop {
            tokio::select! {
                out = &mut work => break out,
                _ = ticks.tick() => {
                    let quiet = self.last_wait.lock().unwrap_or_else(|e| e.into_inner()).is_some_and(|t| t.elapsed() < 3 * every.max(Duration::from_secs(1)));
                    if !quiet {
                        self.show_wait(status());
                    }
                }
            }
        };
        self.clear_spinner();
        out
    }

    /// Only with `-v`: which call, where.
    pub fn debug(&self, msg: impl AsRef<str>) {
        if self.verbose > 0 {
            let t = self.start.elapsed().as_secs_f64();
            let line = format!("[{t:7.3}s] {}", msg.as_ref());
            match self.spinner.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
                Some(s) => s.println(line),
                None => {
                    let _ = writeln!(std::io::stderr().lock(), "{line}");
                }
            }
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.clear_spinner();
    }
}
