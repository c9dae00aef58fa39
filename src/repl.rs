//! The interactive shell: `atlas repl`, and `atlas` without arguments on a terminal.
//!
//! Each entry (one line, or several while brackets, parentheses, a string or a block
//! comment are still open) is checked and run on its own. Declarations persist: a
//! top-level `fn`, `let` or `var` stays available to later entries, and declaring the
//! name again replaces it. Top-level expression statements print their value (strings
//! quoted, `void` calls print nothing); the final `;` of an entry may be left out. An
//! error is printed and the session goes on.
//!
//! How declarations persist without running anything twice: the session keeps the
//! source of every top-level function declared so far and the type and current value of
//! every top-level variable. An entry is compiled together with the functions' sources
//! (later segments of one program, so the functions can call each other and the entry
//! can call them) and with the variables as globals declared before it (their values are
//! put into the global slots before it runs, and read back afterwards). Function values
//! stored in variables are renumbered for each new program; a replaced function that
//! some value still refers to stays in the program under a name no script can write.
//! When an entry fails at run time, what it changed in existing variables stays changed
//! and what it declared is forgotten.

#![deny(missing_docs)]

use std::collections::{HashMap, HashSet};
use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use crate::api::unit::{compile_unit, SourceMap, Unit, UnitOptions};
use crate::api::{complete_expression, Error};
use crate::bytecode::disasm;
use crate::check::{Env, EnvFunction, EnvGlobal};
use crate::syntax::ast::Stmt;
use crate::syntax::parser;
use crate::types::Type;
use crate::vm::host::{HostEntry, HostTable, VmParts};
use crate::vm::value::Value;
use crate::vm::{Options, Vm};

/// The text of `:help`.
pub const HELP: &str = "\
Enter Atlas statements, declarations or expressions; an expression's value is printed.
An entry continues over several lines while a bracket, parenthesis or string is open,
and its final `;` may be left out. Declarations (fn, let, var) stay for later entries.

Commands:
  :help          this text
  :type EXPR     the type of an expression, without running it
  :disasm EXPR   the bytecode of an expression, or of a function: `:disasm fib`
  :reset         forget every declaration
  :quit          leave (so does end of input, Ctrl-D)
";

/// What the session should do after an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Read the next entry.
    Continue,
    /// End the session (`:quit`).
    Quit,
}

/// A function and the functions nested in it, by the declaration that persists them and
/// its position among them.
type FnKey = (u64, u32);

/// A top-level function declared by an earlier entry.
#[derive(Debug, Clone)]
struct FnEntry {
    id: u64,
    name: String,
    /// The entry's text with everything but this declaration blanked out (lines and
    /// offsets stay those of the entry).
    text: String,
    /// `<input N>`.
    label: String,
    /// Replaced by a later declaration, kept while a value refers to it.
    hidden: bool,
}

/// A top-level variable declared by an earlier entry.
#[derive(Debug, Clone)]
struct Variable {
    name: String,
    ty: Type,
    mutable: bool,
    value: Value,
}

/// The state of a REPL session, independent of the terminal: feed it entries with
/// [`Session::eval`].
///
/// ```
/// use atlas::repl::Session;
///
/// let mut session = Session::new(false);
/// let (mut out, mut err) = (Vec::new(), Vec::new());
/// session.eval("fn sq(x: number) -> number { return x * x; }", &mut out, &mut err);
/// session.eval("let n = sq(4);", &mut out, &mut err);
/// session.eval("n + 1", &mut out, &mut err);
/// session.eval(":type sq", &mut out, &mut err);
/// assert_eq!(String::from_utf8(out).unwrap(), "17\n(number) -> number\n");
/// assert!(err.is_empty());
/// ```
pub struct Session {
    functions: Vec<FnEntry>,
    variables: Vec<Variable>,
    /// The key of each function of the program that the variables' values were last
    /// numbered for (by function index).
    keys: Vec<Option<FnKey>>,
    inputs: usize,
    next_id: u64,
    parts: Option<VmParts>,
    color: bool,
    /// Stops the entry that is running (Ctrl-C); cleared before each entry runs.
    interrupt: Arc<AtomicBool>,
}

