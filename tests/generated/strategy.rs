//! proptest strategies for the trees of `ast.rs`.
//!
//! Expressions are generated for a wanted type (type-directed), so every tree is well
//! typed; names are left to the printer. Strategies are built once per (type, depth) and
//! kept in a thread-local table, since the grammar refers to itself at smaller depths.
//! Union arms go from simple to complex, so shrinking moves toward literals and small
//! programs.

use std::cell::RefCell;
use std::collections::HashMap;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::{BoxedStrategy, Union};

use super::ast::*;

/// How big programs get. `GEN_DEEP=1` in the environment generates bigger ones (deeper
/// expressions and blocks, longer bodies), for longer explorations.
struct Scale {
    /// Depth of the expressions of statements.
    expr: u32,
    /// Nesting of blocks in top-level code and in functions.
    block: u32,
    fn_block: u32,
    /// Statements of top-level code, function bodies and inner blocks.
    main_len: usize,
    fn_len: usize,
    inner_len: usize,
    fns: usize,
}

fn scale() -> Scale {
    if std::env::var_os("GEN_DEEP").is_some() {
        Scale {
            expr: 3,
            block: 4,
            fn_block: 3,
            main_len: 48,
            fn_len: 12,
            inner_len: 6,
            fns: 10,
        }
    } else {
        Scale {
            expr: 2,
            block: 3,
            fn_block: 2,
            main_len: 32,
            fn_len: 8,
            inner_len: 4,
            fns: 8,
        }
    }
}

type Arms<T> = Vec<(u32, BoxedStrategy<T>)>;

type Memo<K, T> = RefCell<HashMap<K, BoxedStrategy<T>>>;

thread_local! {
    static EXPRS: Memo<(Ty, u32), Expr> = RefCell::new(HashMap::new());
    static STMTS: Memo<(Option<Ty>, u32), Stmt> = RefCell::new(HashMap::new());
    static FNS: Memo<(bool, u32), FnDef> = RefCell::new(HashMap::new());
}

fn union<T: std::fmt::Debug + 'static>(arms: Arms<T>) -> BoxedStrategy<T> {
    Union::new_weighted(arms).boxed()
}

// ----- literals ------------------------------------------------------------------

const FRACTIONS: &[f64] = &[
    0.5, 0.25, 0.1, 0.2, 0.3, 1.5, 2.75, 3.25, 0.001, 12.5, 0.125, 7.5, 0.7, 1.1, 99.99, 1e-7,
    1.5e-3, 2.5e-8, 0.000001, 1e-300, 5e-324,
];

const BIG: &[f64] = &[
    f64::NAN,
    1e10,
    1e15,
    9007199254740991.0,
    9007199254740992.0,
    9007199254740994.0,
    4503599627370496.5,
    1e21,
    123456789012345680000.0,
    1e20,
    999999999999999900000.0,
    2147483648.0,
    4294967297.0,
    1e16,
    1e300,
    65536.0,
    1.7976931348623157e308,
    f64::INFINITY,
];

const STRINGS: &[&str] = &[
    "",
    "a",
    "b",
    "abc",
    "hello",
    "world",
    "Atlas",
    "hello world",
    "a,b,c",
    "one two three",
    "  padded  ",
    "MiXeD Case",
    "42",
    "-7",
    "3.5",
    "\u{e9}",
    "na\u{ef}ve",
    "\u{1F600}",
    "\u{fc}ber",
    "a-b-c",
    "1,2,3",
    "ABC",
    " ",
    "tab\tsep",
    "x,y",
    "banana",
    "0",
    "a b",
    "line1\nline2",
    "quote\"inside",
    "back\\slash",
    "cr\rhere",
    "nul\0end",
    "nul\u{0}1",
    "smile \u{1F600} ok",
    "\u{3b1}\u{3b2}\u{3b3}",
];

const SEPARATORS: &[&str] = &[",", " ", "-", ", ", "", "b", "\u{1F600}", "ab"];

