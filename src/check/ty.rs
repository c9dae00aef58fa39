//! Type annotations and type compatibility.

use super::checker::Checker;
use crate::syntax::ast::{Expr, ExprKind, TypeAnn};
use crate::types::Type;

/// Whether a value of type `found` may be used where `expected` is wanted: structural
/// equality, with `Unknown` (the poison type after an error) matching anything.
pub(super) fn compat(expected: &Type, found: &Type) -> bool {
    match (expected, found) {
        (Type::Unknown, _) | (_, Type::Unknown) => true,
        (Type::Array(a), Type::Array(b)) => compat(a, b),
        (Type::Map(a), Type::Map(b)) => compat(&a.0, &b.0) && compat(&a.1, &b.1),
        (Type::Func(f), Type::Func(g)) => {
            f.params.len() == g.params.len()
                && f.params.iter().zip(&g.params).all(|(a, b)| compat(a, b))
                && compat(&f.ret, &g.ret)
        }
        _ => expected == found,
    }
}

/// Whether `a` and `b` are two numbers or two strings (or one of them is `Unknown`).
pub(super) fn numbers_or_strings(a: &Type, b: &Type) -> bool {
    matches!(
        (a, b),
        (Type::Unknown, _)
            | (_, Type::Unknown)
            | (Type::Number, Type::Number)
            | (Type::String, Type::String)
    )
}

/// Whether `t` is `Unknown` or one of `wanted`.
pub(super) fn is_one_of(t: &Type, wanted: &[Type]) -> bool {
    *t == Type::Unknown || wanted.contains(t)
}

/// Whether an expression is an array or map literal whose type cannot be worked out from
/// its own elements (`[]`, `[[]]`, `[[], []]`, `{}`, `{"a": []}`): it needs an expected
/// type from context.
pub(super) fn needs_context(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Array(elems) => elems.iter().all(needs_context),
        ExprKind::Map(entries) => entries.iter().all(|(_, value)| needs_context(value)),
        _ => false,
    }
}

impl Checker {
    /// Resolves a written type. `void` is accepted only when `allow_void` (return types).
    /// Errors are reported and give `Unknown`.
    pub(super) fn resolve_ann(&mut self, ann: &TypeAnn, allow_void: bool) -> Type {
        match ann {
            TypeAnn::Named(name, span) => match name.as_str() {
                "number" => Type::Number,
                "string" => Type::String,
                "bool" => Type::Bool,
                "null" => Type::Null,
                "void" if allow_void => Type::Void,
                "void" => {
                    self.error(*span, "'void' can only be used as a return type");
                    Type::Unknown
                }
                _ => {
                    self.error(*span, format!("unknown type '{name}'"));
                    Type::Unknown
                }
            },
            TypeAnn::Array(elem, _) => Type::array(self.resolve_ann(elem, false)),
            TypeAnn::Map(key, value, _) => {
                let k = self.resolve_ann(key, false);
                if !is_one_of(&k, &[Type::Number, Type::String, Type::Bool]) {
                    self.error(
                        key.span(),
                        format!("map keys must be number, string or bool, found {k}"),
                    );
                }
                Type::map(k, self.resolve_ann(value, false))
            }
            TypeAnn::Func(params, ret, _) => {
                let params = params.iter().map(|p| self.resolve_ann(p, false)).collect();
                let ret = self.resolve_ann(ret, true);
                Type::func(params, ret)
            }
        }
    }
}
