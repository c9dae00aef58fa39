//! Unit tests on hand-built syntax trees: inputs as deep as the parser allows.

use super::check;
use crate::span::Span;
use crate::syntax::ast::{BinOp, Block, Expr, ExprKind, FnDecl, Name, Program, Res, Stmt, TypeAnn};
use crate::types::Type;

const DEPTH: usize = 1000;

fn sp() -> Span {
    Span::new(0, 1)
}

fn e(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: sp(),
        ty: Type::Unknown,
    }
}

fn num() -> Expr {
    e(ExprKind::Number(1.0))
}

fn block(stmts: Vec<Stmt>) -> Block {
    Block { stmts, span: sp() }
}

fn let_stmt(decl: u32, init: Expr) -> Stmt {
    Stmt::Let {
        decl,
        mutable: false,
        name: format!("x{decl}"),
        name_span: sp(),
        ann: None,
        init,
        span: sp(),
    }
}

fn program(stmts: Vec<Stmt>, decl_count: u32, fn_count: u32) -> Program {
    Program {
        stmts,
        decl_count,
        fn_count,
    }
}

/// Runs `f` on a thread with a 4 MiB stack (half of a usual main thread's).
fn small_stack(f: impl FnOnce() + Send + 'static) {
    let t = std::thread::Builder::new()
        .stack_size(4 << 20)
        .spawn(f)
        .expect("spawn");
    assert!(t.join().is_ok());
}

#[test]
fn deep_array_literal() {
    small_stack(|| {
        let mut x = num();
        for _ in 0..DEPTH {
            x = e(ExprKind::Array(vec![x]));
        }
        let mut p = program(vec![let_stmt(0, x)], 1, 0);
        let info = check(&mut p).expect("checks");
        assert!(info.decls[0].ty.to_string().starts_with("number[][]"));
        std::mem::forget(p);
    });
}

#[test]
fn deep_empty_array_literal() {
    small_stack(|| {
        let mut x = e(ExprKind::Array(vec![]));
        for _ in 0..DEPTH {
            x = e(ExprKind::Array(vec![x]));
        }
        let mut p = program(vec![let_stmt(0, x)], 1, 0);
        let errs = check(&mut p).expect_err("no context");
        assert_eq!(errs.len(), 1);
        std::mem::forget(p);
    });
}

#[test]
fn deep_binary_and_calls() {
    small_stack(|| {
        let mut x = num();
        for _ in 0..DEPTH {
            x = e(ExprKind::Binary(BinOp::Add, Box::new(x), Box::new(num())));
        }
        let mut y = num();
        for i in 0..DEPTH {
            let callee = e(ExprKind::Var(Name {
                name: if i % 2 == 0 { "sqrt" } else { "pop" }.into(),
                span: sp(),
                res: Res::Unresolved,
            }));
            let arg = if i % 2 == 0 {
                y
            } else {
                e(ExprKind::Array(vec![y]))
            };
            y = e(ExprKind::Call(Box::new(callee), vec![arg]));
        }
        let mut p = program(vec![let_stmt(0, x), let_stmt(1, y)], 2, 0);
        check(&mut p).expect("checks");
        std::mem::forget(p);
    });
}

#[test]
fn deep_blocks_and_ifs() {
    small_stack(|| {
        let mut s = Stmt::Expr(num());
        for i in 0..DEPTH {
            s = if i % 2 == 0 {
                Stmt::Block(block(vec![s]))
            } else {
                Stmt::If {
                    cond: e(ExprKind::Bool(true)),
                    then: block(vec![]),
                    els: Some(Box::new(s)),
                    span: sp(),
                }
            };
        }
        let mut p = program(vec![s], 0, 0);
        check(&mut p).expect("checks");
        std::mem::forget(p);
    });
}

#[test]
fn deep_nested_functions() {
    small_stack(|| {
        let mut body = vec![];
        for id in (0..DEPTH as u32).rev() {
            let f = FnDecl {
                id,
                name: format!("f{id}"),
                name_span: sp(),
                params: vec![],
                ret: TypeAnn::Named("void".into(), sp()),
                body: block(body),
                span: sp(),
            };
            body = vec![Stmt::Fn(Box::new(f))];
        }
        let mut p = program(body, 0, DEPTH as u32);
        let info = check(&mut p).expect("checks");
        assert_eq!(info.fns[5].parent, Some(4));
        std::mem::forget(p);
    });
}

#[test]
fn malformed_ids_do_not_panic() {
    let mut p = program(vec![let_stmt(7, num())], 0, 0);
    let info = check(&mut p).expect("checks");
    assert_eq!(info.decls.len(), 8);
    assert_eq!(info.decls[7].ty, Type::Number);
}
