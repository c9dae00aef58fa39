//! The `atlas` command line.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};

use atlas::compile::CompileOptions;
use atlas::driver::{self, SourceFile, Style};
use atlas::profile::Weight;
use atlas::vm::{self, Dispatch, HostIo, Options};

/// `eprint!` that ignores a failing standard error (a closed pipe, a full disk), where
/// `eprint!` would panic: there is nowhere left to report it, and the exit status still
/// tells what happened.
macro_rules! report {
    ($($arg:tt)*) => {{
        let _ = write!(std::io::stderr(), $($arg)*);
    }};
}

/// `eprintln!` that ignores a failing standard error, like `report!`.
macro_rules! reportln {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

/// Exit codes (sysexits.h).
const EXIT_USAGE: u8 = 64;
const EXIT_COMPILE_ERROR: u8 = 65;
const EXIT_NO_INPUT: u8 = 66;
const EXIT_RUNTIME_ERROR: u8 = 70;
const EXIT_CANT_CREATE: u8 = 73;
/// Stopped by Ctrl-C (128 + SIGINT, as shells report it).
const EXIT_INTERRUPTED: u8 = 130;

/// Atlas: a statically typed scripting language with a fast bytecode VM.
///
/// Exit status: 0 success, 64 bad usage, 65 compile error, 66 unreadable file,
/// 70 runtime error, 73 an output file of `profile` cannot be written. Diagnostics are
/// colored on a terminal unless NO_COLOR is set.
#[derive(Parser)]
#[command(name = "atlas", version)]
struct Cli {
    /// Without a command: the REPL when standard input is a terminal, otherwise this help.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Check, compile and run a program.
    ///
    /// Atlas's options come before FILE; every word after it is the script's, returned by
    /// `args()` (a `--` right after FILE is dropped). Ctrl-C stops the script, keeping
    /// what it printed, with exit status 130.
    Run {
        #[command(flatten)]
        vm: VmArgs,
        /// The source file (.at), then the script's arguments.
        #[arg(required = true, trailing_var_arg = true, value_name = "FILE [ARGS]")]
        program: Vec<std::ffi::OsString>,
    },
    /// Type-check and compile a program without running it.
    Check {
        /// The source file (.at).
        file: PathBuf,
    },
    /// Print the bytecode of a program: offset, source line, opcode and operands.
    Disasm {
        /// The source file (.at).
        file: PathBuf,
        /// Disassemble the unoptimized (baseline) bytecode.
        #[arg(long)]
        no_optimize: bool,
    },
    /// Start the interactive shell (also what `atlas` alone does on a terminal).
    ///
    /// Declarations persist between entries, expression statements print their value,
    /// an entry goes on over several lines while brackets are open. Commands: :help,
    /// :type EXPR, :disasm EXPR, :reset, :quit. History is kept in ~/.atlas_history
    /// (or $ATLAS_HISTORY).
    Repl,
    /// Run a program under the profiler and report where its time goes: totals, time
    /// and calls per function, counts per opcode and category, the hottest source lines.
    ///
    /// The program's output goes to stdout, the report to stderr (or to the --json
    /// file). Counts are exact; times are estimates (docs/profiler.md).
    Profile {
        /// The source file (.at).
        file: PathBuf,
        /// Write the report as JSON to this file instead of the text report to stderr.
        #[arg(long, value_name = "OUT.json")]
        json: Option<PathBuf>,
        /// Write folded call stacks (`<script>;main;work 1234`) to this file, for flame
        /// graph tools such as speedscope.
        #[arg(long, value_name = "OUT.txt")]
        folded: Option<PathBuf>,
        /// Write an SVG flame graph of the call stacks to this file.
        #[arg(long, value_name = "OUT.svg")]
        flamegraph: Option<PathBuf>,
        /// Rows shown in each table of the text report.
        #[arg(
            long,
            allow_negative_numbers = true,
            value_name = "N",
            default_value_t = 10
        )]
        top: usize,
        /// What the flame graph and folded stacks measure: estimated self time in
        /// nanoseconds, or instructions executed (exact).
        #[arg(long, value_enum, default_value_t = WeightArg::Time)]
        weight: WeightArg,
        /// Profile the unoptimized (baseline) bytecode.
        #[arg(long)]
        no_optimize: bool,
        /// Deepest call nesting before the `stack overflow` error.
        #[arg(long, allow_negative_numbers = true, default_value_t = Options::default().max_frames)]
        max_frames: usize,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum WeightArg {
    Time,
    Instructions,
}

#[derive(Args)]
struct VmArgs {
    /// Dispatch loop: `match` (the default, measured fastest) or `table` (threaded handlers).
    #[arg(long, value_enum, default_value_t = DispatchArg::Match)]
    dispatch: DispatchArg,
    /// Compile without optimizations (the baseline configuration).
    #[arg(long)]
    no_optimize: bool,
    /// Deepest call nesting before the `stack overflow` error.
    #[arg(long, allow_negative_numbers = true, default_value_t = Options::default().max_frames)]
    max_frames: usize,
    /// Most registers (16-byte values) the value stack may hold before the `stack
    /// overflow` error.
    #[arg(long, allow_negative_numbers = true, value_name = "N", default_value_t = Options::default().max_stack)]
    max_stack: usize,
    /// Stop with a runtime error when strings and arrays hold more than this many bytes
    /// (suffixes K, M and G multiply by 1024, 1024^2 and 1024^3). Without it, a run
    /// stops with the same error past a quarter of physical memory, checked as they grow.
    #[arg(long, allow_negative_numbers = true, value_name = "BYTES", value_parser = parse_bytes)]
    max_memory: Option<usize>,
    /// Stop with a runtime error after this many instructions.
    #[arg(long, allow_negative_numbers = true, value_name = "N")]
    max_instructions: Option<u64>,
    /// Stop with a runtime error after this many seconds (fractions allowed).
    #[arg(long, allow_negative_numbers = true, value_name = "SECS", value_parser = parse_seconds)]
    timeout: Option<std::time::Duration>,
    /// Seed `random()` with this number: the same seed gives the same numbers (without
    /// it, every run differs).
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
}

/// The memory ceiling of a run without `--max-memory`: a quarter of physical memory, so
/// that a runaway script ends with a runtime error (exit 70) while the system can still
/// give it what one more doubling of its largest array asks for, instead of being
/// aborted by the allocator. `None` where physical memory is unknown.
fn default_memory_ceiling() -> Option<usize> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: usize = meminfo
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib.saturating_mul(1024) / 4)
}

