//! The virtual machine: a register machine over a preallocated value stack, with call
//! frames in a fixed-capacity array and handlers grouped by opcode category.

mod arith;
mod array;
mod branch;
mod call;
mod closure;
mod compare;
pub mod dispatch;
pub mod heap;
pub mod host;
pub mod hostio;
mod io;
mod load;
mod map;
pub mod natives;
mod sort;
pub mod stack;
mod string;
pub mod table;
pub mod value;

use std::cell::{Cell, RefCell};
use std::io::Write;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::diag::{RuntimeError, TraceFrame};
use crate::stdlib::random::Rng;
use crate::verify::VerifiedModule;
use dispatch::{Cx, Flow, Handlers, MeterHook, ProfileHook};
pub use hostio::HostIo;
use stack::Stack;
use value::{Printer, Value};

/// Which generated dispatch loop runs the bytecode.
///
/// Both run the same handlers. `Match` is the default because it measured fastest on
/// this project's machines (6% over `Table` in the geometric mean of `../shared/bench`,
/// see PERFORMANCE_REPORT.md): inlined into one loop, the handlers share one register
/// allocation, where each threaded handler saves and restores the registers its own
/// slow paths need.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dispatch {
    /// Handlers threaded through the static handler table, each tail-calling the next.
    Table,
    /// A `loop` over a `match` on the opcode (the default; the baseline configuration
    /// uses it too).
    #[default]
    Match,
}

/// Settings of a run.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub dispatch: Dispatch,
    /// Deepest call nesting; deeper is the `stack overflow` error.
    pub max_frames: usize,
    /// Most registers the value stack may hold.
    pub max_stack: usize,
    /// Most instructions a run may execute (`--max-instructions`); `None`: no limit.
    pub max_instructions: Option<u64>,
    /// Longest a run may take (`--timeout`); `None`: no limit.
    pub timeout: Option<Duration>,
    /// Most bytes a run's strings and arrays may hold beyond what existed when it
    /// started (`--max-memory`); `None`: no limit.
    pub max_memory: Option<usize>,
    /// A ceiling like `max_memory` that keeps the fast loop: checked as strings and
    /// arrays grow (not after every instruction), it stops the run at its next loop
    /// iteration or call, so it may overshoot by what one iteration builds. The CLI's
    /// default when `--max-memory` is not given (a quarter of physical memory), so a
    /// runaway script ends with the runtime error instead of the allocator's abort.
    /// Ignored when a limit makes the run metered.
    pub memory_ceiling: Option<usize>,
    /// The seed of `random()` (`--seed`); `None`: a different sequence every run.
    pub seed: Option<u64>,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            dispatch: Dispatch::Match,
            max_frames: 100_000,
            max_stack: 8 << 20,
            max_instructions: None,
            timeout: None,
            max_memory: None,
            memory_ceiling: None,
            seed: None,
        }
    }
}

/// What the native functions may use.
pub struct Runtime {
    /// When the run started, for `clock()`.
    pub start: Instant,
    /// The heap account may not exceed this: `heap::live_bytes()` at the start of the
    /// run plus `--max-memory` (`usize::MAX` without a limit).
    heap_ceiling: usize,
    /// The memory limit, for its error message.
    max_memory: usize,
    /// The state of `random()`.
    rng: Cell<Rng>,
    /// What the host lets the script reach (see [`HostIo`]).
    args: Option<Vec<String>>,
    stdin: hostio::Stdin,
    files: bool,
    waiting_for_input: Arc<AtomicBool>,
}

impl Runtime {
    /// The next number of `random()`, uniform in `[0, 1)`.
    pub fn random(&self) -> f64 {
        let mut rng = self.rng.get();
        let x = rng.next_f64();
        self.rng.set(rng);
        x
    }

    /// Whether the run has a memory limit.
    pub fn limits_memory(&self) -> bool {
        self.heap_ceiling != usize::MAX
    }

    /// Whether `bytes` more keep the run within its memory limit.
    #[inline]
    pub fn fits(&self, bytes: usize) -> bool {
        heap::live_bytes().saturating_add(bytes) <= self.heap_ceiling
    }

