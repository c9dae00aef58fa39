//! The checker's state: scopes, name resolution, side tables, errors.

use std::collections::{BTreeSet, HashMap};

use super::{missing_decl, missing_fn, CheckInfo, DeclInfo, FnInfo};
use crate::builtins::Builtin;
use crate::diag::CompileError;
use crate::span::Span;
use crate::syntax::ast::{DeclId, FnDecl, FnId, Program, Res, Stmt};
use crate::types::Type;

/// How a variable was declared (decides the message when it is assigned).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DeclKind {
    Let,
    Var,
    Param,
    LoopVar,
}

/// What a name declared in a scope stands for.
#[derive(Debug, Clone, Copy)]
pub(super) enum Binding {
    Var(DeclId),
    Func(FnId),
}

/// One lexical scope.
#[derive(Debug, Clone)]
pub(super) struct Scope {
    pub(super) names: HashMap<String, Binding>,
    /// The function whose body (or parameter list) this scope belongs to; `None` for
    /// top-level code.
    pub(super) owner: Option<FnId>,
    /// The program's top-level scope: its variables are globals.
    pub(super) global: bool,
}

/// The function being checked (or top-level code).
#[derive(Debug, Clone)]
pub(super) struct FnCtx {
    /// `None` for top-level code.
    pub(super) id: Option<FnId>,
    pub(super) name: String,
    pub(super) ret: Type,
    /// Number of loops of this function (not of enclosing ones) around the current point.
    pub(super) loops: u32,
}

/// The type checker.
pub(super) struct Checker {
    decls: Vec<Option<DeclInfo>>,
    kinds: Vec<DeclKind>,
    fns: Vec<Option<FnInfo>>,
    errors: Vec<CompileError>,
    pub(super) scopes: Vec<Scope>,
    pub(super) ctx: FnCtx,
    /// For functions declared in top-level code: the non-global scopes around the
    /// declaration, to check the body with once all globals are known.
    pub(super) deferred: HashMap<FnId, Vec<Scope>>,
    /// The embedder's host functions (`check_with`); empty for plain `check`.
    pub(super) env: super::Env,
    /// Indexed by FnId: the captured variables each function needs (see
    /// [`FnInfo::captures`]), from its own body and the functions nested in it.
    captures: Vec<BTreeSet<DeclId>>,
    /// `(h, g)`: the body of function `h` refers to named function `g`, so `h` needs
    /// what `g` captures (completed in `finish`).
    fn_refs: Vec<(FnId, FnId)>,
    /// Indexed by DeclId: assignments to the variable (besides its initialization and
    /// the step of a `for` header it declares).
    writes: Vec<u32>,
    /// Indexed by DeclId: where the `let`/`var` statement declaring it ends (`None`:
    /// a parameter or a `for in` variable, set before any code of its scope runs).
    let_ends: Vec<Option<u32>>,
}

impl Checker {
    pub(super) fn new(decl_count: u32, fn_count: u32) -> Checker {
        Checker {
            decls: vec![None; decl_count as usize],
            kinds: vec![DeclKind::Let; decl_count as usize],
            fns: vec![None; fn_count as usize],
            errors: Vec::new(),
            scopes: vec![Scope {
                names: HashMap::new(),
                owner: None,
                global: true,
            }],
            ctx: FnCtx {
                id: None,
                name: String::new(),
                ret: Type::Unknown,
                loops: 0,
            },
            deferred: HashMap::new(),
            env: super::Env::default(),
            captures: vec![BTreeSet::new(); fn_count as usize],
            fn_refs: Vec::new(),
            writes: vec![0; decl_count as usize],
            let_ends: vec![None; decl_count as usize],
        }
    }

    /// Checks the whole program: top-level code first, then the bodies of functions
    /// declared in top-level code.
    pub(super) fn program(&mut self, program: &mut Program) {
        self.stmts(&mut program.stmts);
        self.check_deferred(&mut program.stmts);
    }

    /// The result: the side tables, or the errors sorted by position.
    pub(super) fn finish(mut self) -> Result<CheckInfo, Vec<CompileError>> {
        if !self.errors.is_empty() {
            // Compared in place: a key that clones every message costs a clone per
            // comparison, seconds for the millions of errors a large bad file can have.
            self.errors.sort_by(|a, b| {
                (a.span.start, a.span.end, &a.message).cmp(&(b.span.start, b.span.end, &b.message))
            });
            self.errors.dedup();
            return Err(self.errors);
        }
        self.propagate_captures();
        let copyable = self.copyable_captures();
        let decls = self
            .decls
            .into_iter()
            .enumerate()
            .map(|(i, d)| {
                let mut info = d.unwrap_or_else(|| missing_decl(i as DeclId));
                info.by_value = info.captured && copyable.get(i).copied().unwrap_or(false);
                info
            })
            .collect();
        let mut captures = std::mem::take(&mut self.captures).into_iter();
        let fns = self
            .fns
            .into_iter()
            .enumerate()
            .map(|(i, f)| {
                let mut info = f.unwrap_or_else(|| missing_fn(i as FnId));
                info.captures = captures.next().unwrap_or_default().into_iter().collect();
                info
            })
            .collect();
        Ok(CheckInfo { decls, fns })
    }

