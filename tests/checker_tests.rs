//! Source-level tests of the type checker (`atlas::check`).

use atlas::builtins::Builtin;
use atlas::check::{check, CheckInfo};
use atlas::diag::CompileError;
use atlas::span::LineIndex;
use atlas::syntax::ast::{Block, Expr, ExprKind, LValue, Name, Program, Res, Stmt};
use atlas::syntax::parser::parse;
use atlas::types::Type;
use rstest::rstest;

// ----- helpers -----

fn run(src: &str) -> Result<(Program, CheckInfo), Vec<CompileError>> {
    let mut program = match parse(src) {
        Ok(p) => p,
        Err(e) => panic!("parse error in test source: {} in {src:?}", e.message),
    };
    check(&mut program).map(|info| (program, info))
}

fn render(src: &str, errs: &[CompileError]) -> String {
    let index = LineIndex::new(src);
    errs.iter()
        .map(|e| {
            let (l, c) = index.line_col(src, e.span.start);
            format!("{l}:{c}: {}", e.message)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn ok(src: &str) -> (Program, CheckInfo) {
    match run(src) {
        Ok(r) => r,
        Err(errs) => panic!("expected success for {src:?}, got:\n{}", render(src, &errs)),
    }
}

fn errors(src: &str) -> Vec<CompileError> {
    match run(src) {
        Ok(_) => panic!("expected a compile error for {src:?}"),
        Err(errs) => errs,
    }
}

/// Everything the checker annotated: every expression's type and every name.
#[derive(Default)]
struct Annotations {
    exprs: Vec<(String, Type)>,
    names: Vec<(String, Res)>,
}

impl Annotations {
    fn of(program: &Program) -> Annotations {
        let mut a = Annotations::default();
        a.stmts(&program.stmts);
        a
    }

    fn stmts(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            self.stmt(s);
        }
    }

    fn block(&mut self, b: &Block) {
        self.stmts(&b.stmts);
    }

    fn name(&mut self, n: &Name) {
        self.names.push((n.name.clone(), n.res));
    }

    fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::Let { init, .. } => self.expr(init),
            Stmt::Fn(f) => self.block(&f.body),
            Stmt::Expr(e) => self.expr(e),
            Stmt::Assign { target, value, .. } => {
                match target {
                    LValue::Var(n) => self.name(n),
                    LValue::Index { array, index, .. } => {
                        self.expr(array);
                        self.expr(index);
                    }
                }
                self.expr(value);
            }
            Stmt::IncDec { target, .. } => self.name(target),
            Stmt::If {
                cond, then, els, ..
            } => {
                self.expr(cond);
                self.block(then);
                if let Some(e) = els {
                    self.stmt(e);
                }
            }
            Stmt::While { cond, body, .. } => {
                self.expr(cond);
                self.block(body);
            }
            Stmt::For {
                init,
                cond,
                step,
                body,
                ..
            } => {
                if let Some(i) = init {
                    self.stmt(i);
                }
                if let Some(c) = cond {
                    self.expr(c);
                }
                if let Some(s) = step {
                    self.stmt(s);
                }
                self.block(body);
            }
            Stmt::ForIn { iter, body, .. } => {
                self.expr(iter);
                self.block(body);
            }
            Stmt::Return(Some(e), _) => self.expr(e),
            Stmt::Return(None, _) | Stmt::Break(_) | Stmt::Continue(_) => {}
            Stmt::Block(b) => self.block(b),
        }
    }

    fn expr(&mut self, e: &Expr) {
        let label = match &e.kind {
            ExprKind::Var(n) => {
                self.name(n);
                n.name.clone()
            }
            ExprKind::Number(n) => n.to_string(),
            ExprKind::Str(s) => format!("{s:?}"),
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Null => "null".into(),
            ExprKind::Array(elems) => {
                elems.iter().for_each(|x| self.expr(x));
                format!("[#{}]", elems.len())
            }
            ExprKind::Map(entries) => {
                for (k, v) in entries {
                    self.expr(k);
                    self.expr(v);
                }
                format!("{{#{}}}", entries.len())
            }
            ExprKind::Unary(_, x) => {
                self.expr(x);
                "unary".into()
            }
            ExprKind::Binary(op, l, r) => {
                self.expr(l);
                self.expr(r);
                op.symbol().into()
            }
            ExprKind::Call(c, args) => {
                self.expr(c);
                args.iter().for_each(|x| self.expr(x));
                "call".into()
            }
            ExprKind::Index(a, i) => {
                self.expr(a);
                self.expr(i);
                "index".into()
            }
            ExprKind::Func(f) => {
                self.block(&f.body);
                "fn".into()
            }
        };
        self.exprs.push((label, e.ty.clone()));
    }

    /// The types of the expressions labelled `label`, in post-order.
    fn types_of(&self, label: &str) -> Vec<String> {
        self.exprs
            .iter()
            .filter(|(l, _)| l == label)
            .map(|(_, t)| t.to_string())
            .collect()
    }

    fn res_of(&self, name: &str) -> Vec<Res> {
        self.names
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, r)| *r)
            .collect()
    }
}

