//! Atlas: a statically typed scripting language with a fast bytecode VM.
//!
//! The pipeline is source → [`syntax::lexer`] → [`syntax::parser`] (AST with spans) →
//! [`check`] (types and name resolution) → [`compile`] (bytecode) → [`vm`].

pub mod builtins;
pub mod check;
pub mod diag;
pub mod span;
pub mod stdlib;
pub mod syntax;
pub mod types;
