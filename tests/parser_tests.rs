//! Lexer and parser tests: precedence, every statement kind, spans, declaration numbering,
//! error messages, deep nesting and the lexical corner cases of LANGUAGE.md.

use atlas::diag::CompileError;
use atlas::span::Span;
use atlas::syntax::ast::{
    Block, Expr, ExprKind, FnDecl, LValue, Program, Res, Stmt, TypeAnn, UnOp,
};
use atlas::syntax::lexer::{lex, TokenKind};
use atlas::syntax::parser::{parse, MAX_NESTING};
use atlas::types::Type;
use rstest::rstest;

// ---- An S-expression printer for the tree ---------------------------------------------

fn sexpr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Number(n) => format!("{n}"),
        ExprKind::Str(s) => format!("{s:?}"),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Null => "null".to_owned(),
        ExprKind::Var(name) => name.name.clone(),
        ExprKind::Array(items) => list("array", items.iter().map(sexpr)),
        ExprKind::Map(entries) => list(
            "map",
            entries
                .iter()
                .map(|(k, v)| format!("({} {})", sexpr(k), sexpr(v))),
        ),
        ExprKind::Unary(op, operand) => {
            let op = match op {
                UnOp::Neg => "neg",
                UnOp::Not => "not",
            };
            format!("({op} {})", sexpr(operand))
        }
        ExprKind::Binary(op, l, r) => format!("({} {} {})", op.symbol(), sexpr(l), sexpr(r)),
        ExprKind::Call(callee, args) => list(
            "call",
            std::iter::once(sexpr(callee)).chain(args.iter().map(sexpr)),
        ),
        ExprKind::Index(a, i) => format!("(index {} {})", sexpr(a), sexpr(i)),
        ExprKind::Func(f) => function("lambda", f),
    }
}

fn list(head: &str, items: impl Iterator<Item = String>) -> String {
    let mut out = format!("({head}");
    for item in items {
        out.push(' ');
        out.push_str(&item);
    }
    out.push(')');
    out
}

fn ty(t: &TypeAnn) -> String {
    match t {
        TypeAnn::Named(name, _) => name.clone(),
        TypeAnn::Array(elem, _) => format!("{}[]", ty(elem)),
        TypeAnn::Func(params, ret, _) => {
            let params: Vec<String> = params.iter().map(ty).collect();
            format!("(fn ({}) {})", params.join(" "), ty(ret))
        }
        TypeAnn::Map(key, value, _) => format!("(map {} {})", ty(key), ty(value)),
    }
}

/// `(HEAD (p:T ...) R (block ...))`: a declaration (`fn name`) or an expression (`lambda`).
fn function(head: &str, f: &FnDecl) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| format!("{}:{}", p.name, ty(&p.ty)))
        .collect();
    format!(
        "({head} ({}) {} {})",
        params.join(" "),
        ty(&f.ret),
        block(&f.body)
    )
}

fn block(b: &Block) -> String {
    list("block", b.stmts.iter().map(stmt))
}

fn opt_stmt(s: &Option<Box<Stmt>>) -> String {
    s.as_deref().map_or("_".to_owned(), stmt)
}

fn stmt(s: &Stmt) -> String {
    match s {
        Stmt::Let {
            mutable,
            name,
            ann,
            init,
            ..
        } => {
            let keyword = if *mutable { "var" } else { "let" };
            let ann = ann
                .as_ref()
                .map_or(String::new(), |t| format!(":{}", ty(t)));
            format!("({keyword} {name}{ann} {})", sexpr(init))
        }
        Stmt::Fn(f) => function(&format!("fn {}", f.name), f),
        Stmt::Expr(e) => sexpr(e),
        Stmt::Assign {
            target, op, value, ..
        } => {
            let op = op.map_or("=".to_owned(), |op| format!("{}=", op.symbol()));
            let target = match target {
                LValue::Var(name) => name.name.clone(),
                LValue::Index { array, index, .. } => {
                    format!("(index {} {})", sexpr(array), sexpr(index))
                }
            };
            format!("({op} {target} {})", sexpr(value))
        }
        Stmt::IncDec { target, inc, .. } => {
            format!("({} {})", if *inc { "++" } else { "--" }, target.name)
        }
        Stmt::If {
            cond, then, els, ..
        } => match els {
            Some(els) => format!("(if {} {} {})", sexpr(cond), block(then), stmt(els)),
            None => format!("(if {} {})", sexpr(cond), block(then)),
        },
        Stmt::While { cond, body, .. } => format!("(while {} {})", sexpr(cond), block(body)),
        Stmt::For {
            init,
            cond,
            step,
            body,
            ..
        } => format!(
            "(for {} {} {} {})",
            opt_stmt(init),
            cond.as_ref().map_or("_".to_owned(), sexpr),
            opt_stmt(step),
            block(body)
        ),
        Stmt::ForIn {
            name, iter, body, ..
        } => format!("(for-in {name} {} {})", sexpr(iter), block(body)),
        Stmt::Break(_) => "break".to_owned(),
        Stmt::Continue(_) => "continue".to_owned(),
        Stmt::Return(None, _) => "(return)".to_owned(),
        Stmt::Return(Some(e), _) => format!("(return {})", sexpr(e)),
        Stmt::Block(b) => block(b),
    }
}

fn program(p: &Program) -> String {
    p.stmts.iter().map(stmt).collect::<Vec<_>>().join(" ")
}

// ---- Helpers ------------------------------------------------------------------------------

fn parse_ok(source: &str) -> Program {
    parse(source).unwrap_or_else(|e| panic!("{source:?} failed: {e:?}"))
}

