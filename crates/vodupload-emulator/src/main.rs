//! `vodupload-emulator`: the emulator on its own (the `vodupload emulator` subcommand embeds the
//! same arguments).

use clap::Parser;

#[derive(Debug, Parser)]
#[command(name = "vodupload-emulator", version, about)]
struct Cli {
    #[command(flatten)]
    args: vodupload_emulator::EmulatorArgs,
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = vodupload_emulator::run_cli(cli.args) {
        eprintln!("vodupload-emulator: {e}");
        std::process::exit(1);
    }
}
