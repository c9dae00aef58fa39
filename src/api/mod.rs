//! The embedding API: Atlas inside a Rust program.
//!
//! An [`Engine`] compiles sources into [`Script`]s and runs them. Rust functions become
//! Atlas functions with [`Engine::register_fn`], with signatures the type checker sees;
//! values cross the boundary through the [`FromAtlas`] and [`IntoAtlas`] conversions
//! (numbers, strings, bools, `Vec`s, `()`, and [`Dynamic`] for any value); every
//! failure is an [`Error`] that renders like the command line's diagnostics.
//!
//! ```
//! use atlas::{Engine, OutputBuffer};
//!
//! let mut engine = Engine::new();
//! let out = OutputBuffer::new();
//! engine.set_output(out.clone());
//! engine.register_fn("fahrenheit", |c: f64| c * 9.0 / 5.0 + 32.0).unwrap();
//!
//! // Compile once, run many times.
//! let script = engine
//!     .compile(
//!         "var readings: number[] = [];\n\
//!          fn record(c: number) -> void { push(readings, fahrenheit(c)); }\n\
//!          fn hottest() -> number { return reduce(readings, max, -1e999); }\n\
//!          print(\"ready\");",
//!     )
//!     .unwrap();
//! engine.run(&script).unwrap();
//! engine.call::<()>("record", (20,)).unwrap();
//! engine.call::<()>("record", (35.5,)).unwrap();
//! assert_eq!(engine.call::<f64>("hottest", ()).unwrap(), 95.9);
//! assert_eq!(engine.global::<Vec<f64>>("readings").unwrap(), [68.0, 95.9]);
//! assert_eq!(out.contents(), "ready\n");
//! ```
//!
//! The guide is `docs/embedding.md`; `examples/embed_*.rs` are complete programs.
//!
//! What the API does not do (yet): scripts cannot call back into Rust closures passed
//! as values (host functions are called by name only), there is no way to call a
//! script's function values from Rust, and values are copied, not shared, between Rust
//! and Atlas.

#![deny(missing_docs)]

mod convert;
mod engine;
mod error;
mod native;
pub(crate) mod unit;

/// The embedding guide (`docs/embedding.md`); its examples are tested.
#[doc = include_str!("../../docs/embedding.md")]
pub mod guide {}

pub use convert::{Dynamic, FromAtlas, Function, IntoAtlas};
pub(crate) use engine::complete_expression;
pub use engine::{Engine, Limits, OutputBuffer, Script};
pub use error::{Diagnostic, Error, ErrorKind, Frame, Location};
pub use native::{HostFunction, IntoArgs};
