//! Lexing and parsing: source text to [`ast::Program`].

pub mod ast;
pub mod lexer;
pub mod parser;
