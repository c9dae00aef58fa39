//! Finding the functions a block contains (declarations and function expressions), so
//! their bodies can be checked once every name of the block is bound: a function body
//! sees its whole enclosing block (LANGUAGE.md, version 2).

use crate::syntax::ast::{Expr, ExprKind, FnDecl, LValue, Stmt};

/// Calls `visit` on each function declared or written in `stmts`, but not on functions
/// inside those functions' bodies. `deep: false` stays in the block itself: nested
/// blocks and the header of a C-style `for` (which has a scope of its own) are left to
/// the scopes that check them; `deep: true` covers everything.
pub(super) fn each_fn(stmts: &mut [Stmt], deep: bool, visit: &mut dyn FnMut(&mut FnDecl)) {
    for stmt in stmts {
        match stmt {
            Stmt::Fn(f) => visit(f),
            Stmt::Let { init: e, .. } | Stmt::Expr(e) | Stmt::Return(Some(e), _) => {
                in_expr(e, visit)
            }
            Stmt::Assign { target, value, .. } => {
                if let LValue::Index { array, index, .. } = target {
                    in_expr(array, visit);
                    in_expr(index, visit);
                }
                in_expr(value, visit);
            }
            Stmt::If {
                cond, then, els, ..
            } => {
                in_expr(cond, visit);
                if deep {
                    each_fn(&mut then.stmts, deep, visit);
                }
                // An `else if` condition belongs to this block's scope; an `else { }`
                // block is entered only when deep.
                if let Some(els) = els {
                    each_fn(std::slice::from_mut(&mut **els), deep, visit);
                }
            }
            Stmt::While { cond, body, .. } => {
                in_expr(cond, visit);
                if deep {
                    each_fn(&mut body.stmts, deep, visit);
                }
            }
            Stmt::ForIn { iter, body, .. } => {
                in_expr(iter, visit);
                if deep {
                    each_fn(&mut body.stmts, deep, visit);
                }
            }
            Stmt::For {
                init,
                cond,
                step,
                body,
                ..
            } => {
                if deep {
                    for_header(
                        init.as_deref_mut(),
                        cond.as_mut(),
                        step.as_deref_mut(),
                        visit,
                    );
                    each_fn(&mut body.stmts, deep, visit);
                }
            }
            Stmt::Block(block) => {
                if deep {
                    each_fn(&mut block.stmts, deep, visit);
                }
            }
            Stmt::Return(None, _) | Stmt::IncDec { .. } | Stmt::Break(_) | Stmt::Continue(_) => {}
        }
    }
}

/// The functions written in the header of a C-style `for`.
pub(super) fn for_header(
    init: Option<&mut Stmt>,
    cond: Option<&mut Expr>,
    step: Option<&mut Stmt>,
    visit: &mut dyn FnMut(&mut FnDecl),
) {
    for part in [init, step].into_iter().flatten() {
        each_fn(std::slice::from_mut(part), false, visit);
    }
    if let Some(cond) = cond {
        in_expr(cond, visit);
    }
}

fn in_expr(e: &mut Expr, visit: &mut dyn FnMut(&mut FnDecl)) {
    match &mut e.kind {
        ExprKind::Func(f) => visit(f),
        ExprKind::Array(items) => items.iter_mut().for_each(|item| in_expr(item, visit)),
        ExprKind::Map(entries) => {
            for (key, value) in entries {
                in_expr(key, visit);
                in_expr(value, visit);
            }
        }
        ExprKind::Unary(_, operand) => in_expr(operand, visit),
        ExprKind::Binary(_, lhs, rhs) | ExprKind::Index(lhs, rhs) => {
            in_expr(lhs, visit);
            in_expr(rhs, visit);
        }
        ExprKind::Call(callee, args) => {
            in_expr(callee, visit);
            args.iter_mut().for_each(|arg| in_expr(arg, visit));
        }
        ExprKind::Number(_)
        | ExprKind::Str(_)
        | ExprKind::Bool(_)
        | ExprKind::Null
        | ExprKind::Var(_) => {}
    }
}