const NUMERIC: &[&str] = &[
    "42",
    "-3.5",
    "0.25",
    "1e3",
    "007",
    "123456789012",
    "-0",
    "2.5e-3",
    " 42",
    "7 ",
    "\t-3.5\n",
    "  +8  ",
    ".5",
    "5.",
    "-.25",
    "1e+2",
    "1e-7",
    "Infinity",
    "-Infinity",
    "1e999",
    "00.5",
    "1E3",
];

const NOT_NUMERIC: &[&str] = &["abc", "1.2.3", "12px", "", "NaN", "0x10", "1e", ".", "- 1"];

fn num_lit() -> BoxedStrategy<Expr> {
    union(vec![
        (8, (0u8..10).prop_map(|n| Expr::Num(n as f64)).boxed()),
        (2, select(FRACTIONS).prop_map(Expr::Num).boxed()),
        (1, select(BIG).prop_map(Expr::Num).boxed()),
        (1, (-100i32..0).prop_map(|n| Expr::Num(n as f64)).boxed()),
        (1, Just(Expr::Num(-0.0)).boxed()),
        (1, (-1e6f64..1e6).prop_map(Expr::Num).boxed()),
    ])
}

fn str_lit() -> BoxedStrategy<Expr> {
    (select(STRINGS), prop::bool::weighted(0.2))
        .prop_map(|(s, esc)| Expr::Str(s.to_string(), esc))
        .boxed()
}

/// A string that `parseNumber` mostly accepts.
fn numeric_str(depth: u32) -> BoxedStrategy<Expr> {
    union(vec![
        (
            20,
            select(NUMERIC)
                .prop_map(|s| Expr::Str(s.to_string(), false))
                .boxed(),
        ),
        (
            1,
            select(NOT_NUMERIC)
                .prop_map(|s| Expr::Str(s.to_string(), false))
                .boxed(),
        ),
        (
            3,
            expr(&Ty::Num, depth)
                .prop_map(|e| Expr::Prelude("str", vec![e]))
                .boxed(),
        ),
    ])
}

fn sep_lit() -> BoxedStrategy<Expr> {
    select(SEPARATORS)
        .prop_map(|s| Expr::Str(s.to_string(), false))
        .boxed()
}

fn literal(ty: &Ty) -> BoxedStrategy<Expr> {
    match ty {
        Ty::Num => num_lit(),
        Ty::Str => str_lit(),
        Ty::Bool => any::<bool>().prop_map(Expr::Bool).boxed(),
        Ty::Null | Ty::Void => Just(Expr::Null).boxed(),
        Ty::Arr(e) => {
            let e2 = (**e).clone();
            union(vec![
                (1, vec(literal(e), 0..1).boxed()),
                (9, vec(literal(e), 1..5).boxed()),
            ])
            .prop_map(move |items| Expr::Array(e2.clone(), items))
            .boxed()
        }
        Ty::Fn(..) => {
            let t = ty.clone();
            any::<u8>()
                .prop_map(move |p| Expr::FnRef(t.clone(), p))
                .boxed()
        }
    }
}

// ----- expressions ---------------------------------------------------------------

/// An expression of type `ty`, at most `depth` operators deep.
pub fn expr(ty: &Ty, depth: u32) -> BoxedStrategy<Expr> {
    let key = (ty.clone(), depth);
    if let Some(s) = EXPRS.with(|m| m.borrow().get(&key).cloned()) {
        return s;
    }
    let s = build_expr(ty, depth);
    EXPRS.with(|m| m.borrow_mut().insert(key, s.clone()));
    s
}

/// An expression of any value type.
pub fn any_expr(depth: u32) -> BoxedStrategy<Expr> {
    let arms = value_types()
        .iter()
        .map(|t| {
            let w = match t {
                Ty::Num => 6,
                Ty::Str => 4,
                Ty::Bool => 3,
                Ty::Arr(_) => 2,
                _ => 1,
            };
            (w, expr(t, depth))
        })
        .collect();
    union(arms)
}

fn b(e: Expr) -> Box<Expr> {
    Box::new(e)
}

