//! Arbitrary bytes linted as a file (`src/lib.rs`) the way the CLI lints one: decoded
//! and size-checked, outlined and reduced by the prefilter, parsed, analysed and joined,
//! with the default lints, with every lint, and with `--no-prefilter`; then rendered in
//! every format and fixed as `--fix --unsafe-fixes` would.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for config in taskcheck_fuzz::CONFIGS {
        let run = taskcheck_fuzz::lint(data, config);
        taskcheck_fuzz::check_run(&run, config.all_lints && config.prefilter);
        taskcheck_fuzz::check_fixes(&run, config);
    }
});
