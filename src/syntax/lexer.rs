//! The lexer: source text to [`Token`]s (LANGUAGE.md, "Lexical structure").
//!
//! [`Lexer`] produces tokens on demand (the parser pulls them one at a time, so a large
//! file never needs a token vector); [`lex`] collects them all. Lexing is a single
//! forward pass over the bytes: linear in the size of the source.
//!
//! Choices the language contract leaves open:
//! - A leading UTF-8 byte order mark is skipped; spans stay offsets into the original text.
//! - A CRLF line break inside a string literal reads as a single `\n`, so a script means
//!   the same whatever line endings it was saved with.
//! - A `//` comment ends at a CR as well as at an LF, as in JavaScript: with old Mac line
//!   endings (CR only) the comment does not swallow the rest of the file, and
//!   `// note<CR>code` (shown on two lines by editors and terminals) runs `code`.
//! - A number literal needs digits on both sides of a `.` (`1.` and `.5` are errors), and
//!   must not run into a letter or `_` (`12abc` is an error, not `12` then `abc`).

use std::fmt;

use crate::diag::CompileError;
use crate::span::Span;

/// What a token is, with the decoded value of literals and identifiers.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenKind {
    /// A number literal (`42`, `1.5e-3`); too large a literal is `f64::INFINITY`.
    Number(f64),
    /// A string literal, escapes decoded.
    Str(String),
    /// An identifier (never a keyword).
    Ident(String),
    // Keywords.
    Let,
    Var,
    Fn,
    If,
    Else,
    While,
    For,
    In,
    Return,
    Break,
    Continue,
    True,
    False,
    Null,
    // Punctuation.
    /// `(`
    LParen,
    /// `)`
    RParen,
    /// `{`
    LBrace,
    /// `}`
    RBrace,
    /// `[`
    LBracket,
    /// `]`
    RBracket,
    /// `,`
    Comma,
    /// `;`
    Semi,
    /// `:`
    Colon,
    /// `->`
    Arrow,
    // Operators.
    /// `+`
    Plus,
    /// `-`
    Minus,
    /// `*`
    Star,
    /// `/`
    Slash,
    /// `%`
    Percent,
    /// `=`
    Assign,
    /// `+=`
    PlusAssign,
    /// `-=`
    MinusAssign,
    /// `*=`
    StarAssign,
    /// `/=`
    SlashAssign,
    /// `%=`
    PercentAssign,
    /// `++`
    PlusPlus,
    /// `--`
    MinusMinus,
    /// `==`
    EqEq,
    /// `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>` (there is no `>>` token, so `Array<Array<T>>` needs no special care)
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    AndAnd,
    /// `||`
    OrOr,
    /// `!`
    Bang,
    /// The end of the source; [`Lexer::next_token`] keeps returning it.
    Eof,
}

impl TokenKind {
    /// The keyword spelled `word`, if it is one.
    pub fn keyword(word: &str) -> Option<TokenKind> {
        Some(match word {
            "let" => TokenKind::Let,
            "var" => TokenKind::Var,
            "fn" => TokenKind::Fn,
            "if" => TokenKind::If,
            "else" => TokenKind::Else,
            "while" => TokenKind::While,
            "for" => TokenKind::For,
            "in" => TokenKind::In,
            "return" => TokenKind::Return,
            "break" => TokenKind::Break,
            "continue" => TokenKind::Continue,
            "true" => TokenKind::True,
            "false" => TokenKind::False,
            "null" => TokenKind::Null,
            _ => return None,
        })
    }

    /// The fixed source text of a keyword or punctuation token (`None` for literals,
    /// identifiers and the end of file).
    pub fn text(&self) -> Option<&'static str> {
        use TokenKind::*;
        Some(match self {
            Number(_) | Str(_) | Ident(_) | Eof => return None,
            Let => "let",
            Var => "var",
            Fn => "fn",
            If => "if",
            Else => "else",
            While => "while",
            For => "for",
            In => "in",
            Return => "return",
            Break => "break",
            Continue => "continue",
            True => "true",
            False => "false",
            Null => "null",
            LParen => "(",
            RParen => ")",
            LBrace => "{",
            RBrace => "}",
            LBracket => "[",
            RBracket => "]",
            Comma => ",",
            Semi => ";",
            Colon => ":",
            Arrow => "->",
            Plus => "+",
            Minus => "-",
            Star => "*",
            Slash => "/",
            Percent => "%",
            Assign => "=",
            PlusAssign => "+=",
            MinusAssign => "-=",
            StarAssign => "*=",
            SlashAssign => "/=",
            PercentAssign => "%=",
            PlusPlus => "++",
            MinusMinus => "--",
            EqEq => "==",
            NotEq => "!=",
            Lt => "<",
            Le => "<=",
            Gt => ">",
            Ge => ">=",
            AndAnd => "&&",
            OrOr => "||",
            Bang => "!",
        })
    }
}

