//! The `consentry` binary: see [`consentry::cli`].

/// mimalloc instead of the system allocator: the release path allocates and frees many small
/// buffers per request (JSON, headers, SQL rows); with glibc's malloc, `malloc`/`free` took about a
/// tenth of the service's CPU under load (BENCHMARKS.md, "Releases over HTTP").
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    consentry::cli::run()
}
