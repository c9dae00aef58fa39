//! Compiling sources for the embedding API and the REPL: the pipeline of
//! [`crate::driver`] with the embedder's environment (host functions, predeclared
//! globals), sources made of several named segments, and rewrites of the checked program.
//!
//! Every top-level `let`/`var` is kept in a global slot (never in a register of the
//! script), so that the host can read and set it after a run.

use std::rc::Rc;

use super::error::{Error, Location};
use crate::check::{self, CheckInfo, DeclInfo, Env};
use crate::compile::{self, CompileOptions};
use crate::diag::{CompileError, RuntimeError};
use crate::driver::{SourceFile, Style};
use crate::span::{LineIndex, Span};
use crate::syntax::ast::{DeclId, Expr, ExprKind, Name, Program, Res, Stmt};
use crate::syntax::parser;
use crate::types::Type;
use crate::verify::{self, VerifiedModule};

/// The name of the hidden global that holds the value of a program's last expression
/// statement (not an identifier, so no script can name it).
const RESULT_GLOBAL: &str = "<result>";

/// One named part of a source.
#[derive(Debug, Clone)]
struct Segment {
    name: String,
    start: u32,
    end: u32,
}

/// The text a program was compiled from: one or more named segments joined by newlines.
/// Diagnostics name the segment a location falls in and count lines within it.
#[derive(Debug, Clone)]
pub(crate) struct SourceMap {
    pub text: String,
    segments: Vec<Segment>,
}

impl SourceMap {
    /// A source of one segment.
    pub fn single(name: &str, text: &str) -> SourceMap {
        SourceMap::new(&[(name.to_string(), text.to_string())])
    }

    /// Segments `(name, text)` in order, joined by newlines.
    pub fn new(parts: &[(String, String)]) -> SourceMap {
        let mut text = String::new();
        let mut segments = Vec::new();
        for (i, (name, part)) in parts.iter().enumerate() {
            if i > 0 {
                text.push('\n');
            }
            let start = text.len() as u32;
            text.push_str(part);
            segments.push(Segment {
                name: name.clone(),
                start,
                end: text.len() as u32,
            });
        }
        if segments.is_empty() {
            segments.push(Segment {
                name: String::new(),
                start: 0,
                end: 0,
            });
        }
        SourceMap { text, segments }
    }

    /// The index of the segment holding byte `offset`.
    pub fn segment_of(&self, offset: u32) -> usize {
        self.segments
            .partition_point(|s| s.start <= offset)
            .saturating_sub(1)
    }

    /// The name of segment `i`.
    pub fn name(&self, i: usize) -> &str {
        &self.segments[i].name
    }

    fn segment_text(&self, i: usize) -> &str {
        let s = &self.segments[i];
        &self.text[s.start as usize..s.end as usize]
    }

    /// The segment of `span` and the span relative to it.
    fn localize(&self, span: Span) -> (usize, Span) {
        let i = self.segment_of(span.start);
        let s = &self.segments[i];
        let start = span.start.clamp(s.start, s.end) - s.start;
        let end = span.end.clamp(s.start + start, s.end) - s.start;
        (i, Span::new(start, end))
    }

    /// Where `span` is, for a person.
    pub fn location(&self, span: Span) -> Location {
        let (i, local) = self.localize(span);
        let text = self.segment_text(i);
        let (line, column) = LineIndex::new(text).line_col(text, local.start);
        Location {
            source: self.segments[i].name.clone(),
            line,
            column,
            span: local,
        }
    }

    fn file(&self, i: usize) -> SourceFile<'_> {
        SourceFile::new(&self.segments[i].name, self.segment_text(i))
    }

    /// Each error as the command line renders it.
    pub fn render_compile_errors(&self, errors: &[CompileError], style: Style) -> String {
        let mut out = String::new();
        for error in errors {
            let (i, span) = self.localize(error.span);
            let local = CompileError::new(error.message.clone(), span);
            out.push_str(&self.file(i).render_compile_error(&local, style));
        }
        out
    }

    /// The error as the command line renders it; each frame of the trace is located in
    /// its own segment.
    pub fn render_runtime_error(&self, error: &RuntimeError, style: Style) -> String {
        let (i, span) = self.localize(error.span);
        let frames: Vec<(usize, Span)> =
            error.trace.iter().map(|f| self.localize(f.span)).collect();
        if frames.iter().all(|&(j, _)| j == i) {
            let mut local = error.clone();
            local.span = span;
            for (frame, &(_, span)) in local.trace.iter_mut().zip(&frames) {
                frame.span = span;
            }
            return self.file(i).render_runtime_error(&local, style);
        }
        let head = RuntimeError {
            message: error.message.clone(),
            span,
            trace: Vec::new(),
        };
        let mut out = self.file(i).render_runtime_error(&head, style);
        // As `SourceFile::render_runtime_error` does: both ends of a very deep trace.
        const HEAD: usize = 20;
        const TAIL: usize = 10;
        let n = error.trace.len();
        for (k, frame) in error.trace.iter().enumerate() {
            if n > HEAD + TAIL + 1 && k >= HEAD && k < n - TAIL {
                if k == HEAD {
                    out.push_str(&format!("  ... {} more frames ...\n", n - HEAD - TAIL));
                }
                continue;
            }
            let (j, span) = frames[k];
            let location = self.file(j).location(span.start);
            out.push_str(&format!("  at {} ({location})\n", frame.function));
        }
        out
    }
}

