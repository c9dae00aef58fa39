//! Atlas: a statically typed scripting language with a fast bytecode VM.
//!
//! The pipeline is source → [`syntax::lexer`] → [`syntax::parser`] (AST with spans) →
//! [`check`] (types and name resolution) → [`compile`] (bytecode, checked by [`verify`])
//! → [`vm`].
//!
//! To run Atlas from a Rust program, use the embedding API: [`Engine`] compiles and runs
//! scripts, calls their functions, reads and sets their globals, and gives them Rust
//! functions to call (see [`api`], and its guide [`api::guide`]). [`repl`] is the
//! interactive shell behind `atlas repl`.

pub mod api;
pub mod builtins;
pub mod bytecode;
pub mod check;
pub mod compile;
pub mod diag;
pub mod driver;
pub mod profile;
pub mod repl;
pub mod span;
pub mod stdlib;
pub mod syntax;
pub mod types;
pub mod verify;
pub mod vm;

pub use api::{
    Diagnostic, Dynamic, Engine, Error, ErrorKind, Frame, FromAtlas, Function, HostFunction,
    IntoArgs, IntoAtlas, Limits, Location, OutputBuffer, Script,
};
/// The insertion-ordered map that `map<K, V>` values convert to and from (see
/// [`FromAtlas`]), re-exported so hosts need not depend on `indexmap` themselves.
pub use indexmap::IndexMap;
pub use span::Span;
pub use types::Type;
