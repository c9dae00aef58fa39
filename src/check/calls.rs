//! Calls: of user functions, of values of function type, and of prelude functions
//! (the generic ones are typed by their own rules here).
//!
//! The functions that recurse into arguments keep error formatting in separate helpers,
//! so that the stack frames on the recursive path stay small.

use super::checker::Checker;
use super::ty::{compat, needs_context};
use crate::builtins::Builtin;
use crate::span::Span;
use crate::syntax::ast::{Expr, ExprKind, Res};
use crate::types::{FnType, Type};

/// How messages name a called function.
#[derive(Clone, Copy)]
enum Callee<'a> {
    Named(&'a str),
    Anonymous,
}

impl std::fmt::Display for Callee<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Callee::Named(n) => write!(f, "'{n}'"),
            Callee::Anonymous => f.write_str("the called function"),
        }
    }
}

fn callee_desc(callee: &Expr) -> Callee<'_> {
    match &callee.kind {
        ExprKind::Var(n) => Callee::Named(&n.name),
        _ => Callee::Anonymous,
    }
}

impl Checker {
    /// `callee(args)`: the call's type (`Void` for a void function).
    pub(super) fn call(
        &mut self,
        callee: &mut Expr,
        args: &mut [Expr],
        span: Span,
        hint: Option<&Type>,
    ) -> Type {
        if let Some(b) = self.generic_callee(callee) {
            return self.generic_call(b, callee, args, span, hint);
        }
        let cty = match self.host_callee(callee) {
            Some(ty) => ty,
            None => self.value(callee, None),
        };
        let Type::Func(ft) = cty else {
            self.not_callable(callee, &cty);
            for a in args.iter_mut() {
                self.value(a, None);
            }
            return Type::Unknown;
        };
        if ft.params.len() != args.len() {
            self.arity_error(callee_desc(callee), ft.params.len(), args.len(), span);
        }
        for (i, a) in args.iter_mut().enumerate() {
            let p = ft.params.get(i);
            let t = self.value(a, p);
            if let Some(p) = p {
                self.expect(callee_desc(callee), i + 1, p, &t, a.span);
            }
        }
        ft.ret.clone()
    }

    /// When `callee` names a generic prelude function (not shadowed), resolves it and
    /// returns it.
    fn generic_callee(&mut self, callee: &mut Expr) -> Option<Builtin> {
        let ExprKind::Var(name) = &mut callee.kind else {
            return None;
        };
        if self.in_scope(&name.name) {
            return None;
        }
        let b = Builtin::from_name(&name.name).filter(|b| b.signature().is_none())?;
        name.res = Res::Builtin(b);
        Some(b)
    }

    fn not_callable(&mut self, callee: &Expr, ty: &Type) {
        if *ty == Type::Unknown {
            return;
        }
        let msg = match &callee.kind {
            ExprKind::Var(n) => format!("'{}' is not a function (it has type {ty})", n.name),
            _ => format!("the called expression is not a function (it has type {ty})"),
        };
        self.error(callee.span, msg);
    }

    fn arity_error(&mut self, desc: Callee<'_>, expected: usize, found: usize, span: Span) {
        self.error(
            span,
            format!("wrong number of arguments: {desc} expects {expected}, found {found}"),
        );
    }

    /// Reports argument `n` (1-based) of `desc` when its type `found` is not `expected`.
    fn expect(&mut self, desc: Callee<'_>, n: usize, expected: &Type, found: &Type, span: Span) {
        if compat(expected, found) {
            return;
        }
        self.error(
            span,
            format!("type mismatch in argument {n} of {desc}: expected {expected}, found {found}"),
        );
    }

    /// Reports argument `n` (1-based) of `b` when its type `found` is not `expected`.
    fn expect_arg(&mut self, b: Builtin, n: usize, expected: &Type, found: &Type, span: Span) {
        self.expect(Callee::Named(b.name()), n, expected, found, span);
    }

    /// Reports argument `n` (1-based) of `b` as not of the `expected` kind.
    fn bad_arg(&mut self, b: Builtin, n: usize, expected: &str, found: &Type, span: Span) {
        self.error(
            span,
            format!(
                "type mismatch in argument {n} of '{}': expected {expected}, found {found}",
                b.name()
            ),
        );
    }