fn parse_err(source: &str) -> CompileError {
    match parse(source) {
        Ok(p) => panic!("{source:?} parsed: {}", program(&p)),
        Err(e) => e,
    }
}

/// The single expression statement of `source`.
fn only_expr(source: &str) -> Expr {
    let mut p = parse_ok(source);
    assert_eq!(p.stmts.len(), 1, "{source:?}");
    match p.stmts.pop() {
        Some(Stmt::Expr(e)) => e,
        other => panic!("not an expression statement: {other:?}"),
    }
}

fn text(source: &str, span: Span) -> &str {
    &source[span.start as usize..span.end as usize]
}

// ---- Precedence ---------------------------------------------------------------------------

#[rstest]
#[case("1 + 2 * 3", "(+ 1 (* 2 3))")]
#[case("1 * 2 + 3", "(+ (* 1 2) 3)")]
#[case("1 - 2 - 3", "(- (- 1 2) 3)")]
#[case("1 / 2 / 3", "(/ (/ 1 2) 3)")]
#[case("1 % 2 * 3", "(* (% 1 2) 3)")]
#[case("1 + 2 - 3 + 4", "(+ (- (+ 1 2) 3) 4)")]
#[case("-1 * 2", "(* (neg 1) 2)")]
#[case("-x[1]", "(neg (index x 1))")]
#[case("-f(1)", "(neg (call f 1))")]
#[case("!a && b", "(&& (not a) b)")]
#[case("a || b && c", "(|| a (&& b c))")]
#[case("a && b || c", "(|| (&& a b) c)")]
#[case("a || b || c", "(|| (|| a b) c)")]
#[case("a && b && c", "(&& (&& a b) c)")]
#[case("a == b < c", "(== a (< b c))")]
#[case("a < b == c < d", "(== (< a b) (< c d))")]
#[case("a != b == c", "(== (!= a b) c)")]
#[case("a < b < c", "(< (< a b) c)")]
#[case("1 + 2 < 3 * 4", "(< (+ 1 2) (* 3 4))")]
#[case("a <= b && c >= d || e > f", "(|| (&& (<= a b) (>= c d)) (> e f))")]
#[case("a == b && c != d", "(&& (== a b) (!= c d))")]
#[case("(1 + 2) * 3", "(* (+ 1 2) 3)")]
#[case("((a))", "a")]
#[case("f(a)(b)[c]", "(index (call (call f a) b) c)")]
#[case("xs[i][j]", "(index (index xs i) j)")]
#[case("f()", "(call f)")]
#[case("f(1, a + b, g(2))", "(call f 1 (+ a b) (call g 2))")]
#[case("[1, [2, 3], []]", "(array 1 (array 2 3) (array))")]
#[case("[1, 2][0]", "(index (array 1 2) 0)")]
#[case("- -1", "(neg (neg 1))")]
#[case("--1", "(neg (neg 1))")]
#[case("---1", "(neg (neg (neg 1)))")]
#[case("--(1 + x)", "(neg (neg (+ 1 x)))")]
#[case("!!true", "(not (not true))")]
#[case("!-x", "(not (neg x))")]
#[case("a - -b", "(- a (neg b))")]
#[case("a- -b", "(- a (neg b))")]
#[case("\"s\" + 1.5", "(+ \"s\" 1.5)")]
#[case("null == false", "(== null false)")]
#[case("1e3 + 0.5", "(+ 1000 0.5)")]
#[case("f(x)[0] * -y % 3", "(% (* (index (call f x) 0) (neg y)) 3)")]
#[case("{}", "(map)")]
#[case("{1: 2}", "(map (1 2))")]
#[case(
    "{\"a\": [1], b + 1: f(x)}",
    "(map (\"a\" (array 1)) ((+ b 1) (call f x)))"
)]
#[case("{k: {}}[k][j]", "(index (index (map (k (map))) k) j)")]
#[case("-{1: 2}[1]", "(neg (index (map (1 2)) 1))")]
#[case("fn () -> void {}", "(lambda () void (block))")]
#[case(
    "fn (x: number, s: string) -> number { return x; }",
    "(lambda (x:number s:string) number (block (return x)))"
)]
#[case(
    "(fn (x: number) -> number { return x; })(3)",
    "(call (lambda (x:number) number (block (return x))) 3)"
)]
#[case(
    "f(fn (a: number) -> bool { return a > 0; }, 1)",
    "(call f (lambda (a:number) bool (block (return (> a 0)))) 1)"
)]
#[case(
    "{1: fn () -> number { return 1; }}",
    "(map (1 (lambda () number (block (return 1)))))"
)]
fn precedence(#[case] source: &str, #[case] expected: &str) {
    // As an initializer: at the start of a statement `--` would be a decrement.
    let p = parse_ok(&format!("let e = {source};"));
    let Stmt::Let { init, .. } = &p.stmts[0] else {
        panic!()
    };
    assert_eq!(sexpr(init), expected);
}

// ---- Statements ---------------------------------------------------------------------------