/// A number of bytes, with an optional binary suffix: `4096`, `64K`, `16M`, `1G`.
fn parse_bytes(text: &str) -> Result<usize, String> {
    let (digits, unit) = match text.char_indices().last() {
        Some((at, 'k' | 'K')) => (&text[..at], 1 << 10),
        Some((at, 'm' | 'M')) => (&text[..at], 1 << 20),
        Some((at, 'g' | 'G')) => (&text[..at], 1 << 30),
        _ => (text, 1),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(unit))
        .ok_or_else(|| format!("'{text}' is not a number of bytes (like 4096, 64K, 16M or 1G)"))
}

/// A non-negative, finite number of seconds, at most `Duration::MAX` (a timeout beyond
/// the clock's range is a deadline that never comes).
fn parse_seconds(text: &str) -> Result<std::time::Duration, String> {
    text.parse::<f64>()
        .ok()
        .and_then(|secs| std::time::Duration::try_from_secs_f64(secs).ok())
        .ok_or_else(|| format!("'{text}' is not a number of seconds"))
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
    let command = match cli.command {
        Some(command) => command,
        None if std::io::stdin().is_terminal() => Command::Repl,
        None => {
            let help = <Cli as clap::CommandFactory>::command().render_help();
            report!("{help}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    // Runs on the main thread: the parser caps nesting at 1000 levels, which bounds the
    // recursion of every later stage to a few MB even in debug builds (a worker thread
    // with a bigger stack cost 0.2 MB of peak RSS on every run).
    ExitCode::from(execute(command))
}

fn style() -> Style {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if !no_color && std::io::stderr().is_terminal() {
        Style::COLOR
    } else {
        Style::PLAIN
    }
}

/// Largest source file read: a device or FIFO that never ends (`/dev/zero`) is refused
/// at this size instead of read until memory runs out.
const MAX_SOURCE_BYTES: u64 = 64 << 20;

/// A path as messages show it (not UTF-8 bytes replaced).
fn shown(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// Reads a source file: 66 when unreadable, 65 when not UTF-8 or larger than
/// [`MAX_SOURCE_BYTES`].
fn read_source(file: &Path) -> Result<String, u8> {
    let path = shown(file);
    let mut bytes = Vec::new();
    std::fs::File::open(file)
        .and_then(|f| f.take(MAX_SOURCE_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| {
            reportln!("error: cannot read {path}: {e}");
            EXIT_NO_INPUT
        })?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        reportln!(
            "{path}: error: the file is larger than the limit of {} MiB for a source",
            MAX_SOURCE_BYTES >> 20
        );
        return Err(EXIT_COMPILE_ERROR);
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        reportln!("{path}: error: the file is not valid UTF-8 (invalid byte at offset {at})");
        EXIT_COMPILE_ERROR
    })
}

fn execute(command: Command) -> u8 {
    match command {
        Command::Run { vm, mut program } => {
            let file = PathBuf::from(program.remove(0));
            // The script's words as strings: bytes that are not UTF-8 become U+FFFD.
            let words = program
                .iter()
                .map(|w| w.to_string_lossy().into_owned())
                .collect();
            run(&file, &vm, words)
        }
        Command::Check { file } => check(&file),
        Command::Disasm { file, no_optimize } => disasm(&file, no_optimize),
        Command::Repl => repl(),
        Command::Profile {
            file,
            json,
            folded,
            flamegraph,
            top,
            weight,
            no_optimize,
            max_frames,
        } => profile(
            &file,
            &ProfileOutputs {
                json,
                folded,
                flamegraph,
                top,
                weight: match weight {
                    WeightArg::Time => Weight::Time,
                    WeightArg::Instructions => Weight::Instructions,
                },
            },
            !no_optimize,
            max_frames,
        ),
    }
}

fn compile(
    path: &str,
    source: &str,
    optimize: bool,
) -> Result<std::rc::Rc<atlas::verify::VerifiedModule>, u8> {
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
    report!("{text}");
}

fn run(file: &Path, args: &VmArgs, mut words: Vec<String>) -> u8 {
    let path = &shown(file);
    let source = match read_source(file) {
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
        max_stack: args.max_stack,
        max_instructions: args.max_instructions,
        timeout: args.timeout,
        max_memory: args.max_memory,
        memory_ceiling: default_memory_ceiling(),
        seed: args.seed,
    };
    if words.first().is_some_and(|w| w == "--") {
        words.remove(0);
    }
    let stdout = std::io::stdout();
    let line_buffered = stdout.is_terminal();
    let mut out = stdout.lock();
    let mut vm = vm::Vm::new(module, options, &mut out);
    let io = HostIo::process(words);
    // Ctrl-C: the script stops at its next loop iteration or call, with its output
    // flushed; when it waits for input (its output flushed already), at once.
    let interrupt = vm.interrupt_handle();
    let waiting = Arc::clone(&io.waiting_for_input);
    let _ = ctrlc::set_handler(move || {
        if waiting.load(Ordering::SeqCst) {
            std::process::exit(EXIT_INTERRUPTED.into());
        }
        interrupt.store(true, Ordering::SeqCst);
    });
    vm.set_io(io);
    vm.set_line_buffered(line_buffered);
    let result = vm.run();
    let interrupted = vm.interrupt_handle().load(Ordering::SeqCst);
    drop(vm);
    let _ = out.flush();
    match result {
        Ok(()) => 0,
        Err(_) if interrupted => EXIT_INTERRUPTED,
        Err(error) => {
            let file = SourceFile::new(path, &source);
            report!("{}", file.render_runtime_error(&error, style()));
            EXIT_RUNTIME_ERROR
        }
    }
}

/// Where `atlas profile` writes what.
struct ProfileOutputs {
    json: Option<PathBuf>,
    folded: Option<PathBuf>,
    flamegraph: Option<PathBuf>,
    top: usize,
    weight: Weight,
}

fn profile(file: &Path, outputs: &ProfileOutputs, optimize: bool, max_frames: usize) -> u8 {
    let path = &shown(file);
    let source = match read_source(file) {
        Ok(source) => source,
        Err(code) => return code,
    };
    let module = match compile(path, &source, optimize) {
        Ok(module) => module,
        Err(code) => return code,
    };
    let options = Options {
        max_frames,
        ..Options::default()
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let (result, profile) = atlas::profile::run_profiled(module, options, &mut out);
    let _ = out.flush();
    drop(out);

    // The profile first (it covers what ran, also when the run failed), then the error.
    let mut status = 0;
    let mut write_file =
        |file: &Path, write: &mut dyn FnMut(&mut dyn Write) -> std::io::Result<()>| {
            let written = std::fs::File::create(file).and_then(|f| {
                let mut f = std::io::BufWriter::new(f);
                write(&mut f)?;
                f.flush()
            });
            if let Err(e) = written {
                reportln!("error: cannot write {}: {e}", shown(file));
                status = EXIT_CANT_CREATE;
            }
        };
    if let Some(file) = &outputs.json {
        let json = profile.to_json(path, &source, result.as_ref().err());
        write_file(file, &mut |f| f.write_all(json.as_bytes()));
    }
    if let Some(file) = &outputs.folded {
        let folded = profile.folded(outputs.weight);
        write_file(file, &mut |f| f.write_all(folded.as_bytes()));
    }
    if let Some(file) = &outputs.flamegraph {
        let title = format!("atlas profile: {path}");
        write_file(file, &mut |f| {
            profile.write_flamegraph(outputs.weight, &title, f)
        });
    }
    if outputs.json.is_none() {
        report!("{}", profile.report(path, &source, outputs.top));
    }
    match result {
        Ok(()) => status,
        Err(error) => {
            let file = SourceFile::new(path, &source);
            if outputs.json.is_none() {
                reportln!();
            }
            report!("{}", file.render_runtime_error(&error, style()));
            EXIT_RUNTIME_ERROR
        }
    }
}

fn repl() -> u8 {
    match atlas::repl::run() {
        Ok(()) => 0,
        Err(e) => {
            reportln!("error: {e}");
            EXIT_RUNTIME_ERROR
        }
    }
}

fn check(file: &Path) -> u8 {
    let path = &shown(file);
    let source = match read_source(file) {
        Ok(source) => source,
        Err(code) => return code,
    };
    // Compiled too: the compiler's own limits (registers, constants, jump distances)
    // refuse programs the checker accepts, and `check` must report what `run` would.
    match driver::compile_source(&source, CompileOptions::default()) {
        Ok(_) => 0,
        Err(errors) => {
            report_compile_errors(path, &source, &errors);
            EXIT_COMPILE_ERROR
        }
    }
}

fn disasm(file: &Path, no_optimize: bool) -> u8 {
    let path = &shown(file);
    let source = match read_source(file) {
        Ok(source) => source,
        Err(code) => return code,
    };
    match compile(path, &source, !no_optimize) {
        Ok(module) => {
            let listing = atlas::bytecode::disasm::disassemble(&module, &source);
            let mut out = std::io::stdout().lock();
            match out.write_all(listing.as_bytes()).and_then(|()| out.flush()) {
                Ok(()) => 0,
                Err(e) => {
                    reportln!("error: cannot write the listing: {e}");
                    EXIT_CANT_CREATE
                }
            }
        }
        Err(code) => code,
    }
}
