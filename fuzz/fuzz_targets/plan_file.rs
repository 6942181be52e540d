//! The plan-file loader on arbitrary input: it must never panic, and whatever it
//! accepts must render its diagnostics or load into a plan that validates again.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match sra::plan_file::parse(text) {
        Ok(desired) => {
            // A loaded plan is internally consistent: both accounts, the home region governed.
            assert!(desired.governed_regions.contains(&desired.home_region));
            assert_eq!(desired.accounts.len(), 2);
        }
        Err(diagnostics) => {
            assert!(!diagnostics.is_empty());
            let _ = sra::diag::render("fuzz.toml", text, &diagnostics);
        }
    }
});