#[rstest]
#[case("let x = 1;", "(let x 1)")]
#[case("var x = 1;", "(var x 1)")]
#[case("let x: number = 1;", "(let x:number 1)")]
#[case("let xs: number[][] = [];", "(let xs:number[][] (array))")]
#[case("let xs: Array<number> = [];", "(let xs:number[] (array))")]
#[case("let xs: Array<Array<number>> = [];", "(let xs:number[][] (array))")]
#[case("let xs: Array<Array<number>>= [];", "(let xs:number[][] (array))")]
#[case("let xs: Array<number[]>[] = [];", "(let xs:number[][][] (array))")]
#[case(
    "let f: (number, string) -> bool = g;",
    "(let f:(fn (number string) bool) g)"
)]
#[case("let f: () -> void = g;", "(let f:(fn () void) g)")]
#[case("let f: (number) -> number[] = g;", "(let f:(fn (number) number[]) g)")]
#[case(
    "let f: ((number) -> number)[] = g;",
    "(let f:(fn (number) number)[] g)"
)]
#[case(
    "let f: (number) -> (number) -> bool = g;",
    "(let f:(fn (number) (fn (number) bool)) g)"
)]
#[case("let n: null = null;", "(let n:null null)")]
#[case("let s: (string) = \"\";", "(let s:string \"\")")]
#[case(
    "fn add(a: number, b: number) -> number { return a + b; }",
    "(fn add (a:number b:number) number (block (return (+ a b))))"
)]
#[case("fn f() -> void { return; }", "(fn f () void (block (return)))")]
#[case(
    "fn apply(f: (number) -> number, xs: number[]) -> number[] { }",
    "(fn apply (f:(fn (number) number) xs:number[]) number[] (block))"
)]
#[case("print(x);", "(call print x)")]
#[case("1 + 2;", "(+ 1 2)")]
#[case("x = 1;", "(= x 1)")]
#[case("xs[i] = e;", "(= (index xs i) e)")]
#[case("a[i][j] = 1;", "(= (index (index a i) j) 1)")]
#[case("f(x)[0] = 1;", "(= (index (call f x) 0) 1)")]
#[case("(x) = 1;", "(= x 1)")]
#[case("x += 1;", "(+= x 1)")]
#[case("x -= 1;", "(-= x 1)")]
#[case("x *= 2;", "(*= x 2)")]
#[case("x /= 2;", "(/= x 2)")]
#[case("x %= 2;", "(%= x 2)")]
#[case("xs[0] += \"a\";", "(+= (index xs 0) \"a\")")]
#[case("x++;", "(++ x)")]
#[case("x--;", "(-- x)")]
#[case("++x;", "(++ x)")]
#[case("--x;", "(-- x)")]
#[case("if (c) { a(); }", "(if c (block (call a)))")]
#[case("if (c) { } else { b(); }", "(if c (block) (block (call b)))")]
#[case(
    "if (a) { } else if (b) { } else { }",
    "(if a (block) (if b (block) (block)))"
)]
#[case(
    "if (a) { } else if (b) { } else if (c) { }",
    "(if a (block) (if b (block) (if c (block))))"
)]
#[case("while (x < 10) { x++; }", "(while (< x 10) (block (++ x)))")]
#[case(
    "for (var i = 0; i < 10; i++) { }",
    "(for (var i 0) (< i 10) (++ i) (block))"
)]
#[case(
    "for (let i: number = 0; i < 1; ) { }",
    "(for (let i:number 0) (< i 1) _ (block))"
)]
#[case("for (;;) { break; }", "(for _ _ _ (block break))")]
#[case("for (i = 0; ; i += 2) { }", "(for (= i 0) _ (+= i 2) (block))")]
#[case("for (f(); g(); ++i) { }", "(for (call f) (call g) (++ i) (block))")]
#[case(
    "for (xs[0] = 1; ; xs[0] -= 1) { }",
    "(for (= (index xs 0) 1) _ (-= (index xs 0) 1) (block))"
)]
#[case("for x in xs { continue; }", "(for-in x xs (block continue))")]
#[case("for x in [1, 2] { }", "(for-in x (array 1 2) (block))")]
#[case("for x in f(y) { }", "(for-in x (call f y) (block))")]
#[case(
    "while (true) { break; continue; }",
    "(while true (block break continue))"
)]
#[case("return;", "(return)")]
#[case("return x * 2;", "(return (* x 2))")]
#[case("{ }", "(block)")]
#[case(
    "let m: map<string, number[]> = {};",
    "(let m:(map string number[]) (map))"
)]
#[case(
    "let m: map<number, map<bool, string>> = {};",
    "(let m:(map number (map bool string)) (map))"
)]
#[case("f({});", "(call f (map))")]
#[case("m[k] += {1: 2}[1];", "(+= (index m k) (index (map (1 2)) 1))")]
#[case("{ let x = 1; { x; } }", "(block (let x 1) (block x))")]
#[case(
    "fn outer() -> void { fn inner() -> number { return 1; } }",
    "(fn outer () void (block (fn inner () number (block (return 1)))))"
)]
#[case("", "")]
#[case("// only a comment", "")]
#[case("let a = 1; /* c */ let b = 2; // d", "(let a 1) (let b 2)")]
fn statements(#[case] source: &str, #[case] expected: &str) {
    assert_eq!(program(&parse_ok(source)), expected);
}

#[test]
fn expressions_are_untyped_and_names_unresolved() {
    let p = parse_ok("let x = f(y) + [z][0];");
    let Stmt::Let { init, .. } = &p.stmts[0] else {
        panic!()
    };
    fn walk(e: &Expr) {
        assert_eq!(e.ty, Type::Unknown);
        match &e.kind {
            ExprKind::Var(name) => assert_eq!(name.res, Res::Unresolved),
            ExprKind::Binary(_, l, r) | ExprKind::Index(l, r) => {
                walk(l);
                walk(r);
            }
            ExprKind::Call(c, args) => {
                walk(c);
                args.iter().for_each(walk);
            }
            ExprKind::Array(items) => items.iter().for_each(walk),
            ExprKind::Unary(_, e) => walk(e),
            _ => {}
        }
    }
    walk(init);
}

// ---- Spans --------------------------------------------------------------------------------