    /// Bytes the run may still acquire.
    fn headroom(&self) -> usize {
        self.heap_ceiling.saturating_sub(heap::live_bytes())
    }

    /// The error of the memory limit.
    pub fn memory_error(&self) -> String {
        format!("memory limit of {} bytes reached", self.max_memory)
    }

    /// Fails with the memory limit's error when `bytes` more would take the run past
    /// it. For prelude functions that can build many times their input in one call
    /// (`join` with a long separator, `split` into characters): the limit is otherwise
    /// checked after each instruction, too late to stop the allocation.
    pub fn reserve(&self, bytes: usize) -> Result<(), String> {
        if self.fits(bytes) {
            Ok(())
        } else {
            Err(self.memory_error())
        }
    }
}

/// A runtime error recorded by a handler: the message and the faulting instruction.
struct Fault {
    message: String,
    ip: *const u8,
    /// Bytes of the instruction's source span the error covers, when it is about a part
    /// of a fused instruction (the row access `xs[i]` of `xs[i][j]`); all when `None`.
    within: Option<u32>,
}

/// Bytes of printed text buffered before they are written out.
const OUTPUT_CHUNK: usize = 8 * 1024;

pub struct Vm<'out> {
    module: Rc<VerifiedModule>,
    stack: Stack,
    globals: Vec<Value>,
    rt: Runtime,
    out: &'out mut dyn Write,
    out_buf: String,
    /// Flush at every newline (standard output is a terminal).
    line_buffered: bool,
    fault: Option<Fault>,
    options: Options,
    /// Set by `atlas profile` for `run_profiled`, whose instrumented loop
    /// (`dispatch::run_profiled`) reports to it; the other loops contain no profiling code.
    profiler: Option<Box<crate::profile::Collector>>,
    /// The embedder's functions, called by `call_host` (`host.rs`).
    hosts: host::HostTable,
    /// Set from any thread to stop the run at its next backward jump or call.
    interrupt: Arc<AtomicBool>,
    /// What is left of the instruction budget and time (metered runs only).
    meter: Meter,
    /// The `sort` calls in progress, innermost last (a comparator may sort).
    sorts: Vec<sort::MergeSort>,
}

/// The state of a metered run.
#[derive(Debug, Clone, Copy)]
struct Meter {
    /// Instructions left before the budget is exhausted.
    remaining: u64,
    /// Instructions until the clock is read again.
    until_clock: u32,
    /// `heap::acquired_bytes()` at the last read of the clock.
    clock_bytes: usize,
    deadline: Option<Instant>,
    /// The instruction before the current one: the one that allocated, when the heap
    /// check fails.
    previous_ip: *const u8,
}

/// Instructions between two reads of the clock in a metered run (a read costs ~20 ns).
const CLOCK_INTERVAL: u32 = 4096;
/// Bytes of strings and arrays built between two reads of the clock at most: one
/// instruction can build a megabyte (`s + s`, a `concat`), and 4096 of them took tens of
/// seconds past a 1 s `--timeout` (a timeout of the verify fuzz target).
const CLOCK_BYTES: usize = 1 << 20;

impl<'out> Vm<'out> {
    pub fn new(module: Rc<VerifiedModule>, options: Options, out: &'out mut dyn Write) -> Vm<'out> {
        let globals = vec![Value::Uninit; module.globals.len()];
        Vm {
            stack: Stack::new(options.max_frames, options.max_stack),
            module,
            globals,
            rt: Runtime {
                start: Instant::now(),
                heap_ceiling: usize::MAX,
                max_memory: 0,
                rng: Cell::new(options.seed.map_or_else(Rng::from_entropy, Rng::from_seed)),
                args: None,
                stdin: RefCell::new(None),
                files: false,
                waiting_for_input: Arc::default(),
            },
            out,
            out_buf: String::new(),
            line_buffered: false,
            fault: None,
            options,
            profiler: None,
            hosts: host::HostTable::default(),
            interrupt: Arc::new(AtomicBool::new(false)),
            meter: Meter {
                remaining: u64::MAX,
                until_clock: CLOCK_INTERVAL,
                clock_bytes: heap::acquired_bytes(),
                deadline: None,
                previous_ip: std::ptr::null(),
            },
            sorts: Vec::new(),
        }
    }

    /// The flag that stops this VM's runs from another thread: store `true` and the
    /// script fails with "interrupted" at its next loop iteration or call. It stays set
    /// (later runs stop at once) until the embedder stores `false`.
    pub fn interrupt_handle(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.interrupt)
    }

