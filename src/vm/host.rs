//! Hooks for embedders ([`crate::api`]): functions of the host program that scripts call
//! (`call_host`), calls of script functions from the host, access to the global slots,
//! and the parts of a VM worth keeping between runs.
//!
//! A call from the host pushes two frames: a frame standing for the host (the script
//! function, base 0) and the callee's frame on the same registers, whose return address
//! is a lone `ret_void` outside any function (`TRAMPOLINE`). The callee's `ret` copies
//! its result into its `R[0]`, which is the host frame's `R[0]`, and resumes at the
//! trampoline, whose `ret_void` pops the host frame and stops the loop. The result is
//! then register 0 of the value stack.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::rc::Rc;
use std::time::Instant;

use super::dispatch::{self, Cx, Flow};
use super::stack::Stack;
use super::value::{Printer, Value};
use super::{Dispatch, Options, Vm};
use crate::bytecode::Opcode;
use crate::diag::RuntimeError;
use crate::stdlib::random::Rng;
use crate::verify::VerifiedModule;

/// Where a function called from the host returns to: a `ret_void` that ends the run.
static TRAMPOLINE: [u8; 1] = [Opcode::RetVoid.discriminant()];

/// A host function as the VM sees it: arguments (of the types the checker proved for
/// its signature) in, the result or an error message out. The message becomes a runtime
/// error at the call, with a trace.
pub type HostFn = dyn Fn(&mut HostCx<'_>, &[Value]) -> Result<Value, String>;

/// A host function and the name scripts call it by.
#[derive(Clone)]
pub struct HostEntry {
    /// The name scripts call it by (for messages).
    pub name: String,
    /// The function.
    pub func: Rc<HostFn>,
}

/// The host functions of a VM; `call_host h` calls entry `h`. Cheap to clone.
#[derive(Clone, Default)]
pub struct HostTable {
    entries: Rc<Vec<HostEntry>>,
}

impl HostTable {
    /// A table of `entries`, indexed from 0.
    pub fn new(entries: Vec<HostEntry>) -> HostTable {
        HostTable {
            entries: Rc::new(entries),
        }
    }

    /// The number of host functions.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The name of entry `h`.
    pub fn name(&self, h: usize) -> Option<&str> {
        self.entries.get(h).map(|e| e.name.as_str())
    }
}

/// What a host function may use besides its arguments.
pub struct HostCx<'a> {
    module: &'a Rc<VerifiedModule>,
    out: &'a mut String,
}

impl HostCx<'_> {
    /// The running module (to name or identify function values).
    pub fn module(&self) -> &Rc<VerifiedModule> {
        self.module
    }

    /// Writes `text` to the program's output, in order with what `print` writes.
    pub fn write(&mut self, text: &str) {
        self.out.push_str(text);
    }

    /// The text `print` writes for `value` (without the newline).
    pub fn display(&self, value: &Value) -> String {
        let mut text = String::new();
        Printer {
            module: self.module,
            limit: usize::MAX,
        }
        .write(&mut text, value);
        text
    }
}

/// The parts of a VM an embedder keeps between runs: the value stack and call frames
/// (allocated once, for the frame limit of `options`) and the time `clock()` counts from.
pub struct VmParts {
    stack: Stack,
    start: Instant,
    /// `random()` goes on where the last run left it (a seeded engine does not repeat
    /// its numbers call after call).
    rng: Rng,
}

impl VmParts {
    /// New parts for runs with `options`.
    pub fn new(options: &Options) -> VmParts {
        VmParts {
            stack: Stack::new(options.max_frames, options.max_stack),
            start: Instant::now(),
            rng: options.seed.map_or_else(Rng::from_entropy, Rng::from_seed),
        }
    }

    /// Makes `clock()` count from now.
    pub fn restart_clock(&mut self) {
        self.start = Instant::now();
    }
}

