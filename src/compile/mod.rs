//! The compiler: checked AST to register bytecode.
//!
//! Each function gets a window of registers: parameters first, then locals in
//! declaration order, then temporaries, allocated like a stack (`free_reg`) and released
//! at the end of each statement and block. The checker's types select typed opcodes
//! (`add_num`, `lt_str`, ...), so the VM never dispatches on operand types. With
//! `optimize` on (the default), the compiler also folds constant arithmetic, encodes
//! number literals as immediate operands (`add_num_k`), fuses comparisons with the
//! branches of `if`/`while`/`for` (`jnlt_num_k`), and keeps top-level variables that no
//! function touches in registers of the script's frame instead of global slots.

mod emit;
mod expr;
mod loops;
mod stmt;

use std::collections::HashMap;
use std::rc::Rc;

use crate::builtins::Builtin;
use crate::bytecode::{Function, Module};
use crate::check::CheckInfo;
use crate::diag::CompileError;
use crate::span::Span;
use crate::syntax::ast::{DeclId, Expr, FnDecl, FnId, Program, Stmt};
use crate::vm::value::{Str, Value};
use emit::{ConstIdx, FuncIdx, GlobalSlot, JumpSite, NativeIdx, Reg};

/// Registers a frame may use (operands are one byte; the rest is headroom).
const MAX_REGISTERS: u16 = 250;
/// Script registers kept for temporaries: top-level variables beyond this go to globals.
const SCRIPT_VARIABLE_REGISTERS: u16 = 200;

/// Compiler settings.
#[derive(Debug, Clone, Copy)]
pub struct CompileOptions {
    /// Constant folding, immediate operands, fused compare-and-branch, top-level
    /// variables in registers. Off gives the baseline configuration.
    pub optimize: bool,
}

impl Default for CompileOptions {
    fn default() -> CompileOptions {
        CompileOptions { optimize: true }
    }
}

/// Where a variable lives.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Place {
    Reg(Reg),
    Global(GlobalSlot),
    /// A captured variable: the register holds its cell (`get_cell`, `set_cell`).
    Cell(Reg),
}

/// Compiles a checked program.
pub fn compile(
    program: &Program,
    info: &CheckInfo,
    options: CompileOptions,
) -> Result<Module, CompileError> {
    let mut compiler = Compiler {
        info,
        options,
        places: vec![None; program.decl_count as usize],
        globals: Vec::new(),
        functions: vec![None; program.fn_count as usize],
        hoisted: Vec::new(),
    };
    // Functions are compiled before the top-level code (they are hoisted), so the
    // globals they use get their slots first.
    for (decl, info) in info.decls.iter().enumerate() {
        if info.global && (info.used_by_fn || !options.optimize) {
            compiler.global_slot(decl as DeclId, info.span)?;
        }
    }
    let mut script = FnState::new("<script>".to_string(), Span::default());
    compiler.block_body(&mut script, &program.stmts, true)?;
    script.emit_ret_void(Span::default());
    let script_index = compiler.functions.len();
    let mut functions: Vec<Function> = compiler
        .functions
        .into_iter()
        .map(|f| f.expect("every function declaration is compiled"))
        .collect();
    functions.push(script.finish(0));
    Ok(Module {
        functions,
        globals: compiler.globals,
        // At most MAX_FUNCTIONS: every declaration got a `FuncIdx`.
        script: script_index as u16,
    })
}

struct Compiler<'a> {
    info: &'a CheckInfo,
    options: CompileOptions,
    /// Indexed by DeclId, set when the declaration is compiled.
    places: Vec<Option<Place>>,
    /// Names of the global slots.
    globals: Vec<String>,
    /// Indexed by FnId.
    functions: Vec<Option<Function>>,
    /// Loop-invariant expressions already computed into a register before their loop.
    hoisted: Vec<(*const Expr, Reg)>,
}

/// A loop being compiled: where `break` and `continue` go.
struct LoopCx {
    breaks: Vec<JumpSite>,
    continues: Vec<JumpSite>,
}