    /// Lets the script reach what `io` allows (by default nothing: `args()`, input and
    /// files are runtime errors).
    pub fn set_io(&mut self, io: HostIo) {
        self.rt.args = io.args;
        self.rt.stdin = RefCell::new(io.stdin);
        self.rt.files = io.files;
        self.rt.waiting_for_input = io.waiting_for_input;
    }

    /// Writes output out at every newline (for a terminal: a script that prints, works
    /// a while and prints again shows the first line at once) instead of in chunks.
    pub fn set_line_buffered(&mut self, on: bool) {
        self.line_buffered = on;
    }

    /// Takes back what `set_io` gave (for the next VM of an embedding engine).
    pub fn take_io(&mut self) -> HostIo {
        HostIo {
            args: self.rt.args.take(),
            stdin: self.rt.stdin.take(),
            files: std::mem::take(&mut self.rt.files),
            waiting_for_input: std::mem::take(&mut self.rt.waiting_for_input),
        }
    }

    /// Uses `flag` as this VM's interrupt flag (an embedder keeps one across VMs).
    pub fn set_interrupt_handle(&mut self, flag: Arc<AtomicBool>) {
        self.interrupt = flag;
    }

    /// Installs (or removes) the profiler that `run_profiled` reports to.
    pub fn set_profiler(&mut self, profiler: Option<Box<crate::profile::Collector>>) {
        self.profiler = profiler;
    }

    /// Removes the profiler, with what it collected.
    pub fn take_profiler(&mut self) -> Option<Box<crate::profile::Collector>> {
        self.profiler.take()
    }

    /// Runs the module's top-level code to its end.
    pub fn run(&mut self) -> Result<(), RuntimeError> {
        if self.arm_meter() {
            return self.run_with(dispatch::run_metered);
        }
        let _ceiling = self.options.memory_ceiling.map(|m| {
            self.set_memory_limit(m);
            heap::arm_ceiling(self.rt.heap_ceiling, Arc::clone(&self.interrupt))
        });
        let result = self.run_with(|vm, cx| match vm.options.dispatch {
            Dispatch::Table => dispatch::run_table(vm, cx),
            Dispatch::Match => dispatch::run_match(vm, cx),
        });
        if self.options.memory_ceiling.is_some() {
            self.rt.heap_ceiling = usize::MAX;
        }
        result
    }

    /// Lets the run's strings and arrays hold `max_memory` bytes more than now.
    fn set_memory_limit(&mut self, max_memory: usize) {
        self.rt.heap_ceiling = heap::live_bytes().saturating_add(max_memory);
        self.rt.max_memory = max_memory;
    }

    /// Arms the meter when the options limit instructions, time or memory; true if they
    /// do (then the run must use the metered loop).
    fn arm_meter(&mut self) -> bool {
        let Options {
            max_instructions,
            timeout,
            max_memory,
            ..
        } = self.options;
        let limited = max_instructions.is_some() || timeout.is_some() || max_memory.is_some();
        if limited {
            self.meter = Meter {
                remaining: max_instructions.unwrap_or(u64::MAX),
                until_clock: CLOCK_INTERVAL,
                clock_bytes: heap::acquired_bytes(),
                // A timeout beyond what an `Instant` can hold is a deadline that never comes.
                deadline: timeout.and_then(|t| Instant::now().checked_add(t)),
                previous_ip: std::ptr::null(),
            };
            match max_memory {
                Some(m) => self.set_memory_limit(m),
                None => self.rt.heap_ceiling = usize::MAX,
            }
        }
        limited
    }

