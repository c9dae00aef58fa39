//! The collector: the state the instrumented dispatch loop updates before every
//! instruction (through `ProfileHook for Vm`), turned into a [`Profile`] at the end.
//!
//! Per instruction it does O(1) work on data it owns: the instruction total, the
//! counter of the instruction's code offset in the current function, and a check of the
//! frame depth. Calls and returns are noticed as changes of depth; only then is the
//! clock read and the calling-context tree (one node per distinct stack of functions)
//! updated. Everything else is derived when the run is over: opcode counts from the
//! per-offset counters, function totals from the tree.
//!
//! Two kinds of instructions get a closer look: a pseudo-random one in about 256 (one
//! in 16 of the first 65,536) is timed, for the per-opcode time estimates; and those
//! that may create a string or an array have the register they write examined before the
//! next instruction, for the allocation counts. Both set `depth` to a value no frame
//! count has, so the next instruction takes the slow path: the fast path has one check.

use std::rc::Rc;

use super::clock::Clock;
use super::{CallNode, FunctionProfile, InstructionCount, Profile, FOLDED_MAX_DEPTH, OTHER_STACKS};
use crate::bytecode::{Category, Opcode, OperandKind, OP_INFO};
use crate::verify::VerifiedModule;
use crate::vm::dispatch::Cx;
use crate::vm::stack::Frame;
use crate::vm::value::Value;

/// The node standing for "no frame yet": parent of the script's node.
const ROOT: u32 = 0;

/// No node: what `other_stacks` holds until the tree is full (no node has it as parent).
const NO_NODE: u32 = u32::MAX;

/// Distinct call stacks kept in the calling-context tree. A program that recurses deep
/// along ever new paths makes a stack per call; past the cap, calls that would start a
/// new stack are charged to `[other stacks]` (one node per function), so the profiler's
/// memory stays bounded (about 100 bytes a stack) however long the run.
const MAX_CALL_STACKS: usize = 1 << 16;

/// Frames of the kept stacks up to `FOLDED_MAX_DEPTH` deep: the cap on the size of the
/// folded stacks (a line per such stack, a name per frame; deeper stacks are folded into
/// their ancestor's line).
const MAX_KEPT_FRAMES: usize = 1 << 22;

/// A node of the calling-context tree: one distinct stack of functions. It caches what
/// the collector needs when its function starts running, so a call or a return touches
/// one node (a cache line) besides the one it leaves.
#[repr(C)]
struct Node {
    func: u32,
    parent: u32,
    /// The child entered last (ROOT: none), checked before searching the children.
    last_child: u32,
    num_regs: u32,
    calls: u64,
    self_instructions: u64,
    self_ticks: u64,
    code_start: usize,
    counts: *mut u64,
    counts_len: usize,
}

const PENDING_SAMPLE: u8 = 1;
const PENDING_RESULT: u8 = 2;

/// `depth` when the next instruction must take the slow path whatever the depth is.
const FORCE_SLOW_PATH: usize = usize::MAX;

/// Mean number of instructions between two timed ones (the period is jittered so that
/// loops cannot alias with it); shorter for the first `EARLY_INSTRUCTIONS`, so that short
/// runs get estimates too.
const SAMPLE_PERIOD: u64 = 256;
const EARLY_SAMPLE_PERIOD: u64 = 16;
const EARLY_INSTRUCTIONS: u64 = 65_536;

/// Collects the profile of one run. Created by [`super::run_profiled`] and installed
/// into the VM, which calls [`Collector::before_instruction`] from the instrumented loop.
pub struct Collector {
    // ---- touched by every instruction ----
    total: u64,
    /// The instruction total when the current node last started running (apart from
    /// `last_ticks`: loading both with one vector load after two scalar stores stalls).
    last_total: u64,
    /// The frame depth of the last instruction: a different `frames.len()` is a call or
    /// a return. `FORCE_SLOW_PATH` when something is pending.
    depth: usize,
    /// The current function's code address and per-offset counters.
    code_start: usize,
    counts: *mut u64,
    counts_len: usize,
    next_sample: u64,
    /// Per opcode byte: 1 + the offset of the register operand to examine after the
    /// instruction (it may hold a new string or array), or 0.
    watch: [u8; 256],