#[test]
fn let_spans_include_the_semicolon() {
    let source = "let x: number = 1 + 2;";
    let p = parse_ok(source);
    let Stmt::Let {
        name_span,
        ann,
        init,
        span,
        ..
    } = &p.stmts[0]
    else {
        panic!()
    };
    assert_eq!(text(source, *span), source);
    assert_eq!(text(source, *name_span), "x");
    assert_eq!(text(source, ann.as_ref().unwrap().span()), "number");
    assert_eq!(text(source, init.span), "1 + 2");
}

#[rstest]
#[case("f(a, b);", "f(a, b)")]
#[case("(1 + 2) * 3;", "(1 + 2) * 3")]
#[case("  xs[i][j] ;", "xs[i][j]")]
#[case("-x;", "-x")]
#[case("(--1);", "(--1)")]
#[case("[1, 2];", "[1, 2]")]
#[case("((a));", "((a))")]
#[case("\"a\\n\";", "\"a\\n\"")]
fn expression_spans(#[case] source: &str, #[case] expected: &str) {
    let e = only_expr(source);
    assert_eq!(text(source, e.span), expected);
}

#[test]
fn nested_expression_spans() {
    let source = "(1 + 2) * f(x)[0];";
    let e = only_expr(source);
    let ExprKind::Binary(_, l, r) = &e.kind else {
        panic!()
    };
    assert_eq!(text(source, l.span), "(1 + 2)");
    assert_eq!(text(source, r.span), "f(x)[0]");
    let ExprKind::Index(call, index) = &r.kind else {
        panic!()
    };
    assert_eq!(text(source, call.span), "f(x)");
    assert_eq!(text(source, index.span), "0");
    let ExprKind::Binary(_, one, two) = &l.kind else {
        panic!()
    };
    assert_eq!(text(source, one.span), "1");
    assert_eq!(text(source, two.span), "2");
}

#[rstest]
#[case("x = 1;")]
#[case("(x) = 1;")]
#[case("xs[i] += 2;")]
#[case("x++;")]
#[case("--x;")]
#[case("return 1;")]
#[case("return;")]
#[case("break;")]
#[case("continue;")]
#[case("if (a) { } else if (b) { } else { }")]
#[case("while (a) { b(); }")]
#[case("for (var i = 0; i < 3; i++) { }")]
#[case("for x in xs { }")]
#[case("{ x; }")]
#[case("fn f(a: number) -> void { }")]
fn statement_spans_cover_the_statement(#[case] source: &str) {
    let p = parse_ok(&format!("  {source}  "));
    assert_eq!(p.stmts.len(), 1);
    let span = p.stmts[0].span();
    assert_eq!(span, Span::new(2, 2 + source.len() as u32));
}

#[test]
fn assignment_and_function_spans() {
    let source = "xs[i] = 1; fn f(a: number, b: string[]) -> void { }";
    let p = parse_ok(source);
    let Stmt::Assign { target, .. } = &p.stmts[0] else {
        panic!()
    };
    let LValue::Index { span, .. } = target else {
        panic!()
    };
    assert_eq!(text(source, *span), "xs[i]");
    let Stmt::Fn(f) = &p.stmts[1] else { panic!() };
    assert_eq!(text(source, f.name_span), "f");
    assert_eq!(text(source, f.params[0].span), "a: number");
    assert_eq!(text(source, f.params[1].span), "b: string[]");
    assert_eq!(text(source, f.params[1].ty.span()), "string[]");
    assert_eq!(text(source, f.ret.span()), "void");
    assert_eq!(text(source, f.body.span), "{ }");
}

#[test]
fn for_init_span_excludes_the_separator() {
    let source = "for (var i = 0; i < 3; i += 1) { }";
    let p = parse_ok(source);
    let Stmt::For {
        init: Some(init),
        step: Some(step),
        ..
    } = &p.stmts[0]
    else {
        panic!()
    };
    assert_eq!(text(source, init.span()), "var i = 0");
    assert_eq!(text(source, step.span()), "i += 1");
}

#[rstest]
#[case("let x: Array<Array<number>> = [];", "Array<Array<number>>")]
#[case("let x: Array<Array<number>>= [];", "Array<Array<number>>")]
#[case("let x: ((number) -> number)[] = [];", "((number) -> number)[]")]
#[case("let x: (number) = 1;", "(number)")]
#[case("let x: () -> void = f;", "() -> void")]
fn type_spans(#[case] source: &str, #[case] expected: &str) {
    let p = parse_ok(source);
    let Stmt::Let { ann: Some(ann), .. } = &p.stmts[0] else {
        panic!()
    };
    assert_eq!(text(source, ann.span()), expected);
}

// ---- Declaration numbering ----------------------------------------------------------------

#[test]
fn decl_and_fn_ids_in_source_order() {
    let source = "
        let a = 1;
        fn f(p: number, q: number) -> void {
            var b = p;
            fn g() -> void { for x in xs { } }
        }
        for (var i = 0; i < 1; i++) { let c = i; }
        fn h(r: number) -> void { }
    ";
    let p = parse_ok(source);
    let mut decls = Vec::new();
    let mut fns = Vec::new();
    collect_ids(&p.stmts, &mut decls, &mut fns);
    let expected_decls: Vec<(String, u32)> = ["a", "p", "q", "b", "x", "i", "c", "r"]
        .iter()
        .enumerate()
        .map(|(i, n)| (n.to_string(), i as u32))
        .collect();
    assert_eq!(decls, expected_decls);
    let expected_fns: Vec<(String, u32)> = ["f", "g", "h"]
        .iter()
        .enumerate()
        .map(|(i, n)| (n.to_string(), i as u32))
        .collect();
    assert_eq!(fns, expected_fns);
    assert_eq!(p.decl_count, 8);
    assert_eq!(p.fn_count, 3);
}

