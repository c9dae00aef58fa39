//! [`Engine`], [`Script`], [`Limits`] and [`OutputBuffer`].

use std::cell::RefCell;
use std::fmt;
use std::io::Write;
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::convert::{to_dynamic, to_value, Dynamic, FromAtlas, Function, IntoAtlas};
use super::error::{Error, ErrorKind};
use super::native::{HostFunction, IntoArgs};
use super::unit::{compile_unit, SourceMap, Unit, UnitOptions};
use crate::builtins::Builtin;
use crate::check::{Env, EnvFunction, EnvGlobal};
use crate::syntax::parser;
use crate::types::Type;
use crate::vm::host::{HostEntry, HostFn, HostTable, VmParts};
use crate::vm::value::Value;
use crate::vm::{Dispatch, HostIo, Options, Vm};

/// The name of a source compiled without one.
const DEFAULT_NAME: &str = "<source>";

/// The words scripts cannot use as names.
const KEYWORDS: &[&str] = &[
    "let", "var", "fn", "if", "else", "while", "for", "in", "return", "break", "continue", "true",
    "false", "null",
];

/// Resource limits of the programs an [`Engine`] runs.
///
/// More limits will join these; build a value from [`Limits::default`] and the `with_`
/// methods so that code keeps compiling when they do.
///
/// ```
/// use atlas::{Engine, ErrorKind, Limits};
///
/// let mut engine = Engine::new();
/// engine.set_limits(Limits::default().with_max_frames(50));
/// let error = engine
///     .eval::<f64>("fn down(n: number) -> number { return down(n + 1); } down(0);")
///     .unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::Runtime);
/// assert_eq!(error.message(), "stack overflow");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Deepest call nesting (default 100 000); deeper is the runtime error
    /// `stack overflow`. At least 2.
    pub max_frames: usize,
    /// Most registers (16-byte values) the value stack may grow to (default 8 Mi);
    /// more is `stack overflow` too. At least 256.
    pub max_stack: usize,
    /// Most instructions one run or call may execute (default: no limit); more is the
    /// runtime error `instruction limit of N reached`.
    pub max_instructions: Option<u64>,
    /// Longest one run or call may take (default: no limit); longer is the runtime
    /// error `time limit of S s reached`.
    pub timeout: Option<std::time::Duration>,
    /// Most bytes the strings and arrays made by one run or call may hold at once
    /// (default: no limit), counting each allocation with its bookkeeping; more is the
    /// runtime error `memory limit of N bytes reached`. Checked after every
    /// instruction, so a run can overshoot by its last allocation.
    pub max_memory: Option<usize>,
}

impl Default for Limits {
    fn default() -> Limits {
        let options = Options::default();
        Limits {
            max_frames: options.max_frames,
            max_stack: options.max_stack,
            max_instructions: options.max_instructions,
            timeout: options.timeout,
            max_memory: options.max_memory,
        }
    }
}

impl Limits {
    /// These limits with another call depth limit.
    pub fn with_max_frames(mut self, max_frames: usize) -> Limits {
        self.max_frames = max_frames;
        self
    }

    /// These limits with another value stack limit.
    pub fn with_max_stack(mut self, max_stack: usize) -> Limits {
        self.max_stack = max_stack;
        self
    }

    /// These limits with an instruction budget per run or call.
    pub fn with_max_instructions(mut self, max_instructions: u64) -> Limits {
        self.max_instructions = Some(max_instructions);
        self
    }

    /// These limits with a wall-clock limit per run or call.
    pub fn with_timeout(mut self, timeout: std::time::Duration) -> Limits {
        self.timeout = Some(timeout);
        self
    }

    /// These limits with a cap on the bytes held by strings and arrays per run or call.
    pub fn with_max_memory(mut self, max_memory: usize) -> Limits {
        self.max_memory = Some(max_memory);
        self
    }
}

/// A writer that keeps what is written, to capture a program's output; clones share the
/// same buffer.
///
/// ```
/// use atlas::{Engine, OutputBuffer};
///
/// let out = OutputBuffer::new();
/// let mut engine = Engine::new();
/// engine.set_output(out.clone());
/// engine.eval::<()>("print(1 + 2); print(\"done\");").unwrap();
/// assert_eq!(out.take(), "3\ndone\n");
/// assert_eq!(out.contents(), "");
/// ```
#[derive(Debug, Clone, Default)]
pub struct OutputBuffer {
    bytes: Rc<RefCell<Vec<u8>>>,
}

impl OutputBuffer {
    /// An empty buffer.
    pub fn new() -> OutputBuffer {
        OutputBuffer::default()
    }

    /// What was written so far (invalid UTF-8 replaced).
    pub fn contents(&self) -> String {
        String::from_utf8_lossy(&self.bytes.borrow()).into_owned()
    }