fn bin(op: BinOp, l: BoxedStrategy<Expr>, r: BoxedStrategy<Expr>) -> BoxedStrategy<Expr> {
    (l, r)
        .prop_map(move |(l, r)| Expr::Bin(op, b(l), b(r)))
        .boxed()
}

fn bin_of(
    ops: &'static [BinOp],
    l: BoxedStrategy<Expr>,
    r: BoxedStrategy<Expr>,
) -> BoxedStrategy<Expr> {
    (select(ops), l, r)
        .prop_map(|(op, l, r)| Expr::Bin(op, b(l), b(r)))
        .boxed()
}

fn prelude(name: &'static str, args: Vec<BoxedStrategy<Expr>>) -> BoxedStrategy<Expr> {
    args.prop_map(move |args| Expr::Prelude(name, args)).boxed()
}

fn prelude_of(
    names: &'static [&'static str],
    args: Vec<BoxedStrategy<Expr>>,
) -> BoxedStrategy<Expr> {
    (select(names), args)
        .prop_map(|(name, args)| Expr::Prelude(name, args))
        .boxed()
}

/// An array index: mostly small and in range.
fn index(depth: u32) -> BoxedStrategy<Expr> {
    union(vec![
        (16, Just(Expr::Num(0.0)).boxed()),
        (3, (1u8..3).prop_map(|n| Expr::Num(n as f64)).boxed()),
        (1, Just(Expr::Var(Ty::Num, 0)).boxed()),
        (1, expr(&Ty::Num, depth)),
    ])
}

/// The end of a range: mostly a small literal.
fn end(depth: u32) -> BoxedStrategy<Expr> {
    union(vec![
        (4, (1u8..9).prop_map(|n| Expr::Num(n as f64)).boxed()),
        (1, expr(&Ty::Num, depth)),
    ])
}

/// A divisor: mostly a literal other than zero.
fn divisor(depth: u32) -> BoxedStrategy<Expr> {
    union(vec![
        (4, (1u8..10).prop_map(|n| Expr::Num(n as f64)).boxed()),
        (1, select(FRACTIONS).prop_map(Expr::Num).boxed()),
        (2, expr(&Ty::Num, depth)),
    ])
}

/// `a + b + c ...`, left-associated, of string expressions.
fn chain(parts: Vec<Expr>) -> Expr {
    let mut it = parts.into_iter();
    let first = it.next().expect("a part");
    it.fold(first, |acc, e| Expr::Bin(BinOp::Add, b(acc), b(e)))
}

/// Arguments for the parameters of `params`.
fn args(params: &[Ty], depth: u32) -> BoxedStrategy<Vec<Expr>> {
    params
        .iter()
        .map(|t| expr(t, depth))
        .collect::<Vec<_>>()
        .boxed()
}

/// Calls of generated functions returning `ret`.
fn calls(ret: &Ty, depth: u32) -> Option<BoxedStrategy<Expr>> {
    let arms: Arms<Expr> = sigs()
        .iter()
        .enumerate()
        .filter(|(_, s)| &s.ret == ret)
        .map(|(i, s)| {
            let i = i as u8;
            (
                1,
                (any::<u8>(), args(&s.params, depth))
                    .prop_map(move |(p, a)| Expr::Call(i, p, a))
                    .boxed(),
            )
        })
        .collect();
    (!arms.is_empty()).then(|| union(arms))
}

/// Calls through variables of function type returning `ret`.
fn call_vars(ret: &Ty, depth: u32) -> Option<BoxedStrategy<Expr>> {
    let arms: Arms<Expr> = fn_value_types()
        .into_iter()
        .filter_map(|t| match &t {
            Ty::Fn(params, r) if **r == *ret => {
                let params = params.clone();
                Some((
                    1,
                    (any::<u8>(), args(&params, depth))
                        .prop_map(move |(p, a)| Expr::CallVar(t.clone(), p, a))
                        .boxed(),
                ))
            }
            _ => None,
        })
        .collect();
    (!arms.is_empty()).then(|| union(arms))
}

