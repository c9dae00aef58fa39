//! The whole pipeline for one source file, and the rendering of its diagnostics
//! (LANGUAGE.md, "Running and diagnostics").

use std::fmt::Write;
use std::rc::Rc;

use crate::check::{self, CheckInfo};
use crate::compile::{self, CompileOptions};
use crate::diag::{for_terminal, shown_message, terminal_escape, CompileError, RuntimeError};
use crate::span::{LineIndex, Span};
use crate::syntax::ast::Program;
use crate::syntax::parser;
use crate::verify::{self, VerifiedModule};

/// Compile errors reported at most: a file of a million bad statements gets the first
/// ones and a count of the rest, not a million diagnostics.
pub const MAX_REPORTED_ERRORS: usize = 100;

/// Characters of a source line a snippet shows: a longer line (minified or generated
/// code) is cut to a window around the reported column, marked by `...`, so that no
/// diagnostic is as long as the file.
const SNIPPET_WIDTH: usize = 160;
/// Characters shown before the reported column when a long line is cut.
const SNIPPET_CONTEXT: usize = 60;

/// Parses and type-checks `source`; errors sorted by position, at most
/// [`MAX_REPORTED_ERRORS`] of them and then one that counts the others.
pub fn check_source(source: &str) -> Result<(Program, CheckInfo), Vec<CompileError>> {
    let mut program = parser::parse(source).map_err(|e| vec![e])?;
    let info = check::check(&mut program).map_err(limit_errors)?;
    Ok((program, info))
}

/// Keeps the first [`MAX_REPORTED_ERRORS`] errors and adds one, at the first dropped
/// error, that says how many were dropped.
fn limit_errors(mut errors: Vec<CompileError>) -> Vec<CompileError> {
    if errors.len() > MAX_REPORTED_ERRORS {
        let more = errors.len() - MAX_REPORTED_ERRORS;
        let span = errors[MAX_REPORTED_ERRORS].span;
        errors.truncate(MAX_REPORTED_ERRORS);
        errors.push(CompileError::new(
            format!("too many errors: {more} more not reported"),
            span,
        ));
    }
    errors
}

/// Parses, checks, compiles and verifies `source`.
pub fn compile_source(
    source: &str,
    options: CompileOptions,
) -> Result<Rc<VerifiedModule>, Vec<CompileError>> {
    let (program, info) = check_source(source)?;
    let module = compile::compile(&program, &info, options).map_err(|e| vec![e])?;
    // The compiler only emits verifiable code; a failure here is a compiler bug, reported
    // as an error rather than run.
    let module = verify::verify(module).map_err(|e| {
        vec![CompileError::new(
            format!("internal error: bad bytecode: {e}"),
            Span::default(),
        )]
    })?;
    Ok(Rc::new(module))
}

/// Terminal styles for diagnostics; all empty when colors are off.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    pub error: &'static str,
    pub bold: &'static str,
    pub dim: &'static str,
    pub reset: &'static str,
}

impl Style {
    pub const PLAIN: Style = Style {
        error: "",
        bold: "",
        dim: "",
        reset: "",
    };
    pub const COLOR: Style = Style {
        error: "\x1b[1;31m",
        bold: "\x1b[1m",
        dim: "\x1b[2;34m",
        reset: "\x1b[0m",
    };
}

/// A source file being reported on.
pub struct SourceFile<'a> {
    pub path: &'a str,
    pub text: &'a str,
    lines: LineIndex,
}