impl Session {
    /// A new session; `color` renders diagnostics with terminal colors.
    pub fn new(color: bool) -> Session {
        Session {
            functions: Vec::new(),
            variables: Vec::new(),
            keys: Vec::new(),
            inputs: 0,
            next_id: 0,
            parts: None,
            color,
            interrupt: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The flag that stops the running entry with the error `interrupted` (the REPL
    /// sets it on Ctrl-C), leaving the session and its declarations as they were.
    pub fn interrupt_handle(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.interrupt)
    }

    /// Handles one entry (a command or Atlas code): program output and values go to
    /// `out`, diagnostics to `err`.
    pub fn eval(&mut self, entry: &str, out: &mut dyn Write, err: &mut dyn Write) -> Control {
        let trimmed = entry.trim();
        if trimmed.is_empty() {
            return Control::Continue;
        }
        if let Some(command) = trimmed.strip_prefix(':') {
            return self.command(command, out, err);
        }
        self.inputs += 1;
        self.run_input(entry.trim_end(), out, err);
        Control::Continue
    }

    fn command(&mut self, command: &str, out: &mut dyn Write, err: &mut dyn Write) -> Control {
        let (name, arg) = match command.split_once(char::is_whitespace) {
            Some((name, arg)) => (name, arg.trim()),
            None => (command, ""),
        };
        match name {
            "q" | "quit" | "exit" => return Control::Quit,
            "help" | "h" | "?" => {
                let _ = write!(out, "{HELP}");
            }
            "reset" => {
                let color = self.color;
                *self = Session::new(color);
            }
            "type" | "t" if !arg.is_empty() => self.type_of(arg, out, err),
            "disasm" | "d" if !arg.is_empty() => self.disasm(arg, out, err),
            "type" | "t" | "disasm" | "d" => {
                self.report(
                    err,
                    &format!(":{name} needs an expression, e.g. :{name} 1 + 2"),
                );
            }
            _ => self.report(err, &format!("unknown command ':{name}' (try :help)")),
        }
        Control::Continue
    }

    fn report(&self, err: &mut dyn Write, message: &str) {
        let (red, reset) = if self.color {
            ("\x1b[1;31m", "\x1b[0m")
        } else {
            ("", "")
        };
        let _ = writeln!(err, "{red}error:{reset} {message}");
    }

    fn report_error(&self, err: &mut dyn Write, error: &Error) {
        let _ = write!(err, "{}", error.render(self.color));
    }

    /// The checker's view of the persisted variables, less those named in `except`.
    fn env(&self, except: &HashSet<String>) -> Env {
        Env {
            functions: vec![EnvFunction {
                name: "<show>".to_string(),
                ty: Type::func(Vec::new(), Type::Void),
            }],
            globals: self
                .variables
                .iter()
                .filter(|v| !except.contains(&v.name))
                .map(|v| EnvGlobal {
                    name: v.name.clone(),
                    ty: v.ty.clone(),
                    mutable: v.mutable,
                })
                .collect(),
        }
    }

    /// A program of `first` and the visible persisted functions; for `:type` and
    /// `:disasm` (nothing runs).
    fn inspect_unit(&self, first: (String, String), show: bool) -> Result<Unit, Error> {
        let mut parts = vec![first];
        for f in self.functions.iter().filter(|f| !f.hidden) {
            if parts[0].1 != f.text || parts[0].0 != f.label {
                parts.push((f.label.clone(), f.text.clone()));
            }
        }
        let options = UnitOptions {
            show: show.then_some(0),
            ..UnitOptions::default()
        };
        compile_unit(
            Rc::new(SourceMap::new(&parts)),
            &self.env(&HashSet::new()),
            &options,
        )
    }

    fn type_of(&mut self, expr: &str, out: &mut dyn Write, err: &mut dyn Write) {
        let text = complete_expression(expr).unwrap_or_else(|| expr.to_string());
        match self.inspect_unit(("<type>".to_string(), text), false) {
            Ok(unit) => {
                let _ = writeln!(out, "{}", unit.result_type);
            }
            Err(error) => self.report_error(err, &error),
        }
    }

    fn disasm(&mut self, expr: &str, out: &mut dyn Write, err: &mut dyn Write) {
        // A persisted function by name: its own listing, with its entry's line numbers.
        if let Some(f) = self.functions.iter().find(|f| !f.hidden && f.name == expr) {
            let first = (f.label.clone(), f.text.clone());
            match self.inspect_unit(first, false) {
                Ok(unit) => {
                    if let Some(function) = unit.function(expr) {
                        let listing = disasm::disassemble_one(
                            &unit.module,
                            function.index as usize,
                            &unit.source.text,
                        );
                        let _ = write!(out, "{listing}");
                    }
                }
                Err(error) => self.report_error(err, &error),
            }
            return;
        }
        let text = complete_expression(expr).unwrap_or_else(|| expr.to_string());
        match self.inspect_unit(("<disasm>".to_string(), text), false) {
            Ok(unit) => {
                let script = unit.module.script as usize;
                let listing = disasm::disassemble_one(&unit.module, script, &unit.source.text);
                let _ = write!(out, "{listing}");
            }
            Err(error) => self.report_error(err, &error),
        }
    }

    /// Checks, compiles and runs one entry of code.
    fn run_input(&mut self, entry: &str, out: &mut dyn Write, err: &mut dyn Write) {
        let label = format!("<input {}>", self.inputs);
        let text = complete_expression(entry).unwrap_or_else(|| entry.to_string());
        // What the entry declares at top level replaces what was declared before.
        let program = match parser::parse(&text) {
            Ok(program) => program,
            Err(e) => {
                let source = Rc::new(SourceMap::single(&label, &text));
                self.report_error(err, &Error::compile(&source, vec![e]));
                return;
            }
        };
        let mut declared = HashSet::new();
        let mut new_functions = Vec::new();
        for stmt in &program.stmts {
            match stmt {
                Stmt::Let { name, .. } => {
                    declared.insert(name.clone());
                }
                Stmt::Fn(f) => {
                    declared.insert(f.name.clone());
                    new_functions.push((f.name.clone(), f.span));
                }
                _ => {}
            }
        }
        let referenced = self.referenced_entries();
        // The entry first (its lines are the program's), then the persisted functions.
        let mut included: Vec<(usize, bool)> = Vec::new(); // (index in functions, hidden)
        for (i, f) in self.functions.iter().enumerate() {
            let replaced = f.hidden || declared.contains(&f.name);
            if !replaced {
                included.push((i, false));
            } else if referenced.contains(&f.id) {
                included.push((i, true));
            }
        }
        let env = self.env(&declared);
        let compile = |included: &[(usize, bool)]| {
            let mut parts = vec![(label.clone(), text.clone())];
            let mut hidden_segments = Vec::new();
            for (k, &(i, hidden)) in included.iter().enumerate() {
                let f = &self.functions[i];
                parts.push((f.label.clone(), f.text.clone()));
                if hidden {
                    hidden_segments.push(k + 1);
                }
            }
            let options = UnitOptions {
                show: Some(0),
                hidden_segments,
                ..UnitOptions::default()
            };
            compile_unit(Rc::new(SourceMap::new(&parts)), &env, &options)
        };
        let mut unit = compile(&included);
        if unit.is_err() && included.iter().any(|&(_, hidden)| hidden) {
            // A replaced function no longer checks against what replaced it: drop it
            // (values that referred to it become null).
            included.retain(|&(_, hidden)| !hidden);
            if let Ok(retried) = compile(&included) {
                unit = Ok(retried);
            }
        }
        let unit = match unit {
            Ok(unit) => unit,
            Err(error) => {
                self.report_error(err, &error);
                return;
            }
        };

        // Keys of the new program's functions; the entry's own get new declaration ids.
        let mut new_ids = Vec::new();
        let mut keys: Vec<Option<FnKey>> = vec![None; unit.module.functions.len()];
        for function in &unit.functions {
            let segment = unit.source.segment_of(function.span.start);
            let id = if segment == 0 {
                let id = self.next_id;
                self.next_id += 1;
                new_ids.push((function.name.clone(), id));
                id
            } else {
                self.functions[included[segment - 1].0].id
            };
            for index in function.index..function.end {
                if let Some(key) = keys.get_mut(index as usize) {
                    *key = Some((id, index - function.index));
                }
            }
        }
        self.renumber(&keys);

        // Run, with the persisted variables in their slots.
        let mut globals = vec![Value::Uninit; unit.module.globals.len()];
        for global in &unit.globals {
            if let Some(i) = global.env {
                let name = &env.globals[i].name;
                if let Some(v) = self.variables.iter().find(|v| &v.name == name) {
                    globals[global.slot as usize] = v.value.clone();
                }
            }
        }
        let options = Options::default();
        let parts = self.parts.take().unwrap_or_else(|| VmParts::new(&options));
        let mut vm = Vm::with_parts(
            Rc::clone(&unit.module),
            options,
            out,
            parts,
            globals,
            show_table(),
        );
        vm.set_interrupt_handle(Arc::clone(&self.interrupt));
        // A Ctrl-C pressed while no entry ran stops nothing.
        self.interrupt.store(false, Ordering::Relaxed);
        let result = vm.run();
        let (parts, globals) = vm.into_parts();
        self.parts = Some(parts);
        for global in &unit.globals {
            if let Some(i) = global.env {
                let name = &env.globals[i].name;
                if let Some(v) = self.variables.iter_mut().find(|v| &v.name == name) {
                    v.value = globals[global.slot as usize].clone();
                }
            }
        }
        match result {
            Ok(()) => {
                self.variables.retain(|v| !declared.contains(&v.name));
                for global in unit.globals.iter().filter(|g| g.env.is_none()) {
                    self.variables.push(Variable {
                        name: global.name.clone(),
                        ty: global.ty.clone(),
                        mutable: global.mutable,
                        value: globals[global.slot as usize].clone(),
                    });
                }
                for f in &mut self.functions {
                    if declared.contains(&f.name) {
                        f.hidden = true;
                    }
                }
                for ((name, span), (_, id)) in new_functions.iter().zip(&new_ids) {
                    self.functions.push(FnEntry {
                        id: *id,
                        name: name.clone(),
                        text: blank_outside(&text, span.start as usize, span.end as usize),
                        label: label.clone(),
                        hidden: false,
                    });
                }
            }
            Err(error) => {
                let source = Rc::clone(&unit.source);
                self.report_error(err, &Error::runtime(&source, error));
            }
        }
        // Forget replaced functions nothing refers to any more.
        let referenced = self.referenced_entries();
        self.functions
            .retain(|f| !f.hidden || referenced.contains(&f.id));
    }

    /// The declarations whose functions the variables' values refer to.
    fn referenced_entries(&self) -> HashSet<u64> {
        let mut found = HashSet::new();
        let mut seen = HashSet::new();
        for v in &self.variables {
            walk_functions(&v.value, &mut seen, &mut |f| {
                if let Some(Some((id, _))) = self.keys.get(f as usize) {
                    found.insert(*id);
                }
            });
        }
        found
    }

    /// Renumbers the function values in the variables for a program whose functions
    /// have `keys`; values of functions it lacks become null.
    fn renumber(&mut self, keys: &[Option<FnKey>]) {
        let index: HashMap<FnKey, u32> = keys
            .iter()
            .enumerate()
            .filter_map(|(i, k)| k.map(|k| (k, i as u32)))
            .collect();
        let old = std::mem::take(&mut self.keys);
        let map = |f: u32| -> Option<u32> {
            old.get(f as usize)
                .copied()
                .flatten()
                .and_then(|k| index.get(&k).copied())
        };
        let mut seen = HashSet::new();
        for v in &mut self.variables {
            renumber_value(&mut v.value, &map, &mut seen);
        }
        self.keys = keys.to_vec();
    }
}

/// The host functions of a REPL program: `<show>`, which prints a value.
fn show_table() -> HostTable {
    HostTable::new(vec![HostEntry {
        name: "<show>".to_string(),
        func: Rc::new(|cx, args| {
            let text = match args.first() {
                Some(Value::Str(s)) => format!("\"{}\"", s.as_str()),
                Some(value) => cx.display(value),
                None => String::new(),
            };
            cx.write(&text);
            cx.write("\n");
            Ok(Value::Null)
        }),
    }])
}

/// Calls `found` with the index of every user function value in `value`.
fn walk_functions(value: &Value, seen: &mut HashSet<usize>, found: &mut dyn FnMut(u32)) {
    match value {
        Value::Func(f) => found(*f),
        Value::Array(items) if seen.insert(Rc::as_ptr(items) as usize) => {
            for item in items.borrow().iter() {
                walk_functions(item, seen, found);
            }
        }
        _ => {}
    }
}

fn renumber_value(value: &mut Value, map: &dyn Fn(u32) -> Option<u32>, seen: &mut HashSet<usize>) {
    match value {
        Value::Func(f) => match map(*f) {
            Some(g) => *f = g,
            None => *value = Value::Null,
        },
        Value::Array(items) if seen.insert(Rc::as_ptr(items) as usize) => {
            for item in items.elements_mut().iter_mut() {
                renumber_value(item, map, seen);
            }
        }
        _ => {}
    }
}

/// `text` with every byte outside `start..end` that is not a line break made a space.
fn blank_outside(text: &str, start: usize, end: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        if (start..end).contains(&i) || c == '\n' || c == '\r' {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n(' ', c.len_utf8()));
        }
    }
    out
}

