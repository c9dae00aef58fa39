//! The parser: source text to [`Program`] (LANGUAGE.md, "Syntax" and "Expressions and
//! precedence").
//!
//! A recursive-descent parser over tokens pulled one at a time from the [`Lexer`], so the
//! first error by position is reported, whether the lexer or the parser finds it.
//! Binary operators are parsed by precedence climbing.
//!
//! Nesting is bounded by [`MAX_NESTING`] so that neither the parser nor the passes that
//! walk the tree (or drop it) can overflow the host stack. Nesting counts statements inside
//! blocks, `else if` chains, nested expressions (parentheses, array literals, arguments,
//! indexes, unary operators) and nested types; it also bounds the height of left-leaning
//! chains such as `a + b + c + ...` or `f()()()...`, which are parsed by iteration but
//! still form deep trees.

use crate::diag::CompileError;
use crate::span::Span;
use crate::syntax::ast::{
    BinOp, Block, DeclId, Expr, ExprKind, FnDecl, FnId, LValue, Name, Param, Program, Res, Stmt,
    TypeAnn, UnOp,
};
use crate::syntax::lexer::{Lexer, Token, TokenKind};
use crate::types::Type;

/// How deeply statements, expressions and types may nest. Deeper input is the error
/// `nesting too deep (limit N)`.
///
/// At this depth an unoptimized build of the parser needs at most about 2.5 MB of stack
/// (a nesting level costs 0.6 to 2.5 KB depending on the construct; about 1 KB at most
/// when optimized), comfortably inside an 8 MB main-thread stack. It is more than the
/// default 2 MB of a spawned thread, so a thread that parses untrusted input in a debug
/// build needs a larger stack.
pub const MAX_NESTING: u32 = 1000;

/// Parses a whole source file, reporting the first lexical or syntax error.
pub fn parse(source: &str) -> Result<Program, CompileError> {
    let mut parser = Parser::new(source)?;
    let stmts = parser.program()?;
    Ok(Program {
        stmts,
        decl_count: parser.decl_count,
        fn_count: parser.fn_count,
    })
}

type PResult<T> = Result<T, CompileError>;

/// A parsed node and the height of its tree (a leaf has height 1).
struct Tree<T> {
    node: T,
    height: u32,
}

struct Parser<'s> {
    lexer: Lexer<'s>,
    /// The current (not yet consumed) token.
    tok: Token,
    /// How many nested constructs enclose the current position.
    depth: u32,
    /// The deepest `depth` reached since a function expression began (for its height).
    peak: u32,
    decl_count: DeclId,
    fn_count: u32,
}

/// The operator and precedence (higher binds tighter) of a binary operator token.
fn binary_op(kind: &TokenKind) -> Option<(BinOp, u8)> {
    Some(match kind {
        TokenKind::OrOr => (BinOp::Or, 1),
        TokenKind::AndAnd => (BinOp::And, 2),
        TokenKind::EqEq => (BinOp::Eq, 3),
        TokenKind::NotEq => (BinOp::Ne, 3),
        TokenKind::Lt => (BinOp::Lt, 4),
        TokenKind::Le => (BinOp::Le, 4),
        TokenKind::Gt => (BinOp::Gt, 4),
        TokenKind::Ge => (BinOp::Ge, 4),
        TokenKind::Plus => (BinOp::Add, 5),
        TokenKind::Minus => (BinOp::Sub, 5),
        TokenKind::Star => (BinOp::Mul, 6),
        TokenKind::Slash => (BinOp::Div, 6),
        TokenKind::Percent => (BinOp::Mod, 6),
        _ => return None,
    })
}

/// For an assignment token, the operator of a compound assignment (`None` for `=`).
fn assign_op(kind: &TokenKind) -> Option<Option<BinOp>> {
    Some(match kind {
        TokenKind::Assign => None,
        TokenKind::PlusAssign => Some(BinOp::Add),
        TokenKind::MinusAssign => Some(BinOp::Sub),
        TokenKind::StarAssign => Some(BinOp::Mul),
        TokenKind::SlashAssign => Some(BinOp::Div),
        TokenKind::PercentAssign => Some(BinOp::Mod),
        _ => return None,
    })
}

/// Whether a token can start an expression (and so an expression statement).
fn starts_expr(kind: &TokenKind) -> bool {
    use TokenKind::*;
    matches!(
        kind,
        Number(_) | Str(_) | Ident(_) | True | False | Null | LParen | LBracket | Minus | Bang
    )
}

fn expr(kind: ExprKind, span: Span) -> Expr {
    Expr {
        kind,
        span,
        ty: Type::Unknown,
    }
}

/// The error for `++`/`--` used as an operator inside an expression.
fn inc_dec_in_expr(span: Span) -> CompileError {
    CompileError::new(
        "++ and -- are statements, not operators inside expressions",
        span,
    )
}

/// The target of `++`/`--`, which must be a plain variable.
fn inc_dec_target(target: Expr) -> PResult<Name> {
    match target.kind {
        ExprKind::Var(name) => Ok(name),
        _ => Err(CompileError::new(
            "++ and -- apply to variables only",
            target.span,
        )),
    }
}

