//! The embedder's environment: functions of the host program and globals it declares
//! before the script (see [`crate::api`]).
//!
//! A host function is visible in every scope unless a script declaration shadows it, after
//! the script's own names and before the prelude. It resolves to [`Res::Host`] and can
//! only be called (it is not a value: `let f = hostFn;` is the error "can only be
//! called"); its calls are checked like calls of user functions. A predeclared global is
//! a top-level `let` or `var` that exists before the first statement: the script may use
//! it anywhere and may not redeclare it.

use super::checker::Checker;
use crate::syntax::ast::{Expr, ExprKind, Res};
use crate::types::Type;

/// What the embedder adds to a program's top-level scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Env {
    /// Host functions; `Res::Host(i)` is `functions[i]`.
    pub functions: Vec<EnvFunction>,
    /// Globals declared before the program. They get the `DeclId`s after the program's
    /// own (`program.decl_count` grows by their number), in this order.
    pub globals: Vec<EnvGlobal>,
}

/// A host function's name and signature.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvFunction {
    /// The name scripts call it by.
    pub name: String,
    /// A `Type::Func`.
    pub ty: Type,
}

/// A global declared by the embedder.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvGlobal {
    /// The global's name.
    pub name: String,
    /// Its type (never `void`).
    pub ty: Type,
    /// `var` (true) or `let` (false) for the script.
    pub mutable: bool,
}

impl Env {
    /// The index of host function `name`.
    pub fn function(&self, name: &str) -> Option<u32> {
        self.functions
            .iter()
            .position(|f| f.name == name)
            .map(|i| i as u32)
    }
}

impl Checker {
    /// Whether `name` is a host function (scopes not consulted).
    pub(super) fn is_host_fn(&self, name: &str) -> bool {
        self.env.function(name).is_some()
    }

    /// The resolution and type of host function `name` (which must be one).
    pub(super) fn host_res(&self, name: &str) -> (Res, Type) {
        match self.env.function(name) {
            Some(i) => (Res::Host(i), self.env.functions[i as usize].ty.clone()),
            None => (Res::Unresolved, Type::Unknown),
        }
    }

    /// When `callee` names a host function (not shadowed), resolves it and returns its
    /// type, so that the call is checked without treating the function as a value.
    pub(super) fn host_callee(&mut self, callee: &mut Expr) -> Option<Type> {
        let ExprKind::Var(name) = &mut callee.kind else {
            return None;
        };
        if self.in_scope(&name.name) || !self.is_host_fn(&name.name) {
            return None;
        }
        let (res, ty) = self.host_res(&name.name);
        name.res = res;
        callee.ty = ty.clone();
        Some(ty)
    }
}