    // ---- touched on calls and returns ----
    clock: Clock,
    /// The tick when the current node last started running.
    last_ticks: u64,
    /// The running node (ROOT before the script starts), and its depth.
    current: u32,
    tracked_depth: usize,
    /// The callers of the frames running in nodes under `[other stacks]`, innermost last
    /// (elsewhere a node's caller is its parent).
    other_callers: Vec<u32>,
    nodes: Vec<Node>,
    peak_stack: usize,
    peak_frames: usize,

    // ---- touched by the examined instructions, and at the end ----
    pending: u8,
    /// Per node: (function, node) of the functions called from it.
    children: Vec<Vec<(u32, u32)>>,
    /// Per function, per code offset: instructions executed there. Never resized (the
    /// nodes point into it).
    offset_counts: Vec<Vec<u64>>,
    /// Frames of the kept stacks (see `MAX_KEPT_FRAMES`).
    kept_frames: usize,
    /// The `[other stacks]` node once the caps are reached (`NO_NODE` until then), and
    /// per function its node under it (ROOT: none yet).
    other_stacks: u32,
    other_nodes: Vec<u32>,
    rng: u64,
    sample_op: u8,
    sample_start: u64,
    op_sample_ticks: [u64; 256],
    op_samples: [u64; 256],
    result_reg: u8,
    result_depth: usize,
    /// Address of the string or array the result register held before (a result that
    /// is the same object is no allocation, e.g. `trim` of a trimmed string).
    result_before: usize,
    alloc_count: u64,
    alloc_bytes: u64,

    module: Rc<VerifiedModule>,
}

impl Collector {
    pub fn new(module: Rc<VerifiedModule>) -> Collector {
        let mut watch = [0u8; 256];
        for (byte, info) in OP_INFO.iter().enumerate() {
            // Strings, arrays and maps are created by the string, array, map and call
            // opcodes (natives); look at the first register each one writes.
            if !matches!(
                info.category,
                Category::String | Category::Array | Category::Map | Category::Call
            ) {
                continue;
            }
            // A call of a user function named in the instruction (`call`) enters it:
            // what it returns was made, and counted, in the callee.
            if info.operands.iter().any(|o| o.kind == OperandKind::Func) {
                continue;
            }
            let written = info
                .writes
                .first()
                .map(|w| w.split('[').next().unwrap_or(w));
            let operand = info.operands.iter().find(|o| {
                matches!(o.kind, OperandKind::Reg | OperandKind::Dst) && Some(o.name) == written
            });
            if let Some(operand) = operand {
                watch[byte] = operand.offset as u8 + 1;
            }
        }
        let offset_counts: Vec<Vec<u64>> = module
            .functions
            .iter()
            .map(|f| vec![0; f.code.len()])
            .collect();
        let clock = Clock::start();
        let start = clock.now();
        let mut collector = Collector {
            total: 0,
            depth: 0,
            code_start: 0,
            counts: std::ptr::null_mut(),
            counts_len: 0,
            next_sample: EARLY_SAMPLE_PERIOD / 2,
            watch,
            clock,
            last_ticks: start,
            last_total: 0,
            current: ROOT,
            tracked_depth: 0,
            other_callers: Vec::new(),
            nodes: Vec::new(),
            peak_stack: 0,
            peak_frames: 0,
            pending: 0,
            children: Vec::new(),
            offset_counts,
            kept_frames: 0,
            other_stacks: NO_NODE,
            other_nodes: vec![ROOT; module.functions.len()],
            rng: 0x9E37_79B9_7F4A_7C15,
            sample_op: 0,
            sample_start: 0,
            op_sample_ticks: [0; 256],
            op_samples: [0; 256],
            result_reg: 0,
            result_depth: 0,
            result_before: 0,
            alloc_count: 0,
            alloc_bytes: 0,
            module,
        };
        collector.new_node(u32::MAX, ROOT);
        collector
    }

