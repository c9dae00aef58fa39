//! The dispatch machinery: the generated handler traits, stubs and loops (from
//! `opcodes.toml`, see `build.rs`), and the state they pass around.

use super::value::Value;
use super::Vm;

include!(concat!(env!("OUT_DIR"), "/dispatch.rs"));

/// What a handler tells its stub to do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Go on with the next instruction.
    Next,
    /// Branch: add this offset to the address of the current instruction.
    Jump(i32),
    /// The handler has set `ip` itself (calls and returns).
    Continue,
    /// Stop the loop: the program ended or failed (the VM recorded which).
    Stop,
}

/// Called before every instruction by the profiling backend.
pub trait ProfileHook {
    fn before_instruction(&mut self, cx: &Cx, opcode: u8);
}

/// Called before every instruction by the metered backend (instruction budget and
/// timeout); returns true to stop the run, after recording why.
pub trait MeterHook {
    fn charge(&mut self, cx: &Cx) -> bool;
}

/// The hot state of the interpreter, passed by value between threaded handlers so it
/// stays in machine registers: the instruction pointer and the current frame's registers.
///
/// Every accessor relies on the bytecode verifier (`crate::verify`), which every function
/// passes before it can run: instructions decode completely within the code, register
/// operands are below the function's `num_regs`, jumps land on instruction starts, and
/// the code ends in an instruction that cannot fall through. The call handlers make sure
/// the value stack holds `num_regs` registers from `regs` on before entering a function.
#[derive(Debug, Clone, Copy)]
pub struct Cx {
    pub ip: *const u8,
    pub regs: *mut Value,
}

macro_rules! operand_readers {
    ($($name:ident -> $ty:ty),*) => {$(
        /// Reads the operand at byte offset `at` of the current instruction.
        #[inline(always)]
        pub fn $name(&self, at: usize) -> $ty {
            // SAFETY: the verifier checked that the whole instruction lies within the code.
            unsafe { self.ip.add(at).cast::<$ty>().read_unaligned() }
        }
    )*};
}

impl Cx {
    /// The opcode byte of the current instruction.
    #[inline(always)]
    pub fn opcode_byte(&self) -> u8 {
        // SAFETY: `ip` points at an instruction start inside verified code.
        unsafe { *self.ip }
    }

    operand_readers!(operand_u8 -> u8, operand_u16 -> u16, operand_u32 -> u32, operand_u64 -> u64,
                     operand_i32 -> i32, operand_f64 -> f64);

    /// Applies a handler's `Flow` for an instruction of `size` bytes; true means stop.
    #[inline(always)]
    pub fn finish(&mut self, flow: Flow, size: usize) -> bool {
        match flow {
            Flow::Next => {
                // SAFETY: verified code never ends in an instruction that falls through.
                self.ip = unsafe { self.ip.add(size) };
                false
            }
            Flow::Jump(offset) => {
                keep_branch();
                // SAFETY: the verifier checked that every jump lands on an instruction.
                self.ip = unsafe { self.ip.offset(offset as isize) };
                false
            }
            Flow::Continue => false,
            Flow::Stop => true,
        }
    }

    /// Register `r` of the current frame.
    #[inline(always)]
    pub fn reg(&self, r: u8) -> &Value {
        // SAFETY: r < num_regs (verifier) and the frame's registers are on the stack.
        unsafe { &*self.regs.add(r as usize) }
    }

    /// Mutable register `r` of the current frame.
    #[inline(always)]
    pub fn reg_mut(&mut self, r: u8) -> &mut Value {
        // SAFETY: as for `reg`.
        unsafe { &mut *self.regs.add(r as usize) }
    }

    #[inline(always)]
    pub fn set(&mut self, r: u8, value: Value) {
        store(self.reg_mut(r), value);
    }

    /// The number in register `r`. The checker proved it is one; bytecode that lies
    /// about it reads NaN rather than anything unsafe.
    #[inline(always)]
    pub fn num(&self, r: u8) -> f64 {
        match self.reg(r) {
            Value::Num(n) => *n,
            _ => not_a_number(),
        }
    }

    #[inline(always)]
    pub fn set_num(&mut self, r: u8, n: f64) {
        let slot = self.reg_mut(r);
        // Overwriting a number needs no destructor call: write only the payload.
        match slot {
            Value::Num(old) => *old = n,
            _ => overwrite_with_number(slot, n),
        }
    }

    /// `R[dst] := R[src]`, numbers without the generic clone and store.
    #[inline(always)]
    pub fn copy(&mut self, dst: u8, src: u8) {
        match *self.reg(src) {
            Value::Num(n) => self.set_num(dst, n),
            ref other => {
                let value = other.clone();
                self.set(dst, value);
            }
        }
    }

    /// The bool in register `r` (false for bytecode that lies about the type).
    #[inline(always)]
    pub fn boolean(&self, r: u8) -> bool {
        matches!(self.reg(r), Value::Bool(true))
    }

    #[inline(always)]
    pub fn set_bool(&mut self, r: u8, b: bool) {
        self.set(r, Value::Bool(b));
    }

    /// The `count` registers from `base` on.
    #[inline(always)]
    pub fn regs_from(&self, base: u8, count: u8) -> &[Value] {
        // SAFETY: base + count <= num_regs (verifier).
        unsafe { std::slice::from_raw_parts(self.regs.add(base as usize), count as usize) }
    }
}

/// `*slot = value`, without the drop glue when the old value has nothing to drop. With
/// closures and cells in `Value`, its drop glue stopped being inlined into the handlers,
/// and every register or element write called it: `sieve.at` ran 4.6% and
/// `bubble_sort.at` 8.5% more instructions (callgrind) until writes checked first.
#[inline(always)]
pub fn store(slot: &mut Value, value: Value) {
    if slot.is_plain() {
        std::mem::forget(std::mem::replace(slot, value));
    } else {
        *slot = value;
    }
}

/// Keeps a conditional jump a real branch.
///
/// Left alone, LLVM computes the next `ip` of a conditional jump with a conditional
/// move, and then every following instruction's operand fetches wait for the
/// comparison (a data dependency through `ip`) instead of running ahead on the branch
/// predictor's guess: 3.7x slower on a loop with an `if` in its body. An empty `asm!`
/// statement has effects LLVM cannot see, so it cannot merge the taken and the
/// fall-through paths into a select; it emits no instruction.
#[inline(always)]
fn keep_branch() {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    // SAFETY: an empty assembly block reads and writes nothing.
    unsafe {
        std::arch::asm!("", options(nomem, nostack, preserves_flags));
    }
}

// The slow paths of the number accessors live out of line, so the hot paths of the
// arithmetic handlers contain no calls: no register saves, no spills, no unwind pads.

#[cold]
#[inline(never)]
fn not_a_number() -> f64 {
    f64::NAN
}

#[cold]
#[inline(never)]
fn overwrite_with_number(slot: &mut Value, n: f64) {
    *slot = Value::Num(n);
}