/// How to compile a unit.
#[derive(Debug, Clone, Default)]
pub(crate) struct UnitOptions {
    /// Compile without the optimizing passes.
    pub no_optimize: bool,
    /// Keep the value of the last top-level statement, when it is an expression
    /// statement of a non-void type, in a hidden global ([`Unit::result`]).
    pub capture_result: bool,
    /// Pass the value of every top-level expression statement of a non-void type to
    /// this host function (the REPL's display).
    pub show: Option<u32>,
    /// Segments whose top-level functions are hidden: they get names no script can
    /// write (the REPL keeps replaced functions that values still refer to).
    pub hidden_segments: Vec<usize>,
}

/// A global of a compiled unit: a top-level `let`/`var` or a predeclared one.
#[derive(Debug, Clone)]
pub(crate) struct UnitGlobal {
    pub name: String,
    pub ty: Type,
    pub mutable: bool,
    pub slot: u16,
    /// Its index in `Env::globals` when the embedder declared it.
    pub env: Option<usize>,
}

/// A top-level function of a compiled unit.
#[derive(Debug, Clone)]
pub(crate) struct UnitFn {
    pub name: String,
    /// The module function index (its FnId).
    pub index: u32,
    /// A `Type::Func`.
    pub ty: Type,
    /// From `fn` to the closing brace.
    pub span: Span,
    /// The FnIds of this function and the functions nested in it: `index..end`.
    pub end: u32,
    pub hidden: bool,
}

/// A checked, compiled and verified program with what the host needs to know about it.
#[derive(Debug)]
pub(crate) struct Unit {
    pub module: Rc<VerifiedModule>,
    pub source: Rc<SourceMap>,
    pub globals: Vec<UnitGlobal>,
    pub functions: Vec<UnitFn>,
    /// The type of every module function, by index (`Type::Unknown` for the script).
    pub fn_types: Vec<Type>,
    /// The slot of the captured result (`capture_result`).
    pub result: Option<u16>,
    /// The type of the last top-level statement when it is an expression statement,
    /// `Void` otherwise.
    pub result_type: Type,
}

impl Unit {
    pub fn global(&self, name: &str) -> Option<&UnitGlobal> {
        self.globals.iter().find(|g| g.name == name)
    }

    pub fn function(&self, name: &str) -> Option<&UnitFn> {
        self.functions.iter().find(|f| f.name == name && !f.hidden)
    }
}

