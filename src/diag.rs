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

/// Most characters of a message shown when it is rendered; a longer one keeps its start
/// and its end (a `parseNumber` of a 128 MB string wrote 134 MB to stderr).
pub const MAX_SHOWN_CHARS: usize = 2000;

/// How `c` is written to a terminal, if not as itself: control characters (but tab and
/// newline) and the bidirectional controls that can reorder or hide the text around
/// them, as `\u{..}` escapes, so that a source line or a string in a message cannot
/// drive the terminal.
pub fn terminal_escape(c: char) -> Option<String> {
    let bidi = matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    );
    let control = c.is_control() && c != '\t' && c != '\n';
    (control || bidi).then(|| format!("\\u{{{:x}}}", c as u32))
}

/// `text` with [`terminal_escape`] applied.
pub fn for_terminal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match terminal_escape(c) {
            Some(escaped) => out.push_str(&escaped),
            None => out.push(c),
        }
    }
    out
}

/// A message as it is shown: escaped for the terminal and, past [`MAX_SHOWN_CHARS`],
/// cut in the middle.
pub fn shown_message(message: &str) -> String {
    let count = message.chars().count();
    if count <= MAX_SHOWN_CHARS {
        return for_terminal(message);
    }
    let head: String = message.chars().take(MAX_SHOWN_CHARS * 3 / 4).collect();
    let tail: String = message.chars().skip(count - MAX_SHOWN_CHARS / 4).collect();
    let omitted = count - MAX_SHOWN_CHARS;
    format!(
        "{} ... ({omitted} characters not shown) ... {}",
        for_terminal(&head),
        for_terminal(&tail)
    )
}