fn contains_unknown(t: &Type) -> bool {
    match t {
        Type::Unknown => true,
        Type::Array(e) => contains_unknown(e),
        Type::Func(f) => f.params.iter().any(contains_unknown) || contains_unknown(&f.ret),
        _ => false,
    }
}

fn decl<'a>(info: &'a CheckInfo, name: &str) -> &'a atlas::check::DeclInfo {
    info.decls
        .iter()
        .find(|d| d.name == name)
        .unwrap_or_else(|| panic!("no declaration named {name}"))
}

// ----- programs that must pass -----

const FIB: &str = r#"
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
print(xs);
print(filter(xs, isEven));

fn isEven(n: number) -> bool {
    return n % 2 == 0;
}
"#;

#[rstest]
#[case::language_md_example(FIB)]
#[case::basic("let x = 1; var y = x + 2; y = y * 3; print(y);")]
#[case::outer_until_inner_decl("let x = 1; { print(x + 1); let x = \"s\"; print(x + \"!\"); }")]
#[case::init_reads_outer("let x = 1; { let x = x + 1; print(x); }")]
#[case::body_shadows_param("fn f(x: number) -> number { let x = \"s\"; return len(x); }")]
#[case::hoisting("print(f()); fn f() -> number { return g(); } fn g() -> number { return 1; }")]
#[case::hoisting_in_block(
    "{ print(even(4)); fn even(n: number) -> bool { if (n == 0) { return true; } return odd(n - 1); } fn odd(n: number) -> bool { if (n == 0) { return false; } return even(n - 1); } }"
)]
#[case::fn_reads_later_global("fn f() -> number { return later; } var later = 2; print(f());")]
#[case::fn_writes_later_global("fn set() -> void { counter = 5; } set(); var counter = 0;")]
#[case::shadow_prelude_fn("fn len(x: number) -> number { return x; } print(len(3) + 1);")]
#[case::shadow_prelude_var("let print = 5; str(print);")]
#[case::prelude_before_shadowing_global("print(len(\"ab\")); let len = 5;")]
#[case::empty_array_annotated("let xs: number[] = []; push(xs, 1); let ys: Array<string> = [];")]
#[case::empty_among_elements(
    "let a = [[], [1]]; let b: number[][] = [[]]; print(len(a) + len(b));"
)]
#[case::empty_from_param_and_return("fn f(xs: number[]) -> number[] { return []; } print(f([]));")]
#[case::empty_from_assignment("var xs: number[][] = []; xs = [[]]; xs[0] = []; push(xs, []);")]
#[case::empty_from_equality("let a: number[] = [1]; print(a == []); print([] == a);")]
#[case::empty_in_concat(
    "let s = slice([1, 2, 3], 0, 2); let c = concat(s, []); let d = concat([], s);"
)]
#[case::null_type("let x = null; let y: null = null; print(x == y);")]
#[case::fixed_builtin_values(
    "let f: (number) -> number = sqrt; print(map([1, 4], sqrt)); print(f(4));"
)]
#[case::higher_order(
    "fn twice(f: (number) -> number, x: number) -> number { return f(f(x)); } fn inc(x: number) -> number { return x + 1; } print(twice(inc, 1));"
)]
#[case::call_through_index("let fs = [sqrt, abs]; print(fs[0](4));")]
#[case::call_result_call("fn mk() -> (number) -> number { return abs; } print(mk()(-1));")]
#[case::fn_var_reassigned(
    "var op = add; op = sub; print(op(1, 2)); fn add(a: number, b: number) -> number { return a + b; } fn sub(a: number, b: number) -> number { return a - b; }"
)]
#[case::compound_ops("var s = \"a\"; s += \"b\"; var n = 1; n += 2; n -= 1; n *= 2; n /= 2; n %= 2; n++; n--; ++n; --n;")]
#[case::compound_elements(
    "var xs = [1, 2]; xs[0] += 1; xs[1] %= 2; let ss = [\"a\"]; ss[0] += \"b\";"
)]
#[case::for_loops("for (var i = 0; i < 3; i++) { print(i); } for (let j = 0; j < 3; ) { break; } for (;;) { break; }")]
#[case::for_in(
    "for x in [1, 2] { print(x + 1); } for s in split(\"a,b\", \",\") { print(s + \"!\"); }"
)]
#[case::for_in_body_shadows("for x in [1] { let x = \"s\"; print(x); }")]
#[case::returns_loops(
    "fn f() -> number { while (true) { } } fn g() -> number { for (;;) { while (true) { break; } } } fn h() -> number { while (true) { for x in [1] { break; } } }"
)]
#[case::returns_if_chain(
    "fn f(b: bool) -> number { if (b) { return 1; } else if (!b) { return 2; } else { return 3; } }"
)]
#[case::returns_block("fn f() -> number { { return 1; } }")]
#[case::returns_break_in_nested_fn(
    "fn f() -> number { while (true) { fn g() -> void { while (true) { break; } } return 1; } }"
)]
#[case::void_fns("fn f() -> void { } fn g() -> void { return; } f(); g();")]
#[case::logic_and_comparison(
    "print(1 < 2 && \"a\" < \"b\" || !true); print(-(1 % 2)); print(\"a\" >= \"b\");"
)]
#[case::equality_kinds(
    "print([1] == [1]); print(sqrt == sqrt); print(null != null); print(\"a\" == \"b\");"
)]
#[case::reduce_number(
    "print(reduce([1, 2], add, 0)); fn add(a: number, b: number) -> number { return a + b; }"
)]
#[case::reduce_empty_init(
    "fn app(acc: number[], x: number) -> number[] { push(acc, x); return acc; } let r: number[] = reduce([1], app, []);"
)]
#[case::filter_map("fn pos(x: number) -> bool { return x > 0; } let ys = filter([1, -1], pos); let zs = map(ys, sqrt);")]
#[case::pop_and_str(
    "let p = pop([\"a\"]); print(p + \"b\"); print(str(1) + str([1]) + str(null));"
)]
#[case::len_kinds("print(len(\"abc\") + len([1]) + len([[1]]));")]
#[case::string_builtins(
    "print(join(split(\"a,b\", \",\"), \"-\")); print(charAt(\"ab\", 0)); print(clock() > 0);"
)]
#[case::nested_fn_sees_globals_and_fns(
    "let g = 1; fn outer() -> number { fn inner() -> number { return g + outer2() + outer(); } return inner(); } fn outer2() -> number { return 0; }"
)]
#[case::block_fn_sees_block_fns("{ let x = 1; fn f() -> number { return h(); } fn h() -> number { return 2; } print(f() + x); }")]
#[case::params_assignable("fn f(x: number) -> number { x = x + 1; x += 1; x++; return x; }")]
#[case::continue_in_loop("while (false) { continue; } for x in [1] { if (x > 0) { continue; } }")]
#[case::void_fn_value("fn f() -> void { print(1); } let g: () -> void = f; g();")]
#[case::sibling_scopes("{ let x = 1; } { let x = \"a\"; }")]
#[case::expression_statements("1 + 2; [1]; sqrt;")]
#[case::nested_empty_array_hint("let e: number[][][] = [[[]], []];")]
#[case::global_shadowed_in_block_fn_ok(
    "let x = 1; { fn f() -> number { return x; } let x = 2; print(f() + x); }"
)]
#[case::fn_array_literal(
    "fn a(x: number) -> number { return x; } let fs = [a, sqrt]; print(fs[1](2));"
)]
#[case::return_empty_array_nested("fn f() -> number[][] { return [[], [2]]; }")]
#[case::parenthesized_true_loop("fn f() -> number { while ((true)) { } }")]
#[case::map_literal_and_index("let m = {\"a\": 1}; print(m[\"a\"] + len(m));")]
#[case::map_empty_from_annotation(
    "let m: map<bool, string[]> = {true: []}; let e: map<number, number> = {};"
)]
#[case::map_empty_from_assignment(
    "var m: map<string, map<string, number>> = {}; m = {}; m[\"x\"] = {}; m[\"x\"][\"y\"] += 1;"
)]
#[case::map_empty_from_push("var ms: map<string, number>[] = []; push(ms, {}); ms[0] = {};")]
#[case::map_empty_from_param_and_return(
    "fn f(m: map<string, number>) -> map<number, bool> { return {}; } print(f({}));"
)]
#[case::map_empty_among_entries("print({\"a\": {}, \"b\": {1: true}});")]
#[case::map_prelude("var m = {1: \"a\"}; print(has(m, 1) && remove(m, 2)); print(get(m, 3, \"d\") + join(values(m), \"\")); print(keys(m)[0] + 1);")]
#[case::map_get_empty_default("let m: map<string, number[]> = {}; print(get(m, \"a\", []));")]
#[case::map_for_in_keys("for k in {\"a\": true} { print(k + \"!\"); }")]
#[case::map_equality("let a = {1: 2}; print(a == a);")]
#[case::map_prelude_fn_still_callable("print(map([1], sqrt)); let m: map<string, number> = {};")]
fn passes(#[case] src: &str) {
    let (program, _info) = ok(src);
    let ann = Annotations::of(&program);
    for (label, ty) in &ann.exprs {
        assert!(
            !contains_unknown(ty),
            "expression {label} has type {ty} after a successful check of {src:?}"
        );
    }
    for (name, res) in &ann.names {
        assert_ne!(*res, Res::Unresolved, "name {name} unresolved in {src:?}");
    }
}