    /// Runs like `run`, with the instrumented loop (`atlas profile`), which calls the
    /// installed profiler before every instruction. A separate entry point, so that
    /// `run` itself contains no trace of profiling.
    pub fn run_profiled(&mut self) -> Result<(), RuntimeError> {
        self.run_with(dispatch::run_profiled)
    }

    /// Sets up the script's frame, runs `dispatch` to the end and reports the outcome.
    #[inline(always)]
    fn run_with(&mut self, dispatch: impl FnOnce(&mut Self, &mut Cx)) -> Result<(), RuntimeError> {
        let module = Rc::clone(&self.module);
        let script = &module.functions[module.script as usize];
        self.stack.reset();
        let Some(regs) = self.stack.push_frame(
            module.script as u32,
            0,
            script.num_regs as usize,
            std::ptr::null(),
        ) else {
            // Limits too small for even the top level (`--max-frames 0`).
            return Err(RuntimeError {
                message: "stack overflow".to_string(),
                span: script.span,
                trace: vec![TraceFrame {
                    function: script.name.clone(),
                    span: script.span,
                }],
            });
        };
        let mut cx = Cx {
            ip: script.code.as_ptr(),
            regs,
        };
        dispatch(self, &mut cx);
        let flushed = self.flush_output();
        match self.fault.take() {
            Some(fault) => Err(self.runtime_error(fault)),
            None => flushed.map_err(|e| RuntimeError {
                message: format!("cannot write output: {e}"),
                span: script.span,
                trace: Vec::new(),
            }),
        }
    }

    /// The global slots as the last run left them (a test hook: a string constant stored
    /// in a global is the constant itself, shared, not a copy).
    pub fn globals(&self) -> &[Value] {
        &self.globals
    }

    /// Registers the value stack holds now (a test hook: it must not grow for programs
    /// within its preallocated depth).
    pub fn stack_capacity(&self) -> usize {
        self.stack.capacity()
    }

    /// Records a runtime error at the current instruction and stops the loop.
    #[cold]
    #[inline(never)]
    fn fail(&mut self, cx: &Cx, message: String) -> Flow {
        self.fault = Some(Fault {
            message,
            ip: cx.ip,
            within: None,
        });
        Flow::Stop
    }

    /// Records a runtime error about the part of the current instruction that covers the
    /// first `len` bytes of its source span, and stops the loop.
    #[cold]
    #[inline(never)]
    fn fail_within(&mut self, cx: &Cx, message: String, len: u32) -> Flow {
        self.fault = Some(Fault {
            message,
            ip: cx.ip,
            within: Some(len),
        });
        Flow::Stop
    }

    /// Appends printed text, writing it out in chunks (and at every newline when
    /// line-buffered).
    fn emit(&mut self, text: &str) -> std::io::Result<()> {
        self.out_buf.push_str(text);
        if self.out_buf.len() >= OUTPUT_CHUNK || (self.line_buffered && text.ends_with('\n')) {
            self.flush_output()?;
        }
        Ok(())
    }

    fn flush_output(&mut self) -> std::io::Result<()> {
        self.out.write_all(self.out_buf.as_bytes())?;
        self.out_buf.clear();
        self.out.flush()
    }

    /// Renders `value` as `print` does; `None` when the text would take a metered run
    /// past its memory limit (an array whose rows are shared many times can print as
    /// gigabytes: the meter's check after the instruction would come too late).
    fn display(&self, value: &Value) -> Option<String> {
        let mut out = String::new();
        self.printer().write(&mut out, value).then_some(out)
    }

    /// `display` as a string value; out of line so that the text buffer (whose address
    /// escapes) does not live in a threaded handler's frame and block its tail call.
    #[inline(never)]
    fn display_value(&self, value: &Value) -> Option<Value> {
        self.display(value).map(Value::str)
    }