    /// The element type of argument `n` (1-based) of prelude function `b`, which must be
    /// an array of type `ty`.
    fn array_arg(&mut self, b: Builtin, n: usize, ty: &Type, span: Span) -> Type {
        match ty {
            Type::Array(e) => (**e).clone(),
            Type::Unknown => Type::Unknown,
            other => {
                self.bad_arg(b, n, "an array", other, span);
                Type::Unknown
            }
        }
    }

    /// A call of a generic prelude function: sets the callee's type to the instantiated
    /// function type and returns the call's type.
    fn generic_call(
        &mut self,
        b: Builtin,
        callee: &mut Expr,
        args: &mut [Expr],
        span: Span,
        hint: Option<&Type>,
    ) -> Type {
        use Builtin::*;
        let arity = match b {
            Print | Str | Len | Pop | Keys | Values => 1,
            Push | Map | Filter | Sort | Concat | Has | Remove => 2,
            Reduce | Slice | Get => 3,
            _ => args.len(),
        };
        let (params, ret) = if args.len() != arity {
            self.arity_error(Callee::Named(b.name()), arity, args.len(), span);
            for a in args.iter_mut() {
                self.value(a, None);
            }
            (Vec::new(), Type::Unknown)
        } else {
            match b {
                Print | Str | Len => self.print_str_len(b, args),
                Pop => self.pop(args, hint),
                Push => self.push(args),
                Concat => self.concat(args, hint),
                Slice => self.slice(args, hint),
                Map | Filter => self.map_filter(b, args),
                Reduce => self.reduce(args, hint),
                Sort => self.sort(args),
                Has | Remove | Get => self.map_lookup(b, args),
                Keys | Values => self.keys_values(b, args),
                _ => {
                    // Not generic: never reached (`generic_callee` only gives generic ones).
                    for a in args.iter_mut() {
                        self.value(a, None);
                    }
                    (Vec::new(), Type::Unknown)
                }
            }
        };
        callee.ty = if ret == Type::Unknown {
            Type::Unknown
        } else {
            Type::func(params, ret.clone())
        };
        ret
    }

    fn print_str_len(&mut self, b: Builtin, args: &mut [Expr]) -> (Vec<Type>, Type) {
        let t = self.value(&mut args[0], None);
        let ret = match b {
            Builtin::Print => Type::Void,
            Builtin::Str => Type::String,
            _ => {
                if !matches!(
                    t,
                    Type::String | Type::Array(_) | Type::Map(_) | Type::Unknown
                ) {
                    self.bad_arg(b, 1, "string, array or map", &t, args[0].span);
                }
                Type::Number
            }
        };
        (vec![t], ret)
    }

    /// The key and value types of argument `n` (1-based) of `b`, which must be a map.
    fn map_arg(&mut self, b: Builtin, n: usize, ty: &Type, span: Span) -> (Type, Type) {
        match ty {
            Type::Map(kv) => (kv.0.clone(), kv.1.clone()),
            Type::Unknown => (Type::Unknown, Type::Unknown),
            other => {
                self.bad_arg(b, n, "a map", other, span);
                (Type::Unknown, Type::Unknown)
            }
        }
    }

    /// `has(m, k)`, `remove(m, k)` and `get(m, k, default)`.
    fn map_lookup(&mut self, b: Builtin, args: &mut [Expr]) -> (Vec<Type>, Type) {
        let mt = self.value(&mut args[0], None);
        let (kt, vt) = self.map_arg(b, 1, &mt, args[0].span);
        let found = self.value(&mut args[1], Some(&kt));
        self.expect_arg(b, 2, &kt, &found, args[1].span);
        if b != Builtin::Get {
            return (vec![mt, kt], Type::Bool);
        }
        let default = self.value(&mut args[2], Some(&vt));
        self.expect_arg(b, 3, &vt, &default, args[2].span);
        let ret = if vt == Type::Unknown { default } else { vt };
        (vec![mt, kt, ret.clone()], ret)
    }