// ----- programs that must fail -----

#[rstest]
#[case::undefined("print(x);", "undefined name 'x'", 1, 7)]
#[case::use_before_decl("print(x); let x = 1;", "undefined name 'x'", 1, 7)]
#[case::redeclared(
    "let x = 1; let x = 2;",
    "'x' is already declared in this scope",
    1,
    16
)]
#[case::redeclared_fn_after_let(
    "let f = 1; fn f() -> void {}",
    "'f' is already declared in this scope",
    1,
    15
)]
#[case::redeclared_let_after_fn(
    "fn f() -> void {} let f = 1;",
    "'f' is already declared in this scope",
    1,
    23
)]
#[case::duplicate_fns(
    "fn f() -> void {}\nfn f() -> void {}",
    "'f' is already declared in this scope",
    2,
    4
)]
#[case::duplicate_params(
    "fn f(a: number, a: number) -> void {}",
    "'a' is already declared in this scope",
    1,
    17
)]
#[case::unknown_type("let x: foo = 1;", "unknown type 'foo'", 1, 8)]
#[case::unknown_type_nested("let t: Array<foo> = [];", "unknown type 'foo'", 1, 14)]
#[case::unknown_return_type("fn f() -> bar { }", "unknown type 'bar'", 1, 11)]
#[case::void_variable(
    "let x: void = print(1);",
    "'void' can only be used as a return type",
    1,
    8
)]
#[case::void_param(
    "fn f(x: void) -> void {}",
    "'void' can only be used as a return type",
    1,
    9
)]
#[case::void_param_in_fn_type(
    "let x: (void) -> number = sqrt;",
    "'void' can only be used as a return type",
    1,
    9
)]
#[case::void_let("fn f() -> void {} let x = f();", "void value cannot be used", 1, 27)]
#[case::void_print("fn f() -> void {} print(f());", "void value cannot be used", 1, 25)]
#[case::void_return(
    "fn f() -> void {} fn g() -> void { return f(); }",
    "void value cannot be used",
    1,
    43
)]
#[case::void_operand(
    "let x = 1 + f(); fn f() -> void {}",
    "void value cannot be used",
    1,
    13
)]
#[case::void_element("let xs = [print(1)];", "void value cannot be used", 1, 11)]
#[case::void_argument(
    "fn f() -> void {} print(sqrt(f()));",
    "void value cannot be used",
    1,
    30
)]
#[case::empty_array_no_context(
    "let xs = [];",
    "cannot infer the type of an empty array literal",
    1,
    10
)]
#[case::nested_empty_no_context(
    "print([[]]);",
    "cannot infer the type of an empty array literal",
    1,
    7
)]
#[case::empty_array_wrong_context("let xs: number[] = [[]];", "expected number", 1, 21)]
#[case::assign_let(
    "let x = 1; x = 2;",
    "cannot assign to 'x': it is declared with let",
    1,
    12
)]
#[case::assign_let_in_block(
    "let x = 1; { x += 2; }",
    "cannot assign to 'x': it is declared with let",
    1,
    14
)]
#[case::assign_loop_var("for x in [1] { x = 2; }", "cannot assign to loop variable 'x'", 1, 16)]
#[case::assign_fn("fn f() -> void {} f = f;", "cannot assign to function 'f'", 1, 19)]
#[case::assign_prelude("print = 1;", "cannot assign to function 'print'", 1, 1)]
#[case::for_let_step(
    "for (let i = 0; i < 3; i++) {}",
    "cannot assign to 'i': it is declared with let",
    1,
    24
)]
#[case::assign_let_global_from_fn(
    "let f = 1; fn g() -> void { f = 2; }",
    "cannot assign to 'f': it is declared with let",
    1,
    29
)]
#[case::inc_let(
    "let n = 1; n++;",
    "cannot assign to 'n': it is declared with let",
    1,
    12
)]
#[case::add_mixed(
    "print(1 + \"a\");",
    "operator '+' needs two numbers or two strings, found number and string",
    1,
    7
)]
#[case::add_arrays(
    "print([1] + [2]);",
    "operator '+' needs two numbers or two strings, found number[] and number[]",
    1,
    7
)]
#[case::sub_string("print(\"a\" - 1);", "operator '-' needs numbers, found string", 1, 7)]
#[case::mul_bool("print(2 * true);", "operator '*' needs numbers, found bool", 1, 11)]
#[case::neg_string("print(-\"a\");", "operator '-' needs numbers, found string", 1, 8)]
#[case::lt_mixed(
    "print(1 < \"a\");",
    "operator '<' needs two numbers or two strings, found number and string",
    1,
    7
)]
#[case::lt_bools(
    "print(true <= false);",
    "operator '<=' needs two numbers or two strings, found bool and bool",
    1,
    7
)]
#[case::eq_mixed(
    "print(1 == \"a\");",
    "operator '==' needs two operands of the same type, found number and string",
    1,
    7
)]
#[case::ne_null("let x = 1; print(x != null);", "found number and null", 1, 18)]
#[case::and_number("print(1 && true);", "operator '&&' needs bools, found number", 1, 7)]
#[case::or_string(
    "print(false || \"x\");",
    "operator '||' needs bools, found string",
    1,
    16
)]
#[case::not_number("print(!1);", "operator '!' needs bools, found number", 1, 8)]
#[case::if_cond("if (1) {}", "condition must be bool, found number", 1, 5)]
#[case::while_cond("while (\"a\") {}", "condition must be bool, found string", 1, 8)]
#[case::for_cond("for (; 1; ) {}", "condition must be bool, found number", 1, 8)]
#[case::else_if_cond(
    "if (true) {} else if (null) {}",
    "condition must be bool, found null",
    1,
    23
)]
#[case::compound_sub_string(
    "var s = \"a\"; s -= \"b\";",
    "operator '-=' needs numbers, found string",
    1,
    14
)]
#[case::compound_add_mixed(
    "var n = 1; n += \"a\";",
    "operator '+=' needs two numbers or two strings, found number and string",
    1,
    12
)]
#[case::compound_element(
    "var xs = [\"a\"]; xs[0] *= 2;",
    "operator '*=' needs numbers, found string",
    1,
    17
)]
#[case::inc_string(
    "var s = \"a\"; s++;",
    "operator '++' needs numbers, found string",
    1,
    14
)]
#[case::mixed_array(
    "let xs = [1, \"a\"];",
    "array elements must have the same type: expected number, found string",
    1,
    14
)]
#[case::mixed_nested_array(
    "let xs = [[1], [\"a\"]];",
    "array elements must have the same type: expected number[], found string[]",
    1,
    16
)]
#[case::index_string(
    "let s = \"abc\"; print(s[0]);",
    "cannot index a string; use charAt",
    1,
    22
)]
#[case::index_with_string(
    "let xs = [1]; print(xs[\"a\"]);",
    "expected number, found string",
    1,
    24
)]
#[case::index_number(
    "let n = 1; print(n[0]);",
    "cannot index a value of type number",
    1,
    18
)]
#[case::too_many_args(
    "fn f(a: number, b: number) -> number { return a; }\nf(1, 2, 3);",
    "wrong number of arguments: 'f' expects 2, found 3",
    2,
    1
)]
#[case::too_few_args(
    "fn f() -> number { return 1; } print(f(1));",
    "wrong number of arguments: 'f' expects 0, found 1",
    1,
    38
)]
#[case::arg_type(
    "fn f(a: number) -> number { return a; } f(\"x\");",
    "type mismatch in argument 1 of 'f': expected number, found string",
    1,
    43
)]
#[case::arg_type_second(
    "fn f(a: number, b: string) -> void {} f(1, 2);",
    "type mismatch in argument 2 of 'f': expected string, found number",
    1,
    44
)]
#[case::arg_type_fixed_builtin(
    "let s = sqrt(\"a\");",
    "type mismatch in argument 1 of 'sqrt': expected number, found string",
    1,
    14
)]
#[case::arg_type_fn_variable(
    "let g: (number) -> number = sqrt; g(true);",
    "type mismatch in argument 1 of 'g': expected number, found bool",
    1,
    37
)]
#[case::arg_type_fn_value(
    "let fs = [sqrt]; fs[0](\"a\");",
    "expected number, found string",
    1,
    24
)]
#[case::arg_fn_type(
    "fn ap(f: (number) -> number) -> number { return f(1); } print(ap(charAt));",
    "expected (number) -> number, found (string, number) -> string",
    1,
    66
)]
#[case::not_a_function(
    "let x = 1; x(2);",
    "'x' is not a function (it has type number)",
    1,
    12
)]
#[case::generic_as_value("let p = print;", "'print' can only be called", 1, 9)]
#[case::generic_as_argument("print(map([1], str));", "'str' can only be called", 1, 16)]
#[case::generic_arity(
    "print(1, 2);",
    "wrong number of arguments: 'print' expects 1, found 2",
    1,
    1
)]
#[case::return_top_level("return 1;", "return outside of a function", 1, 1)]
#[case::return_type(
    "fn f() -> number { return \"a\"; }",
    "expected number, found string",
    1,
    27
)]
#[case::return_missing_value("fn f() -> number { return; }", "missing return value", 1, 20)]
#[case::return_value_in_void("fn f() -> void { return 1; }", "expected void, found number", 1, 25)]
#[case::return_empty_array_wrong("fn f() -> number { return []; }", "expected number", 1, 27)]
#[case::no_return_if(
    "fn f(b: bool) -> number { if (b) { return 1; } }",
    "function 'f' must return a value of type number on every path",
    1,
    4
)]
#[case::no_return_while_break(
    "fn f() -> number { while (true) { break; } }",
    "must return a value of type number on every path",
    1,
    4
)]
#[case::no_return_for_break_in_if(
    "fn f() -> number { for (;;) { if (true) { break; } } }",
    "must return a value",
    1,
    4
)]
#[case::no_return_while_cond(
    "fn f(b: bool) -> number { while (b) { return 1; } }",
    "must return a value",
    1,
    4
)]
#[case::no_return_empty(
    "fn f() -> string[] { }",
    "function 'f' must return a value of type string[] on every path",
    1,
    4
)]
#[case::no_return_for_in(
    "fn f() -> number { for x in [1] { return x; } }",
    "must return a value",
    1,
    4
)]
#[case::no_return_return_not_last(
    "fn f() -> number { return 1; print(2); }",
    "must return a value",
    1,
    4
)]
#[case::break_outside("break;", "break outside of a loop", 1, 1)]
#[case::continue_outside("fn f() -> void { continue; }", "continue outside of a loop", 1, 18)]
#[case::break_in_fn_in_loop(
    "while (true) { fn f() -> void { break; } }",
    "break outside of a loop",
    1,
    33
)]
#[case::fn_does_not_see_later_block_local(
    "fn g() -> void { print(h); } { let h = 1; }",
    "undefined name 'h'",
    1,
    24
)]
#[case::push_type(
    "let xs = [1]; push(xs, \"a\");",
    "type mismatch in argument 2 of 'push': expected number, found string",
    1,
    24
)]
#[case::push_not_array(
    "push(1, 2);",
    "type mismatch in argument 1 of 'push': expected an array, found number",
    1,
    6
)]
#[case::len_number(
    "print(len(1));",
    "type mismatch in argument 1 of 'len': expected string, array or map, found number",
    1,
    11
)]
#[case::filter_fn(
    "fn f(x: string) -> bool { return true; } print(filter([1], f));",
    "expected (number) -> bool, found (string) -> bool",
    1,
    60
)]
#[case::map_void_fn(
    "fn v(x: number) -> void {} print(map([1], v));",
    "type mismatch in argument 2 of 'map'",
    1,
    43
)]
#[case::reduce_fn("print(reduce([1], sqrt, 0));", "type mismatch in argument 2 of 'reduce': expected (number, number) -> number, found (number) -> number", 1, 19)]
#[case::reduce_init(
    "fn add(a: number, b: number) -> number { return a + b; } print(reduce([1], add, \"\"));",
    "type mismatch in argument 3 of 'reduce': expected number, found string",
    1,
    81
)]
#[case::slice_bound(
    "print(slice([1], \"a\", 2));",
    "type mismatch in argument 2 of 'slice': expected number, found string",
    1,
    18
)]
#[case::concat_mismatch(
    "print(concat([1], [\"a\"]));",
    "type mismatch in argument 2 of 'concat': expected number[], found string[]",
    1,
    19
)]
#[case::for_in_not_array("for x in 5 {}", "for-in needs an array or a map, found number", 1, 10)]
#[case::for_in_string(
    "for c in \"abc\" {}",
    "for-in needs an array or a map, found string",
    1,
    10
)]
#[case::let_annotation_mismatch("let f: (number) -> number = charAt;", "type mismatch in declaration of 'f': expected (number) -> number, found (string, number) -> string", 1, 29)]
#[case::let_array_mismatch(
    "let a: number[] = [\"a\"];",
    "expected number[], found string[]",
    1,
    19
)]
#[case::assign_mismatch(
    "var xs = [1]; xs = [\"a\"];",
    "type mismatch in assignment to 'xs': expected number[], found string[]",
    1,
    20
)]
#[case::assign_element_mismatch(
    "var xs = [1]; xs[0] = \"a\";",
    "expected number, found string",
    1,
    23
)]
#[case::second_line(
    "let x = 1;\nlet y = x + true;",
    "operator '+' needs two numbers or two strings, found number and bool",
    2,
    9
)]
#[case::null_not_number("let x: number = null;", "expected number, found null", 1, 17)]
#[case::map_key_type_array(
    "let m: map<number[], number> = {};",
    "map keys must be number, string or bool, found number[]",
    1,
    12
)]
#[case::map_key_type_fn(
    "fn f(m: map<() -> void, number>) -> void {}",
    "map keys must be number, string or bool, found () -> void",
    1,
    13
)]
#[case::map_empty_untyped(
    "let m = {};",
    "cannot infer the type of an empty map literal; add a type annotation",
    1,
    9
)]
#[case::map_empty_for_number(
    "let n: number = {};",
    "type mismatch: expected number, found a map literal",
    1,
    17
)]
#[case::map_values_differ(
    "let m = {1: 1, 2: true};",
    "map values must have the same type: expected number, found bool",
    1,
    19
)]
#[case::map_keys_differ(
    "let m = {1: 1, true: 2};",
    "map keys must have the same type: expected number, found bool",
    1,
    16
)]
#[case::map_key_mismatch(
    "let m = {1: 1}; print(m[\"a\"]);",
    "type mismatch in map key: expected number, found string",
    1,
    25
)]
#[case::map_store_mismatch(
    "let m = {1: 1}; m[2] = \"b\";",
    "type mismatch in assignment: expected number, found string",
    1,
    24
)]
#[case::map_has_array(
    "print(has([1], 0));",
    "type mismatch in argument 1 of 'has': expected a map, found number[]",
    1,
    11
)]
#[case::map_get_key(
    "let m = {1: 1}; print(get(m, \"a\", 0));",
    "type mismatch in argument 2 of 'get': expected number, found string",
    1,
    30
)]
#[case::map_values_not_value("let f = values;", "'values' can only be called", 1, 9)]
#[case::map_remove_arity(
    "let m = {1: 1}; remove(m);",
    "wrong number of arguments: 'remove' expects 2, found 1",
    1,
    17
)]
#[case::map_index_string("print(\"abc\"[0]);", "cannot index a string; use charAt", 1, 7)]
fn fails(#[case] src: &str, #[case] msg: &str, #[case] line: usize, #[case] col: usize) {
    let errs = errors(src);
    let first = &errs[0];
    let (l, c) = LineIndex::new(src).line_col(src, first.span.start);
    assert!(
        first.message.contains(msg) && (l, c) == (line, col),
        "for {src:?} expected {line}:{col}: {msg}\ngot:\n{}",
        render(src, &errs)
    );
}

