//! The shape of a generated program.
//!
//! The tree is typed when it is generated, but names are not: a variable, a function or
//! an assignment target is an abstract choice (a type and a `pick` number) that the
//! printer (`print.rs`) resolves against the bindings in scope at that point of the
//! program. A choice with nothing to resolve to prints as a fallback of the right type
//! (a literal, an expression statement, or nothing). So every tree, including every tree
//! proptest shrinks to, prints as a well-typed program.

use std::fmt;

/// An Atlas type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ty {
    Num,
    Str,
    Bool,
    Null,
    Void,
    Arr(Box<Ty>),
    Fn(Vec<Ty>, Box<Ty>),
}

impl Ty {
    pub fn arr(elem: Ty) -> Ty {
        Ty::Arr(Box::new(elem))
    }

    pub fn func(params: Vec<Ty>, ret: Ty) -> Ty {
        Ty::Fn(params, Box::new(ret))
    }

    /// The spelling `Array<T>` instead of `T[]` for the outermost array.
    /// Whether values of this type hold functions.
    pub fn has_fn(&self) -> bool {
        match self {
            Ty::Fn(..) => true,
            Ty::Arr(e) => e.has_fn(),
            _ => false,
        }
    }

    pub fn text(&self, generic: bool) -> String {
        match self {
            Ty::Arr(e) if generic => format!("Array<{e}>"),
            _ => self.to_string(),
        }
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Num => f.write_str("number"),
            Ty::Str => f.write_str("string"),
            Ty::Bool => f.write_str("bool"),
            Ty::Null => f.write_str("null"),
            Ty::Void => f.write_str("void"),
            Ty::Arr(e) if matches!(**e, Ty::Fn(..)) => write!(f, "({e})[]"),
            Ty::Arr(e) => write!(f, "{e}[]"),
            Ty::Fn(params, ret) => {
                f.write_str("(")?;
                for (i, p) in params.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{p}")?;
                }
                write!(f, ") -> {ret}")
            }
        }
    }
}

/// `(number) -> number`
pub fn f_nn() -> Ty {
    Ty::func(vec![Ty::Num], Ty::Num)
}

/// `(number, number) -> number`
pub fn f_nnn() -> Ty {
    Ty::func(vec![Ty::Num, Ty::Num], Ty::Num)
}

/// `(number) -> bool`
pub fn f_nb() -> Ty {
    Ty::func(vec![Ty::Num], Ty::Bool)
}

/// `(string) -> string`
pub fn f_ss() -> Ty {
    Ty::func(vec![Ty::Str], Ty::Str)
}

/// `(number) -> string`
pub fn f_ns() -> Ty {
    Ty::func(vec![Ty::Num], Ty::Str)
}

/// The function types that values (variables, parameters, callbacks) have.
pub fn fn_value_types() -> Vec<Ty> {
    vec![f_nn(), f_nnn(), f_nb(), f_ss(), f_ns()]
}

/// The types variables are declared with.
pub fn value_types() -> Vec<Ty> {
    let mut types = vec![
        Ty::Num,
        Ty::Str,
        Ty::Bool,
        Ty::arr(Ty::Num),
        Ty::arr(Ty::Str),
        Ty::arr(Ty::Bool),
        Ty::arr(Ty::arr(Ty::Num)),
        Ty::Null,
        Ty::arr(f_nn()),
    ];
    types.extend(fn_value_types());
    types
}

/// A signature of generated functions (top-level and nested).
pub struct Sig {
    pub params: Vec<Ty>,
    pub ret: Ty,
}

impl Sig {
    /// The function type, when values of it are generated.
    pub fn ty(&self) -> Ty {
        Ty::func(self.params.clone(), self.ret.clone())
    }
}

/// Every signature a generated function may have; `Expr::Call` names one by index.
pub fn sigs() -> Vec<Sig> {
    let s = |params: Vec<Ty>, ret: Ty| Sig { params, ret };
    vec![
        s(vec![Ty::Num], Ty::Num),
        s(vec![Ty::Num, Ty::Num], Ty::Num),
        s(vec![Ty::Num], Ty::Bool),
        s(vec![Ty::Str], Ty::Str),
        s(vec![Ty::Num], Ty::Str),
        s(vec![Ty::arr(Ty::Num)], Ty::Num),
        s(vec![Ty::Str, Ty::Num], Ty::Str),
        s(vec![], Ty::Void),
        s(vec![Ty::arr(Ty::Num), Ty::Num], Ty::Void),
        s(vec![Ty::Num], Ty::arr(Ty::Num)),
        s(vec![f_nn(), Ty::Num], Ty::Num),
        s(vec![Ty::arr(Ty::Str)], Ty::Str),
        s(vec![Ty::Bool, Ty::Num], Ty::Bool),
        s(vec![Ty::Num], f_nn()),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl BinOp {
    pub fn text(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::And => "&&",
            BinOp::Or => "||",
        }
    }

    /// Binding strength (LANGUAGE.md, "Expressions and precedence"); higher binds tighter.
    pub fn prec(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Eq | BinOp::Ne => 3,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => 4,
            BinOp::Add | BinOp::Sub => 5,
            BinOp::Mul | BinOp::Div | BinOp::Rem => 6,
        }
    }
}