    /// What was written so far, emptying the buffer.
    pub fn take(&self) -> String {
        let bytes = std::mem::take(&mut *self.bytes.borrow_mut());
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

impl Write for OutputBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.bytes.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A compiled program: compile once with [`Engine::compile`], run many times with
/// [`Engine::run`]. Cheap to clone.
///
/// ```
/// use atlas::{Engine, Type};
///
/// let engine = Engine::new();
/// let script = engine
///     .compile("let limit = 10; fn twice(x: number) -> number { return 2 * x; }")
///     .unwrap();
/// assert_eq!(script.function_type("twice").unwrap().to_string(), "(number) -> number");
/// assert_eq!(script.global_type("limit"), Some(&Type::Number));
/// ```
#[derive(Clone)]
pub struct Script {
    unit: Rc<Unit>,
    hosts: HostTable,
}

impl Script {
    /// The name diagnostics give the source.
    pub fn name(&self) -> &str {
        self.unit.source.name(0)
    }

    /// The names of the script's top-level functions, in source order.
    pub fn function_names(&self) -> impl Iterator<Item = &str> {
        self.unit
            .functions
            .iter()
            .filter(|f| !f.hidden)
            .map(|f| f.name.as_str())
    }

    /// The type of top-level function `name`, e.g. `(number) -> number`.
    pub fn function_type(&self, name: &str) -> Option<&Type> {
        self.unit.function(name).map(|f| &f.ty)
    }

    /// The names of the script's globals: its top-level `let` and `var` declarations
    /// and the engine's globals it uses.
    pub fn global_names(&self) -> impl Iterator<Item = &str> {
        self.unit.globals.iter().map(|g| g.name.as_str())
    }

    /// The type of global `name`.
    pub fn global_type(&self, name: &str) -> Option<&Type> {
        self.unit.global(name).map(|g| &g.ty)
    }

    /// The type of the value [`Engine::eval_script`] returns: the type of the last
    /// top-level statement when it is an expression statement, `void` otherwise.
    pub fn result_type(&self) -> &Type {
        &self.unit.result_type
    }

    /// The bytecode listing `atlas disasm` prints.
    pub fn disassemble(&self) -> String {
        crate::bytecode::disasm::disassemble(&self.unit.module, &self.unit.source.text)
    }
}

impl fmt::Debug for Script {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Script")
            .field("name", &self.name())
            .field("functions", &self.function_names().collect::<Vec<_>>())
            .field("globals", &self.global_names().collect::<Vec<_>>())
            .finish()
    }
}

/// A host function of an engine.
struct HostDef {
    name: String,
    ty: Type,
    func: Rc<HostFn>,
}

/// A global the host declared.
struct HostGlobal {
    name: String,
    ty: Type,
    value: Value,
}

/// The script that ran last, with its globals.
struct Current {
    script: Script,
    globals: Vec<Value>,
}

/// Compiles and runs Atlas programs for a Rust program: register host functions, run
/// scripts, call their functions, read and set their globals.
///
/// The engine runs one script at a time: [`Engine::run`], [`Engine::eval`] and
/// [`Engine::eval_script`] run a script's top level from a fresh start and make it the
/// engine's current script, whose functions [`Engine::call`] calls and whose globals
/// [`Engine::global`] and [`Engine::set_global`] read and write, until the next run.
///
/// ```
/// use atlas::Engine;
///
/// let mut engine = Engine::new();
/// engine.register_fn("square", |x: f64| x * x).unwrap();
/// let total: f64 = engine
///     .eval("var total = 0; for (var i = 1; i <= 3; i++) { total += square(i); } total;")
///     .unwrap();
/// assert_eq!(total, 14.0);
///
/// // The program's functions and globals stay available until the next run.
/// engine.eval::<()>("var calls = 0; fn hello(name: string) -> string { calls++; return \"hello, \" + name; }").unwrap();
/// let greeting: String = engine.call("hello", ("Ada",)).unwrap();
/// assert_eq!(greeting, "hello, Ada");
/// assert_eq!(engine.global::<i64>("calls").unwrap(), 1);
/// ```
///
/// An engine and its values are not `Send`: use one engine per thread.
pub struct Engine {
    functions: Vec<HostDef>,
    globals: Vec<HostGlobal>,
    output: Box<dyn Write>,
    limits: Limits,
    optimize: bool,
    dispatch: Dispatch,
    /// The value stack and frames, kept between runs.
    parts: Option<VmParts>,
    current: Option<Current>,
    /// Stops runs and calls from another thread (`interrupt_handle`).
    interrupt: Arc<AtomicBool>,
    /// What scripts may reach outside (`set_io`); nothing by default.
    io: HostIo,
}

impl Default for Engine {
    fn default() -> Engine {
        Engine::new()
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field(
                "functions",
                &self.functions.iter().map(|d| &d.name).collect::<Vec<_>>(),
            )
            .field(
                "globals",
                &self.globals.iter().map(|g| &g.name).collect::<Vec<_>>(),
            )
            .field("limits", &self.limits)
            .field("optimize", &self.optimize)
            .finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine with no host functions, printing to standard output, with the
    /// default [`Limits`].
    pub fn new() -> Engine {
        Engine {
            functions: Vec::new(),
            globals: Vec::new(),
            output: Box::new(std::io::stdout()),
            limits: Limits::default(),
            optimize: true,
            dispatch: Dispatch::default(),
            parts: None,
            current: None,
            interrupt: Arc::new(AtomicBool::new(false)),
            io: HostIo::default(),
        }
    }

    /// Lets scripts reach the outside world: `args()`, standard input (`readLine`, `eof`,
    /// `readAll`) and files (`readFile`, `writeFile`). By default an engine allows none
    /// of them (each is a runtime error saying so): a script sees only what the host
    /// passes it. Input may be any reader, not only the process's standard input.
    ///
    /// ```
    /// let mut engine = atlas::Engine::new();
    /// assert!(engine.eval::<String>("readLine()").is_err());
    /// engine.set_io(atlas::vm::HostIo {
    ///     args: Some(vec!["--verbose".to_string()]),
    ///     stdin: Some(Box::new(std::io::Cursor::new("first line\nsecond\n"))),
    ///     ..Default::default()
    /// });
    /// assert_eq!(engine.eval::<String>("readLine()").unwrap(), "first line");
    /// assert_eq!(engine.eval::<String>("readLine()").unwrap(), "second");
    /// assert_eq!(engine.eval::<Vec<String>>("args()").unwrap(), ["--verbose"]);
    /// assert!(engine.eval::<String>("readFile(\"/etc/hostname\")").is_err(), "files stay off");
    /// ```
    pub fn set_io(&mut self, io: HostIo) {
        self.io = io;
    }

    /// A flag that stops this engine's runs and calls from any thread: store `true`
    /// and the script fails with the runtime error `interrupted` at its next loop
    /// iteration or call. It stays set until you store `false`.
    ///
    /// ```
    /// use std::sync::atomic::Ordering;
    /// let mut engine = atlas::Engine::new();
    /// let stop = engine.interrupt_handle();
    /// stop.store(true, Ordering::Relaxed);
    /// let error = engine.eval::<()>("while (true) { }").unwrap_err();
    /// assert_eq!(error.message(), "interrupted");
    /// ```
    pub fn interrupt_handle(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.interrupt)
    }