/// Parses, checks (with `env`), rewrites, compiles and verifies `source`.
pub(crate) fn compile_unit(
    source: Rc<SourceMap>,
    env: &Env,
    options: &UnitOptions,
) -> Result<Unit, Error> {
    let mut program = parser::parse(&source.text).map_err(|e| Error::compile(&source, vec![e]))?;
    // Hidden functions: renamed before checking, named back in the module.
    let mut hidden = Vec::new();
    for stmt in &mut program.stmts {
        if let Stmt::Fn(f) = stmt {
            if options
                .hidden_segments
                .contains(&source.segment_of(f.span.start))
            {
                hidden.push((f.id, f.name.clone()));
                f.name = format!("<old {} #{}>", f.name, f.id);
            }
        }
    }
    let env_first = program.decl_count;
    let mut info =
        check::check_with(&mut program, env).map_err(|errors| Error::compile(&source, errors))?;
    for decl in &mut info.decls {
        if decl.global {
            decl.used_by_fn = true;
        }
    }
    let result_type = last_expression_type(&program);
    if let Some(show) = options.show {
        for stmt in &mut program.stmts {
            if let Stmt::Expr(e) = stmt {
                if shows_value(&e.ty) {
                    let value = std::mem::replace(e, placeholder(e.span));
                    *e = host_call(show, "<show>", value);
                }
            }
        }
    }
    let result = if options.capture_result {
        capture_result(&mut program, &mut info)
    } else {
        None
    };
    let compile_options = CompileOptions {
        optimize: !options.no_optimize,
    };
    let mut module = compile::compile(&program, &info, compile_options)
        .map_err(|e| Error::compile(&source, vec![e]))?;
    for (id, name) in &hidden {
        if let Some(f) = module.functions.get_mut(*id as usize) {
            f.name = name.clone();
        }
    }
    let module = verify::verify(module).map_err(|e| {
        Error::compile(
            &source,
            vec![CompileError::new(
                format!("internal error: bad bytecode: {e}"),
                Span::default(),
            )],
        )
    })?;
    let slot_of = |name: &str| -> Option<u16> {
        module
            .globals
            .iter()
            .position(|g| g == name)
            .map(|s| s as u16)
    };
    let mut globals = Vec::new();
    for (decl, d) in info.decls.iter().enumerate() {
        if !d.global || d.name == RESULT_GLOBAL {
            continue;
        }
        let Some(slot) = slot_of(&d.name) else {
            continue;
        };
        let env_index = (decl as DeclId)
            .checked_sub(env_first)
            .map(|i| i as usize)
            .filter(|&i| i < env.globals.len());
        globals.push(UnitGlobal {
            name: d.name.clone(),
            ty: d.ty.clone(),
            mutable: d.mutable,
            slot,
            env: env_index,
        });
    }
    let result = result.and_then(|_| slot_of(RESULT_GLOBAL));
    let mut functions: Vec<UnitFn> = Vec::new();
    for stmt in &program.stmts {
        if let Stmt::Fn(f) = stmt {
            let original = hidden.iter().find(|(id, _)| *id == f.id);
            functions.push(UnitFn {
                name: original.map_or_else(|| f.name.clone(), |(_, n)| n.clone()),
                index: f.id,
                ty: info.fns[f.id as usize].ty.clone(),
                span: f.span,
                end: f.id + 1,
                hidden: original.is_some(),
            });
        }
    }
    // Nested functions are numbered right after their enclosing top-level function.
    for function in &mut functions {
        let span = function.span;
        function.end = (function.index..program.fn_count)
            .take_while(|&id| {
                let start = module.functions[id as usize].span.start;
                span.start <= start && start < span.end
            })
            .last()
            .map_or(function.index + 1, |id| id + 1);
    }
    let mut fn_types: Vec<Type> = info.fns.iter().map(|f| f.ty.clone()).collect();
    fn_types.resize(module.functions.len(), Type::Unknown);
    Ok(Unit {
        module: Rc::new(module),
        source,
        globals,
        functions,
        fn_types,
        result,
        result_type,
    })
}

/// The type of the last top-level statement that is not a function declaration, when
/// it is an expression statement; `Void` otherwise.
fn last_expression_type(program: &Program) -> Type {
    match program
        .stmts
        .iter()
        .rev()
        .find(|s| !matches!(s, Stmt::Fn(_)))
    {
        Some(Stmt::Expr(e)) => e.ty.clone(),
        _ => Type::Void,
    }
}

fn shows_value(ty: &Type) -> bool {
    !matches!(ty, Type::Void | Type::Unknown)
}

fn placeholder(span: Span) -> Expr {
    Expr {
        kind: ExprKind::Null,
        span,
        ty: Type::Null,
    }
}

/// `host(arg)` as a checked expression of type void.
fn host_call(host: u32, name: &str, arg: Expr) -> Expr {
    let span = arg.span;
    let callee = Expr {
        kind: ExprKind::Var(Name {
            name: name.to_string(),
            span,
            res: Res::Host(host),
        }),
        span,
        ty: Type::Unknown,
    };
    Expr {
        kind: ExprKind::Call(Box::new(callee), vec![arg]),
        span,
        ty: Type::Void,
    }
}

/// Turns a last expression statement `e;` into `let <result> = e;` (a new global).
/// Returns its DeclId.
fn capture_result(program: &mut Program, info: &mut CheckInfo) -> Option<DeclId> {
    let last = program
        .stmts
        .iter()
        .rposition(|s| !matches!(s, Stmt::Fn(_)))?;
    let Stmt::Expr(e) = &program.stmts[last] else {
        return None;
    };
    if !shows_value(&e.ty) {
        return None;
    }
    let decl = program.decl_count;
    if info.decls.len() != decl as usize {
        return None;
    }
    program.decl_count += 1;
    let span = e.span;
    info.decls.push(DeclInfo {
        name: RESULT_GLOBAL.to_string(),
        ty: e.ty.clone(),
        mutable: false,
        global: true,
        used_by_fn: true,
        captured: false,
        by_value: false,
        owner: None,
        span,
    });
    let Stmt::Expr(init) = std::mem::replace(&mut program.stmts[last], Stmt::Break(span)) else {
        unreachable!("matched above");
    };
    program.stmts[last] = Stmt::Let {
        decl,
        mutable: false,
        name: RESULT_GLOBAL.to_string(),
        name_span: span,
        ann: None,
        init,
        span,
    };
    Some(decl)
}
