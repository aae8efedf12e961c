fn main() {
    std::process::exit(taskcheck::main_with_args(std::env::args_os().collect()));
}
