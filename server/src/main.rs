//! `simpul`: parses the command line and hands it to the library.

fn main() -> std::process::ExitCode {
    use clap::Parser;
    let cli = simpul_server::cli::Cli::parse();
    match simpul_server::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