    // ----- configuration -----------------------------------------------------------

    /// Sends what programs `print` to `out` instead of standard output (written out in
    /// chunks and at the end of every run or call).
    ///
    /// ```
    /// let mut engine = atlas::Engine::new();
    /// engine.set_output(std::io::sink());
    /// engine.eval::<()>("print(\"nobody hears this\");").unwrap();
    /// ```
    pub fn set_output<W: Write + 'static>(&mut self, out: W) -> &mut Engine {
        self.output = Box::new(out);
        self
    }

    /// Sets the resource limits of later runs and calls. Values below the minimums are
    /// raised to them.
    pub fn set_limits(&mut self, limits: Limits) -> &mut Engine {
        let limits = Limits {
            max_frames: limits.max_frames.max(2),
            max_stack: limits.max_stack.max(256),
            ..limits
        };
        if limits != self.limits {
            self.parts = None;
        }
        self.limits = limits;
        self
    }

    /// The resource limits in force.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Whether later compilations use the optimizing passes (on by default; off is the
    /// baseline configuration of `atlas run --no-optimize`).
    pub fn set_optimize(&mut self, optimize: bool) -> &mut Engine {
        self.optimize = optimize;
        self
    }

    /// Selects the VM's dispatch loop for later runs: the threaded handler table (the
    /// default and fastest) or the `match` loop (the measured baseline). Both give the
    /// same results.
    pub fn set_dispatch(&mut self, dispatch: Dispatch) -> &mut Engine {
        self.dispatch = dispatch;
        self
    }