    /// `keys(m)` and `values(m)`.
    fn keys_values(&mut self, b: Builtin, args: &mut [Expr]) -> (Vec<Type>, Type) {
        let mt = self.value(&mut args[0], None);
        let (kt, vt) = self.map_arg(b, 1, &mt, args[0].span);
        let elem = if b == Builtin::Keys { kt } else { vt };
        let ret = if mt == Type::Unknown {
            Type::Unknown
        } else {
            Type::array(elem)
        };
        (vec![mt], ret)
    }

    fn pop(&mut self, args: &mut [Expr], hint: Option<&Type>) -> (Vec<Type>, Type) {
        let h = hint.map(|h| Type::array(h.clone()));
        let t = self.value(&mut args[0], h.as_ref());
        let elem = self.array_arg(Builtin::Pop, 1, &t, args[0].span);
        (vec![t], elem)
    }

    /// Checks two arguments where the second's expected type follows from the first's
    /// type, or, when only the first is an empty array literal without a `first_hint`,
    /// the first's from the second's.
    fn linked_pair(
        &mut self,
        args: &mut [Expr],
        first_hint: Option<&Type>,
        second_hint: fn(&Type) -> Option<Type>,
        first_from_second: fn(&Type) -> Type,
    ) -> (Type, Type) {
        let [a, b] = args else {
            return (Type::Unknown, Type::Unknown);
        };
        if needs_context(a) && first_hint.is_none() && !needs_context(b) {
            let bt = self.value(b, None);
            let at = self.value(a, Some(&first_from_second(&bt)));
            (at, bt)
        } else {
            let at = self.value(a, first_hint);
            let h = second_hint(&at);
            let bt = self.value(b, h.as_ref());
            (at, bt)
        }
    }

    fn push(&mut self, args: &mut [Expr]) -> (Vec<Type>, Type) {
        let (xt, vt) = self.linked_pair(
            args,
            None,
            |x| x.elem().cloned(),
            |v| Type::array(v.clone()),
        );
        let elem = self.array_arg(Builtin::Push, 1, &xt, args[0].span);
        self.expect_arg(Builtin::Push, 2, &elem, &vt, args[1].span);
        (vec![Type::array(elem.clone()), elem], Type::Void)
    }

    fn concat(&mut self, args: &mut [Expr], hint: Option<&Type>) -> (Vec<Type>, Type) {
        let arr_hint = array_hint(hint);
        let (at, bt) =
            self.linked_pair(args, arr_hint.as_ref(), |a| Some(a.clone()), |b| b.clone());
        let elem = self.array_arg(Builtin::Concat, 1, &at, args[0].span);
        let arr = Type::array(elem);
        self.expect_arg(Builtin::Concat, 2, &arr, &bt, args[1].span);
        let ret = if at == Type::Unknown { bt } else { arr };
        (vec![ret.clone(), ret.clone()], ret)
    }

    fn slice(&mut self, args: &mut [Expr], hint: Option<&Type>) -> (Vec<Type>, Type) {
        let arr_hint = array_hint(hint);
        let xt = self.value(&mut args[0], arr_hint.as_ref());
        self.array_arg(Builtin::Slice, 1, &xt, args[0].span);
        for (i, a) in args.iter_mut().enumerate().skip(1) {
            let t = self.value(a, Some(&Type::Number));
            self.expect_arg(Builtin::Slice, i + 1, &Type::Number, &t, a.span);
        }
        (vec![xt.clone(), Type::Number, Type::Number], xt)
    }

    fn map_filter(&mut self, b: Builtin, args: &mut [Expr]) -> (Vec<Type>, Type) {
        let xt = self.value(&mut args[0], None);
        let elem = self.array_arg(b, 1, &xt, args[0].span);
        let ft = self.value(&mut args[1], None);
        let ret = self.map_filter_result(b, &xt, &elem, &ft, args[1].span);
        (vec![xt, ft], ret)
    }