    fn new_node(&mut self, func: u32, parent: u32) -> u32 {
        let (code_start, counts, counts_len, num_regs) =
            match self.module.functions.get(func as usize) {
                Some(f) => {
                    let counts = &mut self.offset_counts[func as usize];
                    (
                        f.code.as_ptr() as usize,
                        counts.as_mut_ptr(),
                        counts.len(),
                        f.num_regs as u32,
                    )
                }
                None => (0, std::ptr::null_mut(), 0, 0),
            };
        let node = self.nodes.len() as u32;
        self.nodes.push(Node {
            func,
            parent,
            last_child: ROOT,
            num_regs,
            calls: 0,
            self_instructions: 0,
            self_ticks: 0,
            code_start,
            counts,
            counts_len,
        });
        self.children.push(Vec::new());
        node
    }

    /// Called before every instruction: `cx` is at the instruction, `frames` the VM's
    /// call frames (innermost last).
    #[inline(always)]
    pub fn before_instruction(&mut self, cx: &Cx, opcode: u8, frames: &[Frame]) {
        if frames.len() != self.depth {
            self.slow_path(cx, frames);
        }
        self.total += 1;
        let offset = (cx.ip as usize).wrapping_sub(self.code_start);
        if offset < self.counts_len {
            // SAFETY: `counts` points at the `counts_len` counters of the current
            // function (a vector of `offset_counts`, never resized).
            unsafe { *self.counts.add(offset) += 1 };
        }
        if self.watch[opcode as usize] != 0 || self.total >= self.next_sample {
            self.examine(cx, opcode, frames.len());
        }
    }

    /// A call or a return happened in the previous instruction, or something examined
    /// in it is pending.
    #[inline(always)]
    fn slow_path(&mut self, cx: &Cx, frames: &[Frame]) {
        if self.pending != 0 {
            self.resolve_pending(cx, frames.len());
        }
        if frames.len() != self.tracked_depth {
            self.frames_changed(frames);
        }
        self.depth = frames.len();
    }

    #[inline(always)]
    fn frames_changed(&mut self, frames: &[Frame]) {
        let now = self.clock.now();
        self.close_interval(now);
        let depth = frames.len();
        if depth == self.tracked_depth + 1 {
            self.enter(frames[depth - 1]);
        } else if depth + 1 == self.tracked_depth {
            self.current = self.caller();
        } else {
            while self.tracked_depth > depth {
                self.current = self.caller();
                self.tracked_depth -= 1;
            }
            while self.tracked_depth < depth {
                self.enter(frames[self.tracked_depth]);
                self.tracked_depth += 1;
            }
        }
        self.tracked_depth = depth;
        self.peak_frames = self.peak_frames.max(depth);
        let node = &self.nodes[self.current as usize];
        self.code_start = node.code_start;
        self.counts = node.counts;
        self.counts_len = node.counts_len;
    }

    /// Charges the time and instructions since the last call or return to the node
    /// that was running.
    #[inline(always)]
    fn close_interval(&mut self, now: u64) {
        let node = &mut self.nodes[self.current as usize];
        node.self_ticks += now.wrapping_sub(self.last_ticks);
        node.self_instructions += self.total - self.last_total;
        self.last_ticks = now;
        self.last_total = self.total;
    }

    /// `frame` was pushed by a call from the current node.
    #[inline(always)]
    fn enter(&mut self, frame: Frame) {
        let node = self.child(self.current, frame.func);
        if self.nodes[node as usize].parent == self.other_stacks {
            self.other_callers.push(self.current);
        }
        let entered = &mut self.nodes[node as usize];
        entered.calls += 1;
        self.peak_stack = self.peak_stack.max(frame.base + entered.num_regs as usize);
        self.current = node;
    }