fn build_expr(ty: &Ty, depth: u32) -> BoxedStrategy<Expr> {
    let t = ty.clone();
    let mut arms: Arms<Expr> = vec![
        (4, literal(ty)),
        (
            5,
            any::<u8>()
                .prop_map(move |p| Expr::Var(t.clone(), p))
                .boxed(),
        ),
    ];
    if matches!(ty, Ty::Fn(..)) {
        let t = ty.clone();
        arms.push((
            4,
            any::<u8>()
                .prop_map(move |p| Expr::FnRef(t.clone(), p))
                .boxed(),
        ));
    }
    if depth == 0 {
        return union(arms);
    }
    let d = depth - 1;
    if let Ty::Fn(params, ret) = ty {
        let t = ty.clone();
        let result = if **ret == Ty::Void {
            Just(Expr::Null).boxed()
        } else {
            expr(ret, d)
        };
        let assign = proptest::option::weighted(0.3, (any::<u8>(), expr(&Ty::Num, d)));
        arms.push((
            3,
            (vec(any::<u8>(), params.len()), assign, result)
                .prop_map(move |(names, assign, result)| {
                    let assign = assign.map(|(pick, e)| (pick, Box::new(e)));
                    Expr::Lambda(t.clone(), names, assign, Box::new(result))
                })
                .boxed(),
        ));
    }
    let num = || expr(&Ty::Num, d);
    let string = || expr(&Ty::Str, d);
    let boolean = || expr(&Ty::Bool, d);
    let arr = |e: Ty| expr(&Ty::arr(e), d);
    if let Some(c) = calls(ty, d) {
        arms.push((3, c));
    }
    if let Some(c) = call_vars(ty, d) {
        arms.push((2, c));
    }
    if !matches!(ty, Ty::Fn(..) | Ty::Null) {
        arms.push((1, expr(ty, d).prop_map(|e| Expr::Paren(b(e))).boxed()));
    }
    if matches!(ty, Ty::Num | Ty::Str) {
        let t = ty.clone();
        arms.push((
            2,
            expr(ty, d)
                .prop_map(move |e| Expr::Effect(t.clone(), b(e)))
                .boxed(),
        ));
    }
    let apply = |f: Ty, arg: BoxedStrategy<Expr>| {
        (expr(&f, d), arg)
            .prop_map(|(f, a)| Expr::Apply(b(f), vec![a]))
            .boxed()
    };
    match ty {
        Ty::Fn(..) if *ty == f_nn() => {
            arms.push((
                2,
                (arr(f_nn()), index(d))
                    .prop_map(|(a, i)| Expr::Index(b(a), b(i)))
                    .boxed(),
            ));
        }
        Ty::Num => {
            use BinOp::*;
            arms.push((2, apply(f_nn(), num())));
            arms.push((
                1,
                (num(), expr(&f_nn(), d))
                    .prop_map(|(n, f)| Expr::Deep(b(n), b(f)))
                    .boxed(),
            ));
            arms.push((7, bin_of(&[Add, Sub, Mul], num(), num())));
            arms.push((3, bin_of(&[Div, Rem], num(), divisor(d))));
            arms.push((2, num().prop_map(|e| Expr::Neg(b(e))).boxed()));
            arms.push((
                1,
                vec((select(&[Add, Sub, Mul][..]), expr(&Ty::Num, 0)), 3..40)
                    .prop_map(|parts| {
                        let mut it = parts.into_iter();
                        let (_, first) = it.next().expect("3 parts or more");
                        it.fold(first, |acc, (op, e)| Expr::Bin(op, b(acc), b(e)))
                    })
                    .boxed(),
            ));
            arms.push((2, prelude("len", vec![string()])));
            arms.push((
                2,
                union(vec![
                    (2, arr(Ty::Num)),
                    (1, arr(Ty::Str)),
                    (1, arr(Ty::arr(Ty::Num))),
                    (1, arr(Ty::Bool)),
                ])
                .prop_map(|a| Expr::Prelude("len", vec![a]))
                .boxed(),
            ));
            arms.push((
                3,
                prelude_of(&["sqrt", "abs", "floor", "ceil", "round"], vec![num()]),
            ));
            arms.push((3, prelude_of(&["min", "max", "pow"], vec![num(), num()])));
            arms.push((1, prelude("indexOf", vec![string(), string()])));
            arms.push((2, prelude("parseNumber", vec![numeric_str(d)])));
            arms.push((1, prelude("pop", vec![arr(Ty::Num)])));
            arms.push((
                2,
                prelude("reduce", vec![arr(Ty::Num), expr(&f_nnn(), d), num()]),
            ));
            arms.push((
                4,
                (arr(Ty::Num), index(d))
                    .prop_map(|(a, i)| Expr::Index(b(a), b(i)))
                    .boxed(),
            ));
        }
        Ty::Str => {
            arms.push((1, apply(f_ss(), string())));
            arms.push((6, bin(BinOp::Add, string(), string())));
            // Long chains (the optimizer joins them in groups).
            arms.push((
                1,
                vec(
                    union(vec![
                        (2, expr(&Ty::Str, 0)),
                        (
                            2,
                            expr(&Ty::Num, 0)
                                .prop_map(|e| Expr::Prelude("str", vec![e]))
                                .boxed(),
                        ),
                    ]),
                    3..80,
                )
                .prop_map(chain)
                .boxed(),
            ));
            arms.push((4, prelude("str", vec![any_expr(d)])));
            arms.push((2, prelude("substring", vec![string(), index(d), end(d)])));
            arms.push((2, prelude("charAt", vec![string(), index(d)])));
            arms.push((
                2,
                prelude_of(&["toUpperCase", "toLowerCase", "trim"], vec![string()]),
            ));
            arms.push((
                2,
                prelude(
                    "join",
                    vec![arr(Ty::Str), union(vec![(3, sep_lit()), (1, string())])],
                ),
            ));
            arms.push((1, prelude("pop", vec![arr(Ty::Str)])));
            arms.push((
                3,
                (arr(Ty::Str), index(d))
                    .prop_map(|(a, i)| Expr::Index(b(a), b(i)))
                    .boxed(),
            ));
        }
        Ty::Bool => {
            use BinOp::*;
            arms.push((1, apply(f_nb(), num())));
            arms.push((2, boolean().prop_map(|e| Expr::Not(b(e))).boxed()));
            arms.push((4, bin_of(&[And, Or], boolean(), boolean())));
            arms.push((5, bin_of(&[Lt, Le, Gt, Ge, Eq, Ne], num(), num())));
            arms.push((2, bin_of(&[Lt, Le, Gt, Ge, Eq, Ne], string(), string())));
            arms.push((1, bin_of(&[Eq, Ne], boolean(), boolean())));
            arms.push((1, bin_of(&[Eq, Ne], expr(&Ty::Null, d), expr(&Ty::Null, d))));
            arms.push((1, bin_of(&[Eq, Ne], arr(Ty::Num), arr(Ty::Num))));
            arms.push((1, bin_of(&[Eq, Ne], expr(&f_nn(), d), expr(&f_nn(), d))));
            arms.push((
                2,
                prelude_of(
                    &["includes", "startsWith", "endsWith"],
                    vec![string(), string()],
                ),
            ));
            arms.push((1, prelude("pop", vec![arr(Ty::Bool)])));
            arms.push((
                2,
                (arr(Ty::Bool), index(d))
                    .prop_map(|(a, i)| Expr::Index(b(a), b(i)))
                    .boxed(),
            ));
            arms.push((1, Just(Expr::Clock).boxed()));
        }
        Ty::Arr(e) => {
            let e = (**e).clone();
            let e2 = e.clone();
            arms.push((
                4,
                union(vec![
                    (1, vec(expr(&e, d), 0..1).boxed()),
                    (9, vec(expr(&e, d), 1..5).boxed()),
                ])
                .prop_map(move |items| Expr::Array(e2.clone(), items))
                .boxed(),
            ));
            arms.push((2, prelude("slice", vec![arr(e.clone()), index(d), end(d)])));
            arms.push((2, prelude("concat", vec![arr(e.clone()), arr(e.clone())])));
            match &e {
                Ty::Num => {
                    arms.push((3, prelude("map", vec![arr(Ty::Num), expr(&f_nn(), d)])));
                    arms.push((3, prelude("filter", vec![arr(Ty::Num), expr(&f_nb(), d)])));
                    arms.push((
                        2,
                        (arr(Ty::arr(Ty::Num)), index(d))
                            .prop_map(|(a, i)| Expr::Index(b(a), b(i)))
                            .boxed(),
                    ));
                    arms.push((1, prelude("pop", vec![arr(Ty::arr(Ty::Num))])));
                }
                Ty::Bool => {
                    arms.push((3, prelude("map", vec![arr(Ty::Num), expr(&f_nb(), d)])));
                }
                Ty::Str => {
                    arms.push((3, prelude("split", vec![string(), sep_lit()])));
                    arms.push((2, prelude("map", vec![arr(Ty::Num), expr(&f_ns(), d)])));
                    arms.push((2, prelude("map", vec![arr(Ty::Str), expr(&f_ss(), d)])));
                }
                _ => {}
            }
        }
        _ => {}
    }
    union(arms)
}

