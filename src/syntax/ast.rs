//! The abstract syntax tree.
//!
//! The parser builds it with every node carrying its byte [`Span`]; the type checker then
//! fills in the annotations the compiler needs: the static type of every expression
//! ([`Expr::ty`]) and what every name refers to ([`Name::res`]). Declarations are numbered
//! by the parser (`DeclId` for variables and parameters, `FnId` for functions) so that the
//! checker and the compiler can keep side tables in plain vectors.

use crate::span::Span;
use crate::types::Type;

/// Index of a variable declaration (`let`, `var`, a parameter, a `for`/`for in` variable),
/// numbered by the parser in source order, starting at 0.
pub type DeclId = u32;
/// Index of a function declaration, numbered by the parser in source order, starting at 0.
pub type FnId = u32;

/// A whole source file.
#[derive(Debug, Clone)]
pub struct Program {
    pub stmts: Vec<Stmt>,
    /// Number of `DeclId`s handed out.
    pub decl_count: u32,
    /// Number of `FnId`s handed out.
    pub fn_count: u32,
}

/// What a name refers to, filled in by the checker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Res {
    /// Not resolved yet (the parser's value).
    #[default]
    Unresolved,
    /// A local variable or parameter of the enclosing function (or of a top-level block).
    Local(DeclId),
    /// A top-level `let`/`var`.
    Global(DeclId),
    /// A user function declared with `fn`.
    Func(FnId),
    /// A prelude function.
    Builtin(crate::builtins::Builtin),
    /// A function of the embedder (`Engine::register_fn`): its index in the checker's
    /// environment ([`crate::check::Env::functions`]). It can only be called.
    Host(u32),
}

/// A use of a name.
#[derive(Debug, Clone)]
pub struct Name {
    pub name: String,
    pub span: Span,
    pub res: Res,
}

#[derive(Debug, Clone)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
    /// Static type; `Type::Unknown` until the checker runs.
    pub ty: Type,
}

#[derive(Debug, Clone)]
pub enum ExprKind {
    Number(f64),
    Str(String),
    Bool(bool),
    Null,
    Var(Name),
    Array(Vec<Expr>),
    /// `{k1: v1, k2: v2}` (and `{}`): the entries, keys and values in source order.
    Map(Vec<(Expr, Expr)>),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `callee(args)`.
    Call(Box<Expr>, Vec<Expr>),
    /// `array[index]`, or `map[key]` (the checker tells them apart by the type).
    Index(Box<Expr>, Box<Expr>),
    /// A function expression `fn (params) -> R { body }` (its `name` is empty).
    Func(Box<FnDecl>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Not,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
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
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
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
}

/// A type as written in the source.
#[derive(Debug, Clone)]
pub enum TypeAnn {
    /// `number`, `string`, `bool`, `null`, `void` (any other name is a checker error).
    Named(String, Span),
    /// `T[]` or `Array<T>`.
    Array(Box<TypeAnn>, Span),
    /// `(T1, T2) -> R`.
    Func(Vec<TypeAnn>, Box<TypeAnn>, Span),
    /// `map<K, V>`.
    Map(Box<TypeAnn>, Box<TypeAnn>, Span),
}

impl TypeAnn {
    pub fn span(&self) -> Span {
        match self {
            TypeAnn::Named(_, s)
            | TypeAnn::Array(_, s)
            | TypeAnn::Func(_, _, s)
            | TypeAnn::Map(_, _, s) => *s,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub struct Param {
    pub decl: DeclId,
    pub name: String,
    pub span: Span,
    pub ty: TypeAnn,
}

#[derive(Debug, Clone)]
pub struct FnDecl {
    pub id: FnId,
    pub name: String,
    /// Span of the name.
    pub name_span: Span,
    pub params: Vec<Param>,
    pub ret: TypeAnn,
    pub body: Block,
    /// From `fn` to the closing brace.
    pub span: Span,
}

/// The target of an assignment.
#[derive(Debug, Clone)]
pub enum LValue {
    Var(Name),
    Index {
        array: Expr,
        index: Expr,
        span: Span,
    },
}

#[derive(Debug, Clone)]
pub enum Stmt {
    /// `let name: T = init;` (mutable: false) or `var ...` (mutable: true).
    Let {
        decl: DeclId,
        mutable: bool,
        name: String,
        name_span: Span,
        ann: Option<TypeAnn>,
        init: Expr,
        span: Span,
    },
    Fn(Box<FnDecl>),
    Expr(Expr),
    /// `target = value;` (op: None) or `target op= value;`.
    Assign {
        target: LValue,
        op: Option<BinOp>,
        value: Expr,
        span: Span,
    },
    /// `x++`, `++x` (inc: true), `x--`, `--x` (inc: false).
    IncDec {
        target: Name,
        inc: bool,
        span: Span,
    },
    If {
        cond: Expr,
        then: Block,
        /// `else { }` is `Some(Stmt::Block)`, `else if` is `Some(Stmt::If)`.
        els: Option<Box<Stmt>>,
        span: Span,
    },
    While {
        cond: Expr,
        body: Block,
        span: Span,
    },
    /// C-style `for (init; cond; step) body`. `init` is a `Let`, an assignment, an
    /// inc/dec or an expression statement; `step` an assignment, inc/dec or expression.
    For {
        init: Option<Box<Stmt>>,
        cond: Option<Expr>,
        step: Option<Box<Stmt>>,
        body: Block,
        span: Span,
    },
    /// `for name in iter body`.
    ForIn {
        decl: DeclId,
        name: String,
        name_span: Span,
        iter: Expr,
        body: Block,
        span: Span,
    },
    Break(Span),
    Continue(Span),
    Return(Option<Expr>, Span),
    Block(Block),
}

impl Stmt {
    pub fn span(&self) -> Span {
        match self {
            Stmt::Let { span, .. }
            | Stmt::Assign { span, .. }
            | Stmt::IncDec { span, .. }
            | Stmt::If { span, .. }
            | Stmt::While { span, .. }
            | Stmt::For { span, .. }
            | Stmt::ForIn { span, .. }
            | Stmt::Break(span)
            | Stmt::Continue(span)
            | Stmt::Return(_, span) => *span,
            Stmt::Fn(f) => f.span,
            Stmt::Expr(e) => e.span,
            Stmt::Block(b) => b.span,
        }
    }
}
