//! "Returns on every path" (LANGUAGE.md, "Precise rules"): a body returns when it ends
//! in `return`, in a block or an `if`/`else` whose branches all return, or in
//! `while (true)` / `for (;;)` with no `break` of its own.

use crate::syntax::ast::{Block, Expr, ExprKind, Stmt};

/// Whether the block's last statement returns on every path.
pub(super) fn block_returns(block: &Block) -> bool {
    block.stmts.last().is_some_and(stmt_returns)
}

fn stmt_returns(stmt: &Stmt) -> bool {
    match stmt {
        Stmt::Return(..) => true,
        Stmt::Block(b) => block_returns(b),
        Stmt::If {
            then,
            els: Some(els),
            ..
        } => block_returns(then) && stmt_returns(els),
        Stmt::While { cond, body, .. } => is_true(cond) && !has_own_break(&body.stmts),
        Stmt::For { cond, body, .. } => {
            cond.as_ref().is_none_or(is_true) && !has_own_break(&body.stmts)
        }
        _ => false,
    }
}

fn is_true(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Bool(true))
}

/// Whether a `break` in `stmts` leaves the loop whose body they are (breaks of nested
/// loops and of nested functions do not count).
fn has_own_break(stmts: &[Stmt]) -> bool {
    stmts.iter().any(|s| match s {
        Stmt::Break(_) => true,
        Stmt::Block(b) => has_own_break(&b.stmts),
        Stmt::If { then, els, .. } => {
            has_own_break(&then.stmts)
                || els
                    .as_deref()
                    .is_some_and(|e| has_own_break(std::slice::from_ref(e)))
        }
        _ => false,
    })
}
