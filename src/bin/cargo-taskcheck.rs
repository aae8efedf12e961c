//! `cargo taskcheck`: cargo runs `cargo-taskcheck taskcheck ARGS`; drop the subcommand
//! name and lint like `taskcheck`.

fn main() {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "taskcheck") {
        args.remove(1);
    }
    if let Some(first) = args.first_mut() {
        *first = "cargo taskcheck".into();
    }
    std::process::exit(taskcheck::main_with_args(args));
}