// ----- error lists: no cascades, all errors, sorted -----

#[rstest]
#[case::one_mistake_one_error("let x = [];\nlet y: number = x + 1;\nprint(y);", 1)]
#[case::unknown_name_no_cascade("let a = b + 1; let c: string = a; print(c[0]);", 2)]
#[case::two_independent("let a = 1 + \"x\";\nlet b = c;", 2)]
#[case::bad_fn_type_no_cascade("fn f(x: foo) -> number { return x + 1; } print(f(1) + 2);", 1)]
#[case::late_fn_and_early_code("fn f() -> number { return \"s\"; }\nprint(x);", 2)]
fn error_counts(#[case] src: &str, #[case] count: usize) {
    let errs = errors(src);
    assert_eq!(errs.len(), count, "errors:\n{}", render(src, &errs));
    assert!(errs.windows(2).all(|w| w[0].span.start <= w[1].span.start));
}

#[test]
fn errors_are_sorted_even_when_fn_bodies_are_checked_late() {
    let src = "fn f() -> number { return true; }\nlet x: string = 1;";
    let errs = errors(src);
    let text = render(src, &errs);
    assert!(
        text.starts_with("1:27: type mismatch in return value of 'f'"),
        "{text}"
    );
    assert!(
        text.contains("2:17: type mismatch in declaration of 'x'"),
        "{text}"
    );
}

