//! Prints a generated tree as Atlas source, resolving its abstract names.
//!
//! The printer keeps the scopes of the program as it writes it, so each `Var`, `Call`,
//! assignment target ... becomes one of the bindings of the right type visible there, or
//! a fallback. It also enforces what keeps programs well typed and (mostly) terminating:
//! - functions see the globals declared first ("shared" globals), the globals declared
//!   later among the top-level statements ("late": reading one before its declaration
//!   ran is a runtime error) and their own locals; a nested function sees the globals
//!   that no enclosing local shadows (no later declaration of its block may take their
//!   names: its body sees the whole block); no function uses a
//!   global holding functions (main code may have stored any function there, and
//!   calling it could close a cycle of calls);
//! - top-level function `i` only calls (or takes as a value) functions `j < i`, so the
//!   calls form a DAG; a recursive function only calls itself in its final `return`,
//!   with its depth parameter minus one, and callers clamp that argument to 4. (A
//!   function named after a prelude function, `Program::shadow`, breaks the DAG: calls
//!   of that prelude function reach it, and may recurse into a stack overflow.)
//! - loops run at most a handful of times: counters the program never assigns (except
//!   in a few loops, which may then run into the instruction budget), `for x in xs`
//!   over arrays that cannot grow past 24 elements (every `push` and array assignment
//!   is guarded by the length);
//! - strings and arrays cannot grow exponentially: assignments to string and array
//!   variables are guarded by the length of the target, element assignments cut the
//!   value short;
//! - `break`, `continue` and `return` only where they are allowed, `[]` only where its
//!   type is known.

use std::collections::HashSet;

use super::ast::*;

/// Names declarations draw from: few, so that shadowing is common.
const POOL: &[&str] = &[
    "a", "b", "c", "x", "y", "n", "s", "t", "xs", "ys", "ok", "acc",
];
const PARAMS: &[&str] = &["a", "b", "x", "n", "s", "p", "q", "xs"];

/// Precedence of primaries, postfix expressions (calls, indexing) and unary operators;
/// binary operators are `BinOp::prec` (1 to 6).
const PRIMARY: u8 = 10;
const POSTFIX: u8 = 9;
const UNARY: u8 = 8;

/// Most elements arrays grow to, most characters of strings assigned to variables.
const MAX_LEN: u32 = 24;
const MAX_STR: u32 = 200;

/// Functions every program ends with: leaf functions that fill in the function types
/// the prelude has no function of; `fxn`, `fxs`, which pass their argument through
/// but change the shared global array `fx` (`Expr::Effect`), so that the order of
/// evaluation shows; `deep` (`Expr::Deep`).
pub const STOCK: &str = "fn isPos(x: number) -> bool {
    return x > 0;
}
fn label(x: number) -> string {
    return \"<\" + str(x) + \">\";
}
fn fxn(n: number) -> number {
    if (len(fx) < 24) { push(fx, n); }
    fx[0] = fx[0] + 1;
    return n;
}
fn fxs(s: string) -> string {
    if (len(fx) > 3) { pop(fx); }
    fx[0] = fx[0] * 2;
    return s;
}
fn deep(n: number, f: (number) -> number) -> number {
    if (n <= 0) {
        return f(n);
    }
    let here = [n, n * 2];
    let text = str(n);
    return deep(n - 1, f) + here[1] - here[0] * 2 + len(text) * 0;
}
";

#[derive(Clone, Debug)]
struct Var {
    name: String,
    ty: Ty,
    assignable: bool,
    /// Declared among the globals every function may use.
    shared: bool,
}

#[derive(Clone, Debug)]
struct Func {
    name: String,
    sig: usize,
    rec: bool,
    /// The order of a top-level function (`None` for nested ones).
    index: Option<usize>,
}

#[derive(Clone, Debug, Default)]
struct Scope {
    vars: Vec<Var>,
    fns: Vec<Func>,
    /// Names a later declaration in this scope must not take: globals that a function
    /// declared here uses (a function body sees its whole block, so such a local would
    /// become the one it refers to, captured, with another type).
    reserved: HashSet<String>,
}

/// Where the printer is.
#[derive(Clone, Debug, Default)]
struct Cx {
    scopes: Vec<Scope>,
    /// Top-level functions below this index may be called (`None`: all).
    fn_bound: Option<usize>,
    /// No calls of generated functions (the initializers of the shared globals, which
    /// run before the globals functions use are all set).
    no_calls: bool,
    /// The loops around here (in this function), innermost last: whether `continue` may
    /// be used in each (not where it would skip the counter's step).
    loops: Vec<bool>,
    /// The return type of the function being printed (`None` at top level).
    ret: Option<Ty>,
    /// In the final `return` of this recursive function, with its depth parameter.
    this: Option<(Func, String)>,
    in_fn: bool,
}