fn collect_ids(stmts: &[Stmt], decls: &mut Vec<(String, u32)>, fns: &mut Vec<(String, u32)>) {
    for s in stmts {
        match s {
            Stmt::Let { decl, name, .. } => decls.push((name.clone(), *decl)),
            Stmt::Fn(f) => {
                fns.push((f.name.clone(), f.id));
                for p in &f.params {
                    decls.push((p.name.clone(), p.decl));
                }
                collect_ids(&f.body.stmts, decls, fns);
            }
            Stmt::ForIn {
                decl, name, body, ..
            } => {
                decls.push((name.clone(), *decl));
                collect_ids(&body.stmts, decls, fns);
            }
            Stmt::For { init, body, .. } => {
                if let Some(init) = init {
                    collect_ids(std::slice::from_ref(init), decls, fns);
                }
                collect_ids(&body.stmts, decls, fns);
            }
            Stmt::While { body, .. } | Stmt::Block(body) => collect_ids(&body.stmts, decls, fns),
            Stmt::If { then, els, .. } => {
                collect_ids(&then.stmts, decls, fns);
                if let Some(els) = els {
                    collect_ids(std::slice::from_ref(els), decls, fns);
                }
            }
            _ => {}
        }
    }
}

#[test]
fn empty_program_has_no_ids() {
    let p = parse_ok("");
    assert_eq!((p.decl_count, p.fn_count), (0, 0));
}

// ---- Lexer --------------------------------------------------------------------------------

#[rstest]
#[case("42", 42.0)]
#[case("2.75", 2.75)]
#[case("0.5", 0.5)]
#[case("1e10", 1e10)]
#[case("1.5e-3", 1.5e-3)]
#[case("1E5", 1e5)]
#[case("2e+3", 2e3)]
#[case("007", 7.0)]
#[case("0", 0.0)]
#[case("123456789012345678901234567890", 123456789012345678901234567890.0)]
fn number_literals(#[case] source: &str, #[case] expected: f64) {
    let tokens = lex(source).unwrap();
    assert_eq!(tokens[0].kind, TokenKind::Number(expected));
    assert_eq!(tokens[0].span, Span::new(0, source.len() as u32));
    assert_eq!(tokens[1].kind, TokenKind::Eof);
}

#[rstest]
#[case("1e999")]
#[case("1e400")]
#[case("2e308")]
fn too_large_literal_is_infinity(#[case] source: &str) {
    let e = only_expr(&format!("{source};"));
    assert!(matches!(e.kind, ExprKind::Number(n) if n == f64::INFINITY));
}

#[test]
fn huge_digit_string_is_infinity() {
    let source = format!("1{};", "0".repeat(400));
    let e = only_expr(&source);
    assert!(matches!(e.kind, ExprKind::Number(n) if n == f64::INFINITY));
}

#[rstest]
#[case(r#""plain""#, "plain")]
#[case(r#""""#, "")]
#[case(r#""a\"b""#, "a\"b")]
#[case(r#""a\\b""#, "a\\b")]
#[case(r#""\n\r\t\0""#, "\n\r\t\0")]
#[case(r#""\u{1F600}""#, "\u{1F600}")]
#[case(r#""\u{41}\u{e9}""#, "Aé")]
#[case(r#""\u{10FFFF}""#, "\u{10FFFF}")]
#[case("\"héllo wörld ✓\"", "héllo wörld ✓")]
#[case("\"two\nlines\"", "two\nlines")]
#[case("\"crlf\r\nline\"", "crlf\nline")]
#[case("\"// not a comment\"", "// not a comment")]
fn string_literals(#[case] source: &str, #[case] expected: &str) {
    let tokens = lex(source).unwrap();
    assert_eq!(tokens[0].kind, TokenKind::Str(expected.to_owned()));
    assert_eq!(tokens[0].span, Span::new(0, source.len() as u32));
}

#[test]
fn keywords_identifiers_and_operators() {
    use TokenKind::*;
    let tokens = lex(
        "let var fn if else while for in return break continue true false null \
         _x1 letter ( ) { } [ ] , ; : -> + - * / % = += -= *= /= %= ++ -- == != < <= > >= \
         && || !",
    )
    .unwrap();
    let kinds: Vec<TokenKind> = tokens.into_iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        vec![
            Let,
            Var,
            Fn,
            If,
            Else,
            While,
            For,
            In,
            Return,
            Break,
            Continue,
            True,
            False,
            Null,
            Ident("_x1".into()),
            Ident("letter".into()),
            LParen,
            RParen,
            LBrace,
            RBrace,
            LBracket,
            RBracket,
            Comma,
            Semi,
            Colon,
            Arrow,
            Plus,
            Minus,
            Star,
            Slash,
            Percent,
            Assign,
            PlusAssign,
            MinusAssign,
            StarAssign,
            SlashAssign,
            PercentAssign,
            PlusPlus,
            MinusMinus,
            EqEq,
            NotEq,
            Lt,
            Le,
            Gt,
            Ge,
            AndAnd,
            OrOr,
            Bang,
            Eof,
        ]
    );
}

#[test]
fn closing_angles_are_separate_tokens() {
    let kinds: Vec<TokenKind> = lex("Array<Array<number>>")
        .unwrap()
        .into_iter()
        .map(|t| t.kind)
        .collect();
    assert_eq!(kinds[5..], [TokenKind::Gt, TokenKind::Gt, TokenKind::Eof]);
}