// ----- computed information -----

/// The variables a function captures (version 2): what its body refers to in enclosing
/// functions and top-level blocks, and what the functions it refers to need.
#[rstest]
#[case::fn_local(
    "fn outer() -> void { let x = 1; fn inner() -> number { return x; } }",
    "inner",
    &["x"]
)]
#[case::block_local("{ let x = 1; fn f() -> number { return x; } }", "f", &["x"])]
#[case::param("fn f(a: number) -> void { fn g() -> number { return a; } }", "g", &["a"])]
#[case::loop_var("for x in [1] { fn g() -> number { return x; } }", "g", &["x"])]
#[case::for_var_write("for (var i = 0; i < 1; i++) { fn g() -> void { i = 2; } }", "g", &["i"])]
#[case::through_intermediate(
    "fn a() -> void { let x = 1; fn b() -> void { fn c() -> number { return x; } } }",
    "b",
    &["x"]
)]
#[case::through_call(
    "fn a() -> void { let x = 1; let y = 2; fn b() -> number { return x; } fn c() -> number { return b() + y; } }",
    "c",
    &["x", "y"]
)]
#[case::later_in_block(
    "fn a() -> void { fn b() -> number { return z; } let z = 3; }",
    "b",
    &["z"]
)]
#[case::global_is_not_captured("let g = 1; fn f() -> number { return g; }", "f", &[])]
#[case::own_local_is_not_captured("fn f() -> number { let y = 2; return y; }", "f", &[])]
fn captures(#[case] src: &str, #[case] function: &str, #[case] expected: &[&str]) {
    let (_, info) = ok(src);
    let f = info
        .fns
        .iter()
        .find(|f| f.name == function)
        .expect("the function exists");
    let names: Vec<&str> = f
        .captures
        .iter()
        .map(|&d| info.decls[d as usize].name.as_str())
        .collect();
    assert_eq!(names, expected);
    for &d in &f.captures {
        assert!(
            info.decls[d as usize].captured,
            "{} is marked captured",
            info.decls[d as usize].name
        );
    }
}