/// The function being compiled.
struct FnState {
    name: String,
    span: Span,
    code: Vec<u8>,
    lines: Vec<(u32, Span)>,
    consts: Vec<Value>,
    /// String constants already in the pool.
    strings: HashMap<String, ConstIdx>,
    free_reg: u16,
    max_regs: u16,
    loops: Vec<LoopCx>,
}

impl FnState {
    fn new(name: String, span: Span) -> FnState {
        FnState {
            name,
            span,
            code: Vec::new(),
            lines: Vec::new(),
            consts: Vec::new(),
            strings: HashMap::new(),
            free_reg: 0,
            max_regs: 0,
            loops: Vec::new(),
        }
    }

    fn finish(self, arity: u8) -> Function {
        Function {
            name: self.name,
            arity,
            // R[0] always exists: a call delivers its result there.
            num_regs: self.max_regs.max(1),
            code: self.code,
            consts: self.consts,
            lines: self.lines,
            span: self.span,
        }
    }

    /// Allocates the next register.
    fn alloc(&mut self, span: Span) -> Result<Reg, CompileError> {
        if self.free_reg >= MAX_REGISTERS {
            return Err(CompileError::new(
                format!(
                    "too many registers needed in '{}' (limit {MAX_REGISTERS}): split it into smaller functions",
                    self.name
                ),
                span,
            ));
        }
        let reg = self.top();
        self.free_reg += 1;
        self.max_regs = self.max_regs.max(self.free_reg);
        Ok(reg)
    }

    /// The first free register (allocated or not).
    fn top(&self) -> Reg {
        Reg::new(self.free_reg).expect("`alloc` keeps free_reg below MAX_REGISTERS")
    }

    /// Releases every register above `reg`.
    fn free_above(&mut self, reg: Reg) {
        self.free_reg = reg.index() + 1;
    }

    fn here(&self) -> usize {
        self.code.len()
    }

    /// Pool index of a string constant, shared by equal strings.
    fn string_const(&mut self, text: &str, span: Span) -> Result<ConstIdx, CompileError> {
        if let Some(&k) = self.strings.get(text) {
            return Ok(k);
        }
        let k = ConstIdx::new(self.consts.len(), span)?;
        self.consts.push(Value::Str(Rc::new(Str::new(text))));
        self.strings.insert(text.to_string(), k);
        Ok(k)
    }
}

