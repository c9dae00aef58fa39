//! The `atlas` command line.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use atlas::compile::CompileOptions;
use atlas::driver::{self, SourceFile, Style};
use atlas::vm::{self, Dispatch, Options};

/// Exit codes (sysexits.h).
const EXIT_USAGE: u8 = 64;
const EXIT_COMPILE_ERROR: u8 = 65;
const EXIT_NO_INPUT: u8 = 66;
const EXIT_RUNTIME_ERROR: u8 = 70;

/// Atlas: a statically typed scripting language with a fast bytecode VM.
///
/// Exit status: 0 success, 64 bad usage, 65 compile error, 66 unreadable file,
/// 70 runtime error. Diagnostics are colored on a terminal unless NO_COLOR is set.
#[derive(Parser)]
#[command(name = "atlas", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check, compile and run a program.
    Run {
        /// The source file (.at).
        file: String,
        #[command(flatten)]
        vm: VmArgs,
    },
    /// Type-check a program without running it.
    Check {
        /// The source file (.at).
        file: String,
    },
    /// Print the bytecode of a program: offset, source line, opcode and operands.
    Disasm {
        /// The source file (.at).
        file: String,
        /// Disassemble the unoptimized (baseline) bytecode.
        #[arg(long)]
        no_optimize: bool,
    },
}

#[derive(Args)]
struct VmArgs {
    /// Dispatch loop: `table` (threaded handlers, the default) or `match` (baseline).
    #[arg(long, value_enum, default_value_t = DispatchArg::Table)]
    dispatch: DispatchArg,
    /// Compile without optimizations (the baseline configuration).
    #[arg(long)]
    no_optimize: bool,
    /// Deepest call nesting before the `stack overflow` error.
    #[arg(long, default_value_t = Options::default().max_frames)]
    max_frames: usize,
}

#[derive(Clone, Copy, ValueEnum)]
enum DispatchArg {
    Table,
    Match,
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    // Deeply nested programs recurse deeply in the checker and compiler: give them room.
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || execute(cli.command));
    match worker.map(|handle| handle.join()) {
        Ok(Ok(code)) => ExitCode::from(code),
        _ => ExitCode::from(EXIT_RUNTIME_ERROR),
    }
}

fn style() -> Style {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if !no_color && std::io::stderr().is_terminal() {
        Style::COLOR
    } else {
        Style::PLAIN
    }
}

/// Reads a source file: 66 when unreadable, 65 when not UTF-8.
fn read_source(path: &str) -> Result<String, u8> {
    let bytes = std::fs::read(path).map_err(|e| {
        eprintln!("error: cannot read {path}: {e}");
        EXIT_NO_INPUT
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        eprintln!("{path}: error: the file is not valid UTF-8 (invalid byte at offset {at})");
        EXIT_COMPILE_ERROR
    })
}

fn execute(command: Command) -> u8 {
    match command {
        Command::Run { file, vm } => run(&file, &vm),
        Command::Check { file } => check(&file),
        Command::Disasm { file, no_optimize } => disasm(&file, no_optimize),
    }
}

fn compile(
    path: &str,
    source: &str,
    optimize: bool,
) -> Result<std::rc::Rc<atlas::bytecode::Module>, u8> {
    driver::compile_source(source, CompileOptions { optimize }).map_err(|errors| {
        report_compile_errors(path, source, &errors);
        EXIT_COMPILE_ERROR
    })
}

fn report_compile_errors(path: &str, source: &str, errors: &[atlas::diag::CompileError]) {
    let file = SourceFile::new(path, source);
    let style = style();
    let mut text = String::new();
    for error in errors {
        text.push_str(&file.render_compile_error(error, style));
    }
    eprint!("{text}");
}

fn run(path: &str, args: &VmArgs) -> u8 {
    let source = match read_source(path) {
        Ok(source) => source,
        Err(code) => return code,
    };
    let module = match compile(path, &source, !args.no_optimize) {
        Ok(module) => module,
        Err(code) => return code,
    };
    let options = Options {
        dispatch: match args.dispatch {
            DispatchArg::Table => Dispatch::Table,
            DispatchArg::Match => Dispatch::Match,
        },
        max_frames: args.max_frames,
        ..Options::default()
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let result = vm::run_module(module, options, &mut out);
    let _ = out.flush();
    match result {
        Ok(()) => 0,
        Err(error) => {
            let file = SourceFile::new(path, &source);
            eprint!("{}", file.render_runtime_error(&error, style()));
            EXIT_RUNTIME_ERROR
        }
    }
}

fn check(path: &str) -> u8 {
    let source = match read_source(path) {
        Ok(source) => source,
        Err(code) => return code,
    };
    match driver::check_source(&source) {
        Ok(_) => 0,
        Err(errors) => {
            report_compile_errors(path, &source, &errors);
            EXIT_COMPILE_ERROR
        }
    }
}

fn disasm(path: &str, no_optimize: bool) -> u8 {
    let source = match read_source(path) {
        Ok(source) => source,
        Err(code) => return code,
    };
    match compile(path, &source, !no_optimize) {
        Ok(module) => {
            print!("{}", atlas::bytecode::disasm::disassemble(&module, &source));
            0
        }
        Err(code) => code,
    }
}