#[derive(Clone, Debug)]
pub enum Expr {
    Num(f64),
    /// The text, and whether to write non-ASCII characters as `\u{...}` escapes.
    Str(String, bool),
    Bool(bool),
    Null,
    /// A variable of this type in scope.
    Var(Ty, u8),
    /// A function of this (function) type, as a value.
    FnRef(Ty, u8),
    /// An array literal of this element type.
    Array(Ty, Vec<Expr>),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(BinOp, Box<Expr>, Box<Expr>),
    Index(Box<Expr>, Box<Expr>),
    /// A prelude function (the generator supplies well-typed arguments).
    Prelude(&'static str, Vec<Expr>),
    /// A generated function of signature `sigs()[sig]`.
    Call(u8, u8, Vec<Expr>),
    /// A call through a variable of this function type.
    CallVar(Ty, u8, Vec<Expr>),
    /// A call of a function-typed expression (`fs[0](x)`, `pick(n)(x)`).
    Apply(Box<Expr>, Vec<Expr>),
    /// A function expression of this (function) type: its parameters' names, an
    /// optional assignment to a number variable it may capture (`v = e;`), and the
    /// value it returns (unused for a void one). Its body reads the variables visible
    /// where it is written, so it captures locals, loop variables and parameters.
    Lambda(Ty, Vec<u8>, Option<(u8, Box<Expr>)>, Box<Expr>),
    Paren(Box<Expr>),
    /// `fxn(e)` (a number) or `fxs(e)` (a string): `e`, after changing the shared
    /// array `fx`.
    Effect(Ty, Box<Expr>),
    /// `deep(min(n, 300), f)`: a recursion a few hundred calls deep (so the value
    /// stack grows) that calls `f` at the bottom.
    Deep(Box<Expr>, Box<Expr>),
    /// `clock() >= 0`
    Clock,
}

/// `let`/`var` declaration.
#[derive(Clone, Debug)]
pub struct Decl {
    pub mutable: bool,
    /// 0: no annotation, 1: `: T`, 2: `: Array<T>` for arrays.
    pub annotate: u8,
    pub name: u8,
    pub ty: Ty,
    pub init: Expr,
}

#[derive(Clone, Debug)]
pub enum Stmt {
    Decl(Decl),
    Assign {
        ty: Ty,
        pick: u8,
        value: Expr,
    },
    Compound {
        ty: Ty,
        pick: u8,
        op: BinOp,
        value: Expr,
    },
    /// `x++`, `x--`, `++x`, `--x` (form 0..4).
    IncDec {
        pick: u8,
        form: u8,
    },
    /// `xs[i] op= v`, or `g[outer][i] op= v` through an array of arrays.
    SetIndex {
        elem: Ty,
        pick: u8,
        outer: Option<Expr>,
        index: Expr,
        op: Option<BinOp>,
        value: Expr,
    },
    Push {
        elem: Ty,
        pick: u8,
        value: Expr,
    },
    Print(Expr),
    /// `sort(xs, cmp)` of a visible number array, with a comparator of type
    /// `(number, number) -> number` (a function expression, a function, or a variable).
    Sort {
        pick: u8,
        cmp: Expr,
    },
    Expr(Expr),
    /// A call of a `void` function.
    CallVoid(u8, u8, Vec<Expr>),
    If(Expr, Vec<Stmt>, Vec<(Expr, Vec<Stmt>)>, Option<Vec<Stmt>>),
    /// A `while` loop of one of several shapes (`form`), running at most `bound`
    /// times.
    While {
        form: u8,
        bound: u8,
        cond: Expr,
        body: Vec<Stmt>,
    },
    /// A C-style `for` loop of one of several shapes. `mutable`: the body may assign
    /// the counter (the loop may then run away, into the instruction budget).
    For {
        form: u8,
        bound: u8,
        mutable: bool,
        body: Vec<Stmt>,
    },
    ForIn {
        elem: Ty,
        name: u8,
        array: Expr,
        body: Vec<Stmt>,
    },
    Block(Vec<Stmt>),
    Break,
    Continue,
    Return(Option<Expr>),
    /// A function declared inside a block.
    Fn(Box<FnDef>),
}

/// A function: top-level or nested.
#[derive(Clone, Debug)]
pub struct FnDef {
    pub sig: u8,
    /// Recursive with a depth parameter (top-level functions whose first parameter is
    /// a number only).
    pub rec: bool,
    pub params: Vec<u8>,
    pub body: Vec<Stmt>,
    /// The value of a recursive function at depth 0.
    pub base: Option<Expr>,
    /// The final `return` (absent for `void`).
    pub tail: Option<Expr>,
    /// How the body ends: 0 `return tail;`, 1 `while (true)` and 2 `for (;;)` loops
    /// that return, 3 `if (cond) { return tail; } else { return base; }`.
    pub ending: u8,
    pub cond: Expr,
    /// Arguments of the call that the end of the program makes (top-level functions).
    pub probe: Vec<Expr>,
}

#[derive(Clone, Debug)]
pub struct Program {
    /// Globals declared first; every function may use them.
    pub globals: Vec<Decl>,
    pub fns: Vec<FnDef>,
    pub main: Vec<Stmt>,
    /// Whether the functions come before the top-level statements in the source
    /// (they are hoisted either way).
    pub fns_first: bool,
    /// Globals declared among the top-level statements (before statement `pos`, modulo
    /// their number), which functions may use too: read before their declaration ran,
    /// they are a runtime error; written, they take the value.
    pub late: Vec<(u8, Decl)>,
    /// When not 0, the first function of type `(number) -> number` is named after a
    /// prelude function (`abs`, `floor`, ...), which it shadows.
    pub shadow: u8,
}