// ----- statements ----------------------------------------------------------------

/// A declaration of a value of any type.
pub fn decl() -> BoxedStrategy<Decl> {
    let arms = value_types()
        .into_iter()
        .map(|t| {
            let w = match t {
                Ty::Num => 6,
                Ty::Str => 3,
                Ty::Bool => 2,
                Ty::Arr(_) => 3,
                _ => 1,
            };
            let t2 = t.clone();
            (
                w,
                (
                    prop::bool::weighted(0.6),
                    0u8..3,
                    any::<u8>(),
                    expr(&t, scale().expr),
                )
                    .prop_map(move |(mutable, annotate, name, init)| Decl {
                        mutable,
                        annotate,
                        name,
                        ty: t2.clone(),
                        init,
                    })
                    .boxed(),
            )
        })
        .collect();
    union(arms)
}

/// A statement of a block in a function returning `ret` (`None`: top-level code),
/// nesting blocks at most `depth` deep.
pub fn stmt(ret: &Option<Ty>, depth: u32) -> BoxedStrategy<Stmt> {
    let key = (ret.clone(), depth);
    if let Some(s) = STMTS.with(|m| m.borrow().get(&key).cloned()) {
        return s;
    }
    let s = build_stmt(ret, depth);
    STMTS.with(|m| m.borrow_mut().insert(key, s.clone()));
    s
}