    /// The node of the frame that called the current one.
    #[inline(always)]
    fn caller(&mut self) -> u32 {
        let parent = self.nodes[self.current as usize].parent;
        if parent == self.other_stacks {
            self.other_callers.pop().unwrap_or(ROOT)
        } else {
            parent
        }
    }

    /// The node for calling `func` from `parent`, created on first use.
    #[inline(always)]
    fn child(&mut self, parent: u32, func: u32) -> u32 {
        let last = self.nodes[parent as usize].last_child;
        if last != ROOT && self.nodes[last as usize].func == func {
            return last;
        }
        self.find_child(parent, func)
    }

    #[inline(never)]
    fn find_child(&mut self, parent: u32, func: u32) -> u32 {
        let found = self.children[parent as usize]
            .iter()
            .find(|(f, _)| *f == func)
            .map(|&(_, node)| node);
        let node = match found {
            Some(node) => node,
            None => {
                // The new stack's line of folded stacks: a name per frame, its callers'
                // and its own (none when it is deeper: it is folded into an ancestor's).
                let depth = self.tracked_depth + 1;
                let frames = if depth <= FOLDED_MAX_DEPTH { depth } else { 0 };
                if self.nodes.len() >= MAX_CALL_STACKS
                    || self.kept_frames + frames > MAX_KEPT_FRAMES
                {
                    self.other_stack(func)
                } else {
                    self.kept_frames += frames;
                    let node = self.new_node(func, parent);
                    self.children[parent as usize].push((func, node));
                    node
                }
            }
        };
        self.nodes[parent as usize].last_child = node;
        node
    }

    /// The node that stands for every stack beyond the caps whose innermost function is
    /// `func`, under `[other stacks]` (a caller may cache it as its `last_child`: it
    /// stands for `func` called from anywhere past the caps).
    #[cold]
    fn other_stack(&mut self, func: u32) -> u32 {
        if self.other_stacks == NO_NODE {
            self.other_stacks = self.new_node(OTHER_STACKS, ROOT);
            self.children[ROOT as usize].push((OTHER_STACKS, self.other_stacks));
        }
        match self.other_nodes.get(func as usize) {
            Some(&node) if node != ROOT => node,
            _ => {
                let node = self.new_node(func, self.other_stacks);
                self.children[self.other_stacks as usize].push((func, node));
                if let Some(slot) = self.other_nodes.get_mut(func as usize) {
                    *slot = node;
                }
                node
            }
        }
    }

    /// The instruction is timed, or may create a string or an array: note what to look
    /// at before the next one.
    #[inline(never)]
    fn examine(&mut self, cx: &Cx, opcode: u8, depth: usize) {
        let watch = self.watch[opcode as usize];
        if watch != 0 {
            let reg = cx.operand_u8(watch as usize - 1);
            self.result_reg = reg;
            self.result_depth = depth;
            self.result_before = object_address(cx.reg(reg));
            self.pending |= PENDING_RESULT;
            self.depth = FORCE_SLOW_PATH;
        }
        if self.total >= self.next_sample {
            // xorshift64: the next one in period/2 .. 3*period/2 instructions.
            self.rng ^= self.rng << 13;
            self.rng ^= self.rng >> 7;
            self.rng ^= self.rng << 17;
            let period = if self.total < EARLY_INSTRUCTIONS {
                EARLY_SAMPLE_PERIOD
            } else {
                SAMPLE_PERIOD
            };
            self.next_sample = self.total + period / 2 + self.rng % period;
            self.sample_op = opcode;
            self.pending |= PENDING_SAMPLE;
            self.depth = FORCE_SLOW_PATH;
            // Last, so the timed span is the instruction and little of the profiler.
            self.sample_start = self.clock.now();
        }
    }