/// The target of an assignment: a variable or an element.
fn lvalue(target: Expr) -> PResult<LValue> {
    match target.kind {
        ExprKind::Var(name) => Ok(LValue::Var(name)),
        ExprKind::Index(array, index) => Ok(LValue::Index {
            array: *array,
            index: *index,
            span: target.span,
        }),
        _ => Err(CompileError::new("invalid assignment target", target.span)),
    }
}

/// Widens the span of a statement that ends with `;` to include it.
fn extend_to(stmt: &mut Stmt, end: Span) {
    match stmt {
        Stmt::Let { span, .. } | Stmt::Assign { span, .. } | Stmt::IncDec { span, .. } => {
            *span = span.to(end)
        }
        _ => {}
    }
}

/// A type annotation with its span replaced (for a parenthesized type).
fn with_span(ty: TypeAnn, span: Span) -> TypeAnn {
    match ty {
        TypeAnn::Named(name, _) => TypeAnn::Named(name, span),
        TypeAnn::Array(elem, _) => TypeAnn::Array(elem, span),
        TypeAnn::Func(params, ret, _) => TypeAnn::Func(params, ret, span),
        TypeAnn::Map(key, value, _) => TypeAnn::Map(key, value, span),
    }
}

impl<'s> Parser<'s> {
    fn new(source: &'s str) -> PResult<Parser<'s>> {
        let mut lexer = Lexer::new(source)?;
        let tok = lexer.next_token()?;
        Ok(Parser {
            lexer,
            tok,
            depth: 0,
            peak: 0,
            decl_count: 0,
            fn_count: 0,
        })
    }

    // ---- Tokens -------------------------------------------------------------------------

    /// Consumes the current token and returns it.
    fn take(&mut self) -> PResult<Token> {
        let next = self.lexer.next_token()?;
        Ok(std::mem::replace(&mut self.tok, next))
    }

    /// Consumes the current token and returns its span.
    fn bump(&mut self) -> PResult<Span> {
        let span = self.tok.span;
        self.tok = self.lexer.next_token()?;
        Ok(span)
    }

    fn at(&self, kind: &TokenKind) -> bool {
        self.tok.kind == *kind
    }

    /// Consumes the current token if it is `kind`.
    fn eat(&mut self, kind: &TokenKind) -> PResult<Option<Span>> {
        if self.at(kind) {
            self.bump().map(Some)
        } else {
            Ok(None)
        }
    }

    /// The error `expected WHAT, found TOKEN` at the current token.
    fn expected(&self, what: &str) -> CompileError {
        CompileError::new(
            format!("expected {what}, found {}", self.tok.kind),
            self.tok.span,
        )
    }

    /// Consumes a `kind` token, or fails with `expected 'kind' CONTEXT, found ...`.
    fn expect(&mut self, kind: &TokenKind, context: &str) -> PResult<Span> {
        if self.at(kind) {
            return self.bump();
        }
        let text = kind.text().unwrap_or_default();
        Err(self.expected(&format!("'{text}' {context}")))
    }

    /// Consumes an identifier, or fails with `expected WHAT, found ...`.
    fn ident(&mut self, what: &str) -> PResult<(String, Span)> {
        if !matches!(self.tok.kind, TokenKind::Ident(_)) {
            return Err(self.expected(what));
        }
        match self.take()? {
            Token {
                kind: TokenKind::Ident(name),
                span,
            } => Ok((name, span)),
            _ => unreachable!("checked above"),
        }
    }

    /// Consumes the `>` closing `Array<T` (or `map<K, V`: `what`), splitting a `>=`
    /// token if need be.
    fn expect_closing_angle(&mut self, what: &str) -> PResult<Span> {
        let span = self.tok.span;
        match self.tok.kind {
            TokenKind::Gt => self.bump(),
            TokenKind::Ge => {
                self.tok = Token {
                    kind: TokenKind::Assign,
                    span: Span::new(span.start + 1, span.end),
                };
                Ok(Span::new(span.start, span.start + 1))
            }
            _ => Err(self.expected(&format!("'>' to close '{what}<'"))),
        }
    }

    // ---- Nesting ------------------------------------------------------------------------
    //
    // The functions on a recursive path (statement → block → statement, expression →
    // parentheses → expression, type → parenthesized type → type) are kept small, with
    // the rest of the work in helpers called before or after the recursion, so that an
    // unoptimized build needs little stack per nesting level.

    /// Goes one nesting level deeper, failing if that exceeds [`MAX_NESTING`]. Every
    /// successful `enter` is paired with a [`Parser::leave`].
    fn enter(&mut self) -> PResult<()> {
        if self.depth >= MAX_NESTING {
            return Err(self.too_deep(self.tok.span));
        }
        self.depth += 1;
        self.peak = self.peak.max(self.depth);
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    /// `node` with its tree height, failing if the tree would reach deeper than
    /// [`MAX_NESTING`] from here.
    fn tree<T>(&self, node: T, height: u32, at: Span) -> PResult<Tree<T>> {
        if self.depth + height > MAX_NESTING + 1 {
            return Err(self.too_deep(at));
        }
        Ok(Tree { node, height })
    }

    fn too_deep(&self, at: Span) -> CompileError {
        CompileError::new(format!("nesting too deep (limit {MAX_NESTING})"), at)
    }

    fn next_decl(&mut self) -> DeclId {
        self.decl_count += 1;
        self.decl_count - 1
    }

    // ---- Statements ---------------------------------------------------------------------

    fn program(&mut self) -> PResult<Vec<Stmt>> {
        let mut stmts = Vec::new();
        while !self.at(&TokenKind::Eof) {
            self.stmt_into(&mut stmts)?;
        }
        Ok(stmts)
    }

    /// Parses a statement one nesting level deeper and appends it to `out`.
    fn stmt_into(&mut self, out: &mut Vec<Stmt>) -> PResult<()> {
        self.enter()?;
        let stmt = self.stmt_here();
        self.leave();
        stmt.map(|stmt| out.push(stmt))
    }

    fn stmt_here(&mut self) -> PResult<Stmt> {
        match self.tok.kind {
            TokenKind::Let | TokenKind::Var => self.let_stmt(),
            TokenKind::Fn => self.fn_decl(),
            TokenKind::If => self.if_stmt(),
            TokenKind::While => self.while_stmt(),
            TokenKind::For => self.for_stmt(),
            TokenKind::Return => self.return_stmt(),
            TokenKind::Break => self.jump_stmt("'break'").map(Stmt::Break),
            TokenKind::Continue => self.jump_stmt("'continue'").map(Stmt::Continue),
            TokenKind::LBrace => self.block("to open a block").map(Stmt::Block),
            TokenKind::PlusPlus | TokenKind::MinusMinus => self.simple_stmt_with_semi(),
            ref kind if starts_expr(kind) => self.simple_stmt_with_semi(),
            _ => Err(self.expected("statement")),
        }
    }

    /// Consumes the `;` ending `stmt` and widens its span to include it.
    fn finish_with_semi(&mut self, mut stmt: Stmt, context: &str) -> PResult<Stmt> {
        let semi = self.expect(&TokenKind::Semi, context)?;
        extend_to(&mut stmt, semi);
        Ok(stmt)
    }

    fn let_stmt(&mut self) -> PResult<Stmt> {
        let stmt = self.let_decl()?;
        self.finish_with_semi(stmt, "after variable declaration")
    }

    fn simple_stmt_with_semi(&mut self) -> PResult<Stmt> {
        let stmt = self.simple_stmt()?;
        let context = match &stmt {
            Stmt::Assign { .. } => "after assignment",
            Stmt::IncDec { inc: true, .. } => "after increment",
            Stmt::IncDec { inc: false, .. } => "after decrement",
            _ => "after expression",
        };
        self.finish_with_semi(stmt, context)
    }

    /// An expression, assignment or increment/decrement statement, without its `;`.
    fn simple_stmt(&mut self) -> PResult<Stmt> {
        if let Some(inc) = self.inc_dec_token() {
            return self.prefix_inc_dec(inc);
        }
        let target = self.expr()?;
        if let Some(op) = assign_op(&self.tok.kind) {
            self.bump()?;
            return self.assignment(target, op);
        }
        if let Some(inc) = self.inc_dec_token() {
            let op = self.bump()?;
            let span = target.span.to(op);
            let target = inc_dec_target(target)?;
            return Ok(Stmt::IncDec { target, inc, span });
        }
        Ok(Stmt::Expr(target))
    }

    /// The rest of `target = value` or `target op= value`, after the operator.
    fn assignment(&mut self, target: Expr, op: Option<BinOp>) -> PResult<Stmt> {
        let start = target.span;
        let target = lvalue(target)?;
        let value = self.expr()?;
        let span = start.to(value.span);
        Ok(Stmt::Assign {
            target,
            op,
            value,
            span,
        })
    }

    /// `Some(true)` at `++`, `Some(false)` at `--`.
    fn inc_dec_token(&self) -> Option<bool> {
        match self.tok.kind {
            TokenKind::PlusPlus => Some(true),
            TokenKind::MinusMinus => Some(false),
            _ => None,
        }
    }

    /// `++x` or `--x`, from the operator.
    fn prefix_inc_dec(&mut self, inc: bool) -> PResult<Stmt> {
        let op = self.bump()?;
        let target = self.unary()?.node;
        let span = op.to(target.span);
        let target = inc_dec_target(target)?;
        Ok(Stmt::IncDec { target, inc, span })
    }

    /// `let`/`var` name, annotation and initializer, without the `;`.
    fn let_decl(&mut self) -> PResult<Stmt> {
        let mutable = self.at(&TokenKind::Var);
        let start = self.bump()?;
        let what = if mutable {
            "variable name after 'var'"
        } else {
            "variable name after 'let'"
        };
        let (name, name_span) = self.ident(what)?;
        let decl = self.next_decl();
        let ann = match self.eat(&TokenKind::Colon)? {
            Some(_) => Some(self.type_ann()?),
            None => None,
        };
        if self.eat(&TokenKind::Assign)?.is_none() {
            return Err(self.expected(match ann {
                Some(_) => "'=' after type annotation",
                None => "':' or '=' after variable name",
            }));
        }
        let init = self.expr()?;
        Ok(Stmt::Let {
            decl,
            mutable,
            name,
            name_span,
            ann,
            span: start.to(init.span),
            init,
        })
    }

    /// A function declaration (a [`Stmt::Fn`]).
    fn fn_decl(&mut self) -> PResult<Stmt> {
        let head = self.fn_head()?;
        self.block("before the function body").map(|body| {
            Stmt::Fn(Box::new(FnDecl {
                id: head.id,
                name: head.name,
                name_span: head.name_span,
                params: head.params,
                ret: head.ret,
                span: head.start.to(body.span),
                body,
            }))
        })
    }

    /// A function declaration up to its body.
    fn fn_head(&mut self) -> PResult<FnHead> {
        let start = self.bump()?;
        let id = self.fn_count;
        self.fn_count += 1;
        let (name, name_span) = self.ident("function name after 'fn'")?;
        self.expect(&TokenKind::LParen, "after function name")?;
        let params = self.params()?;
        if self.eat(&TokenKind::Arrow)?.is_none() {
            return Err(self.expected("'->' and a return type after the parameters"));
        }
        let ret = self.type_ann()?;
        Ok(FnHead {
            start,
            id,
            name,
            name_span,
            params,
            ret,
        })
    }

    /// Parameters after the `(`, through the `)`.
    fn params(&mut self) -> PResult<Vec<Param>> {
        let mut params = Vec::new();
        if self.eat(&TokenKind::RParen)?.is_some() {
            return Ok(params);
        }
        loop {
            params.push(self.param()?);
            if self.eat(&TokenKind::Comma)?.is_none() {
                break;
            }
        }
        if self.eat(&TokenKind::RParen)?.is_none() {
            return Err(self.expected("',' or ')' after parameter"));
        }
        Ok(params)
    }

    fn param(&mut self) -> PResult<Param> {
        let (name, name_span) = self.ident("parameter name")?;
        let decl = self.next_decl();
        if self.eat(&TokenKind::Colon)?.is_none() {
            return Err(self.expected("':' and a type after parameter name"));
        }
        let ty = self.type_ann()?;
        Ok(Param {
            decl,
            name,
            span: name_span.to(ty.span()),
            ty,
        })
    }

    /// `{ statements }`; `context` completes the message when the `{` is missing.
    fn block(&mut self, context: &str) -> PResult<Block> {
        let open = self.expect(&TokenKind::LBrace, context)?;
        let mut stmts = Vec::new();
        while self.in_block()? {
            self.stmt_into(&mut stmts)?;
        }
        let close = self.bump()?;
        Ok(Block {
            stmts,
            span: open.to(close),
        })
    }

    /// Whether statements continue inside a block (false at its `}`).
    fn in_block(&self) -> PResult<bool> {
        match self.tok.kind {
            TokenKind::RBrace => Ok(false),
            TokenKind::Eof => Err(self.expected("'}' to close the block")),
            _ => Ok(true),
        }
    }

    /// `if (cond)` or `while (cond)`: the span of the keyword and the condition.
    fn keyword_and_condition(&mut self, keyword: &str) -> PResult<(Span, Expr)> {
        let start = self.bump()?;
        self.expect(&TokenKind::LParen, &format!("after '{keyword}'"))?;
        let cond = self.expr()?;
        self.expect(&TokenKind::RParen, &format!("after {keyword} condition"))?;
        Ok((start, cond))
    }

    fn if_stmt(&mut self) -> PResult<Stmt> {
        let (start, cond) = self.keyword_and_condition("if")?;
        let then = self.block("after if condition")?;
        self.else_branch().map(|els| {
            let end = els.as_ref().map_or(then.span, |els| els.span());
            Stmt::If {
                cond,
                then,
                els,
                span: start.to(end),
            }
        })
    }

    /// What follows the `then` block: nothing, `else if ...` or `else { ... }`.
    fn else_branch(&mut self) -> PResult<Option<Box<Stmt>>> {
        if self.eat(&TokenKind::Else)?.is_none() {
            return Ok(None);
        }
        match self.tok.kind {
            TokenKind::If => self.else_if().map(Some),
            TokenKind::LBrace => self
                .block("to open a block")
                .map(|block| Some(Box::new(Stmt::Block(block)))),
            _ => Err(self.expected("'{' or 'if' after 'else'")),
        }
    }

    /// The `if` of an `else if`, one nesting level deeper.
    fn else_if(&mut self) -> PResult<Box<Stmt>> {
        self.enter()?;
        let stmt = self.if_stmt().map(Box::new);
        self.leave();
        stmt
    }

    fn while_stmt(&mut self) -> PResult<Stmt> {
        let (start, cond) = self.keyword_and_condition("while")?;
        self.block("after while condition").map(|body| Stmt::While {
            cond,
            span: start.to(body.span),
            body,
        })
    }

    fn for_stmt(&mut self) -> PResult<Stmt> {
        let start = self.bump()?;
        match self.tok.kind {
            TokenKind::LParen => self.c_style_for(start),
            TokenKind::Ident(_) => self.for_in(start),
            _ => Err(self.expected("'(' or a loop variable after 'for'")),
        }
    }

    /// `for (init; cond; step) body`, from the `(`.
    fn c_style_for(&mut self, start: Span) -> PResult<Stmt> {
        let clauses = self.for_clauses()?;
        self.block("after for clauses").map(|body| Stmt::For {
            init: clauses.init,
            cond: clauses.cond,
            step: clauses.step,
            span: start.to(body.span),
            body,
        })
    }

    /// `(init; cond; step)`.
    fn for_clauses(&mut self) -> PResult<ForClauses> {
        self.bump()?;
        let init = match self.tok.kind {
            TokenKind::Semi => None,
            TokenKind::Let | TokenKind::Var => Some(Box::new(self.let_decl()?)),
            _ => Some(Box::new(self.simple_stmt()?)),
        };
        self.expect(&TokenKind::Semi, "after for initializer")?;
        let cond = match self.tok.kind {
            TokenKind::Semi => None,
            _ => Some(self.expr()?),
        };
        self.expect(&TokenKind::Semi, "after for condition")?;
        let step = match self.tok.kind {
            TokenKind::RParen => None,
            _ => Some(Box::new(self.simple_stmt()?)),
        };
        self.expect(&TokenKind::RParen, "after for clauses")?;
        Ok(ForClauses { init, cond, step })
    }

    /// `for name in iter body`, from the name.
    fn for_in(&mut self, start: Span) -> PResult<Stmt> {
        let head = self.for_in_head()?;
        self.block("after for-in expression")
            .map(|body| Stmt::ForIn {
                decl: head.decl,
                name: head.name,
                name_span: head.name_span,
                iter: head.iter,
                span: start.to(body.span),
                body,
            })
    }

    /// `name in iter`.
    fn for_in_head(&mut self) -> PResult<ForInHead> {
        let (name, name_span) = self.ident("loop variable")?;
        let decl = self.next_decl();
        self.expect(&TokenKind::In, "after loop variable")?;
        let iter = self.expr()?;
        Ok(ForInHead {
            decl,
            name,
            name_span,
            iter,
        })
    }

    fn return_stmt(&mut self) -> PResult<Stmt> {
        let start = self.bump()?;
        if let Some(semi) = self.eat(&TokenKind::Semi)? {
            return Ok(Stmt::Return(None, start.to(semi)));
        }
        let value = self.expr()?;
        let semi = self.expect(&TokenKind::Semi, "after return value")?;
        Ok(Stmt::Return(Some(value), start.to(semi)))
    }

    /// `break;` or `continue;`, returning its span.
    fn jump_stmt(&mut self, keyword: &str) -> PResult<Span> {
        let start = self.bump()?;
        let semi = self.expect(&TokenKind::Semi, &format!("after {keyword}"))?;
        Ok(start.to(semi))
    }

    // ---- Expressions --------------------------------------------------------------------

    fn expr(&mut self) -> PResult<Expr> {
        self.expr_tree().map(|tree| tree.node)
    }

    fn expr_tree(&mut self) -> PResult<Tree<Expr>> {
        self.enter()?;
        let tree = self.binary(0);
        self.leave();
        tree
    }

    /// Operands joined by binary operators of precedence `min_prec` or higher.
    fn binary(&mut self, min_prec: u8) -> PResult<Tree<Expr>> {
        self.unary().and_then(|lhs| self.binary_rest(lhs, min_prec))
    }

    /// The operators and right operands following `lhs`, folded to the left.
    fn binary_rest(&mut self, mut lhs: Tree<Expr>, min_prec: u8) -> PResult<Tree<Expr>> {
        while let Some((op, prec)) = binary_op(&self.tok.kind) {
            if prec < min_prec {
                break;
            }
            let op_span = self.bump()?;
            let rhs = self.binary(prec + 1);
            lhs = self.binary_node(op, op_span, lhs, rhs)?;
        }
        Ok(lhs)
    }

    fn binary_node(
        &self,
        op: BinOp,
        op_span: Span,
        lhs: Tree<Expr>,
        rhs: PResult<Tree<Expr>>,
    ) -> PResult<Tree<Expr>> {
        let rhs = rhs?;
        let span = lhs.node.span.to(rhs.node.span);
        let height = 1 + lhs.height.max(rhs.height);
        let kind = ExprKind::Binary(op, Box::new(lhs.node), Box::new(rhs.node));
        self.tree(expr(kind, span), height, op_span)
    }

    fn unary(&mut self) -> PResult<Tree<Expr>> {
        match self.tok.kind {
            TokenKind::Minus => self.prefix_op(UnOp::Neg),
            TokenKind::Bang => self.prefix_op(UnOp::Not),
            TokenKind::MinusMinus => self.double_negation(),
            TokenKind::PlusPlus => Err(inc_dec_in_expr(self.tok.span)),
            _ => self.postfix(),
        }
    }

    /// `-e` or `!e`, from the operator.
    fn prefix_op(&mut self, op: UnOp) -> PResult<Tree<Expr>> {
        let op_span = self.bump()?;
        self.nested_unary()
            .and_then(|operand| self.unary_node(op, op_span, operand))
    }

    fn unary_node(&self, op: UnOp, op_span: Span, operand: Tree<Expr>) -> PResult<Tree<Expr>> {
        let span = op_span.to(operand.node.span);
        let height = operand.height + 1;
        let kind = ExprKind::Unary(op, Box::new(operand.node));
        self.tree(expr(kind, span), height, op_span)
    }

    /// A unary expression one nesting level deeper.
    fn nested_unary(&mut self) -> PResult<Tree<Expr>> {
        self.enter()?;
        let tree = self.unary();
        self.leave();
        tree
    }

    /// `--e` inside an expression: `-(-e)`, unless `e` is a variable or an element, where
    /// it would read as a decrement, which is a statement only.
    fn double_negation(&mut self) -> PResult<Tree<Expr>> {
        let op_span = self.bump()?;
        self.nested_unary()
            .and_then(|operand| self.double_negation_node(op_span, operand))
    }

    fn double_negation_node(&self, op_span: Span, operand: Tree<Expr>) -> PResult<Tree<Expr>> {
        if matches!(operand.node.kind, ExprKind::Var(_) | ExprKind::Index(..)) {
            return Err(inc_dec_in_expr(op_span));
        }
        let second = Span::new(op_span.start + 1, op_span.end);
        let inner = self.unary_node(UnOp::Neg, second, operand)?;
        self.unary_node(UnOp::Neg, op_span, inner)
    }

    /// A primary expression followed by calls and indexing.
    fn postfix(&mut self) -> PResult<Tree<Expr>> {
        if self.at(&TokenKind::Fn) {
            // Not followed by calls or indexing (LANGUAGE.md): the call is written
            // `(fn ... { })(3)`.
            let f = self.fn_expr()?;
            if self.at(&TokenKind::LParen) {
                return Err(CompileError::new(
                    "a function expression is called only in parentheses: (fn ... { ... })(...)",
                    self.tok.span,
                ));
            }
            return Ok(f);
        }
        self.primary().and_then(|target| self.postfix_rest(target))
    }

    /// A function expression `fn (params) -> R { body }`. Its tree height counts the
    /// nesting of its body, so the checker and the compiler, which walk into the body
    /// from the expression, stay within [`MAX_NESTING`] too.
    fn fn_expr(&mut self) -> PResult<Tree<Expr>> {
        let start = self.bump()?;
        let id = self.fn_count;
        self.fn_count += 1;
        self.expect(&TokenKind::LParen, "after 'fn' in a function expression")?;
        let params = self.params()?;
        if self.eat(&TokenKind::Arrow)?.is_none() {
            return Err(self.expected("'->' and a return type after the parameters"));
        }
        let ret = self.type_ann()?;
        let (depth, peak) = (self.depth, std::mem::replace(&mut self.peak, self.depth));
        let body = self.block("before the function body");
        let height = self.peak - depth + 1;
        self.peak = self.peak.max(peak);
        let body = body?;
        let span = start.to(body.span);
        let decl = FnDecl {
            id,
            name: String::new(),
            name_span: start,
            params,
            ret,
            body,
            span,
        };
        self.tree(expr(ExprKind::Func(Box::new(decl)), span), height, start)
    }

    /// The calls and indexing following `target`.
    fn postfix_rest(&mut self, mut target: Tree<Expr>) -> PResult<Tree<Expr>> {
        loop {
            let next = match self.tok.kind {
                TokenKind::LParen => self.call(target),
                TokenKind::LBracket => self.index(target),
                _ => return Ok(target),
            };
            target = next?;
        }
    }

    /// `callee(args)`, from the `(`.
    fn call(&mut self, callee: Tree<Expr>) -> PResult<Tree<Expr>> {
        let open = self.bump()?;
        let args = self.list(Self::expr_tree, &TokenKind::RParen, "argument");
        self.call_node(callee, open, args)
    }

    fn call_node(
        &self,
        callee: Tree<Expr>,
        open: Span,
        args: PResult<List<Expr>>,
    ) -> PResult<Tree<Expr>> {
        let args = args?;
        let span = callee.node.span.to(args.close);
        let height = 1 + callee.height.max(args.height);
        let kind = ExprKind::Call(Box::new(callee.node), args.items);
        self.tree(expr(kind, span), height, open)
    }

    /// `target[index]`, from the `[`.
    fn index(&mut self, target: Tree<Expr>) -> PResult<Tree<Expr>> {
        let open = self.bump()?;
        let index = self.expr_tree();
        self.close_index(target, open, index)
    }

    fn close_index(
        &mut self,
        target: Tree<Expr>,
        open: Span,
        index: PResult<Tree<Expr>>,
    ) -> PResult<Tree<Expr>> {
        let index = index?;
        let close = self.expect(&TokenKind::RBracket, "after index")?;
        let span = target.node.span.to(close);
        let height = 1 + target.height.max(index.height);
        let kind = ExprKind::Index(Box::new(target.node), Box::new(index.node));
        self.tree(expr(kind, span), height, open)
    }

    /// Comma-separated items (parsed by `item`) after an opening bracket, through the
    /// `close` token; `what` names an item in the message when neither `,` nor `close`
    /// follows one.
    fn list<T>(
        &mut self,
        item: fn(&mut Self) -> PResult<Tree<T>>,
        close: &TokenKind,
        what: &str,
    ) -> PResult<List<T>> {
        let mut list = List {
            items: Vec::new(),
            height: 0,
            close: self.tok.span,
        };
        if !self.at(close) {
            loop {
                item(self).map(|item| list.push(item))?;
                if self.eat(&TokenKind::Comma)?.is_none() {
                    break;
                }
            }
        }
        list.close = self.close_list(close, what)?;
        Ok(list)
    }

    /// The `close` token ending a list.
    fn close_list(&mut self, close: &TokenKind, what: &str) -> PResult<Span> {
        if self.at(close) {
            return self.bump();
        }
        let close = close.text().unwrap_or_default();
        Err(self.expected(&format!("',' or '{close}' after {what}")))
    }

    fn primary(&mut self) -> PResult<Tree<Expr>> {
        match self.tok.kind {
            TokenKind::LParen => self.paren(),
            TokenKind::LBracket => self.array_literal(),
            // Where an expression is expected, `{` begins a map literal (a statement
            // that begins with `{` is a block: `stmt_here` sees it first).
            TokenKind::LBrace => self.map_literal(),
            ref kind if starts_expr(kind) => self.literal_or_name(),
            _ => Err(self.expected("expression")),
        }
    }

    /// A literal or a variable: a leaf.
    fn literal_or_name(&mut self) -> PResult<Tree<Expr>> {
        let Token { kind, span } = self.take()?;
        let kind = match kind {
            TokenKind::Number(value) => ExprKind::Number(value),
            TokenKind::Str(value) => ExprKind::Str(value),
            TokenKind::True => ExprKind::Bool(true),
            TokenKind::False => ExprKind::Bool(false),
            TokenKind::Null => ExprKind::Null,
            TokenKind::Ident(name) => ExprKind::Var(Name {
                name,
                span,
                res: Res::Unresolved,
            }),
            other => unreachable!("not a leaf token: {other:?}"),
        };
        Ok(Tree {
            node: expr(kind, span),
            height: 1,
        })
    }

    /// `( e )`: `e` with its span widened to the parentheses.
    fn paren(&mut self) -> PResult<Tree<Expr>> {
        let open = self.bump()?;
        let inner = self.expr_tree();
        self.close_paren(open, inner)
    }

    fn close_paren(&mut self, open: Span, inner: PResult<Tree<Expr>>) -> PResult<Tree<Expr>> {
        let mut inner = inner?;
        let close = self.expect(&TokenKind::RParen, "to close '('")?;
        inner.node.span = open.to(close);
        Ok(inner)
    }

    /// `[a, b, ...]`.
    fn array_literal(&mut self) -> PResult<Tree<Expr>> {
        let open = self.bump()?;
        let list = self.list(Self::expr_tree, &TokenKind::RBracket, "array element")?;
        let span = open.to(list.close);
        self.tree(
            expr(ExprKind::Array(list.items), span),
            list.height + 1,
            open,
        )
    }

    /// `{k1: v1, k2: v2}` or `{}`.
    fn map_literal(&mut self) -> PResult<Tree<Expr>> {
        let open = self.bump()?;
        let list = self.list(Self::map_entry, &TokenKind::RBrace, "map entry")?;
        let span = open.to(list.close);
        self.tree(expr(ExprKind::Map(list.items), span), list.height + 1, open)
    }

    /// `key: value` in a map literal.
    fn map_entry(&mut self) -> PResult<Tree<(Expr, Expr)>> {
        let key = self.expr_tree()?;
        self.expect(&TokenKind::Colon, "after a map key")?;
        let value = self.expr_tree()?;
        Ok(Tree {
            height: key.height.max(value.height),
            node: (key.node, value.node),
        })
    }

    // ---- Types --------------------------------------------------------------------------

    fn type_ann(&mut self) -> PResult<TypeAnn> {
        self.type_tree().map(|tree| tree.node)
    }

    /// A type: a base type followed by any number of `[]`.
    fn type_tree(&mut self) -> PResult<Tree<TypeAnn>> {
        self.enter()?;
        let tree = self.type_here();
        self.leave();
        tree
    }

    fn type_here(&mut self) -> PResult<Tree<TypeAnn>> {
        let base = self.type_base()?;
        self.array_suffixes(base)
    }

    /// The `[]`s following `ty`.
    fn array_suffixes(&mut self, mut ty: Tree<TypeAnn>) -> PResult<Tree<TypeAnn>> {
        while let Some(open) = self.eat(&TokenKind::LBracket)? {
            let close = self.expect(&TokenKind::RBracket, "in array type")?;
            let span = ty.node.span().to(close);
            let height = ty.height + 1;
            ty = self.tree(TypeAnn::Array(Box::new(ty.node), span), height, open)?;
        }
        Ok(ty)
    }

    fn type_base(&mut self) -> PResult<Tree<TypeAnn>> {
        match &self.tok.kind {
            TokenKind::Ident(name) if name == "Array" => self.generic_array_type(),
            TokenKind::Ident(name) if name == "map" => self.map_type(),
            TokenKind::Ident(_) | TokenKind::Null => self.named_type(),
            TokenKind::LParen => self.paren_or_fn_type(),
            _ => Err(self.expected("type")),
        }
    }

    /// A type name (`null` is a keyword but also names a type).
    fn named_type(&mut self) -> PResult<Tree<TypeAnn>> {
        let Token { kind, span } = self.take()?;
        let name = match kind {
            TokenKind::Ident(name) => name,
            _ => "null".to_owned(),
        };
        Ok(Tree {
            node: TypeAnn::Named(name, span),
            height: 1,
        })
    }

    /// `Array<T>`.
    fn generic_array_type(&mut self) -> PResult<Tree<TypeAnn>> {
        let start = self.bump()?;
        self.expect(&TokenKind::Lt, "after 'Array'")?;
        let elem = self.type_tree()?;
        let close = self.expect_closing_angle("Array")?;
        let node = TypeAnn::Array(Box::new(elem.node), start.to(close));
        self.tree(node, elem.height + 1, start)
    }

    /// `map<K, V>` (`map` is a type name only here: elsewhere it is the prelude's
    /// `map(xs, f)`).
    fn map_type(&mut self) -> PResult<Tree<TypeAnn>> {
        let start = self.bump()?;
        self.expect(&TokenKind::Lt, "after 'map'")?;
        let key = self.type_tree()?;
        self.expect(
            &TokenKind::Comma,
            "between the key and value types of 'map<'",
        )?;
        let value = self.type_tree()?;
        let close = self.expect_closing_angle("map")?;
        let height = key.height.max(value.height) + 1;
        let node = TypeAnn::Map(Box::new(key.node), Box::new(value.node), start.to(close));
        self.tree(node, height, start)
    }

    /// `(T1, T2) -> R`, `() -> R`, or a parenthesized type `(T)`.
    fn paren_or_fn_type(&mut self) -> PResult<Tree<TypeAnn>> {
        let open = self.bump()?;
        let list = self.list(Self::type_tree, &TokenKind::RParen, "parameter type")?;
        if self.at(&TokenKind::Arrow) {
            self.fn_type(open, list)
        } else {
            self.parenthesized_type(open, list)
        }
    }

    /// The rest of a function type, from the `->`.
    fn fn_type(&mut self, open: Span, params: List<TypeAnn>) -> PResult<Tree<TypeAnn>> {
        self.bump()?;
        let ret = self.type_tree();
        self.fn_type_node(open, params, ret)
    }

    fn fn_type_node(
        &self,
        open: Span,
        params: List<TypeAnn>,
        ret: PResult<Tree<TypeAnn>>,
    ) -> PResult<Tree<TypeAnn>> {
        let ret = ret?;
        let span = open.to(ret.node.span());
        let height = 1 + params.height.max(ret.height);
        let node = TypeAnn::Func(params.items, Box::new(ret.node), span);
        self.tree(node, height, open)
    }

    /// `(T)` not followed by `->`: the single type, its span widened to the parentheses.
    fn parenthesized_type(&self, open: Span, mut list: List<TypeAnn>) -> PResult<Tree<TypeAnn>> {
        if list.items.len() != 1 {
            return Err(self.expected("'->' after function type parameters"));
        }
        let inner = list.items.pop().expect("one item");
        Ok(Tree {
            node: with_span(inner, open.to(list.close)),
            height: list.height,
        })
    }
}

/// Items between brackets, the height of the tallest and the closing bracket.
struct List<T> {
    items: Vec<T>,
    height: u32,
    close: Span,
}

impl<T> List<T> {
    fn push(&mut self, item: Tree<T>) {
        self.height = self.height.max(item.height);
        self.items.push(item.node);
    }
}

/// A function declaration up to its body.
struct FnHead {
    start: Span,
    id: FnId,
    name: String,
    name_span: Span,
    params: Vec<Param>,
    ret: TypeAnn,
}

/// The clauses of a C-style `for`.
struct ForClauses {
    init: Option<Box<Stmt>>,
    cond: Option<Expr>,
    step: Option<Box<Stmt>>,
}

/// `name in iter` of a `for in` loop.
struct ForInHead {
    decl: DeclId,
    name: String,
    name_span: Span,
    iter: Expr,
}
