//! Atlas: a statically typed scripting language with a fast bytecode VM.
//!
//! The pipeline is source → [`syntax::lexer`] → [`syntax::parser`] (AST with spans) →
//! [`check`] (types and name resolution) → [`compile`] (bytecode, checked by [`verify`])
//! → [`vm`].

pub mod builtins;
pub mod bytecode;
pub mod check;
pub mod compile;
pub mod diag;
pub mod driver;
pub mod span;
pub mod stdlib;
pub mod syntax;
pub mod types;
pub mod verify;
pub mod vm;