    /// Makes the Rust closure `f` callable from scripts compiled afterwards as `name`,
    /// with the Atlas types of its parameter and result types (see [`FromAtlas`] and
    /// [`IntoAtlas`]). The checker sees the signature: a call with wrong arguments is a
    /// compile error. A result `Err(e)` (of a closure returning `Result<T, E>`) becomes
    /// an Atlas runtime error with `e`'s text and a stack trace; so does a panic.
    ///
    /// Host functions can be called but are not values (they cannot be stored or passed
    /// to `map`). Registering a name again replaces the function for later compilations.
    ///
    /// ```
    /// use atlas::{Engine, ErrorKind};
    ///
    /// let mut engine = Engine::new();
    /// engine
    ///     .register_fn("stutter", |s: String, n: u32| s.repeat(n as usize))
    ///     .unwrap()
    ///     .register_fn("checkedSqrt", |x: f64| {
    ///         if x < 0.0 { Err(format!("no square root of {x}")) } else { Ok(x.sqrt()) }
    ///     })
    ///     .unwrap();
    /// assert_eq!(engine.eval::<String>("stutter(\"ab\", 3)").unwrap(), "ababab");
    ///
    /// let wrong = engine.eval::<String>("stutter(3, \"ab\")").unwrap_err();
    /// assert_eq!(wrong.kind(), ErrorKind::Compile);
    /// assert_eq!(wrong.message(), "type mismatch in argument 1 of 'stutter': expected string, found number");
    ///
    /// let failed = engine.eval::<f64>("checkedSqrt(-4)").unwrap_err();
    /// assert_eq!(failed.kind(), ErrorKind::Runtime);
    /// assert_eq!(failed.message(), "no square root of -4");
    ///
    /// let fraction = engine.eval::<String>("stutter(\"ab\", 1.5)").unwrap_err();
    /// assert_eq!(fraction.message(), "argument 2 of 'stutter': expected an integer for u32, found the number 1.5");
    /// ```
    pub fn register_fn<Args, F: HostFunction<Args>>(
        &mut self,
        name: &str,
        f: F,
    ) -> Result<&mut Engine, Error> {
        self.check_name(name, true)?;
        let params = F::param_types()
            .into_iter()
            .enumerate()
            .map(|(i, ty)| {
                ty.filter(|t| *t != Type::Void).ok_or_else(|| {
                    usage(format!(
                        "parameter {} of '{name}' has no Atlas type (Dynamic and () cannot be parameters)",
                        i + 1
                    ))
                })
            })
            .collect::<Result<Vec<Type>, Error>>()?;
        let ret = F::return_type().ok_or_else(|| {
            usage(format!(
                "the result of '{name}' has no Atlas type (a host function cannot return a Dynamic)"
            ))
        })?;
        let ty = Type::func(params, ret.clone());
        let func = f.into_host(Rc::from(name), ret);
        let def = HostDef {
            name: name.to_string(),
            ty,
            func,
        };
        match self.functions.iter_mut().find(|d| d.name == name) {
            Some(existing) => *existing = def,
            None => self.functions.push(def),
        }
        Ok(self)
    }

    /// Declares a global variable for scripts compiled afterwards: they see it as a `var`
    /// of the value's type, declared before their first line, and may read and assign it;
    /// it keeps its value from run to run. Defining it again sets it (to a value of the
    /// same type). Host globals cannot hold functions.
    ///
    /// ```
    /// let mut engine = atlas::Engine::new();
    /// engine.define_global("score", 0).unwrap();
    /// let script = engine.compile("score += 10;").unwrap();
    /// engine.run(&script).unwrap();
    /// engine.run(&script).unwrap();
    /// assert_eq!(engine.global::<i64>("score").unwrap(), 20);
    /// ```
    pub fn define_global<T: IntoAtlas>(
        &mut self,
        name: &str,
        value: T,
    ) -> Result<&mut Engine, Error> {
        self.check_name(name, false)?;
        let static_ty = T::atlas_type();
        let value = value
            .into_atlas()
            .map_err(|e| conversion(format!("'{name}': {e}")))?;
        let ty = static_ty.or_else(|| value.atlas_type()).ok_or_else(|| {
            usage(format!(
                "cannot tell the Atlas type of '{name}' from its value (an empty or mixed array, or a function): give a typed Rust value"
            ))
        })?;
        if ty == Type::Void || has_function(&ty) {
            return Err(usage(format!("a global cannot have type {ty} ('{name}')")));
        }
        let value =
            to_value(value, &ty, None, &[]).map_err(|e| conversion(format!("'{name}': {e}")))?;
        match self.globals.iter_mut().find(|g| g.name == name) {
            Some(global) if global.ty == ty => global.value = value,
            Some(global) => {
                return Err(usage(format!(
                    "the global '{name}' has type {}, not {ty}",
                    global.ty
                )))
            }
            None => self.globals.push(HostGlobal {
                name: name.to_string(),
                ty,
                value,
            }),
        }
        Ok(self)
    }