    /// Completes what `examine` started, now that the instruction has run.
    #[inline(never)]
    fn resolve_pending(&mut self, cx: &Cx, depth: usize) {
        if self.pending & PENDING_SAMPLE != 0 {
            let now = self.clock.now();
            let ticks = now
                .wrapping_sub(self.sample_start)
                .saturating_sub(self.clock.read_cost);
            self.op_sample_ticks[self.sample_op as usize] += ticks;
            self.op_samples[self.sample_op as usize] += 1;
        }
        // After a call into a user function the register belongs to another frame:
        // such a result is the function's, counted where it was made.
        if self.pending & PENDING_RESULT != 0 && depth == self.result_depth {
            let value = cx.reg(self.result_reg);
            if object_address(value) != self.result_before {
                self.count_new(value, true);
            }
        }
        self.pending = 0;
    }

    /// Counts `value` if it is a string or array that nothing else refers to (a fresh
    /// one), and the fresh strings and arrays in a fresh array (`split`).
    fn count_new(&mut self, value: &Value, top: bool) {
        match value {
            Value::Str(s) if Rc::strong_count(s) == 1 => {
                self.alloc_count += 1;
                self.alloc_bytes += (2 * size_of::<usize>() + size_of::<crate::vm::value::Str>())
                    as u64
                    + s.as_str().len() as u64;
            }
            Value::Array(a) if Rc::strong_count(a) == 1 => {
                self.alloc_count += 1;
                let items = a.borrow();
                self.alloc_bytes += (2 * size_of::<usize>()
                    + size_of::<crate::vm::value::Array>()
                    + items.capacity() * size_of::<Value>())
                    as u64;
                if top {
                    for item in items.iter() {
                        self.count_new(item, false);
                    }
                }
            }
            Value::Map(m) if Rc::strong_count(m) == 1 => {
                self.alloc_count += 1;
                self.alloc_bytes += (2 * size_of::<usize>()
                    + size_of::<crate::vm::table::Map>()
                    + m.borrow().capacity()
                        * (size_of::<crate::vm::table::MapKey>() + size_of::<Value>()))
                    as u64;
            }
            _ => {}
        }
    }