/// Whether the entry `text` goes on on the next line: it ends inside an open bracket,
/// parenthesis, brace, string or block comment, or it is cut off (it fails to parse at
/// its very end, even with a final `;`: `fn f(x: number)` or `let x =`).
///
/// ```
/// use atlas::repl::is_incomplete;
///
/// assert!(is_incomplete("fn f() -> number {"));
/// assert!(is_incomplete("print(\"a {\","));
/// assert!(is_incomplete("fn f(x: number)"));
/// assert!(!is_incomplete("print(\"a {\");"));
/// assert!(!is_incomplete("let x = 1; // {"));
/// assert!(!is_incomplete("1 + 2"));
/// assert!(!is_incomplete("1 + 2)"));
/// ```
pub fn is_incomplete(text: &str) -> bool {
    if text.trim_start().starts_with(':') {
        return false;
    }
    open_brackets(text) || cut_off(text)
}

/// Whether `text` fails to parse at its end, with or without a final `;`.
fn cut_off(text: &str) -> bool {
    let end = text.trim_end().len();
    match parser::parse(text) {
        Ok(_) => false,
        Err(e) => e.span.start as usize >= end && complete_expression(text).is_none(),
    }
}

fn open_brackets(text: &str) -> bool {
    let mut depth: i64 = 0;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            '"' => loop {
                match chars.next() {
                    None => return true,
                    Some('\\') => {
                        chars.next();
                    }
                    Some('"') => break,
                    Some(_) => {}
                }
            },
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut star = false;
                loop {
                    match chars.next() {
                        None => return true,
                        Some('/') if star => break,
                        Some(c) => star = c == '*',
                    }
                }
            }
            _ => {}
        }
    }
    depth > 0
}