#[test]
fn globals_and_used_by_fn() {
    let src = "let a = 1; var b = 2; let c = 3; let unused = 0;
        fn f() -> number { b = 1; return a; }
        fn g() -> void { fn h() -> number { return late; } }
        { let d = 1; print(d + c); }
        for (var i = 0; i < 1; i++) {}
        var late = 5;";
    let (_, info) = ok(src);
    for (name, global, used) in [
        ("a", true, true),
        ("b", true, true),
        ("c", true, false),
        ("unused", true, false),
        ("late", true, true),
        ("d", false, false),
        ("i", false, false),
    ] {
        let d = decl(&info, name);
        assert_eq!((d.global, d.used_by_fn), (global, used), "{name}");
    }
}

#[test]
fn decl_infos() {
    let src = "let a = 1; var b = \"s\"; fn f(p: number[]) -> void { for x in p { print(x); } }";
    let (program, info) = ok(src);
    assert_eq!(info.decls.len(), program.decl_count as usize);
    let a = decl(&info, "a");
    assert_eq!((a.ty.clone(), a.mutable), (Type::Number, false));
    assert_eq!(&src[a.span.start as usize..a.span.end as usize], "a");
    let b = decl(&info, "b");
    assert_eq!((b.ty.clone(), b.mutable), (Type::String, true));
    let p = decl(&info, "p");
    assert_eq!(
        (p.ty.to_string(), p.mutable, p.global),
        ("number[]".into(), true, false)
    );
    assert_eq!(&src[p.span.start as usize..p.span.end as usize], "p");
    let x = decl(&info, "x");
    assert_eq!(
        (x.ty.clone(), x.mutable, x.global),
        (Type::Number, false, false)
    );
}