    /// Whether `name` may name a host function (`function`) or global.
    fn check_name(&self, name: &str, function: bool) -> Result<(), Error> {
        let mut chars = name.chars();
        let valid = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(usage(format!("'{name}' is not a valid Atlas name")));
        }
        if KEYWORDS.contains(&name) {
            return Err(usage(format!("'{name}' is a keyword")));
        }
        if Builtin::from_name(name).is_some() {
            return Err(usage(format!("'{name}' is a prelude function")));
        }
        let taken = if function {
            self.globals.iter().any(|g| g.name == name)
        } else {
            self.functions.iter().any(|f| f.name == name)
        };
        if taken {
            let what = if function { "global" } else { "function" };
            return Err(usage(format!("'{name}' is already a host {what}")));
        }
        Ok(())
    }

    // ----- compiling and running ---------------------------------------------------

    /// Compiles `source` (named `<source>` in diagnostics) against the host functions
    /// and globals defined so far.
    pub fn compile(&self, source: &str) -> Result<Script, Error> {
        self.compile_named(DEFAULT_NAME, source)
    }

    /// Compiles `source`; diagnostics call it `name` (a file name, say).
    ///
    /// ```
    /// let engine = atlas::Engine::new();
    /// let error = engine.compile_named("game.at", "let x = ;").unwrap_err();
    /// assert_eq!(error.location().unwrap().to_string(), "game.at:1:9");
    /// ```
    pub fn compile_named(&self, name: &str, source: &str) -> Result<Script, Error> {
        let source = Rc::new(SourceMap::single(name, source));
        let unit = compile_unit(
            source,
            &self.env(),
            &UnitOptions {
                no_optimize: !self.optimize,
                capture_result: true,
                ..UnitOptions::default()
            },
        )?;
        Ok(Script {
            unit: Rc::new(unit),
            hosts: self.host_table(),
        })
    }

    /// The checker's view of the host functions and globals.
    fn env(&self) -> Env {
        Env {
            functions: self
                .functions
                .iter()
                .map(|d| EnvFunction {
                    name: d.name.clone(),
                    ty: d.ty.clone(),
                })
                .collect(),
            globals: self
                .globals
                .iter()
                .map(|g| EnvGlobal {
                    name: g.name.clone(),
                    ty: g.ty.clone(),
                    mutable: true,
                })
                .collect(),
        }
    }

    fn host_table(&self) -> HostTable {
        HostTable::new(
            self.functions
                .iter()
                .map(|d| HostEntry {
                    name: d.name.clone(),
                    func: Rc::clone(&d.func),
                })
                .collect(),
        )
    }

    /// Runs `script`'s top level from a fresh start (its globals unset, `clock()` at
    /// zero) and makes it the current script. After a runtime error the script is
    /// current too, with the globals as the error left them.
    ///
    /// ```
    /// use atlas::{Engine, OutputBuffer};
    ///
    /// let out = OutputBuffer::new();
    /// let mut engine = Engine::new();
    /// engine.set_output(out.clone());
    /// let script = engine.compile("var n = 0; n++; print(n);").unwrap();
    /// engine.run(&script).unwrap();
    /// engine.run(&script).unwrap();
    /// assert_eq!(out.contents(), "1\n1\n");
    /// ```
    pub fn run(&mut self, script: &Script) -> Result<(), Error> {
        let unit = &script.unit;
        let mut globals = vec![Value::Uninit; unit.module.globals.len()];
        for global in &unit.globals {
            if global.env.is_none() {
                continue;
            }
            match self.globals.iter().find(|g| g.name == global.name) {
                Some(g) if g.ty == global.ty => globals[global.slot as usize] = g.value.clone(),
                _ => {
                    return Err(usage(format!(
                    "the script uses the global '{}' of type {}, which this engine does not define",
                    global.name, global.ty
                )))
                }
            }
        }
        let (result, globals) = self.with_vm(script, globals, true, |vm| vm.run());
        self.store_host_globals(unit, &globals);
        self.current = Some(Current {
            script: script.clone(),
            globals,
        });
        result.map_err(|e| Error::runtime(&unit.source, e))
    }

    /// Compiles and runs `source` like [`Engine::run`] and returns the value of its last
    /// statement when that is an expression statement (the final `;` may be left out),
    /// converted to `T`; with `T = ()` any value (or none) will do. The source's
    /// functions and globals stay available to [`Engine::call`] and [`Engine::global`].
    ///
    /// A result type that does not match the Rust type is an [`ErrorKind::Conversion`]
    /// error before anything runs.
    ///
    /// ```
    /// use atlas::{Engine, ErrorKind};
    ///
    /// let mut engine = Engine::new();
    /// assert_eq!(engine.eval::<i64>("6 * 7").unwrap(), 42);
    /// assert_eq!(engine.eval::<Vec<String>>("split(\"a,b\", \",\")").unwrap(), ["a", "b"]);
    /// assert_eq!(engine.eval::<bool>("let x = 2; x > 1;").unwrap(), true);
    ///
    /// let error = engine.eval::<String>("1 + 1").unwrap_err();
    /// assert_eq!(error.kind(), ErrorKind::Conversion);
    /// assert_eq!(error.message(), "the result has type number, not string");
    /// let error = engine.eval::<i64>("7 / 2").unwrap_err();
    /// assert_eq!(error.message(), "the result: expected an integer for i64, found the number 3.5");
    /// ```
    pub fn eval<T: FromAtlas>(&mut self, source: &str) -> Result<T, Error> {
        let script = match complete_expression(source) {
            Some(completed) => self.compile(&completed)?,
            None => self.compile(source)?,
        };
        self.eval_script(&script)
    }

    /// Runs `script` like [`Engine::run`] and returns the value of its last statement
    /// like [`Engine::eval`].
    pub fn eval_script<T: FromAtlas>(&mut self, script: &Script) -> Result<T, Error> {
        let unit = &script.unit;
        if let Some(expected) = T::atlas_type() {
            if expected != unit.result_type {
                return Err(conversion(format!(
                    "the result has type {}, not {expected}",
                    unit.result_type
                )));
            }
        }
        self.run(script)?;
        let value = match (&self.current, unit.result) {
            (Some(current), Some(slot)) => {
                to_dynamic(&current.globals[slot as usize], Some(&unit.module))
            }
            _ => Dynamic::Null,
        };
        T::from_atlas(value).map_err(|e| conversion(format!("the result: {e}")))
    }

    /// Calls top-level function `name` of the current script with `args` (a tuple:
    /// `()`, `(x,)`, `(x, y)`, ...) and converts its result to `T` (`()` for a `void`
    /// function). Argument and result types are checked against the function's
    /// signature before it runs. The call sees and changes the script's globals.
    ///
    /// ```
    /// use atlas::{Engine, ErrorKind};
    ///
    /// let mut engine = Engine::new();
    /// let script = engine.compile("fn add(a: number, b: number) -> number { return a + b; }").unwrap();
    /// engine.run(&script).unwrap();
    /// assert_eq!(engine.call::<f64>("add", (1, 2.5)).unwrap(), 3.5);
    ///
    /// let error = engine.call::<f64>("add", ("1", 2)).unwrap_err();
    /// assert_eq!(error.kind(), ErrorKind::Conversion);
    /// assert_eq!(error.message(), "argument 1 of 'add': expected number, found string");
    /// assert_eq!(engine.call::<f64>("sub", (1, 2)).unwrap_err().kind(), ErrorKind::NotFound);
    /// ```
    pub fn call<T: FromAtlas>(&mut self, name: &str, args: impl IntoArgs) -> Result<T, Error> {
        let Some(current) = &self.current else {
            return Err(usage(format!(
                "cannot call '{name}': no script has run (use Engine::run or Engine::eval first)"
            )));
        };
        let script = current.script.clone();
        let unit = &script.unit;
        let Some(function) = unit.function(name) else {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("the script has no function '{name}'"),
            ));
        };
        let Type::Func(signature) = &function.ty else {
            return Err(usage(format!("'{name}' is not a function")));
        };
        let (index, signature) = (function.index, Rc::clone(signature));
        self.call_index(&script, name, index, &[], &signature, args)
    }

    /// Calls a function value that came out of the current script (a result of
    /// [`Engine::call`] or [`Engine::eval`], a global, an argument a host function
    /// received), closures included: a closure the script returned keeps its captured
    /// variables, and calls of it see and change them. Arguments and result are checked
    /// against the function's type, as for [`Engine::call`].
    ///
    /// ```
    /// use atlas::{Dynamic, Engine};
    ///
    /// let mut engine = Engine::new();
    /// engine.eval::<()>("fn counter() -> () -> number { var n = 0; return fn () -> number { n++; return n; }; }").unwrap();
    /// let Dynamic::Function(next) = engine.call::<Dynamic>("counter", ()).unwrap() else { panic!() };
    /// assert_eq!(engine.call_function::<f64>(&next, ()).unwrap(), 1.0);
    /// assert_eq!(engine.call_function::<f64>(&next, ()).unwrap(), 2.0);
    /// ```
    pub fn call_function<T: FromAtlas>(
        &mut self,
        function: &Function,
        args: impl IntoArgs,
    ) -> Result<T, Error> {
        let name = function.name().to_string();
        let Some(current) = &self.current else {
            return Err(usage(format!(
                "cannot call '{name}': no script has run (use Engine::run or Engine::eval first)"
            )));
        };
        let script = current.script.clone();
        let Some((index, captures)) = function.in_module(&script.unit.module) else {
            return Err(usage(format!(
                "cannot call '{name}': it is not a function of the current script"
            )));
        };
        let Some(Type::Func(signature)) = script.unit.fn_types.get(index as usize) else {
            return Err(usage(format!("cannot call '{name}': unknown function")));
        };
        let signature = signature.clone();
        self.call_index(&script, &name, index, &captures, &signature, args)
    }

    /// Calls user function `index` of `script` with `captures` after the arguments.
    fn call_index<T: FromAtlas>(
        &mut self,
        script: &Script,
        name: &str,
        index: u32,
        captures: &[Value],
        signature: &crate::types::FnType,
        args: impl IntoArgs,
    ) -> Result<T, Error> {
        let unit = &script.unit;
        let args = args
            .into_args()
            .map_err(|e| conversion(format!("calling '{name}': {e}")))?;
        if args.len() != signature.params.len() {
            return Err(conversion(format!(
                "wrong number of arguments: '{name}' expects {}, found {}",
                signature.params.len(),
                args.len()
            )));
        }
        let mut values = Vec::with_capacity(args.len());
        for (i, ((ty, value), param)) in args.into_iter().zip(&signature.params).enumerate() {
            let n = i + 1;
            if let Some(ty) = ty {
                if ty != *param {
                    return Err(conversion(format!(
                        "argument {n} of '{name}': expected {param}, found {ty}"
                    )));
                }
            }
            let value = to_value(value, param, Some(&unit.module), &unit.fn_types)
                .map_err(|e| conversion(format!("argument {n} of '{name}': {e}")))?;
            values.push(value);
        }
        if let Some(expected) = T::atlas_type() {
            if expected != signature.ret {
                return Err(conversion(format!(
                    "'{name}' returns {}, not {expected}",
                    signature.ret
                )));
            }
        }
        let globals = self
            .current
            .as_mut()
            .map(|c| std::mem::take(&mut c.globals))
            .unwrap_or_default();
        let (result, globals) = self.with_vm(script, globals, false, |vm| {
            vm.call_function(index, captures, &values)
        });
        self.store_host_globals(unit, &globals);
        if let Some(current) = &mut self.current {
            current.globals = globals;
        }
        let value = result.map_err(|e| Error::runtime(&unit.source, e))?;
        let value = if signature.ret == Type::Void {
            Dynamic::Null
        } else {
            to_dynamic(&value, Some(&unit.module))
        };
        T::from_atlas(value).map_err(|e| conversion(format!("the result of '{name}': {e}")))
    }

    /// Reads global `name`: a top-level `let`/`var` of the current script, or a global
    /// defined with [`Engine::define_global`].
    ///
    /// ```
    /// let mut engine = atlas::Engine::new();
    /// engine.eval::<()>("let names = [\"ann\", \"bob\"];").unwrap();
    /// assert_eq!(engine.global::<Vec<String>>("names").unwrap(), ["ann", "bob"]);
    /// ```
    pub fn global<T: FromAtlas>(&self, name: &str) -> Result<T, Error> {
        let (value, ty, module) = if let Some((current, global)) = self
            .current
            .as_ref()
            .and_then(|c| c.script.unit.global(name).map(|g| (c, g)))
        {
            (
                &current.globals[global.slot as usize],
                &global.ty,
                Some(&current.script.unit.module),
            )
        } else if let Some(global) = self.globals.iter().find(|g| g.name == name) {
            (&global.value, &global.ty, None)
        } else {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("there is no global '{name}'"),
            ));
        };
        if let Some(expected) = T::atlas_type() {
            if expected != *ty {
                return Err(conversion(format!(
                    "the global '{name}' has type {ty}, not {expected}"
                )));
            }
        }
        if matches!(value, Value::Uninit) {
            return Err(Error::new(
                ErrorKind::Runtime,
                format!("the global '{name}' has no value yet (its declaration has not run)"),
            ));
        }
        let value = to_dynamic(value, module);
        T::from_atlas(value).map_err(|e| conversion(format!("the global '{name}': {e}")))
    }

    /// Sets global `name` (see [`Engine::global`]) to `value`, which must have the
    /// global's type. A `let` global of a script cannot be set.
    ///
    /// ```
    /// let mut engine = atlas::Engine::new();
    /// engine
    ///     .eval::<()>("var factor = 2; fn scale(x: number) -> number { return factor * x; }")
    ///     .unwrap();
    /// engine.set_global("factor", 10).unwrap();
    /// assert_eq!(engine.call::<f64>("scale", (4,)).unwrap(), 40.0);
    /// ```
    pub fn set_global<T: IntoAtlas>(&mut self, name: &str, value: T) -> Result<(), Error> {
        let static_ty = T::atlas_type();
        let value = value
            .into_atlas()
            .map_err(|e| conversion(format!("the global '{name}': {e}")))?;
        let check = |ty: &Type| -> Result<(), Error> {
            match &static_ty {
                Some(found) if found != ty => Err(conversion(format!(
                    "the global '{name}' has type {ty}, not {found}"
                ))),
                _ => Ok(()),
            }
        };
        if let Some(current) = &mut self.current {
            if let Some(global) = current.script.unit.global(name) {
                if !global.mutable {
                    return Err(usage(format!(
                        "cannot set '{name}': it is declared with let"
                    )));
                }
                check(&global.ty)?;
                let unit = &current.script.unit;
                let value = to_value(value, &global.ty, Some(&unit.module), &unit.fn_types)
                    .map_err(|e| conversion(format!("the global '{name}': {e}")))?;
                if global.env.is_some() {
                    if let Some(g) = self.globals.iter_mut().find(|g| g.name == name) {
                        g.value = value.clone();
                    }
                }
                current.globals[global.slot as usize] = value;
                return Ok(());
            }
        }
        let Some(global) = self.globals.iter_mut().find(|g| g.name == name) else {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("there is no global '{name}'"),
            ));
        };
        check(&global.ty)?;
        global.value = to_value(value, &global.ty, None, &[])
            .map_err(|e| conversion(format!("the global '{name}': {e}")))?;
        Ok(())
    }

    /// The script that ran last (see [`Engine::run`]).
    pub fn current_script(&self) -> Option<&Script> {
        self.current.as_ref().map(|c| &c.script)
    }

    // ----- the VM ------------------------------------------------------------------

    /// The VM's settings: each field of [`Limits`] maps to one of [`Options`] (new
    /// limits of the VM need a field in `Limits` and a line here).
    fn vm_options(&self) -> Options {
        Options {
            dispatch: self.dispatch,
            max_frames: self.limits.max_frames,
            max_stack: self.limits.max_stack,
            max_instructions: self.limits.max_instructions,
            timeout: self.limits.timeout,
            max_memory: self.limits.max_memory,
            // The host chooses its limits; the CLI's default ceiling is not one of them.
            memory_ceiling: None,
            // `random()` in an engine: seeded from the system once per engine (the
            // sequence goes on across calls, in `VmParts`).
            seed: None,
        }
    }

    /// Runs `f` on a VM for `script` with `globals`, keeping the VM's reusable parts.
    fn with_vm<R>(
        &mut self,
        script: &Script,
        globals: Vec<Value>,
        restart_clock: bool,
        f: impl FnOnce(&mut Vm<'_>) -> R,
    ) -> (R, Vec<Value>) {
        let options = self.vm_options();
        let mut parts = self.parts.take().unwrap_or_else(|| VmParts::new(&options));
        if restart_clock {
            parts.restart_clock();
        }
        let mut vm = Vm::with_parts(
            Rc::clone(&script.unit.module),
            options,
            &mut *self.output,
            parts,
            globals,
            script.hosts.clone(),
        );
        vm.set_interrupt_handle(Arc::clone(&self.interrupt));
        vm.set_io(std::mem::take(&mut self.io));
        let result = f(&mut vm);
        self.io = vm.take_io();
        let (parts, globals) = vm.into_parts();
        self.parts = Some(parts);
        (result, globals)
    }

    /// Copies the values of the host globals `unit` uses back into the engine.
    fn store_host_globals(&mut self, unit: &Unit, globals: &[Value]) {
        for global in unit.globals.iter().filter(|g| g.env.is_some()) {
            if let Some(g) = self.globals.iter_mut().find(|g| g.name == global.name) {
                if let Some(value) = globals.get(global.slot as usize) {
                    g.value = value.clone();
                }
            }
        }
    }
}

/// `source` with a final `;` when it does not parse without one but does with one (an
/// expression such as `1 + 2`). The `;` goes on a line of its own, so that diagnostics
/// show the source as written (and a final `// comment` does not swallow it).
pub(crate) fn complete_expression(source: &str) -> Option<String> {
    if parser::parse(source).is_ok() {
        return None;
    }
    let completed = format!("{source}\n;");
    parser::parse(&completed).ok().map(|_| completed)
}

fn has_function(ty: &Type) -> bool {
    match ty {
        Type::Func(_) => true,
        Type::Array(elem) => has_function(elem),
        _ => false,
    }
}

fn usage(message: String) -> Error {
    Error::new(ErrorKind::Usage, message)
}

fn conversion(message: String) -> Error {
    Error::new(ErrorKind::Conversion, message)
}
