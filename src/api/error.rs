//! The one error type of the embedding API.

use std::fmt;
use std::rc::Rc;

use super::unit::SourceMap;
use crate::diag::{CompileError, RuntimeError};
use crate::driver::Style;
use crate::span::Span;

/// What went wrong, broadly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The source did not parse or type-check (nothing ran).
    Compile,
    /// The program failed while running: a runtime error of the language (division by
    /// zero, a bad index, `stack overflow`, ...) or an error returned by a host function.
    Runtime,
    /// A value or type did not fit across the boundary: a Rust type that does not match
    /// the Atlas type (`eval::<String>` of a number), a number that is not a valid
    /// integer for `i64`, or the wrong number of arguments for a call.
    Conversion,
    /// No function or global of that name.
    NotFound,
    /// The API was used in a way it does not support: an invalid name for a host
    /// function, a call before any script ran, setting a `let` global, ...
    Usage,
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Compile => "compile error",
            ErrorKind::Runtime => "runtime error",
            ErrorKind::Conversion => "conversion error",
            ErrorKind::NotFound => "not found",
            ErrorKind::Usage => "usage error",
        })
    }
}

/// A place in a source, for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The name of the source (the name given to
    /// [`Engine::compile_named`](crate::Engine::compile_named), `<source>` by default).
    pub source: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in Unicode scalar values.
    pub column: usize,
    /// The byte range in that source's text.
    pub span: Span,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.source, self.line, self.column)
    }
}

/// One frame of a runtime error's stack trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The function's name, `<script>` for the top level.
    pub function: String,
    /// Where that function was when the error happened (the call in progress, or the
    /// failing instruction for the innermost frame).
    pub location: Location,
}

/// One compile error: a message and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What is wrong, e.g. `undefined name 'x'`.
    pub message: String,
    /// Where.
    pub location: Location,
}

/// How an error is rendered.
#[derive(Debug, Clone)]
enum Report {
    Plain,
    Compile(Rc<SourceMap>, Vec<CompileError>),
    Runtime(Rc<SourceMap>, RuntimeError),
}

/// An error of the embedding API: its [`ErrorKind`], message, location, the stack trace
/// of a runtime error, and every diagnostic of a compile error.
///
/// `Display` renders what the `atlas` command line prints (without colors and without
/// the final newline): the location, the source line with a caret, and the trace.
///
/// ```
/// use atlas::{Engine, ErrorKind};
///
/// let mut engine = Engine::new();
/// let error = engine.eval::<f64>("let x: number = \"a\";").unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::Compile);
/// assert_eq!(
///     error.to_string(),
///     "<source>:1:17: error: type mismatch in declaration of 'x': expected number, found string\n\
///      1 | let x: number = \"a\";\n  \
///      |                 ^^^"
/// );
///
/// let error = engine
///     .eval::<f64>("fn ratio(a: number, b: number) -> number {\n    return a / b;\n}\nratio(1, 0);")
///     .unwrap_err();
/// assert_eq!(error.kind(), ErrorKind::Runtime);
/// assert_eq!(error.message(), "division by zero");
/// assert_eq!(error.trace()[0].function, "ratio");
/// assert_eq!(error.trace()[1].location.to_string(), "<source>:4:1");
/// ```
#[derive(Clone)]
pub struct Error {
    // Boxed: results of the API stay small.
    inner: Box<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    kind: ErrorKind,
    message: String,
    location: Option<Location>,
    trace: Vec<Frame>,
    diagnostics: Vec<Diagnostic>,
    report: Report,
}

impl Error {
    /// An error without a place in a source.
    pub(crate) fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error::from(Inner {
            kind,
            message: message.into(),
            location: None,
            trace: Vec::new(),
            diagnostics: Vec::new(),
            report: Report::Plain,
        })
    }

    /// Compile errors (at least one), sorted by position.
    pub(crate) fn compile(source: &Rc<SourceMap>, errors: Vec<CompileError>) -> Error {
        let diagnostics: Vec<Diagnostic> = errors
            .iter()
            .map(|e| Diagnostic {
                message: e.message.clone(),
                location: source.location(e.span),
            })
            .collect();
        let first = diagnostics.first().cloned();
        Error::from(Inner {
            kind: ErrorKind::Compile,
            message: first
                .as_ref()
                .map_or_else(|| "compile error".to_string(), |d| d.message.clone()),
            location: first.map(|d| d.location),
            trace: Vec::new(),
            diagnostics,
            report: Report::Compile(Rc::clone(source), errors),
        })
    }

    pub(crate) fn runtime(source: &Rc<SourceMap>, error: RuntimeError) -> Error {
        let trace = error
            .trace
            .iter()
            .map(|f| Frame {
                function: f.function.clone(),
                location: source.location(f.span),
            })
            .collect();
        Error::from(Inner {
            kind: ErrorKind::Runtime,
            message: error.message.clone(),
            location: Some(source.location(error.span)),
            trace,
            diagnostics: Vec::new(),
            report: Report::Runtime(Rc::clone(source), error),
        })
    }

    /// What kind of error this is.
    pub fn kind(&self) -> ErrorKind {
        self.inner.kind
    }

    /// The message alone, e.g. `division by zero` (for a compile error, the first one's).
    pub fn message(&self) -> &str {
        &self.inner.message
    }

    /// Where it happened: the first compile error, or the failing instruction of a
    /// runtime error. `None` for errors outside any source (e.g. [`ErrorKind::NotFound`]).
    pub fn location(&self) -> Option<&Location> {
        self.inner.location.as_ref()
    }

    /// The byte range of [`Error::location`] in its source's text.
    pub fn span(&self) -> Option<Span> {
        self.inner.location.as_ref().map(|l| l.span)
    }

    /// The stack trace of a runtime error, innermost call first (empty for other kinds).
    /// A trace of an error in a function called with [`Engine::call`](crate::Engine::call)
    /// ends at that function.
    pub fn trace(&self) -> &[Frame] {
        &self.inner.trace
    }

    /// Every error of a compile error, sorted by position (empty for other kinds).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.inner.diagnostics
    }

    /// The diagnostics as the command line prints them, ending with a newline; with
    /// `color`, with the command line's terminal colors.
    pub fn render(&self, color: bool) -> String {
        let style = if color { Style::COLOR } else { Style::PLAIN };
        match &self.inner.report {
            Report::Plain => format!(
                "{}error:{} {}{}{}\n",
                style.error, style.reset, style.bold, self.inner.message, style.reset
            ),
            Report::Compile(source, errors) => source.render_compile_errors(errors, style),
            Report::Runtime(source, error) => source.render_runtime_error(error, style),
        }
    }
}

impl From<Inner> for Error {
    fn from(inner: Inner) -> Error {
        Error {
            inner: Box::new(inner),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.inner.kind)
            .field("message", &self.inner.message);
        if let Some(location) = &self.inner.location {
            d.field("location", &format_args!("{location}"));
        }
        if self.inner.diagnostics.len() > 1 {
            d.field("diagnostics", &self.inner.diagnostics.len());
        }
        if !self.inner.trace.is_empty() {
            d.field("trace", &self.inner.trace.len());
        }
        d.finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.render(false).trim_end_matches('\n'))
    }
}

impl std::error::Error for Error {}