struct Printer {
    out: String,
    indent: usize,
    fresh: u32,
    sigs: Vec<Sig>,
    shared: Vec<Var>,
    top: Vec<Func>,
    cx: Cx,
}

/// The source of `program`.
pub fn render(program: &Program) -> String {
    let sigs = sigs();
    let mut top: Vec<Func> = program
        .fns
        .iter()
        .enumerate()
        .map(|(i, f)| Func {
            name: format!("f{i}"),
            sig: f.sig as usize,
            rec: f.rec && sigs[f.sig as usize].params.first() == Some(&Ty::Num),
            index: Some(i),
        })
        .collect();
    if program.shadow != 0 {
        let names = ["abs", "floor", "sqrt", "ceil", "round"];
        if let Some(f) = top.iter_mut().find(|f| sigs[f.sig].ty() == f_nn()) {
            f.name = names[program.shadow as usize % names.len()].to_string();
        }
    }
    let mut p = Printer {
        out: String::new(),
        indent: 0,
        fresh: 0,
        sigs,
        shared: Vec::new(),
        top,
        cx: Cx {
            scopes: vec![Scope::default()],
            no_calls: true,
            ..Cx::default()
        },
    };
    p.line("var fx = [1, 2, 3, 4];");
    p.declare("fx", &Ty::arr(Ty::Num), true, true);
    for d in &program.globals {
        p.decl(d, true);
    }
    p.shared = p.cx.scopes[0].vars.clone();
    let late: Vec<(usize, String, &Decl)> = program
        .late
        .iter()
        .map(|(at, d)| {
            let name = p.fresh("g");
            p.shared.push(Var {
                name: name.clone(),
                ty: d.ty.clone(),
                assignable: d.mutable,
                shared: true,
            });
            (*at as usize % (program.main.len() + 1), name, d)
        })
        .collect();
    p.cx.no_calls = false;
    if program.fns_first {
        p.functions(program);
    }
    for k in 0..=program.main.len() {
        for (_, name, d) in late.iter().filter(|(at, _, _)| *at == k) {
            p.decl_named(d, name, true);
        }
        if let Some(s) = program.main.get(k) {
            p.stmt(s);
        }
    }
    // Every function runs at least once.
    for (i, f) in program.fns.iter().enumerate() {
        let call = p.call_top(i, &f.probe);
        if p.sigs[f.sig as usize].ret == Ty::Void {
            p.line(&format!("{call};"));
        } else {
            p.line(&format!("print({call});"));
        }
    }
    let finals: Vec<String> = p.cx.scopes[0].vars.iter().map(|v| v.name.clone()).collect();
    for name in finals {
        p.line(&format!("print({name});"));
    }
    if !program.fns_first {
        p.functions(program);
    }
    p.out.push_str(STOCK);
    p.out
}

fn paren(text: String) -> String {
    format!("({text})")
}

fn num_text(v: f64) -> (String, u8) {
    if v.is_nan() {
        return ("sqrt(-1)".to_string(), POSTFIX);
    }
    let a = v.abs();
    let text = if a.is_infinite() {
        "1e999".to_string()
    } else if a != 0.0 && !(1e-6..1e21).contains(&a) {
        format!("{a:e}")
    } else {
        format!("{a}")
    };
    if v.is_sign_negative() {
        (format!("-{text}"), UNARY)
    } else {
        (text, PRIMARY)
    }
}