    /// A printer that stops where the text would take a metered run past its memory
    /// limit.
    fn printer(&self) -> Printer<'_> {
        Printer {
            module: &self.module,
            limit: self.rt.headroom(),
        }
    }

    /// Fails with the error of the memory limit (`--max-memory`).
    #[cold]
    #[inline(never)]
    fn fail_memory(&mut self, cx: &Cx) -> Flow {
        let message = self.rt.memory_error();
        self.fail(cx, message)
    }

    /// Builds the error with its trace from the frames still on the stack.
    fn runtime_error(&self, fault: Fault) -> RuntimeError {
        let mut trace = Vec::new();
        let mut ip = fault.ip;
        for frame in self.stack.frames().iter().rev() {
            let function = &self.module.functions[frame.func as usize];
            let offset = (ip as usize).wrapping_sub(function.code.as_ptr() as usize);
            let mut span = function.span_at(offset);
            if let (Some(len), true) = (fault.within, trace.is_empty()) {
                span.end = span.end.min(span.start.saturating_add(len));
            }
            trace.push(TraceFrame {
                function: function.name.clone(),
                span,
            });
            // The caller resumes after its call instruction: step back into it.
            ip = frame.ret_ip.wrapping_sub(1);
        }
        RuntimeError {
            message: fault.message,
            span: trace.first().map_or(Default::default(), |f| f.span),
            trace,
        }
    }
}

impl Handlers for Vm<'_> {
    fn invalid_opcode(&mut self, cx: &mut Cx) -> Flow {
        let byte = cx.opcode_byte();
        self.fail(cx, format!("invalid opcode {byte}"))
    }

    #[inline(always)]
    fn interrupt_requested(&self) -> bool {
        self.interrupt.load(Ordering::Relaxed)
    }

    #[cold]
    fn stop_interrupted(&mut self, cx: &Cx) -> bool {
        // The memory ceiling of an unmetered run raises the interrupt flag too.
        if heap::ceiling_passed() {
            self.interrupt.store(false, Ordering::Relaxed);
            self.fail_memory(cx);
        } else {
            self.fail(cx, "interrupted".to_string());
        }
        true
    }
}

impl MeterHook for Vm<'_> {
    #[inline(always)]
    fn charge(&mut self, cx: &Cx) -> bool {
        // Checked after the fact: the instruction that went over the limit has run, so
        // a run may overshoot by one allocation (at most the size of the largest string
        // or array it builds in one step).
        if !self.rt.fits(0) {
            let at = Cx {
                ip: self.meter.previous_ip,
                regs: cx.regs,
            };
            self.fail_memory(&at);
            return true;
        }
        self.meter.previous_ip = cx.ip;
        if self.meter.remaining == 0 {
            let budget = self.options.max_instructions.unwrap_or(0);
            self.fail(cx, format!("instruction limit of {budget} reached"));
            return true;
        }
        self.meter.remaining -= 1;
        self.meter.until_clock -= 1;
        let acquired = heap::acquired_bytes();
        if self.meter.until_clock == 0
            || acquired.wrapping_sub(self.meter.clock_bytes) >= CLOCK_BYTES
        {
            self.meter.until_clock = CLOCK_INTERVAL;
            self.meter.clock_bytes = acquired;
            if let Some(deadline) = self.meter.deadline {
                if Instant::now() >= deadline {
                    let limit = self.options.timeout.unwrap_or_default().as_secs_f64();
                    self.fail(cx, format!("time limit of {limit} s reached"));
                    return true;
                }
            }
        }
        false
    }
}

/// Only the instrumented loop (`dispatch::run_profiled`) calls this: the profiler sees
/// the frames to notice calls and returns (a change of depth) and the current function.
impl ProfileHook for Vm<'_> {
    #[inline(always)]
    fn before_instruction(&mut self, cx: &Cx, opcode: u8) {
        if let Some(profiler) = self.profiler.as_deref_mut() {
            profiler.before_instruction(cx, opcode, self.stack.frames());
        }
    }
}

/// Compiles nothing: runs an already compiled module and writes its output to `out`.
pub fn run_module(
    module: Rc<VerifiedModule>,
    options: Options,
    out: &mut dyn Write,
) -> Result<(), RuntimeError> {
    Vm::new(module, options, out).run()
}
