//! Expressions: names, literals, operators, indexing, array literals.

use super::checker::Checker;
use super::ty::{compat, is_one_of, needs_context, numbers_or_strings};
use crate::span::Span;
use crate::syntax::ast::{BinOp, Expr, ExprKind, Name, Res, UnOp};
use crate::types::Type;

impl Checker {
    /// Checks an expression, sets its `ty` and returns it. `hint` is the type the context
    /// expects, used to type empty array literals; callers compare the result with what
    /// they need themselves.
    pub(super) fn expr(&mut self, e: &mut Expr, hint: Option<&Type>) -> Type {
        let span = e.span;
        let ty = match &mut e.kind {
            ExprKind::Number(_) => Type::Number,
            ExprKind::Str(_) => Type::String,
            ExprKind::Bool(_) => Type::Bool,
            ExprKind::Null => Type::Null,
            ExprKind::Var(name) => self.var(name),
            ExprKind::Array(elems) => self.array(elems, span, hint),
            ExprKind::Map(entries) => self.map_literal(entries, span, hint),
            ExprKind::Unary(op, x) => self.unary(*op, x),
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, span),
            ExprKind::Call(callee, args) => self.call(callee, args, span, hint),
            ExprKind::Index(array, index) => self.index(array, index, span),
            // Its body is checked at the end of the enclosing scope (`body_at_scope_end`).
            ExprKind::Func(f) => {
                if self.fn_info(f.id).is_none() {
                    self.record_fn(f);
                }
                self.fn_type(f.id)
            }
        };
        e.ty = ty.clone();
        ty
    }

    /// Like [`Checker::expr`], for an expression whose value is used: a `void` value is an
    /// error (and gives `Unknown`).
    pub(super) fn value(&mut self, e: &mut Expr, hint: Option<&Type>) -> Type {
        let t = self.expr(e, hint);
        if t == Type::Void {
            self.error(e.span, "void value cannot be used");
            return Type::Unknown;
        }
        t
    }

    fn var(&mut self, name: &mut Name) -> Type {
        let (res, ty) = self.lookup(&name.name, name.span);
        name.res = res;
        if let Res::Builtin(b) = res {
            if b.signature().is_none() {
                self.error(name.span, format!("'{}' can only be called", name.name));
                return Type::Unknown;
            }
        }
        if let Res::Host(_) = res {
            self.error(name.span, format!("'{}' can only be called", name.name));
            return Type::Unknown;
        }
        ty
    }

    fn unary(&mut self, op: UnOp, x: &mut Expr) -> Type {
        let t = self.value(x, None);
        self.unary_result(op, &t, x.span)
    }

    /// The type of a unary operation on an operand of type `t` (reports misuse). Kept
    /// out of [`Checker::unary`] so the recursive path has small stack frames.
    fn unary_result(&mut self, op: UnOp, t: &Type, span: Span) -> Type {
        match op {
            UnOp::Neg => {
                if !is_one_of(t, &[Type::Number]) {
                    self.error(span, format!("operator '-' needs numbers, found {t}"));
                }
                Type::Number
            }
            UnOp::Not => {
                if !is_one_of(t, &[Type::Bool]) {
                    self.error(span, format!("operator '!' needs bools, found {t}"));
                }
                Type::Bool
            }
        }
    }

    fn binary(&mut self, op: BinOp, l: &mut Expr, r: &mut Expr, span: Span) -> Type {
        let equality = matches!(op, BinOp::Eq | BinOp::Ne);
        let (lt, rt) = if equality && needs_context(l) && !needs_context(r) {
            let rt = self.value(r, None);
            let lt = self.value(l, Some(&rt));
            (lt, rt)
        } else {
            let lt = self.value(l, None);
            let rt = self.value(r, if equality { Some(&lt) } else { None });
            (lt, rt)
        };
        self.binary_result(op, (l.span, &lt), (r.span, &rt), span)
    }

    /// The type of a binary operation on operands of types `lt` and `rt` (reports misuse).
    /// Kept out of [`Checker::binary`] so the recursive path has small stack frames.
    fn binary_result(
        &mut self,
        op: BinOp,
        (lspan, lt): (Span, &Type),
        (rspan, rt): (Span, &Type),
        span: Span,
    ) -> Type {
        let sym = op.symbol();
        match op {
            BinOp::Add => {
                match (lt, rt) {
                    (Type::Number, Type::Number) => Type::Number,
                    (Type::String, Type::String) => Type::String,
                    (Type::Unknown, _) | (_, Type::Unknown) => Type::Unknown,
                    _ => {
                        self.error(
                        span,
                        format!("operator '+' needs two numbers or two strings, found {lt} and {rt}"),
                    );
                        Type::Unknown
                    }
                }
            }
            BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod => {
                self.operands(sym, "numbers", &Type::Number, (lspan, lt), (rspan, rt));
                Type::Number
            }
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ok = numbers_or_strings(lt, rt);
                if !ok {
                    self.error(
                        span,
                        format!(
                            "operator '{sym}' needs two numbers or two strings, found {lt} and {rt}"
                        ),
                    );
                }
                Type::Bool
            }
            BinOp::Eq | BinOp::Ne => {
                if !compat(lt, rt) {
                    self.error(
                        span,
                        format!(
                            "operator '{sym}' needs two operands of the same type, found {lt} and {rt}"
                        ),
                    );
                }
                Type::Bool
            }
            BinOp::And | BinOp::Or => {
                self.operands(sym, "bools", &Type::Bool, (lspan, lt), (rspan, rt));
                Type::Bool
            }
        }
    }

    /// Reports the first operand of `sym` whose type is not `want`.
    fn operands(
        &mut self,
        sym: &str,
        plural: &str,
        want: &Type,
        (lspan, lt): (Span, &Type),
        (rspan, rt): (Span, &Type),
    ) {
        for (span, t) in [(lspan, lt), (rspan, rt)] {
            if !is_one_of(t, std::slice::from_ref(want)) {
                self.error(span, format!("operator '{sym}' needs {plural}, found {t}"));
                return;
            }
        }
    }

    /// `array[index]` or `map[key]` (also an assignment target): the element type.
    pub(super) fn index(&mut self, array: &mut Expr, index: &mut Expr, span: Span) -> Type {
        let at = self.value(array, None);
        if let Type::Map(kv) = &at {
            let it = self.value(index, Some(&kv.0));
            if !compat(&kv.0, &it) {
                self.mismatch(index.span, "type mismatch in map key", &kv.0, &it);
            }
            return kv.1.clone();
        }
        let it = self.value(index, Some(&Type::Number));
        self.index_result(&at, (index.span, &it), span)
    }

    /// The element type of indexing a value of type `at` with one of type `it` (reports
    /// misuse). Kept out of [`Checker::index`] so the recursive path has small frames.
    fn index_result(&mut self, at: &Type, (ispan, it): (Span, &Type), span: Span) -> Type {
        let elem = match at {
            Type::Array(e) => (**e).clone(),
            Type::Unknown => Type::Unknown,
            Type::String => {
                self.error(span, "cannot index a string; use charAt");
                Type::Unknown
            }
            other => {
                self.error(
                    span,
                    format!("cannot index a value of type {other}; expected an array or a map"),
                );
                Type::Unknown
            }
        };
        if !is_one_of(it, &[Type::Number]) {
            self.error(
                ispan,
                format!("type mismatch in array index: expected number, found {it}"),
            );
        }
        elem
    }

    /// An array literal. Elements that fix their own type are checked first; the first
    /// one's type is the element type, and the others (including empty literals, which
    /// take it as their expected type) must match it. Without such an element the
    /// element type comes from `hint`.
    fn array(&mut self, elems: &mut [Expr], span: Span, hint: Option<&Type>) -> Type {
        let hint_elem = hint.and_then(elem_hint);
        if elems.iter().all(needs_context) {
            if let Some(t) = self.array_from_context(elems.is_empty(), span, hint) {
                return t;
            }
        }
        let mut base: Option<Type> = None;
        // Elements that fix their own type first, then the empty literals.
        for empties in [false, true] {
            for e in elems.iter_mut() {
                if needs_context(e) == empties {
                    let h = base.as_ref().or(hint_elem.as_ref());
                    let t = self.value(e, h);
                    self.unify_element(&mut base, t, e.span);
                }
            }
        }
        Type::array(base.unwrap_or(Type::Unknown))
    }

    /// Adds an element of type `t` to an array literal whose element type so far is
    /// `base`.
    fn unify_element(&mut self, base: &mut Option<Type>, t: Type, span: Span) {
        self.unify_entry(base, t, span, "array elements must have the same type");
    }

    /// For an array literal whose elements cannot fix its type: its type when the
    /// context decides it (`Some`, after reporting when it cannot), or `None` when the
    /// elements are to be checked with the expected element type.
    fn array_from_context(&mut self, empty: bool, span: Span, hint: Option<&Type>) -> Option<Type> {
        match hint {
            None => {
                self.error(
                    span,
                    "cannot infer the type of an empty array literal; add a type annotation",
                );
                Some(Type::Unknown)
            }
            Some(h @ (Type::Array(_) | Type::Unknown)) => empty.then(|| h.clone()),
            Some(h) => {
                self.error(
                    span,
                    format!("type mismatch: expected {h}, found an array literal"),
                );
                Some(Type::Unknown)
            }
        }
    }

    /// A map literal: keys and values each homogeneous, like array elements (entries
    /// whose value fixes its own type first); `{}` takes its type from `hint`.
    fn map_literal(
        &mut self,
        entries: &mut [(Expr, Expr)],
        span: Span,
        hint: Option<&Type>,
    ) -> Type {
        let (key_hint, value_hint) = match hint {
            Some(Type::Map(kv)) => (Some(kv.0.clone()), Some(kv.1.clone())),
            Some(Type::Unknown) => (Some(Type::Unknown), Some(Type::Unknown)),
            _ => (None, None),
        };
        if entries.is_empty() {
            return self.empty_map(span, hint);
        }
        let (mut key, mut value): (Option<Type>, Option<Type>) = (None, None);
        for empties in [false, true] {
            for (k, v) in entries.iter_mut() {
                if needs_context(v) != empties {
                    continue;
                }
                let kt = self.value(k, key.as_ref().or(key_hint.as_ref()));
                self.unify_entry(&mut key, kt, k.span, "map keys must have the same type");
                let vt = self.value(v, value.as_ref().or(value_hint.as_ref()));
                self.unify_entry(&mut value, vt, v.span, "map values must have the same type");
            }
        }
        let key = key.unwrap_or_default();
        if !is_one_of(&key, &[Type::Number, Type::String, Type::Bool]) {
            self.error(
                entries[0].0.span,
                format!("map keys must be number, string or bool, found {key}"),
            );
        }
        Type::map(key, value.unwrap_or_default())
    }

    /// The type of `{}` where the context expects `hint`.
    fn empty_map(&mut self, span: Span, hint: Option<&Type>) -> Type {
        match hint {
            None => {
                self.error(
                    span,
                    "cannot infer the type of an empty map literal; add a type annotation",
                );
                Type::Unknown
            }
            Some(h @ (Type::Map(_) | Type::Unknown)) => h.clone(),
            Some(h) => {
                self.error(
                    span,
                    format!("type mismatch: expected {h}, found a map literal"),
                );
                Type::Unknown
            }
        }
    }

    /// Adds a key or value of type `t` to a map literal whose key or value type so far
    /// is `base`.
    fn unify_entry(&mut self, base: &mut Option<Type>, t: Type, span: Span, what: &str) {
        match base {
            None | Some(Type::Unknown) => *base = Some(t),
            Some(b) => {
                if !compat(b, &t) {
                    self.mismatch(span, what, b, &t);
                }
            }
        }
    }

    /// Reports "`what`: expected `expected`, found `found`" at `span`.
    pub(super) fn mismatch(&mut self, span: Span, what: &str, expected: &Type, found: &Type) {
        self.error(span, format!("{what}: expected {expected}, found {found}"));
    }
}

/// The expected element type of an array literal whose expected type is `hint`.
fn elem_hint(hint: &Type) -> Option<Type> {
    match hint {
        Type::Array(e) => Some((**e).clone()),
        Type::Unknown => Some(Type::Unknown),
        _ => None,
    }
}