    pub(super) fn error(&mut self, span: Span, message: impl Into<String>) {
        self.errors.push(CompileError::new(message, span));
    }

    // ----- scopes -----

    pub(super) fn push_scope(&mut self) {
        self.scopes.push(Scope {
            names: HashMap::new(),
            owner: self.ctx.id,
            global: false,
        });
    }

    pub(super) fn pop_scope(&mut self) {
        if self.scopes.len() > 1 {
            self.scopes.pop();
        }
    }

    /// Whether the current scope is the program's top-level scope.
    pub(super) fn at_global_scope(&self) -> bool {
        self.ctx.id.is_none() && self.scopes.len() == 1
    }

    /// Records a variable declaration and binds its name in the current scope.
    pub(super) fn declare_var(
        &mut self,
        id: DeclId,
        name: &str,
        span: Span,
        ty: Type,
        kind: DeclKind,
    ) {
        let global = self.at_global_scope();
        let idx = id as usize;
        if idx >= self.decls.len() {
            self.decls.resize(idx + 1, None);
            self.kinds.resize(idx + 1, DeclKind::Let);
        }
        self.decls[idx] = Some(DeclInfo {
            name: name.to_string(),
            ty,
            mutable: matches!(kind, DeclKind::Var | DeclKind::Param),
            global,
            used_by_fn: false,
            captured: false,
            by_value: false,
            owner: self.ctx.id,
            span,
        });
        if idx >= self.writes.len() {
            self.writes.resize(idx + 1, 0);
            self.let_ends.resize(idx + 1, None);
        }
        self.kinds[idx] = kind;
        self.bind(name, span, Binding::Var(id));
    }

    /// Binds `name` in the current scope, reporting a redeclaration.
    fn bind(&mut self, name: &str, span: Span, binding: Binding) {
        let existing = self.scopes.last().and_then(|s| s.names.get(name).copied());
        match existing {
            None => {
                if let Some(scope) = self.scopes.last_mut() {
                    scope.names.insert(name.to_string(), binding);
                }
            }
            Some(old) => {
                // Functions are bound when their block is entered; when the function
                // comes later in the source than this variable, report at the function.
                let at = match old {
                    Binding::Func(f) => match self.fn_info(f) {
                        Some(info) if info.span.start > span.start => info.span,
                        _ => span,
                    },
                    Binding::Var(_) => span,
                };
                self.error(at, format!("'{name}' is already declared in this scope"));
            }
        }
    }