/// Describes the token the way error messages name it: `';'`, `'while'`,
/// `identifier 'foo'`, `number`, `string`, `end of file`.
impl fmt::Display for TokenKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenKind::Number(_) => f.write_str("number"),
            TokenKind::Str(_) => f.write_str("string"),
            TokenKind::Ident(name) => write!(f, "identifier '{name}'"),
            TokenKind::Eof => f.write_str("end of file"),
            other => write!(f, "'{}'", other.text().unwrap_or_default()),
        }
    }
}

/// A token and the bytes of the source it was read from.
#[derive(Debug, Clone, PartialEq)]
pub struct Token {
    pub kind: TokenKind,
    pub span: Span,
}

/// Lexes the whole of `source`. The last token is always [`TokenKind::Eof`].
///
/// # Errors
/// The first lexical error of the source (see [`Lexer::next_token`]).
pub fn lex(source: &str) -> Result<Vec<Token>, CompileError> {
    let mut lexer = Lexer::new(source)?;
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let done = token.kind == TokenKind::Eof;
        tokens.push(token);
        if done {
            return Ok(tokens);
        }
    }
}

/// An on-demand tokenizer over one source text.
#[derive(Debug, Clone)]
pub struct Lexer<'s> {
    src: &'s str,
    bytes: &'s [u8],
    pos: usize,
}

/// The byte order mark a UTF-8 file may start with.
const BOM: &str = "\u{feff}";