    /// Ends the collection (the run is over) and builds the profile.
    pub(crate) fn finish(mut self) -> Profile {
        let calibration = self.clock.stop();
        // A pending result belongs to the instruction that stopped the run: it made
        // nothing that lived.
        self.close_interval(calibration.end_ticks);
        let ns = |ticks: u64| ticks as f64 * calibration.ns_per_tick;
        let module = Rc::clone(&self.module);
        let nodes = &self.nodes;

        // Subtree ticks, children before parents (a child is created after its parent).
        let mut subtree: Vec<u64> = nodes.iter().map(|n| n.self_ticks).collect();
        for i in (1..nodes.len()).rev() {
            let parent = nodes[i].parent as usize;
            subtree[parent] += subtree[i];
        }
        // Inclusive time of a function: the subtrees of its nodes that have no ancestor
        // of the same function (recursion counted once). Depth-first, counting the
        // frames of each function on the path.
        let functions_len = module.functions.len();
        let mut total_ticks = vec![0u64; functions_len];
        let mut on_path = vec![0u32; functions_len];
        let mut depth = vec![0u32; nodes.len()];
        let mut stack: Vec<(u32, bool)> = vec![(ROOT, false)];
        while let Some((node, leaving)) = stack.pop() {
            let func = nodes[node as usize].func as usize;
            let real = func < functions_len;
            if leaving {
                if real {
                    on_path[func] -= 1;
                }
                continue;
            }
            if real {
                if on_path[func] == 0 {
                    total_ticks[func] += subtree[node as usize];
                }
                on_path[func] += 1;
            }
            stack.push((node, true));
            for &(_, child) in &self.children[node as usize] {
                depth[child as usize] = depth[node as usize] + 1;
                stack.push((child, false));
            }
        }

        // Functions: sums over their nodes.
        let mut functions: Vec<FunctionProfile> = module
            .functions
            .iter()
            .enumerate()
            .map(|(i, f)| FunctionProfile {
                index: i as u32,
                name: f.name.clone(),
                span: f.span,
                calls: 0,
                instructions: self.offset_counts[i].iter().sum(),
                self_ns: 0.0,
                total_ns: ns(total_ticks[i]),
            })
            .collect();
        for node in &nodes[1..] {
            if let Some(f) = functions.get_mut(node.func as usize) {
                f.calls += node.calls;
                f.self_ns += ns(node.self_ticks);
            }
        }
        functions.retain(|f| f.calls > 0);
        functions.sort_by(|a, b| {
            b.self_ns
                .total_cmp(&a.self_ns)
                .then(b.instructions.cmp(&a.instructions))
                .then(a.index.cmp(&b.index))
        });

        // The calling-context tree, without the root.
        let call_tree = nodes
            .iter()
            .enumerate()
            .skip(1)
            .map(|(i, node)| CallNode {
                function: node.func,
                parent: (node.parent != ROOT).then(|| node.parent - 1),
                depth: depth[i],
                calls: node.calls,
                self_instructions: node.self_instructions,
                self_ns: ns(node.self_ticks),
            })
            .collect();

        let other_stack_calls = match self.other_stacks {
            NO_NODE => 0,
            other => self.children[other as usize]
                .iter()
                .map(|&(_, node)| nodes[node as usize].calls)
                .sum(),
        };

        // Per-instruction counts, with their opcode and source span.
        let mut instructions = Vec::new();
        for (i, f) in module.functions.iter().enumerate() {
            for &(start, span) in &f.lines {
                let count = self.offset_counts[i]
                    .get(start as usize)
                    .copied()
                    .unwrap_or(0);
                if count == 0 {
                    continue;
                }
                let opcode = f.code.get(start as usize).and_then(|&b| Opcode::from_u8(b));
                if let Some(opcode) = opcode {
                    instructions.push(InstructionCount {
                        function: i as u32,
                        offset: start,
                        opcode,
                        span,
                        count,
                    });
                }
            }
        }

        // Opcode times: the count times the mean sampled duration (the overall mean for
        // an opcode never sampled), scaled so that they add up to the run's time.
        let mut op_counts = vec![0u64; Opcode::COUNT];
        for ic in &instructions {
            op_counts[ic.opcode as usize] += ic.count;
        }
        let sampled_ticks: u64 = self.op_sample_ticks.iter().sum();
        let samples: u64 = self.op_samples.iter().sum();
        let overall_mean = if samples == 0 {
            1.0
        } else {
            (sampled_ticks as f64 / samples as f64).max(f64::MIN_POSITIVE)
        };
        let weights: Vec<f64> = (0..Opcode::COUNT)
            .map(|op| {
                let mean = if self.op_samples[op] == 0 {
                    overall_mean
                } else {
                    self.op_sample_ticks[op] as f64 / self.op_samples[op] as f64
                };
                op_counts[op] as f64 * mean
            })
            .collect();
        let weight_sum: f64 = weights.iter().sum();
        let op_time_ns = weights
            .iter()
            .map(|w| {
                if weight_sum > 0.0 {
                    w / weight_sum * calibration.wall_ns
                } else {
                    0.0
                }
            })
            .collect();

        Profile {
            wall_ns: calibration.wall_ns,
            clock: Clock::SOURCE,
            instructions: self.total,
            op_counts,
            op_time_ns,
            op_samples: samples,
            functions,
            call_tree,
            instruction_counts: instructions,
            peak_stack: self.peak_stack,
            peak_frames: self.peak_frames,
            other_stack_calls,
            allocations: (self.alloc_count, self.alloc_bytes),
            function_names: module.functions.iter().map(|f| f.name.clone()).collect(),
        }
    }
}

/// The address of the object a string or array value refers to, 0 for other values.
fn object_address(value: &Value) -> usize {
    match value {
        Value::Str(s) => Rc::as_ptr(s) as usize,
        Value::Array(a) => Rc::as_ptr(a) as usize,
        Value::Map(m) => Rc::as_ptr(m) as usize,
        _ => 0,
    }
}
