//! The type checker: enforces LANGUAGE.md's rules, fills in expression types and name
//! resolution in the AST.
//!
//! [`check`] walks the whole program once. It sets [`Expr::ty`](crate::syntax::ast::Expr)
//! on every expression and [`Name::res`](crate::syntax::ast::Name) on every use of a name,
//! and returns side tables indexed by [`DeclId`] and [`FnId`] ([`CheckInfo`]).
//!
//! Order of work: top-level code is checked first, in source order, so that top-level
//! code only sees globals already declared. Bodies of functions declared in top-level code
//! (directly or inside top-level blocks and loops) are checked afterwards, once the types
//! of all globals are known, because a function may refer to any global of the file. Each
//! such function sees the scopes that enclosed its declaration (a snapshot taken when the
//! declaration was reached) plus the complete global scope. Functions nested in other
//! functions are checked where they are declared.
//!
//! After an error the offending expression gets [`Type::Unknown`], which is compatible
//! with everything, so one mistake does not cascade into many.
//!
//! Expected types flow down into expression checking (an annotation, a parameter type at
//! a call, the return type at `return`, an assignment target, the element type of an
//! enclosing array literal, `push(xs, _)`'s element type, ...); they only serve to type
//! empty array literals, and each context compares the result with what it needs itself.
//!
//! Choices where LANGUAGE.md is silent:
//! - The variable of `for x in xs` lives in a scope around the body block, so the body
//!   may shadow it (as a function body may shadow a parameter); likewise the variable of
//!   a C-style `for` init.
//! - A nested function sees the bindings of enclosing scopes as they are at its
//!   declaration (plus every function of those scopes, which are hoisted, and every
//!   global). A local of an enclosing block declared after the function is not visible
//!   to it, so the name resolves further out (a global, the prelude) or is undefined.
//! - "Returns on every path" looks at the last statement of the body only: a body whose
//!   `return` is followed by more statements does not count as returning.
//! - `for x in s` over a string is an error (arrays only); `len` takes strings and arrays.
//! - The only implicit conversions are none at all: `null` is its own type and is not
//!   compatible with `number`, arrays or functions.

mod bodies;
mod calls;
mod checker;
mod expr;
mod host;
mod returns;
mod stmt;
mod ty;

#[cfg(test)]
mod tests;

use crate::diag::CompileError;
use crate::span::Span;
use crate::syntax::ast::{DeclId, FnId, Program};
use crate::types::Type;

pub use host::{Env, EnvFunction, EnvGlobal};

/// What the checker found out about a program, for the compiler.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckInfo {
    /// Indexed by DeclId.
    pub decls: Vec<DeclInfo>,
    /// Indexed by FnId.
    pub fns: Vec<FnInfo>,
}

/// A variable declaration: `let`, `var`, a parameter or a `for`/`for in` variable.
#[derive(Debug, Clone, PartialEq)]
pub struct DeclInfo {
    /// The declared name.
    pub name: String,
    /// Its static type (never `void`).
    pub ty: Type,
    /// `var` and parameters: true; `let` and the variable of `for x in xs`: false.
    pub mutable: bool,
    /// A top-level `let`/`var` (not a local of a top-level block or loop).
    pub global: bool,
    /// True when some function body (at any nesting) reads or writes this global.
    /// The compiler keeps globals that no function touches in fast registers.
    pub used_by_fn: bool,
    /// True when a function other than the one declaring it refers to it (a capture):
    /// the variable then lives in a shared cell instead of a plain register.
    pub captured: bool,
    /// Captured, but closures may take a copy of its value (see the checker's
    /// `copyable_captures`): it stays a plain register and needs no cell.
    pub by_value: bool,
    /// The function whose frame holds it; None for top-level code (globals and the
    /// locals of top-level blocks).
    pub owner: Option<FnId>,
    /// The declared name's span.
    pub span: Span,
}

/// A function declared with `fn`.
#[derive(Debug, Clone, PartialEq)]
pub struct FnInfo {
    /// The function's name.
    pub name: String,
    /// Its type, a `Type::Func`.
    pub ty: Type,
    /// The FnId of the enclosing function, None for functions declared at top level
    /// (including inside top-level blocks).
    pub parent: Option<FnId>,
    /// The variables of enclosing functions (and top-level blocks) it needs, in DeclId
    /// order: the ones its body refers to, and the ones needed by the functions it
    /// refers to or contains. A call passes them after the arguments.
    pub captures: Vec<DeclId>,
    /// The span of the function's name.
    pub span: Span,
}

/// Type-checks `program`, filling in every expression's type and every name's resolution.
///
/// On failure returns all errors found, sorted by position.
pub fn check(program: &mut Program) -> Result<CheckInfo, Vec<CompileError>> {
    let mut checker = checker::Checker::new(program.decl_count, program.fn_count);
    checker.program(program);
    checker.finish()
}

/// [`check`] with the embedder's environment: host functions and globals declared before
/// the program (see [`Env`]). The globals get `DeclId`s `program.decl_count ..` (which
/// grows by their number) and are `global` in the returned [`CheckInfo`].
pub fn check_with(program: &mut Program, env: &Env) -> Result<CheckInfo, Vec<CompileError>> {
    let first = program.decl_count;
    program.decl_count += env.globals.len() as u32;
    let mut checker = checker::Checker::new(program.decl_count, program.fn_count);
    checker.env = env.clone();
    for (i, global) in env.globals.iter().enumerate() {
        let kind = if global.mutable {
            checker::DeclKind::Var
        } else {
            checker::DeclKind::Let
        };
        checker.declare_var(
            first + i as DeclId,
            &global.name,
            Span::default(),
            global.ty.clone(),
            kind,
        );
    }
    checker.program(program);
    checker.finish()
}

/// Placeholder for a declaration id the checker never saw (only possible with a
/// malformed AST); keeps [`CheckInfo::decls`] indexable by every `DeclId`.
fn missing_decl(id: DeclId) -> DeclInfo {
    DeclInfo {
        name: format!("<decl {id}>"),
        ty: Type::Unknown,
        mutable: false,
        global: false,
        used_by_fn: false,
        captured: false,
        by_value: false,
        owner: None,
        span: Span::default(),
    }
}

/// Placeholder for a function id the checker never saw (only possible with a malformed
/// AST).
fn missing_fn(id: FnId) -> FnInfo {
    FnInfo {
        name: format!("<fn {id}>"),
        ty: Type::Unknown,
        parent: None,
        captures: Vec::new(),
        span: Span::default(),
    }
}