#[test]
fn comments_are_skipped() {
    let tokens = lex("a // one\n/* two\n * */ b /**/ c //").unwrap();
    let kinds: Vec<TokenKind> = tokens.into_iter().map(|t| t.kind).collect();
    assert_eq!(
        kinds,
        vec![
            TokenKind::Ident("a".into()),
            TokenKind::Ident("b".into()),
            TokenKind::Ident("c".into()),
            TokenKind::Eof
        ]
    );
}

#[test]
fn bom_is_skipped_and_spans_stay_byte_offsets() {
    let source = "\u{feff}let x = 1;";
    let p = parse_ok(source);
    assert_eq!(p.stmts[0].span(), Span::new(3, source.len() as u32));
    assert_eq!(program(&p), "(let x 1)");
}

#[test]
fn crlf_line_endings() {
    let source = "let x = 1;\r\nif (x == 1) {\r\n    print(\"a\r\nb\");\r\n}\r\n// end\r\n";
    let p = parse_ok(source);
    assert_eq!(
        program(&p),
        "(let x 1) (if (== x 1) (block (call print \"a\\nb\")))"
    );
}

// ---- Errors -------------------------------------------------------------------------------

#[rstest]
#[case("\"abc", "unterminated string", (0, 1))]
#[case("let s = \"abc\\", "unterminated string", (8, 9))]
#[case("x; /* abc", "unterminated block comment", (3, 5))]
#[case(r#""\q""#, r"invalid escape '\q'", (1, 3))]
#[case("\"a\\\nb\"", r"invalid escape '\' at end of line", (2, 3))]
#[case(r#""ok\x41""#, r"invalid escape '\x'", (3, 5))]
#[case(r#""\'""#, r"invalid escape '\''", (1, 3))]
#[case("\"\\é\"", r"invalid escape '\é'", (1, 4))]
#[case(r#""\u{110000}""#, "invalid unicode escape", (1, 11))]
#[case(r#""\u{D800}""#, "invalid unicode escape", (1, 9))]
#[case(r#""\u{}""#, "invalid unicode escape", (1, 5))]
#[case(r#""\u{1234567}""#, "invalid unicode escape", (1, 12))]
#[case(r#""\u1234""#, "invalid unicode escape", (1, 3))]
#[case(r#""\u{12g}""#, "invalid unicode escape", (1, 6))]
#[case("let x = #;", "unexpected character '#'", (8, 9))]
#[case("x & y;", "unexpected character '&'", (2, 3))]
#[case("x | y;", "unexpected character '|'", (2, 3))]
#[case("let é = 1;", "unexpected character 'é'", (4, 6))]
#[case("x.y;", "unexpected character '.'", (1, 2))]
#[case("12abc;", "invalid number literal '12abc'", (0, 5))]
#[case("1.;", "invalid number literal '1.'", (0, 2))]
#[case("1.x;", "invalid number literal '1.x'", (0, 3))]
#[case("1e;", "invalid number literal '1e'", (0, 2))]
#[case("1e5_;", "invalid number literal '1e5_'", (0, 4))]
fn lexer_errors(#[case] source: &str, #[case] message: &str, #[case] span: (u32, u32)) {
    let e = parse_err(source);
    assert_eq!(e.message, message, "{source:?}");
    assert_eq!(e.span, Span::new(span.0, span.1), "{source:?}");
}

