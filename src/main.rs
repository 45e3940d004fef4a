//! The `consentry` binary: see [`consentry::cli`].

fn main() -> std::process::ExitCode {
    consentry::cli::run()
}