    /// Binds the functions declared directly in `stmts` in the current scope (hoisting).
    pub(super) fn hoist(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            if let Stmt::Fn(f) = s {
                self.declare_fn(f);
            }
        }
    }

    /// Records a function's signature and binds its name in the current scope.
    pub(super) fn declare_fn(&mut self, f: &FnDecl) {
        self.record_fn(f);
        self.bind(&f.name, f.name_span, Binding::Func(f.id));
    }

    /// Records a function's signature (a function expression's, or a declaration's).
    pub(super) fn record_fn(&mut self, f: &FnDecl) {
        let params = f
            .params
            .iter()
            .map(|p| self.resolve_ann(&p.ty, false))
            .collect();
        let ret = self.resolve_ann(&f.ret, true);
        let idx = f.id as usize;
        if idx >= self.fns.len() {
            self.fns.resize(idx + 1, None);
        }
        self.fns[idx] = Some(FnInfo {
            name: f.name.clone(),
            ty: Type::func(params, ret),
            parent: self.ctx.id,
            captures: Vec::new(),
            span: f.name_span,
        });
        if idx >= self.captures.len() {
            self.captures.resize(idx + 1, BTreeSet::new());
        }
    }

    pub(super) fn fn_info(&self, id: FnId) -> Option<&FnInfo> {
        self.fns.get(id as usize).and_then(|f| f.as_ref())
    }

    pub(super) fn fn_type(&self, id: FnId) -> Type {
        self.fn_info(id).map_or(Type::Unknown, |f| f.ty.clone())
    }

    pub(super) fn decl_type(&self, id: DeclId) -> Type {
        self.decls
            .get(id as usize)
            .and_then(|d| d.as_ref())
            .map_or(Type::Unknown, |d| d.ty.clone())
    }

    pub(super) fn decl_kind(&self, id: DeclId) -> DeclKind {
        self.kinds
            .get(id as usize)
            .copied()
            .unwrap_or(DeclKind::Var)
    }

    // ----- name resolution -----

    /// Whether `name` is bound in some scope (the prelude not included).
    pub(super) fn in_scope(&self, name: &str) -> bool {
        self.scopes.iter().any(|s| s.names.contains_key(name))
    }

    /// Resolves a use of `name`. Errors (undefined name, a local of an enclosing scope)
    /// are reported and give `(Res::Unresolved, Type::Unknown)`. A generic prelude
    /// function resolves to `Res::Builtin` with type `Unknown`; callers decide whether
    /// that use is allowed.
    pub(super) fn lookup(&mut self, name: &str, span: Span) -> (Res, Type) {
        let mut found = None;
        for scope in self.scopes.iter().rev() {
            if let Some(&b) = scope.names.get(name) {
                found = Some((b, scope.global, scope.owner));
                break;
            }
        }
        match found {
            Some((Binding::Func(f), _, _)) => {
                if let Some(h) = self.ctx.id {
                    self.fn_refs.push((h, f));
                }
                (Res::Func(f), self.fn_type(f))
            }
            Some((Binding::Var(d), true, _)) => {
                if self.ctx.id.is_some() {
                    if let Some(Some(info)) = self.decls.get_mut(d as usize) {
                        info.used_by_fn = true;
                    }
                }
                (Res::Global(d), self.decl_type(d))
            }
            Some((Binding::Var(d), false, owner)) => {
                if owner != self.ctx.id {
                    if let Some(Some(info)) = self.decls.get_mut(d as usize) {
                        info.captured = true;
                    }
                    self.capture(self.ctx.id, d, owner);
                }
                (Res::Local(d), self.decl_type(d))
            }
            None if self.is_host_fn(name) => self.host_res(name),
            None => match Builtin::from_name(name) {
                Some(b) => (Res::Builtin(b), b.signature().unwrap_or(Type::Unknown)),
                None => {
                    self.error(span, format!("undefined name '{name}'"));
                    (Res::Unresolved, Type::Unknown)
                }
            },
        }
    }

    // ----- captures -----

    /// Records an assignment to variable `decl`.
    pub(super) fn assigned(&mut self, decl: DeclId) {
        if let Some(n) = self.writes.get_mut(decl as usize) {
            *n += 1;
        }
    }

    pub(super) fn writes(&self, decl: DeclId) -> u32 {
        self.writes.get(decl as usize).copied().unwrap_or(0)
    }

    /// Takes back the assignments to `decl` made since it had `before` of them.
    pub(super) fn forget_writes(&mut self, decl: DeclId, before: u32) {
        if let Some(n) = self.writes.get_mut(decl as usize) {
            *n = before;
        }
    }

    /// Records that `decl` was declared by a `let`/`var` statement ending at `end`.
    pub(super) fn declared_by_let(&mut self, decl: DeclId, end: u32) {
        if let Some(at) = self.let_ends.get_mut(decl as usize) {
            *at = Some(end);
        }
    }

    /// Indexed by DeclId: whether closures may capture the variable by copying its
    /// value, which then stays a plain register with no cell. That is when nothing can
    /// tell a copy from a shared cell: no assignment after its initialization, and no
    /// capturing function that could run before it is set (for a `let`/`var`: only
    /// function expressions written after the statement; hoisted named functions
    /// could be called earlier).
    fn copyable_captures(&self) -> Vec<bool> {
        let mut copyable: Vec<bool> = self.writes.iter().map(|&n| n == 0).collect();
        for (f, captures) in self.captures.iter().enumerate() {
            let Some(info) = self.fn_info(f as FnId) else {
                continue;
            };
            for &decl in captures {
                let Some(&Some(end)) = self.let_ends.get(decl as usize) else {
                    continue;
                };
                let after = info.name.is_empty() && info.span.start >= end;
                if !after {
                    if let Some(c) = copyable.get_mut(decl as usize) {
                        *c = false;
                    }
                }
            }
        }
        copyable
    }

    /// Records that function `from` (and every function between it and `owner`, the
    /// function declaring variable `decl`) needs `decl`: each of them must hand it on to
    /// the closures it creates and the functions it calls. Returns whether anything was
    /// new.
    fn capture(&mut self, from: Option<FnId>, decl: DeclId, owner: Option<FnId>) -> bool {
        let mut added = false;
        let mut at = from;
        while let Some(f) = at {
            if Some(f) == owner {
                break;
            }
            if let Some(set) = self.captures.get_mut(f as usize) {
                added |= set.insert(decl);
            }
            at = self.fn_info(f).and_then(|info| info.parent);
        }
        added
    }

    /// Completes the captures: a function referring to a named function needs what that
    /// function captures (it passes those cells when it calls it or makes its closure),
    /// through any chain of references, so this runs to a fixed point.
    fn propagate_captures(&mut self) {
        let refs = std::mem::take(&mut self.fn_refs);
        loop {
            let mut changed = false;
            for &(h, g) in &refs {
                let needed: Vec<DeclId> = self
                    .captures
                    .get(g as usize)
                    .map(|set| set.iter().copied().collect())
                    .unwrap_or_default();
                for decl in needed {
                    let owner = self
                        .decls
                        .get(decl as usize)
                        .and_then(|d| d.as_ref())
                        .and_then(|d| d.owner);
                    changed |= self.capture(Some(h), decl, owner);
                }
            }
            if !changed {
                break;
            }
        }
    }
}