#[rstest]
#[case("1 + 2 }", "expected ';' after expression, found '}'", "}")]
#[case("f(1;", "expected ',' or ')' after argument, found ';'", ";")]
#[case("f(1,);", "expected expression, found ')'", ")")]
#[case("let x = [1, 2,];", "expected expression, found ']'", "]")]
#[case(
    "let x = [1, 2;",
    "expected ',' or ']' after array element, found ';'",
    ";"
)]
#[case("xs[1;", "expected ']' after index, found ';'", ";")]
#[case("(1 + 2;", "expected ')' to close '(', found ';'", ";")]
#[case("1 +;", "expected expression, found ';'", ";")]
#[case(
    "let x = 1",
    "expected ';' after variable declaration, found end of file",
    ""
)]
#[case(
    "let x = \"a\" \"b\";",
    "expected ';' after variable declaration, found string",
    "\"b\""
)]
#[case(
    "let x = 1 2;",
    "expected ';' after variable declaration, found number",
    "2"
)]
#[case("x = 1 }", "expected ';' after assignment, found '}'", "}")]
#[case("x++ y;", "expected ';' after increment, found identifier 'y'", "y")]
#[case("x = y = 1;", "expected ';' after assignment, found '='", "=")]
#[case(
    "let y = x++;",
    "expected ';' after variable declaration, found '++'",
    "++"
)]
#[case(
    "let y = ++x;",
    "++ and -- are statements, not operators inside expressions",
    "++"
)]
#[case(
    "let y = --x;",
    "++ and -- are statements, not operators inside expressions",
    "--"
)]
#[case(
    "f(--xs[0]);",
    "++ and -- are statements, not operators inside expressions",
    "--"
)]
#[case("xs[1]++;", "++ and -- apply to variables only", "xs[1]")]
#[case("++xs[1];", "++ and -- apply to variables only", "xs[1]")]
#[case("f()--;", "++ and -- apply to variables only", "f()")]
#[case("++1;", "++ and -- apply to variables only", "1")]
#[case("for (;; xs[0]--) { }", "++ and -- apply to variables only", "xs[0]")]
#[case("f() = 1;", "invalid assignment target", "f()")]
#[case("1 += 1;", "invalid assignment target", "1")]
#[case("a + b = 1;", "invalid assignment target", "a + b")]
#[case("if x { }", "expected '(' after 'if', found identifier 'x'", "x")]
#[case("if (x { }", "expected ')' after if condition, found '{'", "{")]
#[case(
    "if (x) y;",
    "expected '{' after if condition, found identifier 'y'",
    "y"
)]
#[case(
    "if (a) { } else x;",
    "expected '{' or 'if' after 'else', found identifier 'x'",
    "x"
)]
#[case("while x { }", "expected '(' after 'while', found identifier 'x'", "x")]
#[case(
    "while (x) y;",
    "expected '{' after while condition, found identifier 'y'",
    "y"
)]
#[case("let x;", "expected ':' or '=' after variable name, found ';'", ";")]
#[case("let x: number;", "expected '=' after type annotation, found ';'", ";")]
#[case("let 1 = 2;", "expected variable name after 'let', found number", "1")]
#[case(
    "var while = 2;",
    "expected variable name after 'var', found 'while'",
    "while"
)]
#[case("let x: = 1;", "expected type, found '='", "=")]
#[case("let x: number[ = 1;", "expected ']' in array type, found '='", "=")]
#[case(
    "let x: Array<number = 1;",
    "expected '>' to close 'Array<', found '='",
    "="
)]
#[case(
    "let x: map<string, number = 1;",
    "expected '>' to close 'map<', found '='",
    "="
)]
#[case(
    "let x: map<string> = 1;",
    "expected ',' between the key and value types of 'map<', found '>'",
    ">"
)]
#[case(
    "let x: map string = 1;",
    "expected '<' after 'map', found identifier 'string'",
    "string"
)]
#[case("let m = {1 2};", "expected ':' after a map key, found number", "2")]
#[case("let m = {1: 2,};", "expected expression, found '}'", "}")]
#[case(
    "let y = fn (x: number) -> number { return x; }(3);",
    "a function expression is called only in parentheses: (fn ... { ... })(...)",
    "("
)]
#[case(
    "let f = fn x() -> void {};",
    "expected '(' after 'fn' in a function expression, found identifier 'x'",
    "x"
)]
#[case(
    "let f = fn () {};",
    "expected '->' and a return type after the parameters, found '{'",
    "{"
)]
#[case(
    "let m = {1: 2;",
    "expected ',' or '}' after map entry, found ';'",
    ";"
)]
#[case(
    "let x: Array number = 1;",
    "expected '<' after 'Array', found identifier 'number'",
    "number"
)]
#[case(
    "let x: (number, string) = 1;",
    "expected '->' after function type parameters, found '='",
    "="
)]
#[case(
    "let x: () = 1;",
    "expected '->' after function type parameters, found '='",
    "="
)]
#[case(
    "let x: (number; = 1;",
    "expected ',' or ')' after parameter type, found ';'",
    ";"
)]
#[case(
    "fn (a: number) -> void { }",
    "expected function name after 'fn', found '('",
    "("
)]
#[case(
    "fn f a: number) -> void { }",
    "expected '(' after function name, found identifier 'a'",
    "a"
)]
#[case(
    "fn f(a) -> void { }",
    "expected ':' and a type after parameter name, found ')'",
    ")"
)]
#[case(
    "fn f(a: number) { }",
    "expected '->' and a return type after the parameters, found '{'",
    "{"
)]
#[case(
    "fn f(a: number,) -> void { }",
    "expected parameter name, found ')'",
    ")"
)]
#[case(
    "fn f(a: number b: number) -> void { }",
    "expected ',' or ')' after parameter, found identifier 'b'",
    "b"
)]
#[case(
    "fn f() -> void;",
    "expected '{' before the function body, found ';'",
    ";"
)]
#[case("fn f() -> { }", "expected type, found '{'", "{")]
#[case(";", "expected statement, found ';'", ";")]
#[case("/* /* */ */", "expected statement, found '*'", "*")]
#[case("x;;", "expected statement, found ';'", ";")]
#[case("else { }", "expected statement, found 'else'", "else")]
#[case("}", "expected statement, found '}'", "}")]
#[case(
    "{ let x = 1;",
    "expected '}' to close the block, found end of file",
    ""
)]
#[case(
    "for x of xs { }",
    "expected 'in' after loop variable, found identifier 'of'",
    "of"
)]
#[case("for x in xs;", "expected '{' after for-in expression, found ';'", ";")]
#[case(
    "for { }",
    "expected '(' or a loop variable after 'for', found '{'",
    "{"
)]
#[case(
    "for (var i = 0, i < 3; i++) { }",
    "expected ';' after for initializer, found ','",
    ","
)]
#[case(
    "for (var i = 0; i < 3) { }",
    "expected ';' after for condition, found ')'",
    ")"
)]
#[case(
    "for (var i = 0; i < 3; i++; ) { }",
    "expected ')' after for clauses, found ';'",
    ";"
)]
#[case(
    "for (;;) x;",
    "expected '{' after for clauses, found identifier 'x'",
    "x"
)]
#[case("for (;; let i = 0) { }", "expected expression, found 'let'", "let")]
#[case("return 1", "expected ';' after return value, found end of file", "")]
#[case("return }", "expected expression, found '}'", "}")]
#[case("break", "expected ';' after 'break', found end of file", "")]
#[case("continue }", "expected ';' after 'continue', found '}'", "}")]
#[case("let x = ; \"unterminated", "expected expression, found ';'", ";")]
#[case("x = 1 -> 2;", "expected ';' after assignment, found '->'", "->")]
fn parser_errors(#[case] source: &str, #[case] message: &str, #[case] found: &str) {
    let e = parse_err(source);
    assert_eq!(e.message, message, "{source:?}");
    assert_eq!(text(source, e.span), found, "{source:?}");
}

#[test]
fn eof_error_span_is_at_the_end() {
    let source = "let x = 1";
    let e = parse_err(source);
    let end = source.len() as u32;
    assert_eq!(e.span, Span::new(end, end));
}