#[test]
fn fn_infos() {
    let src = "fn outer(a: number) -> string { fn inner() -> void {} return \"\"; }
        { fn blockfn(x: string, y: bool[]) -> (number) -> number { return sqrt; } }";
    let (program, info) = ok(src);
    assert_eq!(info.fns.len(), program.fn_count as usize);
    let find = |n: &str| info.fns.iter().position(|f| f.name == n).unwrap();
    let (outer, inner, blockfn) = (find("outer"), find("inner"), find("blockfn"));
    assert_eq!(info.fns[outer].parent, None);
    assert_eq!(info.fns[inner].parent, Some(outer as u32));
    assert_eq!(info.fns[blockfn].parent, None);
    assert_eq!(info.fns[outer].ty.to_string(), "(number) -> string");
    assert_eq!(info.fns[inner].ty.to_string(), "() -> void");
    assert_eq!(
        info.fns[blockfn].ty.to_string(),
        "(string, bool[]) -> (number) -> number"
    );
    let s = info.fns[blockfn].span;
    assert_eq!(&src[s.start as usize..s.end as usize], "blockfn");
}

#[test]
fn resolutions() {
    let src = "let g = 1; fn f(p: number) -> number { let l = p; return l + g; }
        print(f(g)); print(sqrt(4)); { let k = 2; print(k); }";
    let (program, _) = ok(src);
    let ann = Annotations::of(&program);
    assert_eq!(ann.res_of("g"), vec![Res::Global(0), Res::Global(0)]);
    assert_eq!(ann.res_of("p"), vec![Res::Local(1)]);
    assert_eq!(ann.res_of("l"), vec![Res::Local(2)]);
    assert_eq!(ann.res_of("f"), vec![Res::Func(0)]);
    assert_eq!(ann.res_of("k"), vec![Res::Local(3)]);
    assert_eq!(ann.res_of("print")[0], Res::Builtin(Builtin::Print));
    assert_eq!(ann.res_of("sqrt"), vec![Res::Builtin(Builtin::Sqrt)]);
}