fn is_ident_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_ident_continue(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// How a character is shown inside quotes in an error message: control characters,
/// whitespace and invisible format characters (zero-width spaces and joiners, bidi
/// controls, byte order marks, soft hyphens) escaped, so that the message shows them.
fn show_char(c: char) -> String {
    let invisible = matches!(
        c,
        '\u{ad}'
            | '\u{61c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
    );
    if c.is_control() || c.is_whitespace() || invisible {
        c.escape_default().to_string()
    } else {
        c.to_string()
    }
}

impl<'s> Lexer<'s> {
    /// A lexer at the start of `source` (after its byte order mark, if any).
    ///
    /// # Errors
    /// When the source is too large for 32-bit spans (4 GiB or more).
    pub fn new(source: &'s str) -> Result<Lexer<'s>, CompileError> {
        if u32::try_from(source.len()).is_err() {
            return Err(CompileError::new(
                "source file too large (limit 4 GiB)",
                Span::default(),
            ));
        }
        let pos = if source.starts_with(BOM) {
            BOM.len()
        } else {
            0
        };
        Ok(Lexer {
            src: source,
            bytes: source.as_bytes(),
            pos,
        })
    }

    /// The next token; [`TokenKind::Eof`] (again and again) at the end of the source.
    ///
    /// # Errors
    /// `unterminated string`, `unterminated block comment`, `invalid escape '\X'`,
    /// `invalid unicode escape`, `invalid number literal '12abc'` or
    /// `unexpected character 'X'`, with the span of the offending text (the opening
    /// quote or `/*` for the unterminated ones).
    pub fn next_token(&mut self) -> Result<Token, CompileError> {
        self.skip_trivia()?;
        let start = self.pos;
        let kind = match self.bytes.get(start) {
            None => TokenKind::Eof,
            Some(b) if b.is_ascii_digit() => self.number()?,
            Some(&b) if is_ident_start(b) => self.word(),
            Some(b'"') => self.string()?,
            Some(_) => self.punctuation()?,
        };
        Ok(Token {
            kind,
            span: self.span_from(start),
        })
    }

    fn span_from(&self, start: usize) -> Span {
        Span::new(start as u32, self.pos as u32)
    }

    fn peek_at(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.pos + offset).copied()
    }

    /// Skips whitespace and comments.
    fn skip_trivia(&mut self) -> Result<(), CompileError> {
        loop {
            match (self.peek_at(0), self.peek_at(1)) {
                (Some(b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c'), _) => self.pos += 1,
                (Some(b'/'), Some(b'/')) => self.line_comment(),
                (Some(b'/'), Some(b'*')) => self.block_comment()?,
                _ => return Ok(()),
            }
        }
    }

    fn line_comment(&mut self) {
        self.pos = match self.src[self.pos..].find(['\n', '\r']) {
            Some(offset) => self.pos + offset + 1,
            None => self.src.len(),
        };
    }

    fn block_comment(&mut self) -> Result<(), CompileError> {
        let start = self.pos;
        match self.src[start + 2..].find("*/") {
            Some(offset) => {
                self.pos = start + 2 + offset + 2;
                Ok(())
            }
            None => Err(CompileError::new(
                "unterminated block comment",
                Span::new(start as u32, start as u32 + 2),
            )),
        }
    }

    fn skip_digits(&mut self) {
        while self.peek_at(0).is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
    }

    /// A number literal: digits, an optional fraction, an optional exponent.
    fn number(&mut self) -> Result<TokenKind, CompileError> {
        let start = self.pos;
        self.skip_digits();
        if self.peek_at(0) == Some(b'.') {
            self.pos += 1;
            if !self.peek_at(0).is_some_and(|b| b.is_ascii_digit()) {
                return Err(self.invalid_number(start));
            }
            self.skip_digits();
        }
        if matches!(self.peek_at(0), Some(b'e' | b'E')) {
            let digits_at = if matches!(self.peek_at(1), Some(b'+' | b'-')) {
                2
            } else {
                1
            };
            if self.peek_at(digits_at).is_some_and(|b| b.is_ascii_digit()) {
                self.pos += digits_at;
                self.skip_digits();
            }
        }
        if self.peek_at(0).is_some_and(is_ident_continue) {
            return Err(self.invalid_number(start));
        }
        let text = &self.src[start..self.pos];
        // Rust's parser accepts exactly this grammar, and gives infinity when too large.
        let value = text
            .parse::<f64>()
            .map_err(|_| self.invalid_number(start))?;
        Ok(TokenKind::Number(value))
    }

    /// The error for a malformed number starting at `start`, covering the letters and
    /// digits that run into it.
    fn invalid_number(&mut self, start: usize) -> CompileError {
        while self
            .peek_at(0)
            .is_some_and(|b| is_ident_continue(b) || b == b'.')
        {
            self.pos += 1;
        }
        let text = &self.src[start..self.pos];
        CompileError::new(
            format!("invalid number literal '{text}'"),
            self.span_from(start),
        )
    }

    /// An identifier or a keyword.
    fn word(&mut self) -> TokenKind {
        let start = self.pos;
        while self.peek_at(0).is_some_and(is_ident_continue) {
            self.pos += 1;
        }
        let text = &self.src[start..self.pos];
        TokenKind::keyword(text).unwrap_or_else(|| TokenKind::Ident(text.to_owned()))
    }

    /// A string literal, from its opening quote.
    fn string(&mut self) -> Result<TokenKind, CompileError> {
        let start = self.pos;
        self.pos += 1;
        let mut value = String::new();
        loop {
            let run_start = self.pos;
            while self
                .peek_at(0)
                .is_some_and(|b| !matches!(b, b'"' | b'\\' | b'\r'))
            {
                self.pos += 1;
            }
            // The run stops only at ASCII bytes, so it is whole characters.
            value.push_str(&self.src[run_start..self.pos]);
            match self.peek_at(0) {
                None => return Err(self.unterminated_string(start)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(TokenKind::Str(value));
                }
                Some(b'\r') => {
                    self.pos += 1;
                    if self.peek_at(0) == Some(b'\n') {
                        self.pos += 1;
                        value.push('\n');
                    } else {
                        value.push('\r');
                    }
                }
                Some(_) => value.push(self.escape(start)?),
            }
        }
    }

    fn unterminated_string(&self, start: usize) -> CompileError {
        CompileError::new(
            "unterminated string",
            Span::new(start as u32, start as u32 + 1),
        )
    }

    /// An escape sequence, from its backslash, inside the string that opened at
    /// `string_start`.
    fn escape(&mut self, string_start: usize) -> Result<char, CompileError> {
        let start = self.pos;
        self.pos += 1;
        let Some(c) = self.src[self.pos..].chars().next() else {
            return Err(self.unterminated_string(string_start));
        };
        self.pos += c.len_utf8();
        Ok(match c {
            '"' => '"',
            '\\' => '\\',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            '0' => '\0',
            'u' => return self.unicode_escape(start, string_start),
            '\n' | '\r' => {
                return Err(CompileError::new(
                    "invalid escape '\\' at end of line",
                    Span::new(start as u32, start as u32 + 1),
                ))
            }
            _ => {
                return Err(CompileError::new(
                    format!("invalid escape '\\{}'", show_char(c)),
                    self.span_from(start),
                ))
            }
        })
    }

    /// The rest of a `\u{XXXX}` escape (1 to 6 hex digits naming a Unicode scalar value),
    /// after its `\u`.
    fn unicode_escape(&mut self, start: usize, string_start: usize) -> Result<char, CompileError> {
        let invalid =
            |lexer: &Lexer| CompileError::new("invalid unicode escape", lexer.span_from(start));
        match self.peek_at(0) {
            None => return Err(self.unterminated_string(string_start)),
            Some(b'{') => self.pos += 1,
            Some(_) => return Err(invalid(self)),
        }
        let digits_start = self.pos;
        while self.peek_at(0).is_some_and(|b| b.is_ascii_hexdigit()) {
            self.pos += 1;
        }
        let digits = &self.src[digits_start..self.pos];
        match self.peek_at(0) {
            None => return Err(self.unterminated_string(string_start)),
            Some(b'}') => self.pos += 1,
            Some(_) => return Err(invalid(self)),
        }
        if digits.is_empty() || digits.len() > 6 {
            return Err(invalid(self));
        }
        u32::from_str_radix(digits, 16)
            .ok()
            .and_then(char::from_u32)
            .ok_or_else(|| invalid(self))
    }

    /// An operator or punctuation token, or the error for a character that starts none.
    fn punctuation(&mut self) -> Result<TokenKind, CompileError> {
        use TokenKind::*;
        let (kind, len) = match (self.bytes[self.pos], self.peek_at(1)) {
            (b'-', Some(b'>')) => (Arrow, 2),
            (b'+', Some(b'=')) => (PlusAssign, 2),
            (b'-', Some(b'=')) => (MinusAssign, 2),
            (b'*', Some(b'=')) => (StarAssign, 2),
            (b'/', Some(b'=')) => (SlashAssign, 2),
            (b'%', Some(b'=')) => (PercentAssign, 2),
            (b'+', Some(b'+')) => (PlusPlus, 2),
            (b'-', Some(b'-')) => (MinusMinus, 2),
            (b'=', Some(b'=')) => (EqEq, 2),
            (b'!', Some(b'=')) => (NotEq, 2),
            (b'<', Some(b'=')) => (Le, 2),
            (b'>', Some(b'=')) => (Ge, 2),
            (b'&', Some(b'&')) => (AndAnd, 2),
            (b'|', Some(b'|')) => (OrOr, 2),
            (b'(', _) => (LParen, 1),
            (b')', _) => (RParen, 1),
            (b'{', _) => (LBrace, 1),
            (b'}', _) => (RBrace, 1),
            (b'[', _) => (LBracket, 1),
            (b']', _) => (RBracket, 1),
            (b',', _) => (Comma, 1),
            (b';', _) => (Semi, 1),
            (b':', _) => (Colon, 1),
            (b'+', _) => (Plus, 1),
            (b'-', _) => (Minus, 1),
            (b'*', _) => (Star, 1),
            (b'/', _) => (Slash, 1),
            (b'%', _) => (Percent, 1),
            (b'=', _) => (Assign, 1),
            (b'<', _) => (Lt, 1),
            (b'>', _) => (Gt, 1),
            (b'!', _) => (Bang, 1),
            _ => return Err(self.unexpected_char()),
        };
        self.pos += len;
        Ok(kind)
    }

    /// The error for the character at the current position, which starts no token.
    fn unexpected_char(&mut self) -> CompileError {
        let start = self.pos;
        let c = self.src[start..].chars().next().unwrap_or_default();
        self.pos += c.len_utf8();
        CompileError::new(
            format!("unexpected character '{}'", show_char(c)),
            self.span_from(start),
        )
    }
}