impl<'out> Vm<'out> {
    /// A VM for `module` on reused `parts` (made for the same `options`), with the given
    /// global slots (`Value::Uninit` where none is given) and host functions.
    pub fn with_parts(
        module: Rc<VerifiedModule>,
        options: Options,
        out: &'out mut dyn std::io::Write,
        parts: VmParts,
        mut globals: Vec<Value>,
        hosts: HostTable,
    ) -> Vm<'out> {
        // A stack for no frames costs nothing; the real one comes from `parts`.
        let tiny = Options {
            max_frames: 0,
            max_stack: 1,
            ..options
        };
        globals.resize(module.globals.len(), Value::Uninit);
        let mut vm = Vm::new(module, tiny, out);
        vm.options = options;
        vm.stack = parts.stack;
        vm.rt.start = parts.start;
        vm.rt.rng.set(parts.rng);
        vm.globals = globals;
        vm.hosts = hosts;
        vm
    }

    /// Gives back the reusable parts and the global slots.
    pub fn into_parts(self) -> (VmParts, Vec<Value>) {
        let parts = VmParts {
            stack: self.stack,
            start: self.rt.start,
            rng: self.rt.rng.get(),
        };
        (parts, self.globals)
    }

    /// Installs the host functions `call_host` calls.
    pub fn set_hosts(&mut self, hosts: HostTable) {
        self.hosts = hosts;
    }

    /// The global slots, to read or set between runs.
    pub fn globals_mut(&mut self) -> &mut [Value] {
        &mut self.globals
    }

    /// Calls user function `f` (a module function index) with `args`, which the caller
    /// has checked against its signature, and returns what it returned (for a void
    /// function, whatever its register 0 holds: ignore it). The trace of an error ends
    /// at the called function.
    ///
    /// `captures` are what a closure of `f` captured (empty for a plain function); they
    /// go into the registers after the arguments, as a call of the closure puts them.
    pub fn call_function(
        &mut self,
        f: u32,
        captures: &[Value],
        args: &[Value],
    ) -> Result<Value, RuntimeError> {
        let module = Rc::clone(&self.module);
        let Some(callee) = module.functions.get(f as usize) else {
            return Err(host_error(format!("no function {f}")));
        };
        if callee.arity as usize != args.len()
            || args.len() + captures.len() > callee.num_regs as usize
        {
            return Err(host_error(format!(
                "'{}' takes {} arguments, not {}",
                callee.name,
                callee.arity,
                args.len()
            )));
        }
        self.stack.reset();
        let frames = self
            .stack
            .push_frame(module.script as u32, 0, args.len().max(1), std::ptr::null())
            .and_then(|_| {
                self.stack
                    .push_frame(f, 0, callee.num_regs as usize, TRAMPOLINE.as_ptr())
            });
        let Some(regs) = frames else {
            return Err(RuntimeError {
                message: "stack overflow".to_string(),
                span: callee.span,
                trace: Vec::new(),
            });
        };
        for (i, arg) in args.iter().chain(captures).enumerate() {
            // SAFETY: the frame has num_regs >= args.len() + captures.len() registers
            // from `regs` (checked above).
            unsafe { *regs.add(i) = arg.clone() };
        }
        let mut cx = Cx {
            ip: callee.code.as_ptr(),
            regs,
        };
        self.dispatch_loop(&mut cx);
        let flushed = self.flush_output();
        if let Some(fault) = self.fault.take() {
            let mut error = self.runtime_error(fault);
            // The last frame stands for the host.
            error.trace.pop();
            return Err(error);
        }
        flushed.map_err(|e| host_error(format!("cannot write output: {e}")))?;
        Ok(self.stack.value(0).cloned().unwrap_or_default())
    }

    fn dispatch_loop(&mut self, cx: &mut Cx) {
        if self.profiler.is_some() {
            dispatch::run_profiled(self, cx);
        } else if self.arm_meter() {
            dispatch::run_metered(self, cx);
        } else {
            match self.options.dispatch {
                Dispatch::Table => dispatch::run_table(self, cx),
                Dispatch::Match => dispatch::run_match(self, cx),
            }
        }
    }

    /// `call_host`: host function `h` on `R[base..base+argc]`, result in `R[base]`.
    /// Out of line, like `call_prelude`, so threaded handlers keep tail-calling. A
    /// panicking host function becomes a runtime error instead of unwinding the VM.
    #[inline(never)]
    pub(super) fn call_host_fn(&mut self, cx: &mut Cx, h: u32, base: u8, argc: u8) -> Flow {
        let hosts = self.hosts.clone();
        let Some(entry) = hosts.entries.get(h as usize) else {
            return self.fail(cx, format!("no host function {h}"));
        };
        let args = cx.regs_from(base, argc);
        let result = {
            let mut host_cx = HostCx {
                module: &self.module,
                out: &mut self.out_buf,
            };
            catch_unwind(AssertUnwindSafe(|| (entry.func)(&mut host_cx, args)))
        };
        let value = match result {
            Ok(Ok(value)) => value,
            Ok(Err(message)) => return self.fail(cx, message),
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".to_string());
                let message = format!("host function '{}' panicked: {what}", entry.name);
                return self.fail(cx, message);
            }
        };
        cx.set(base, value);
        // Writes out what the host function printed once enough has accumulated.
        match self.emit("") {
            Ok(()) => Flow::Next,
            Err(e) => self.fail(cx, format!("cannot write output: {e}")),
        }
    }
}

/// An error of a call from the host that did not get to run.
fn host_error(message: String) -> RuntimeError {
    RuntimeError {
        message,
        span: Default::default(),
        trace: Vec::new(),
    }
}
