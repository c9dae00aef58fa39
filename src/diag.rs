//! Errors of every stage (rendered by [`crate::driver`]).

use crate::span::Span;

/// A compile-time error (lexer, parser, checker or compiler): a message and where.
#[derive(Debug, Clone, PartialEq)]
pub struct CompileError {
    pub message: String,
    pub span: Span,
}

impl CompileError {
    pub fn new(message: impl Into<String>, span: Span) -> CompileError {
        CompileError {
            message: message.into(),
            span,
        }
    }
}

/// One frame of a runtime stack trace.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceFrame {
    /// Function name, `<script>` for the top level.
    pub function: String,
    pub span: Span,
}

/// A runtime error: message, where it happened, and the call stack innermost first.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeError {
    pub message: String,
    pub span: Span,
    pub trace: Vec<TraceFrame>,
}