/// A block of at most `max` statements.
pub fn block(ret: &Option<Ty>, depth: u32, max: usize) -> BoxedStrategy<Vec<Stmt>> {
    vec(stmt(ret, depth), 0..=max).boxed()
}

fn build_stmt(ret: &Option<Ty>, depth: u32) -> BoxedStrategy<Stmt> {
    let d = scale().expr;
    let mut arms: Arms<Stmt> = vec![
        (7, any_expr(d).prop_map(Stmt::Print).boxed()),
        (1, any_expr(d + 1).prop_map(Stmt::Print).boxed()),
        (6, decl().prop_map(Stmt::Decl).boxed()),
        (
            1,
            (
                any::<u8>(),
                expr(&Ty::func(vec![Ty::Num, Ty::Num], Ty::Num), d.max(1)),
            )
                .prop_map(|(pick, cmp)| Stmt::Sort { pick, cmp })
                .boxed(),
        ),
    ];
    // Assignments.
    let assign: Arms<Stmt> = value_types()
        .into_iter()
        .map(|t| {
            let t2 = t.clone();
            (
                1,
                (any::<u8>(), expr(&t, d))
                    .prop_map(move |(pick, value)| Stmt::Assign {
                        ty: t2.clone(),
                        pick,
                        value,
                    })
                    .boxed(),
            )
        })
        .collect();
    arms.push((4, union(assign)));
    {
        use BinOp::*;
        arms.push((
            3,
            union(vec![
                (
                    3,
                    (
                        any::<u8>(),
                        select(&[Add, Sub, Mul, Div, Rem][..]),
                        divisor(d),
                    )
                        .prop_map(|(pick, op, value)| Stmt::Compound {
                            ty: Ty::Num,
                            pick,
                            op,
                            value,
                        })
                        .boxed(),
                ),
                (
                    1,
                    (any::<u8>(), expr(&Ty::Str, d))
                        .prop_map(|(pick, value)| Stmt::Compound {
                            ty: Ty::Str,
                            pick,
                            op: Add,
                            value,
                        })
                        .boxed(),
                ),
            ]),
        ));
        arms.push((
            2,
            (any::<u8>(), 0u8..4)
                .prop_map(|(pick, form)| Stmt::IncDec { pick, form })
                .boxed(),
        ));
        // Element assignments: numbers (compound too), strings, bools, arrays.
        let set = |elem: Ty, ops: &'static [Option<BinOp>], outer: bool| {
            let e2 = elem.clone();
            let outer = if outer {
                proptest::option::weighted(0.4, index(1)).boxed()
            } else {
                Just(None).boxed()
            };
            // The index may have effects too (calls).
            let at = union(vec![(8, index(1)), (1, expr(&Ty::Num, d))]);
            (any::<u8>(), outer, at, select(ops), expr(&elem, d))
                .prop_map(move |(pick, outer, index, op, value)| Stmt::SetIndex {
                    elem: e2.clone(),
                    pick,
                    outer,
                    index,
                    op,
                    value,
                })
                .boxed()
        };
        arms.push((
            4,
            union(vec![
                (
                    4,
                    set(
                        Ty::Num,
                        &[
                            None,
                            None,
                            Some(Add),
                            Some(Sub),
                            Some(Mul),
                            Some(Div),
                            Some(Rem),
                        ],
                        true,
                    ),
                ),
                (2, set(Ty::Str, &[None, Some(Add)], false)),
                (1, set(Ty::Bool, &[None], false)),
                (1, set(Ty::arr(Ty::Num), &[None], false)),
            ]),
        ));
    }
    let push: Arms<Stmt> = [Ty::Num, Ty::Str, Ty::Bool, Ty::arr(Ty::Num)]
        .into_iter()
        .map(|elem| {
            let e2 = elem.clone();
            (
                1,
                (any::<u8>(), expr(&elem, d))
                    .prop_map(move |(pick, value)| Stmt::Push {
                        elem: e2.clone(),
                        pick,
                        value,
                    })
                    .boxed(),
            )
        })
        .collect();
    arms.push((3, union(push)));
    arms.push((1, any_expr(d).prop_map(Stmt::Expr).boxed()));
    // Printed only inside loops.
    arms.push((1, Just(Stmt::Break).boxed()));
    arms.push((1, Just(Stmt::Continue).boxed()));
    let void_calls: Arms<Stmt> = sigs()
        .iter()
        .enumerate()
        .filter(|(_, s)| s.ret == Ty::Void)
        .map(|(i, s)| {
            let i = i as u8;
            (
                1,
                (any::<u8>(), args(&s.params, d))
                    .prop_map(move |(p, a)| Stmt::CallVoid(i, p, a))
                    .boxed(),
            )
        })
        .collect();
    arms.push((2, union(void_calls)));
    match ret {
        Some(Ty::Void) => arms.push((1, Just(Stmt::Return(None)).boxed())),
        Some(t) => arms.push((1, expr(t, d).prop_map(|e| Stmt::Return(Some(e))).boxed())),
        None => {}
    }
    if depth > 0 {
        let inner = || block(ret, depth - 1, scale().inner_len);
        let cond = || expr(&Ty::Bool, d);
        arms.push((
            4,
            (
                cond(),
                inner(),
                vec((cond(), inner()), 0..2),
                proptest::option::of(inner()),
            )
                .prop_map(|(c, then, elifs, els)| Stmt::If(c, then, elifs, els))
                .boxed(),
        ));
        arms.push((
            2,
            (0u8..4, 0u8..6, cond(), inner())
                .prop_map(|(form, bound, cond, body)| Stmt::While {
                    form,
                    bound,
                    cond,
                    body,
                })
                .boxed(),
        ));
        arms.push((
            3,
            (0u8..9, any::<u8>(), prop::bool::weighted(0.15), inner())
                .prop_map(|(form, bound, mutable, body)| Stmt::For {
                    form,
                    bound,
                    mutable,
                    body,
                })
                .boxed(),
        ));
        let for_in: Arms<Stmt> = [Ty::Num, Ty::Str, Ty::Bool, Ty::arr(Ty::Num)]
            .into_iter()
            .map(|elem| {
                let e2 = elem.clone();
                (
                    1,
                    (any::<u8>(), expr(&Ty::arr(elem), d), inner())
                        .prop_map(move |(name, array, body)| Stmt::ForIn {
                            elem: e2.clone(),
                            name,
                            array,
                            body,
                        })
                        .boxed(),
                )
            })
            .collect();
        arms.push((3, union(for_in)));
        arms.push((1, inner().prop_map(Stmt::Block).boxed()));
        arms.push((
            1,
            fn_def(false, depth - 1)
                .prop_map(|f| Stmt::Fn(Box::new(f)))
                .boxed(),
        ));
    }
    union(arms)
}