/// Where the history is kept between sessions: `$ATLAS_HISTORY`, or `.atlas_history`
/// in the home directory.
fn history_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ATLAS_HISTORY") {
        return (!path.is_empty()).then(|| PathBuf::from(path));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".atlas_history"))
}

/// Runs the REPL on standard input with rustyline: line editing and history on a
/// terminal (kept in `~/.atlas_history`), plain lines from a pipe. Values go to
/// standard output, diagnostics to standard error.
pub fn run() -> io::Result<()> {
    let interactive = io::stdin().is_terminal();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = !no_color && io::stderr().is_terminal();
    let mut editor = rustyline::DefaultEditor::new().map_err(io::Error::other)?;
    let history = if interactive { history_path() } else { None };
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    if interactive {
        println!(
            "Atlas {} — :help for help, :quit or Ctrl-D to leave",
            env!("CARGO_PKG_VERSION")
        );
    }
    let mut session = Session::new(color);
    // While an entry runs, the terminal is in its normal mode and Ctrl-C sends SIGINT:
    // it stops the entry instead of the REPL. (While a line is being edited, rustyline
    // reads Ctrl-C as a key and drops the line.)
    let interrupt = session.interrupt_handle();
    let _ = ctrlc::set_handler(move || interrupt.store(true, Ordering::Relaxed));
    'entries: loop {
        let mut entry = String::new();
        loop {
            let prompt = if entry.is_empty() { ">> " } else { ".. " };
            match editor.readline(prompt) {
                Ok(line) => {
                    // An empty line ends an entry that is cut off but has no open
                    // bracket (to see its error).
                    let give_up = line.trim().is_empty() && !open_brackets(&entry);
                    entry.push_str(&line);
                    entry.push('\n');
                    if give_up || !is_incomplete(&entry) {
                        break;
                    }
                }
                Err(rustyline::error::ReadlineError::Interrupted) => continue 'entries,
                Err(rustyline::error::ReadlineError::Eof) => {
                    if !entry.trim().is_empty() {
                        let stdout = io::stdout();
                        session.eval(&entry, &mut stdout.lock(), &mut io::stderr());
                    }
                    break 'entries;
                }
                Err(e) => return Err(io::Error::other(e)),
            }
        }
        if entry.trim().is_empty() {
            continue;
        }
        if history.is_some() {
            let _ = editor.add_history_entry(entry.trim_end());
        }
        let stdout = io::stdout();
        let control = session.eval(&entry, &mut stdout.lock(), &mut io::stderr());
        if control == Control::Quit {
            break;
        }
    }
    if let Some(path) = &history {
        let _ = editor.save_history(path);
    }
    Ok(())
}