fn str_text(s: &str, escape: bool) -> String {
    let mut out = String::from("\"");
    let chars: Vec<char> = s.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' if chars.get(i + 1).is_some_and(|n| n.is_ascii_digit()) => out.push_str("\\u{0}"),
            '\0' => out.push_str("\\0"),
            c if escape && !c.is_ascii() => out.push_str(&format!("\\u{{{:X}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether the literal fixes its own type (`[]`, `[[]]` do not).
fn fixes_type(e: &Expr) -> bool {
    match e {
        Expr::Array(_, items) => items.iter().any(fixes_type),
        Expr::Paren(e) => fixes_type(e),
        _ => true,
    }
}

impl Printer {
    // ----- output ----------------------------------------------------------------

    fn line(&mut self, text: &str) {
        for _ in 0..self.indent {
            self.out.push_str("    ");
        }
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn push_scope(&mut self) {
        self.cx.scopes.push(Scope::default());
    }

    fn pop_scope(&mut self) {
        self.cx.scopes.pop();
    }

    fn fresh(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    /// A name for a declaration in the innermost scope: from the pool unless the scope
    /// already has it.
    fn new_name(&mut self, pick: u8) -> String {
        let name = POOL[pick as usize % POOL.len()];
        let taken =
            self.cx.scopes.last().is_some_and(|s| {
                s.vars.iter().any(|v| v.name == name) || s.reserved.contains(name)
            });
        if taken {
            self.fresh("v")
        } else {
            name.to_string()
        }
    }

    fn declare(&mut self, name: &str, ty: &Ty, assignable: bool, shared: bool) {
        let var = Var {
            name: name.to_string(),
            ty: ty.clone(),
            assignable,
            shared,
        };
        self.cx.scopes.last_mut().expect("a scope").vars.push(var);
    }

    // ----- name resolution -------------------------------------------------------

    /// The bindings visible here, innermost first (one per name).
    fn visible(&self) -> Vec<&Var> {
        let mut seen = HashSet::new();
        let mut out = Vec::new();
        for scope in self.cx.scopes.iter().rev() {
            for v in scope.vars.iter().rev() {
                if seen.insert(v.name.as_str()) {
                    out.push(v);
                }
            }
        }
        out
    }

    /// A visible variable of type `ty`. Functions do not use the shared globals of
    /// function type (main code may have stored any function there, and calling it
    /// could close a cycle of calls).
    fn pick_var(&self, ty: &Ty, pick: u8, assign: bool) -> Option<String> {
        let candidates: Vec<&Var> = self
            .visible()
            .into_iter()
            .filter(|v| &v.ty == ty && (!assign || v.assignable))
            .filter(|v| !(self.cx.in_fn && v.shared && ty.has_fn()))
            .collect();
        if candidates.is_empty() {
            return None;
        }
        Some(candidates[pick as usize % candidates.len()].name.clone())
    }

    /// Generated functions of signature `sig` callable here.
    fn callables(&self, sig: usize) -> Vec<Func> {
        if self.cx.no_calls {
            return Vec::new();
        }
        let mut out: Vec<Func> = self
            .top
            .iter()
            .filter(|f| f.sig == sig && self.cx.fn_bound.is_none_or(|b| f.index < Some(b)))
            .cloned()
            .collect();
        for scope in &self.cx.scopes {
            out.extend(scope.fns.iter().filter(|f| f.sig == sig).cloned());
        }
        if let Some((this, _)) = &self.cx.this {
            if this.sig == sig {
                out.push(this.clone());
            }
        }
        out
    }

    /// Functions of type `ty` usable as values here: generated ones (not recursive
    /// ones, whose argument would be an unbounded depth) and prelude or stock ones.
    fn fn_values(&self, ty: &Ty) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (i, sig) in self.sigs.iter().enumerate() {
            if &sig.ty() == ty {
                out.extend(
                    self.callables(i)
                        .into_iter()
                        .filter(|f| !f.rec)
                        .map(|f| f.name),
                );
            }
        }
        let builtin: &[&str] = if *ty == f_nn() {
            &["abs", "floor", "sqrt", "ceil", "round"]
        } else if *ty == f_nnn() {
            &["min", "max", "pow"]
        } else if *ty == f_ss() {
            &["trim", "toUpperCase", "toLowerCase"]
        } else if *ty == f_nb() {
            &["isPos"]
        } else if *ty == f_ns() {
            &["label"]
        } else {
            &[]
        };
        out.extend(builtin.iter().map(|s| s.to_string()));
        out
    }

    /// A value of type `ty` for a choice that resolved to nothing.
    fn default(&self, ty: &Ty) -> (String, u8) {
        match ty {
            Ty::Num => ("1".to_string(), PRIMARY),
            Ty::Str => ("\"d\"".to_string(), PRIMARY),
            Ty::Bool => ("false".to_string(), PRIMARY),
            Ty::Null | Ty::Void => ("null".to_string(), PRIMARY),
            Ty::Arr(e) => {
                let d = self.default(e).0;
                (format!("[{d}, {d}, {d}]"), PRIMARY)
            }
            Ty::Fn(..) => (self.fn_values(ty)[0].clone(), PRIMARY),
        }
    }

    // ----- expressions -----------------------------------------------------------

    /// The text of `e`, with its precedence. `expect`: the context gives `[]` a type.
    fn expr(&mut self, e: &Expr, expect: bool) -> (String, u8) {
        match e {
            Expr::Num(v) => num_text(*v),
            Expr::Str(s, escape) => (str_text(s, *escape), PRIMARY),
            Expr::Bool(b) => (b.to_string(), PRIMARY),
            Expr::Null => ("null".to_string(), PRIMARY),
            Expr::Var(ty, pick) => match self.pick_var(ty, *pick, false) {
                Some(name) => (name, PRIMARY),
                None => self.default(ty),
            },
            Expr::FnRef(ty, pick) => {
                let values = self.fn_values(ty);
                (values[*pick as usize % values.len()].clone(), PRIMARY)
            }
            Expr::Array(elem, items) => {
                if items.is_empty() {
                    return if expect {
                        ("[]".to_string(), PRIMARY)
                    } else {
                        self.default(&Ty::arr(elem.clone()))
                    };
                }
                let inner = expect || items.iter().any(fixes_type);
                let parts: Vec<String> = items.iter().map(|i| self.expr(i, inner).0).collect();
                (format!("[{}]", parts.join(", ")), PRIMARY)
            }
            Expr::Neg(x) | Expr::Not(x) => {
                let op = if matches!(e, Expr::Neg(_)) { "-" } else { "!" };
                let (t, p) = self.expr(x, false);
                let t = if p < UNARY || t.starts_with(op) {
                    paren(t)
                } else {
                    t
                };
                (format!("{op}{t}"), UNARY)
            }
            Expr::Bin(op, l, r) => {
                let p = op.prec();
                let (lt, lp) = self.expr(l, false);
                let lt = if lp < p { paren(lt) } else { lt };
                let (rt, rp) = self.expr(r, false);
                let rt = if rp <= p { paren(rt) } else { rt };
                (format!("{lt} {} {rt}", op.text()), p)
            }
            Expr::Index(a, i) => {
                let (at, ap) = self.expr(a, false);
                let at = if ap < POSTFIX { paren(at) } else { at };
                // A literal index into a literal array mostly stays in range.
                let (it, _) = match (&**a, &**i) {
                    (Expr::Array(_, items), Expr::Num(k))
                        if !items.is_empty() && k.fract() == 0.0 && *k > 0.0 && *k < 1e9 =>
                    {
                        num_text(*k % items.len() as f64)
                    }
                    _ => self.expr(i, false),
                };
                (format!("{at}[{it}]"), POSTFIX)
            }
            Expr::Prelude(name, args) => {
                let parts: Vec<String> = args.iter().map(|a| self.expr(a, false).0).collect();
                (format!("{name}({})", parts.join(", ")), POSTFIX)
            }
            Expr::Call(sig, pick, args) => {
                let sig = *sig as usize;
                match self.call(sig, *pick, args) {
                    Some(text) => (text, POSTFIX),
                    None => self.default(&self.sigs[sig].ret.clone()),
                }
            }
            Expr::CallVar(ty, pick, args) => {
                // (`pick_var` leaves out the shared globals in functions.)
                let callee = match self.pick_var(ty, *pick, false) {
                    Some(name) => name,
                    None => {
                        let values = self.fn_values(ty);
                        values[*pick as usize % values.len()].clone()
                    }
                };
                let parts: Vec<String> = args.iter().map(|a| self.expr(a, true).0).collect();
                (format!("{callee}({})", parts.join(", ")), POSTFIX)
            }
            Expr::Apply(callee, args) => {
                let (c, p) = self.expr(callee, false);
                let c = if p < POSTFIX { paren(c) } else { c };
                let parts: Vec<String> = args.iter().map(|a| self.expr(a, true).0).collect();
                (format!("{c}({})", parts.join(", ")), POSTFIX)
            }
            Expr::Paren(x) => (paren(self.expr(x, false).0), PRIMARY),
            Expr::Lambda(ty, names, assign, result) => {
                (self.lambda(ty, names, assign.as_ref(), result), PRIMARY)
            }
            Expr::Deep(n, f) => {
                let n = self.text(n, false);
                let f = self.text(f, false);
                (format!("deep(min({n}, 300), {f})"), POSTFIX)
            }
            Expr::Effect(ty, x) => {
                let f = if *ty == Ty::Num { "fxn" } else { "fxs" };
                (format!("{f}({})", self.text(x, false)), POSTFIX)
            }
            Expr::Clock => ("clock() >= 0".to_string(), BinOp::Ge.prec()),
        }
    }

    /// A function expression (in parentheses: it may be called on the spot). Its body
    /// sees the variables visible here, and captures the locals among them; since a
    /// function body sees its whole block, no later declaration of this block may
    /// reuse their names.
    fn lambda(
        &mut self,
        ty: &Ty,
        names: &[u8],
        assign: Option<&(u8, Box<Expr>)>,
        result: &Expr,
    ) -> String {
        let Ty::Fn(params, ret) = ty else {
            unreachable!("a lambda has a function type")
        };
        let mut scope = Scope::default();
        let mut texts = Vec::new();
        for (k, (pty, pick)) in params.iter().zip(names).enumerate() {
            let n = PARAMS[*pick as usize % PARAMS.len()];
            let pname = if scope.vars.iter().any(|v| v.name == n) {
                format!("p{k}")
            } else {
                n.to_string()
            };
            texts.push(format!("{pname}: {pty}"));
            scope.vars.push(Var {
                name: pname,
                ty: pty.clone(),
                assignable: true,
                shared: false,
            });
        }
        let visible: Vec<String> = self.visible().iter().map(|v| v.name.clone()).collect();
        if let Some(last) = self.cx.scopes.last_mut() {
            last.reserved.extend(visible);
        }
        let outer = Cx {
            loops: Vec::new(),
            ret: Some((**ret).clone()),
            this: None,
            in_fn: true,
            ..self.cx.clone()
        };
        let saved = std::mem::replace(&mut self.cx, outer);
        self.cx.scopes.push(scope);
        let mut body = String::new();
        if let Some((pick, value)) = assign {
            if let Some(target) = self.pick_var(&Ty::Num, *pick, true) {
                let v = self.text(value, true);
                body.push_str(&format!("{target} = {v}; "));
            }
        }
        if **ret != Ty::Void {
            let r = self.text(result, true);
            body.push_str(&format!("return {r}; "));
        }
        self.cx = saved;
        format!("(fn ({}) -> {ret} {{ {body}}})", texts.join(", "))
    }

    fn text(&mut self, e: &Expr, expect: bool) -> String {
        self.expr(e, expect).0
    }

    /// A call of top-level function `i`.
    fn call_top(&mut self, i: usize, args: &[Expr]) -> String {
        let f = self.top[i].clone();
        self.call_of(&f, args)
    }

    /// A call of a generated function of signature `sig`, if one is callable here.
    fn call(&mut self, sig: usize, pick: u8, args: &[Expr]) -> Option<String> {
        let candidates = self.callables(sig);
        if candidates.is_empty() {
            return None;
        }
        let f = candidates[pick as usize % candidates.len()].clone();
        Some(self.call_of(&f, args))
    }

    fn call_of(&mut self, f: &Func, args: &[Expr]) -> String {
        let this = self.cx.this.clone();
        let mut parts = Vec::new();
        for (k, a) in args.iter().enumerate() {
            if k == 0 && f.rec {
                match &this {
                    Some((t, depth)) if t.name == f.name => parts.push(format!("{depth} - 1")),
                    _ => {
                        let t = self.text(a, true);
                        parts.push(format!("min({t}, 4)"));
                    }
                }
            } else {
                parts.push(self.text(a, true));
            }
        }
        format!("{}({})", f.name, parts.join(", "))
    }

    // ----- statements ------------------------------------------------------------

    fn block(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            self.stmt(s);
        }
    }

    /// `{`, the statements in a new scope, `}` (the caller writes the opening line).
    fn body(&mut self, stmts: &[Stmt]) {
        self.indent += 1;
        self.push_scope();
        self.block(stmts);
        self.pop_scope();
        self.indent -= 1;
    }

    fn decl(&mut self, d: &Decl, shared: bool) {
        let init = self.text(&d.init, d.annotate != 0);
        let name = self.new_name(d.name);
        self.decl_text(d, &name, &init, shared);
    }

    fn decl_named(&mut self, d: &Decl, name: &str, shared: bool) {
        let init = self.text(&d.init, d.annotate != 0);
        self.decl_text(d, name, &init, shared);
    }

    fn decl_text(&mut self, d: &Decl, name: &str, init: &str, shared: bool) {
        let annotation = match d.annotate {
            0 => String::new(),
            n => format!(": {}", d.ty.text(n == 2)),
        };
        let kind = if d.mutable { "var" } else { "let" };
        self.line(&format!("{kind} {name}{annotation} = {init};"));
        self.declare(name, &d.ty, d.mutable, shared);
    }

    fn stmt(&mut self, s: &Stmt) {
        match s {
            Stmt::Decl(d) => self.decl(d, false),
            Stmt::Assign { ty, pick, value } => {
                let target = self.pick_var(ty, *pick, true);
                let v = self.text(value, target.is_some());
                match target {
                    Some(n) => match ty {
                        Ty::Str => {
                            self.line(&format!("if (len({n}) < {MAX_STR}) {{ {n} = {v}; }}"))
                        }
                        Ty::Arr(_) => {
                            self.line(&format!("if (len({n}) < {MAX_LEN}) {{ {n} = {v}; }}"))
                        }
                        _ => self.line(&format!("{n} = {v};")),
                    },
                    None => self.line(&format!("{v};")),
                }
            }
            Stmt::Compound {
                ty,
                pick,
                op,
                value,
            } => {
                let v = self.text(value, false);
                match self.pick_var(ty, *pick, true) {
                    Some(n) if *ty == Ty::Str => {
                        self.line(&format!("if (len({n}) < {MAX_STR}) {{ {n} += {v}; }}"))
                    }
                    Some(n) => self.line(&format!("{n} {}= {v};", op.text())),
                    None => self.line(&format!("{v};")),
                }
            }
            Stmt::IncDec { pick, form } => {
                if let Some(n) = self.pick_var(&Ty::Num, *pick, true) {
                    let text = match form {
                        0 => format!("{n}++;"),
                        1 => format!("{n}--;"),
                        2 => format!("++{n};"),
                        _ => format!("--{n};"),
                    };
                    self.line(&text);
                }
            }
            Stmt::SetIndex {
                elem,
                pick,
                outer,
                index,
                op,
                value,
            } => {
                let nested = outer.as_ref().and_then(|o| {
                    self.pick_var(&Ty::arr(Ty::arr(elem.clone())), *pick, false)
                        .map(|g| (g, o))
                });
                let target = match nested {
                    Some((g, o)) => {
                        let o = self.text(o, false);
                        Some(format!("{g}[{o}]"))
                    }
                    None => self.pick_var(&Ty::arr(elem.clone()), *pick, false),
                };
                let i = self.text(index, false);
                let v = self.text(value, false);
                let v = match elem {
                    Ty::Str => format!("substring({v}, 0, 8)"),
                    Ty::Arr(_) => format!("slice({v}, 0, 8)"),
                    _ => v,
                };
                let op = op.map_or(String::new(), |o| o.text().to_string());
                match target {
                    Some(t) => self.line(&format!("{t}[{i}] {op}= {v};")),
                    None => self.line(&format!("{v};")),
                }
            }
            Stmt::Push { elem, pick, value } => {
                let target = self.pick_var(&Ty::arr(elem.clone()), *pick, false);
                let v = self.text(value, target.is_some());
                match target {
                    Some(n) => {
                        self.line(&format!("if (len({n}) < {MAX_LEN}) {{ push({n}, {v}); }}"))
                    }
                    None => self.line(&format!("{v};")),
                }
            }
            Stmt::Print(e) => {
                let v = self.text(e, false);
                self.line(&format!("print({v});"));
            }
            Stmt::Sort { pick, cmp } => {
                if let Some(xs) = self.pick_var(&Ty::arr(Ty::Num), *pick, false) {
                    let c = self.text(cmp, true);
                    self.line(&format!("sort({xs}, {c});"));
                }
            }
            Stmt::Expr(e) => {
                let v = self.text(e, false);
                self.line(&format!("{v};"));
            }
            Stmt::CallVoid(sig, pick, args) => {
                if let Some(text) = self.call(*sig as usize, *pick, args) {
                    self.line(&format!("{text};"));
                }
            }
            Stmt::If(cond, then, elifs, els) => {
                let c = self.text(cond, false);
                self.line(&format!("if ({c}) {{"));
                self.body(then);
                for (cond, stmts) in elifs {
                    let c = self.text(cond, false);
                    self.line(&format!("}} else if ({c}) {{"));
                    self.body(stmts);
                }
                if let Some(stmts) = els {
                    self.line("} else {");
                    self.body(stmts);
                }
                self.line("}");
            }
            Stmt::While {
                form,
                bound,
                cond,
                body,
            } => {
                let bound = bound % 6;
                let w = self.fresh("w");
                self.line(&format!("var {w} = 0;"));
                self.declare(&w, &Ty::Num, false, false);
                let step = format!("{w}++;");
                let exit = format!("if ({w} >= {bound}) {{ break; }}");
                match form {
                    0 => {
                        let (c, p) = self.expr(cond, false);
                        let c = if p <= BinOp::And.prec() { paren(c) } else { c };
                        self.line(&format!("while ({w} < {bound} && {c}) {{"));
                        self.loop_body(&[step], body, &[]);
                    }
                    1 => {
                        // The step last: the optimizer fuses it with the test.
                        let (c, p) = self.expr(cond, false);
                        let c = if p < UNARY { paren(c) } else { c };
                        self.line(&format!("while ({w} < {bound}) {{"));
                        self.loop_body(&[format!("if (!{c}) {{ break; }}")], body, &[step]);
                    }
                    2 => {
                        self.line("while (true) {");
                        self.loop_body(&[exit, step], body, &[]);
                    }
                    _ => {
                        self.line("for (;;) {");
                        self.loop_body(&[exit, step], body, &[]);
                    }
                }
                self.line("}");
            }
            Stmt::For {
                form,
                bound,
                mutable,
                body,
            } => self.for_loop(*form, *bound, *mutable, body),
            Stmt::ForIn {
                elem,
                name,
                array,
                body,
            } => {
                let a = self.text(array, false);
                self.push_scope();
                let n = self.new_name(*name);
                self.declare(&n, elem, false, false);
                self.line(&format!("for {n} in {a} {{"));
                self.loop_body(&[], body, &[]);
                self.line("}");
                self.pop_scope();
            }
            Stmt::Block(stmts) => {
                self.line("{");
                self.body(stmts);
                self.line("}");
            }
            Stmt::Break => {
                if !self.cx.loops.is_empty() {
                    self.line("break;");
                }
            }
            Stmt::Continue => {
                if self.cx.loops.last() == Some(&true) {
                    self.line("continue;");
                }
            }
            Stmt::Return(value) => match (&self.cx.ret.clone(), value) {
                (Some(Ty::Void), _) => self.line("return;"),
                (Some(_), Some(e)) => {
                    let v = self.text(e, true);
                    self.line(&format!("return {v};"));
                }
                _ => {}
            },
            Stmt::Fn(f) => {
                let name = self.fresh("h");
                let locals: HashSet<String> = self
                    .visible()
                    .iter()
                    .filter(|v| !v.shared)
                    .map(|v| v.name.clone())
                    .collect();
                // The shared globals the enclosing code sees (inside a function,
                // its outermost scope), less those a local shadows here.
                let outer = if self.cx.in_fn {
                    &self.cx.scopes[0].vars
                } else {
                    &self.shared
                };
                let shared: Vec<Var> = outer
                    .iter()
                    .filter(|v| v.shared && !locals.contains(&v.name))
                    .cloned()
                    .collect();
                let bound = self.cx.fn_bound;
                if let Some(scope) = self.cx.scopes.last_mut() {
                    scope.reserved.extend(shared.iter().map(|v| v.name.clone()));
                }
                self.function(f, &name, None, bound, shared);
                let func = Func {
                    name,
                    sig: f.sig as usize,
                    rec: false,
                    index: None,
                };
                self.cx.scopes.last_mut().expect("a scope").fns.push(func);
            }
        }
    }

    /// The body of a loop: `first` lines, the statements, then `last` lines, in a new
    /// scope. `continue` is left out when `last` has lines.
    fn loop_body(&mut self, first: &[String], stmts: &[Stmt], last: &[String]) {
        self.indent += 1;
        self.push_scope();
        self.cx.loops.push(last.is_empty());
        for l in first {
            self.line(l);
        }
        self.block(stmts);
        for l in last {
            self.line(l);
        }
        self.cx.loops.pop();
        self.pop_scope();
        self.indent -= 1;
    }

    /// A C-style `for` of one of several shapes, running at most `bound` times unless
    /// the body may assign the counter (`mutable`).
    fn for_loop(&mut self, form: u8, choice: u8, mutable: bool, body: &[Stmt]) {
        let bound = choice % 6;
        let i = self.fresh("i");
        match form {
            0 | 1 | 2 | 6 | 7 | 8 => {
                let head = match form {
                    0 => format!("for (var {i} = 0; {i} < {bound}; {i}++) {{"),
                    1 => format!("for (var {i} = {bound}; {i} > 0; {i}--) {{"),
                    2 => format!("for (var {i} = 0; {i} < {bound}; {i} += 2) {{"),
                    6 => format!("for (var {i} = 0; {i} < {bound}; ++{i}) {{"),
                    8 => {
                        // Arithmetic on a variable: computed once before the loop
                        // when the body cannot change the variable.
                        let x = self
                            .pick_var(&Ty::Num, choice / 6, false)
                            .unwrap_or_else(|| "1".to_string());
                        format!("for (var {i} = 0; {i} < {bound} + {x} * 0; {i} += 1) {{")
                    }
                    _ => {
                        // A limit in a variable the body may change.
                        let n = self.fresh("n");
                        self.line(&format!("var {n} = {bound};"));
                        self.declare(&n, &Ty::Num, true, false);
                        format!("for (var {i} = 0; {i} < {n}; {i} = {i} + 1) {{")
                    }
                };
                self.push_scope();
                self.declare(&i, &Ty::Num, mutable, false);
                self.line(&head);
                self.loop_body(&[], body, &[]);
                self.line("}");
                self.pop_scope();
            }
            3 => {
                self.line(&format!("var {i} = 0;"));
                self.declare(&i, &Ty::Num, mutable, false);
                self.line(&format!("for (; {i} < {bound};) {{"));
                self.loop_body(&[format!("{i}++;")], body, &[]);
                self.line("}");
            }
            4 => {
                self.push_scope();
                self.declare(&i, &Ty::Num, mutable, false);
                self.line(&format!("for (var {i} = 0; ; {i}++) {{"));
                self.loop_body(&[format!("if ({i} >= {bound}) {{ break; }}")], body, &[]);
                self.line("}");
                self.pop_scope();
            }
            _ => {
                let j = self.fresh("j");
                self.line(&format!("var {j} = 0;"));
                self.declare(&j, &Ty::Num, mutable, false);
                self.push_scope();
                self.declare(&i, &Ty::Num, false, false);
                self.line(&format!("for (let {i} = 10; {j} < {bound}; {j}++) {{"));
                self.loop_body(&[], body, &[]);
                self.line("}");
                self.pop_scope();
            }
        }
    }

    fn functions(&mut self, program: &Program) {
        for (i, f) in program.fns.iter().enumerate() {
            let name = self.top[i].name.clone();
            let shared = self.shared.clone();
            self.function(f, &name, Some(i), Some(i), shared);
        }
    }

    /// Prints function `f` named `name`: top-level function number `index`, or a
    /// nested one; it may call top-level functions below `bound` and sees `shared`.
    fn function(
        &mut self,
        f: &FnDef,
        name: &str,
        index: Option<usize>,
        bound: Option<usize>,
        shared: Vec<Var>,
    ) {
        let sig = &self.sigs[f.sig as usize];
        let params = sig.params.clone();
        let ret = sig.ret.clone();
        let rec = index.is_some_and(|i| self.top[i].rec);
        let mut scope = Scope::default();
        let mut texts = Vec::new();
        let mut depth = String::new();
        for (k, (ty, pick)) in params.iter().zip(&f.params).enumerate() {
            let pname = if rec && k == 0 {
                depth = self.fresh("depth");
                depth.clone()
            } else {
                let n = PARAMS[*pick as usize % PARAMS.len()];
                if scope.vars.iter().any(|v| v.name == n) {
                    format!("p{k}")
                } else {
                    n.to_string()
                }
            };
            texts.push(format!("{pname}: {ty}"));
            scope.vars.push(Var {
                name: pname,
                ty: ty.clone(),
                assignable: !(rec && k == 0),
                shared: false,
            });
        }
        let inner = Cx {
            scopes: vec![
                Scope {
                    vars: shared,
                    ..Scope::default()
                },
                scope,
                Scope::default(),
            ],
            fn_bound: bound,
            no_calls: false,
            loops: Vec::new(),
            ret: Some(ret.clone()),
            this: None,
            in_fn: true,
        };
        let saved = std::mem::replace(&mut self.cx, inner);
        self.line(&format!("fn {name}({}) -> {ret} {{", texts.join(", ")));
        self.indent += 1;
        if rec {
            if let Some(base) = &f.base {
                let b = self.text(base, true);
                self.line(&format!("if ({depth} <= 0) {{"));
                self.line(&format!("    return {b};"));
                self.line("}");
            }
        }
        self.block(&f.body);
        if let Some(tail) = &f.tail {
            if rec {
                let me = self.top[index.expect("recursive functions are top-level")].clone();
                self.cx.this = Some((me, depth.clone()));
            }
            match f.ending {
                1 | 2 => {
                    // An endless loop that returns: the checker must see that the
                    // function returns on every path.
                    let w = self.fresh("w");
                    self.line(&format!("var {w} = 0;"));
                    self.declare(&w, &Ty::Num, false, false);
                    self.line(if f.ending == 1 {
                        "while (true) {"
                    } else {
                        "for (;;) {"
                    });
                    self.indent += 1;
                    let t = self.text(tail, true);
                    self.line(&format!("if ({w} >= 2) {{ return {t}; }}"));
                    self.line(&format!("{w}++;"));
                    self.indent -= 1;
                    self.line("}");
                }
                3 => {
                    let c = self.text(&f.cond, false);
                    let t = self.text(tail, true);
                    let other = f.base.as_ref().unwrap_or(tail);
                    let o = self.text(other, true);
                    self.line(&format!("if ({c}) {{"));
                    self.line(&format!("    return {t};"));
                    self.line("} else {");
                    self.line(&format!("    return {o};"));
                    self.line("}");
                }
                _ => {
                    let t = self.text(tail, true);
                    self.line(&format!("return {t};"));
                }
            }
        }
        self.indent -= 1;
        self.line("}");
        self.cx = saved;
    }
}