#[test]
fn shadowing_resolutions() {
    let src = "let x = 1; { print(x); let x = \"s\"; print(x); }
        fn len(a: number) -> number { return a; } print(len(1));";
    let (program, _) = ok(src);
    let ann = Annotations::of(&program);
    assert_eq!(ann.res_of("x"), vec![Res::Global(0), Res::Local(1)]);
    assert_eq!(ann.res_of("len"), vec![Res::Func(0)]);
}

#[test]
fn empty_array_types_come_from_context() {
    let src = "let a = [[], [1]];
        fn f(xs: string[]) -> bool[] { return []; }
        var m: number[][] = [];
        push(m, []);
        f([]);";
    let (program, info) = ok(src);
    assert_eq!(decl(&info, "a").ty.to_string(), "number[][]");
    let ann = Annotations::of(&program);
    assert_eq!(
        ann.types_of("[#0]"),
        vec!["number[]", "bool[]", "number[][]", "number[]", "string[]"]
    );
    assert_eq!(ann.types_of("[#2]"), vec!["number[][]"]);
}

#[test]
fn call_and_callee_types() {
    let src = "fn v() -> void {} v(); print(1); let n = len(\"a\"); let m = map([1], str2);
        fn str2(x: number) -> string { return str(x); }";
    let (program, info) = ok(src);
    let ann = Annotations::of(&program);
    assert_eq!(
        ann.types_of("call"),
        vec!["void", "void", "number", "string[]", "string"]
    );
    assert_eq!(ann.types_of("v"), vec!["() -> void"]);
    assert_eq!(ann.types_of("print"), vec!["(number) -> void"]);
    assert_eq!(
        ann.types_of("map"),
        vec!["(number[], (number) -> string) -> string[]"]
    );
    assert_eq!(decl(&info, "m").ty.to_string(), "string[]");
    assert_eq!(decl(&info, "n").ty, Type::Number);
}

#[test]
fn operator_result_types() {
    let src = "let a = 1 + 2; let b = \"x\" + \"y\"; let c = 1 < 2; let d = !c; let e = -a;
        let f = [1][0]; let g = null; let h = [[\"s\"]];";
    let (_, info) = ok(src);
    let tys: Vec<String> = ["a", "b", "c", "d", "e", "f", "g", "h"]
        .iter()
        .map(|n| decl(&info, n).ty.to_string())
        .collect();
    assert_eq!(
        tys,
        [
            "number",
            "string",
            "bool",
            "bool",
            "number",
            "number",
            "null",
            "string[][]"
        ]
    );
}

#[test]
fn reduce_infers_accumulator() {
    let src = "fn app(acc: string[], x: number) -> string[] { push(acc, str(x)); return acc; }
        let r = reduce([1, 2], app, []);";
    let (_, info) = ok(src);
    assert_eq!(decl(&info, "r").ty.to_string(), "string[]");
}

#[test]
fn deep_nesting_does_not_overflow() {
    let depth = 250;
    let src = format!("let x = {}1{};", "(".repeat(depth), ")".repeat(depth));
    ok(&src);
    let src = format!("let x = {}1{};", "[".repeat(depth), "]".repeat(depth));
    ok(&src);
    let src = format!("let x = 1{};", " + 1".repeat(depth));
    ok(&src);
    let src = format!("let x = {}true;", "!".repeat(depth));
    ok(&src);
}