impl<'a> SourceFile<'a> {
    pub fn new(path: &'a str, text: &'a str) -> SourceFile<'a> {
        SourceFile {
            path,
            text,
            lines: LineIndex::new(text),
        }
    }

    /// `path:line:col` of a byte offset.
    pub fn location(&self, offset: u32) -> String {
        let (line, col) = self.lines.line_col(self.text, offset);
        format!("{}:{line}:{col}", self.path)
    }

    /// The source line of `span` with a caret line under it (a window of it around the
    /// column when it is longer than [`SNIPPET_WIDTH`] characters).
    fn snippet(&self, out: &mut String, span: Span, style: Style) {
        let line = self.lines.line_of(span.start);
        let text = self.lines.line_text(self.text, line);
        let (_, col) = self.lines.line_col(self.text, span.start);
        let number = (line + 1).to_string();
        let gutter = " ".repeat(number.len());
        // The characters `from..to` of the line are shown.
        let line_chars = text.chars().count();
        let (from, to) = if line_chars <= SNIPPET_WIDTH {
            (0, line_chars)
        } else {
            let from = (col - 1)
                .saturating_sub(SNIPPET_CONTEXT)
                .min(line_chars - SNIPPET_WIDTH);
            (from, from + SNIPPET_WIDTH)
        };
        let byte_at = |n: usize| text.char_indices().nth(n).map_or(text.len(), |(i, _)| i);
        let raw = &text[byte_at(from)..byte_at(to)];
        // Control and bidi characters are shown escaped (`crate::diag::terminal_escape`),
        // so each character takes `width` columns.
        let width = |c: char| terminal_escape(c).map_or(1, |e| e.len());
        let shown = for_terminal(raw);
        let open = if from > 0 { "..." } else { "" };
        let close = if to < line_chars { "..." } else { "" };
        // Keep tabs in the caret line so it lines up under the text.
        let mut lead = " ".repeat(open.len());
        for c in raw.chars().take(col - 1 - from) {
            if c == '\t' {
                lead.push('\t');
            } else {
                lead.push_str(&" ".repeat(width(c)));
            }
        }
        let rest_of_line: usize = raw.chars().skip(col - 1 - from).map(width).sum();
        let span_width: usize = self
            .text
            .get(span.start as usize..span.end as usize)
            .map_or(1, |s| {
                s.chars()
                    .take_while(|&c| c != '\n')
                    .take(SNIPPET_WIDTH)
                    .map(width)
                    .sum()
            });
        let carets = "^".repeat(span_width.clamp(1, rest_of_line.max(1)));
        let _ = writeln!(
            out,
            "{}{number} |{} {open}{shown}{close}",
            style.dim, style.reset
        );
        let _ = writeln!(
            out,
            "{}{gutter} |{} {lead}{}{carets}{}",
            style.dim, style.reset, style.error, style.reset
        );
    }

    /// `FILE:LINE:COL: error: MESSAGE`, the line and a caret.
    pub fn render_compile_error(&self, error: &CompileError, style: Style) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}{}: {}error:{} {}{}{}",
            style.bold,
            self.location(error.span.start),
            style.error,
            style.reset,
            style.bold,
            shown_message(&error.message),
            style.reset
        );
        self.snippet(&mut out, error.span, style);
        out
    }

    /// `error: MESSAGE`, ` --> FILE:LINE:COL`, the line and caret, then the trace.
    pub fn render_runtime_error(&self, error: &RuntimeError, style: Style) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}error:{} {}{}{}",
            style.error,
            style.reset,
            style.bold,
            shown_message(&error.message),
            style.reset
        );
        let _ = writeln!(
            out,
            " {}-->{} {}",
            style.dim,
            style.reset,
            self.location(error.span.start)
        );
        self.snippet(&mut out, error.span, style);
        // A runaway recursion has 100 000 frames: show both ends of the trace.
        const HEAD: usize = 20;
        const TAIL: usize = 10;
        let trace = &error.trace;
        for (i, frame) in trace.iter().enumerate() {
            if trace.len() > HEAD + TAIL + 1 && i >= HEAD && i < trace.len() - TAIL {
                if i == HEAD {
                    let hidden = trace.len() - HEAD - TAIL;
                    let _ = writeln!(out, "  ... {hidden} more frames ...");
                }
                continue;
            }
            let _ = writeln!(
                out,
                "  at {} ({})",
                frame.function,
                self.location(frame.span.start)
            );
        }
        out
    }
}