/// A function (`top`: a top-level one, possibly recursive) whose body nests blocks at
/// most `depth` deep.
pub fn fn_def(top: bool, depth: u32) -> BoxedStrategy<FnDef> {
    let key = (top, depth);
    if let Some(s) = FNS.with(|m| m.borrow().get(&key).cloned()) {
        return s;
    }
    let arms: Arms<FnDef> = sigs()
        .iter()
        .enumerate()
        .map(|(i, sig)| {
            let i = i as u8;
            let ret = Some(sig.ret.clone());
            let value = || -> BoxedStrategy<Option<Expr>> {
                if sig.ret == Ty::Void {
                    Just(None).boxed()
                } else {
                    expr(&sig.ret, scale().expr).prop_map(Some).boxed()
                }
            };
            let rec = top && sig.params.first() == Some(&Ty::Num);
            (
                1,
                (
                    prop::bool::weighted(if rec { 0.3 } else { 0.0 }),
                    vec(any::<u8>(), sig.params.len()),
                    block(
                        &ret,
                        depth,
                        if top {
                            scale().fn_len
                        } else {
                            scale().inner_len
                        },
                    ),
                    value(),
                    value(),
                    args(&sig.params, 1),
                    union(vec![(6, Just(0u8).boxed()), (1, (1u8..4).boxed())]),
                    expr(&Ty::Bool, 1),
                )
                    .prop_map(
                        move |(rec, params, body, base, tail, probe, ending, cond)| FnDef {
                            sig: i,
                            rec,
                            params,
                            body,
                            base,
                            tail,
                            ending,
                            cond,
                            probe,
                        },
                    )
                    .boxed(),
            )
        })
        .collect();
    let s = union(arms);
    FNS.with(|m| m.borrow_mut().insert(key, s.clone()));
    s
}

/// A whole program.
pub fn program() -> BoxedStrategy<Program> {
    (
        vec(decl(), 0..6),
        vec(fn_def(true, scale().fn_block), 0..scale().fns),
        block(&None, scale().block, scale().main_len),
        any::<bool>(),
        union(vec![
            (3, Just(Vec::new()).boxed()),
            (1, vec((any::<u8>(), decl()), 1..3).boxed()),
        ]),
        union(vec![(9, Just(0u8).boxed()), (1, (1u8..6).boxed())]),
    )
        .prop_map(|(globals, fns, main, fns_first, late, shadow)| Program {
            globals,
            fns,
            main,
            fns_first,
            late,
            shadow,
        })
        .boxed()
}
