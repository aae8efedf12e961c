//! Syntactically valid Rust from a small grammar (see `src/gen.rs`), linted like
//! `lint_text`. Because the input parses, more holds: no input error is reported, the
//! fixed text parses, and the prefilter changes no finding (it only leaves out what no
//! enabled lint could fire on).
#![no_main]

use libfuzzer_sys::fuzz_target;
use taskcheck_fuzz::{gen, CONFIGS};

fuzz_target!(|file: gen::File| {
    let text = gen::render(&file);
    if let Err(e) = taskcheck_fuzz::parse(&text) {
        panic!("the generator wrote text that does not parse ({e}):\n{text}");
    }
    let runs = CONFIGS.map(|config| taskcheck_fuzz::lint(text.as_bytes(), config));
    let mut refused = false;
    for (run, config) in runs.iter().zip(CONFIGS) {
        taskcheck_fuzz::check_run(run, config.all_lints && config.prefilter);
        for d in run.diagnostics.iter().filter(|d| d.is_input_error()) {
            // The one input error valid Rust may get: nesting past the limit.
            let too_deep = d.lint == "parse" && d.message.contains(" levels deep");
            assert!(too_deep, "input error on valid Rust ({config:?}): {}\n{text}", d.message);
            refused = true;
        }
        taskcheck_fuzz::check_fixes(run, config);
    }
    // CONFIGS[1] and CONFIGS[2] differ only in the prefilter. A file refused for its
    // depth is the exception: the prefilter may leave the deep item out.
    let (with, without) = (taskcheck_fuzz::findings(&runs[1]), taskcheck_fuzz::findings(&runs[2]));
    if !refused {
        assert_eq!(with, without, "the prefilter changed the findings on:\n{text}");
    }
});