// ---- Deep nesting -------------------------------------------------------------------------

/// Stack for the deep-nesting tests: half the usual 8 MB main-thread stack, so passing
/// shows the parser fits in a main thread with room to spare even in a debug build.
const TEST_STACK: usize = 4 << 20;

/// Parses (and drops the tree) on a thread with a [`TEST_STACK`] stack.
fn parse_on_small_stack(source: String) -> Result<(), CompileError> {
    std::thread::Builder::new()
        .stack_size(TEST_STACK)
        .spawn(move || parse(&source).map(drop))
        .expect("spawn")
        .join()
        .expect("parser thread panicked")
}

fn deep(kind: &str, n: usize) -> String {
    match kind {
        "parens" => format!("let x = {}1{};", "(".repeat(n), ")".repeat(n)),
        "blocks" => format!("{}{}", "{".repeat(n), "}".repeat(n)),
        "minus" => format!("let x = {}1;", "-".repeat(n)),
        "spaced minus" => format!("let x = {}1;", "- ".repeat(n)),
        "not" => format!("let x = {}true;", "!".repeat(n)),
        "arrays" => format!("let x = {}1{};", "[".repeat(n), "]".repeat(n)),
        "calls" => format!("f{};", "(".repeat(n)),
        "call chain" => format!("f{};", "()".repeat(n)),
        "indexes" => format!("let x = {}0{};", "a[".repeat(n), "]".repeat(n)),
        "index chain" => format!("let x = a{};", "[0]".repeat(n)),
        "sum" => format!("let x = 1{};", " + 1".repeat(n)),
        "right sum" => format!("let x = {}1{};", "1 + (".repeat(n), ")".repeat(n)),
        "types" => format!("let x: {}number{} = 1;", "(".repeat(n), ")".repeat(n)),
        "array types" => format!("let x: number{} = 1;", "[]".repeat(n)),
        "generic types" => format!("let x: {}number{} = 1;", "Array<".repeat(n), ">".repeat(n)),
        "fn types" => format!("let x: {}number = 1;", "() -> ".repeat(n)),
        "else ifs" => format!("if (a) {{ }}{}", " else if (a) { }".repeat(n)),
        "whiles" => format!("{}{}", "while (a) {".repeat(n), "}".repeat(n)),
        "fns" => format!("{}{}", "fn f() -> void {".repeat(n), "}".repeat(n)),
        "fors" => format!("{}{}", "for x in xs {".repeat(n), "}".repeat(n)),
        "ifs" => format!("{}{}", "if (a) {".repeat(n), "}".repeat(n)),
        _ => unreachable!("{kind}"),
    }
}

#[rstest]
fn deep_nesting_is_an_error_not_a_crash(
    #[values(
        "parens",
        "blocks",
        "minus",
        "spaced minus",
        "not",
        "arrays",
        "calls",
        "call chain",
        "indexes",
        "index chain",
        "sum",
        "right sum",
        "types",
        "array types",
        "generic types",
        "fn types",
        "else ifs",
        "whiles",
        "fns",
        "fors",
        "ifs"
    )]
    kind: &str,
) {
    let e = parse_on_small_stack(deep(kind, 100_000)).expect_err(kind);
    assert_eq!(e.message, format!("nesting too deep (limit {MAX_NESTING})"));
}

#[rstest]
fn moderate_nesting_parses(
    #[values(
        "parens",
        "blocks",
        "minus",
        "not",
        "arrays",
        "indexes",
        "index chain",
        "sum",
        "right sum",
        "types",
        "array types",
        "generic types",
        "else ifs",
        "whiles",
        "fns",
        "ifs"
    )]
    kind: &str,
) {
    let result = parse_on_small_stack(deep(kind, 400));
    assert!(result.is_ok(), "{kind}: {:?}", result.err());
}

#[test]
fn limit_is_exact_for_parentheses() {
    // The statement and its expression take two levels; each `(` one more.
    let n = MAX_NESTING as usize - 2;
    assert!(parse_on_small_stack(deep("parens", n)).is_ok());
    assert!(parse_on_small_stack(deep("parens", n + 1)).is_err());
}

#[test]
fn error_points_at_the_token_that_nests_too_deep() {
    let source = deep("parens", 100_000);
    let e = parse_on_small_stack(source.clone()).unwrap_err();
    assert_eq!(text(&source, e.span), "(");
    assert!(e.span.start < 8 + MAX_NESTING, "{:?}", e.span);
}

// ---- Whole programs -----------------------------------------------------------------------

#[test]
fn language_md_example_parses() {
    let source = r#"
fn fib(n: number) -> number {
    if (n < 2) {
        return n;
    }
    return fib(n - 1) + fib(n - 2);
}

let xs: number[] = [];
for (var i = 0; i < 10; i++) {
    push(xs, fib(i));
}
print(xs);                       // [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]
print(filter(xs, isEven));

fn isEven(n: number) -> bool {
    return n % 2 == 0;
}
"#;
    let p = parse_ok(source);
    assert_eq!(p.stmts.len(), 6);
    assert_eq!((p.decl_count, p.fn_count), (4, 2));
}

/// The benchmark programs next to the project (`../shared/bench/*.at`), when present.
#[test]
fn benchmark_programs_parse() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("note: ../shared/bench is absent; its programs were not parsed");
        return;
    };
    for entry in entries {
        let path = entry.expect("directory entry").path();
        if path.extension().is_some_and(|ext| ext == "at") {
            let source = std::fs::read_to_string(&path).expect("readable");
            if let Err(e) = parse(&source) {
                panic!("{}: {e:?}", path.display());
            }
        }
    }
}
