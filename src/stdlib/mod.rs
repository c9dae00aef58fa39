//! Pure implementations of the prelude's semantics on Rust strings and numbers, shared by
//! the VM's native functions: number formatting and parsing, string and math functions.

pub mod math;
pub mod number;
pub mod random;
pub mod strings;