    /// The type of `map(xs, f)` / `filter(xs, f)` with `xs: elem[]` (reports a bad `f`).
    fn map_filter_result(
        &mut self,
        b: Builtin,
        xt: &Type,
        elem: &Type,
        ft: &Type,
        span: Span,
    ) -> Type {
        let unary = |f: &FnType| f.params.len() == 1 && compat(&f.params[0], elem);
        match (ft, b) {
            (Type::Unknown, _) => Type::Unknown,
            (Type::Func(f), Builtin::Filter) if unary(f) && compat(&f.ret, &Type::Bool) => {
                xt.clone()
            }
            (Type::Func(f), Builtin::Map) if unary(f) && f.ret != Type::Void => {
                Type::array(f.ret.clone())
            }
            _ => {
                let expected = if b == Builtin::Filter {
                    format!("({elem}) -> bool")
                } else {
                    format!("a function ({elem}) -> T returning a value")
                };
                self.bad_arg(b, 2, &expected, ft, span);
                Type::Unknown
            }
        }
    }

    /// `sort(xs: T[], cmp: (T, T) -> number) -> void`; an empty `[]` takes its type from
    /// the comparator.
    fn sort(&mut self, args: &mut [Expr]) -> (Vec<Type>, Type) {
        let (xt, ft) = self.linked_pair(
            args,
            None,
            |x| {
                let elem = x.elem()?.clone();
                Some(Type::func(vec![elem.clone(), elem], Type::Number))
            },
            |f| match f {
                Type::Func(f) if f.params.len() == 2 => Type::array(f.params[0].clone()),
                _ => Type::Unknown,
            },
        );
        let elem = self.array_arg(Builtin::Sort, 1, &xt, args[0].span);
        let fits = |f: &FnType| {
            f.params.len() == 2
                && f.params.iter().all(|p| compat(p, &elem))
                && compat(&f.ret, &Type::Number)
        };
        match &ft {
            Type::Unknown => {}
            Type::Func(f) if fits(f) => {}
            _ => {
                let expected = format!("({elem}, {elem}) -> number");
                self.bad_arg(Builtin::Sort, 2, &expected, &ft, args[1].span);
            }
        }
        (vec![xt, ft], Type::Void)
    }

    fn reduce(&mut self, args: &mut [Expr], hint: Option<&Type>) -> (Vec<Type>, Type) {
        let xt = self.value(&mut args[0], None);
        let elem = self.array_arg(Builtin::Reduce, 1, &xt, args[0].span);
        let ft = self.value(&mut args[1], None);
        let acc_hint = match &ft {
            Type::Func(f) if f.params.len() == 2 => Some(f.params[0].clone()),
            _ => hint.cloned(),
        };
        let it = self.value(&mut args[2], acc_hint.as_ref());
        let acc = self.reduce_result(&elem, (&ft, args[1].span), (&it, args[2].span));
        (vec![xt, ft, acc.clone()], acc)
    }

    /// The accumulator type of `reduce(xs, f, init)` with `xs: elem[]` (reports a bad `f`
    /// or `init`).
    fn reduce_result(
        &mut self,
        elem: &Type,
        (ft, fspan): (&Type, Span),
        (it, ispan): (&Type, Span),
    ) -> Type {
        let declared_acc = match ft {
            Type::Func(f) if f.params.len() == 2 && f.params[0] != Type::Unknown => {
                Some(f.params[0].clone())
            }
            _ => None,
        };
        match (ft, declared_acc) {
            (Type::Unknown, _) => it.clone(),
            (Type::Func(f), Some(acc)) if compat(&f.params[1], elem) && compat(&f.ret, &acc) => {
                self.expect_arg(Builtin::Reduce, 3, &acc, it, ispan);
                acc
            }
            (_, declared) => {
                let acc = declared.unwrap_or_else(|| it.clone());
                let expected = format!("({acc}, {elem}) -> {acc}");
                self.bad_arg(Builtin::Reduce, 2, &expected, ft, fspan);
                acc
            }
        }
    }
}

/// The expected type of an array argument whose type is the call's type.
fn array_hint(hint: Option<&Type>) -> Option<Type> {
    hint.and_then(|h| match h {
        Type::Array(_) | Type::Unknown => Some(h.clone()),
        _ => None,
    })
}