impl Compiler<'_> {
    /// Compiles a function declaration into `self.functions[id]`.
    ///
    /// Its registers: the parameters, then its captures (cells, or values of variables
    /// captured by value, which a call passes after the arguments), then locals and
    /// temporaries. A parameter captured in a cell is moved into it on entry.
    fn function(&mut self, decl: &FnDecl) -> Result<(), CompileError> {
        FuncIdx::new(decl.id, decl.name_span)?;
        // A function expression is `<fn>` in traces and profiles (and prints so).
        let name = if decl.name.is_empty() {
            "<fn>".to_string()
        } else {
            decl.name.clone()
        };
        let mut f = FnState::new(name, decl.name_span);
        for param in &decl.params {
            let reg = f.alloc(param.span)?;
            self.places[param.decl as usize] = Some(Place::Reg(reg));
        }
        // While this body compiles, its captures are its own registers; the enclosing
        // function's places come back after.
        let info = self.info;
        let captures = &info.fns[decl.id as usize].captures;
        let mut outer_places = Vec::with_capacity(captures.len());
        for &capture in captures {
            let reg = f.alloc(decl.span)?;
            outer_places.push((capture, self.places[capture as usize]));
            self.places[capture as usize] = Some(if self.in_cell(capture) {
                Place::Cell(reg)
            } else {
                Place::Reg(reg)
            });
        }
        for param in &decl.params {
            if let (true, Some(Place::Reg(reg))) =
                (self.in_cell(param.decl), self.places[param.decl as usize])
            {
                f.emit_new_cell(reg, reg, param.span);
                self.places[param.decl as usize] = Some(Place::Cell(reg));
            }
        }
        let body = self.block_body(&mut f, &decl.body.stmts, false);
        for (capture, place) in outer_places {
            self.places[capture as usize] = place;
        }
        body?;
        // Reached only by void functions (the checker proved the others return).
        f.emit_ret_void(decl.body.span);
        // At most MAX_REGISTERS: every parameter got a register.
        let arity = decl.params.len() as u8;
        self.functions[decl.id as usize] = Some(f.finish(arity));
        Ok(())
    }

    /// Whether declaration `decl` lives in a register: locals always; top-level
    /// variables when optimizing, no function uses them, and the script has registers
    /// to spare. The others live in global slots, which functions can reach.
    fn in_register(&self, f: &FnState, decl: DeclId) -> bool {
        let info = &self.info.decls[decl as usize];
        !info.global
            || (self.places[decl as usize].is_none() && f.free_reg < SCRIPT_VARIABLE_REGISTERS)
    }

    /// `R[dst] :=` user function `id` as a value: a closure of what it captures, if it
    /// captures anything.
    fn function_value(
        &mut self,
        f: &mut FnState,
        id: FnId,
        dst: Reg,
        span: Span,
    ) -> Result<(), CompileError> {
        let func = FuncIdx::new(id, span)?;
        let captures = &self.info.fns[id as usize].captures;
        if captures.is_empty() {
            f.emit_load_fn(dst, func, span);
            return Ok(());
        }
        let mark = f.free_reg;
        let base = f.top();
        self.push_captures(f, id, span)?;
        // At most MAX_REGISTERS cells: each took a register.
        f.emit_make_closure(dst, func, base, captures.len() as u8, span);
        f.free_reg = mark;
        Ok(())
    }

    /// Copies what user function `id` captures (cells, or the values of variables
    /// captured by value) into new registers on top, in its capture order (what a call
    /// passes after the arguments).
    fn push_captures(&mut self, f: &mut FnState, id: FnId, span: Span) -> Result<(), CompileError> {
        for &capture in &self.info.fns[id as usize].captures {
            let (Some(Place::Cell(src)) | Some(Place::Reg(src))) = self.places[capture as usize]
            else {
                unreachable!("a captured variable is in a register wherever it can be captured")
            };
            let reg = f.alloc(span)?;
            f.emit_mov(reg, src, span);
        }
        Ok(())
    }

    /// Whether variable `decl` lives in a cell: captured, and not by value.
    fn in_cell(&self, decl: DeclId) -> bool {
        let info = &self.info.decls[decl as usize];
        info.captured && !info.by_value
    }

    /// Allocates the global slot of `decl`.
    fn global_slot(&mut self, decl: DeclId, span: Span) -> Result<GlobalSlot, CompileError> {
        let slot = GlobalSlot::new(self.globals.len(), span)?;
        self.globals
            .push(self.info.decls[decl as usize].name.clone());
        self.places[decl as usize] = Some(Place::Global(slot));
        Ok(slot)
    }

    fn place(&self, decl: DeclId) -> Place {
        self.places[decl as usize].expect("declarations are compiled before their uses")
    }

    /// The native-table index of a prelude function.
    fn native(&self, builtin: Builtin) -> NativeIdx {
        NativeIdx::new(
            crate::vm::natives::index_of(builtin)
                .expect("fixed-signature prelude functions are natives"),
        )
    }

    /// A block's statements, with function declarations compiled first (they are
    /// hoisted). Releases the block's registers at its end.
    fn block_body(
        &mut self,
        f: &mut FnState,
        stmts: &[Stmt],
        top_level: bool,
    ) -> Result<(), CompileError> {
        let mark = f.free_reg;
        // The cells of the block's captured variables exist from its start: a hoisted
        // function (or a closure made earlier in the block) may use one before its
        // declaration runs, which `get_cell` reports. In a loop body this makes a fresh
        // cell per iteration, so each iteration's closures keep their own variables.
        for stmt in stmts {
            if let Stmt::Let { decl, span, .. } = stmt {
                if self.in_cell(*decl) {
                    let reg = f.alloc(*span)?;
                    f.emit_new_cell_empty(reg, *span);
                    self.places[*decl as usize] = Some(Place::Cell(reg));
                }
            }
        }
        for stmt in stmts {
            if let Stmt::Fn(decl) = stmt {
                self.function(decl)?;
            }
        }
        for stmt in stmts {
            self.stmt(f, stmt)?;
        }
        if !top_level {
            f.free_reg = mark;
        }
        Ok(())
    }
}
