//! The forms of a profile: the text report, the JSON document (schema in
//! `docs/profiler.md`), folded stacks and the flame graph.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;

use serde::Serialize;

use super::{Profile, Weight};
use crate::diag::RuntimeError;
use crate::span::LineIndex;

/// The version tag of the JSON document; bumped when a field changes meaning.
pub const JSON_SCHEMA: &str = "atlas-profile/1";

/// Deepest stack written out whole by [`Profile::folded`] (and so in flame graphs).
pub const FOLDED_MAX_DEPTH: usize = 1000;

/// A source line and the instructions executed on it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HotLine {
    /// 1-based line number.
    pub line: usize,
    /// The line's text, without surrounding white space.
    pub text: String,
    /// Instructions compiled from this line that ran (exact).
    pub instructions: u64,
    /// `instructions` over all instructions executed.
    pub share: f64,
}

impl Profile {
    /// The source lines that executed instructions, most first (ties by line).
    pub fn hot_lines(&self, source: &str) -> Vec<HotLine> {
        let index = LineIndex::new(source);
        let mut per_line: BTreeMap<usize, u64> = BTreeMap::new();
        for ic in &self.instruction_counts {
            let line = index.line_of(ic.span.start.min(source.len() as u32));
            *per_line.entry(line).or_default() += ic.count;
        }
        let mut lines: Vec<HotLine> = per_line
            .into_iter()
            .map(|(line, instructions)| HotLine {
                line: line + 1,
                text: index.line_text(source, line).trim().to_string(),
                instructions,
                share: ratio(instructions as f64, self.instructions as f64),
            })
            .collect();
        lines.sort_by(|a, b| {
            b.instructions
                .cmp(&a.instructions)
                .then(a.line.cmp(&b.line))
        });
        lines
    }

    /// The human-readable report: totals, functions, opcode categories, opcodes and
    /// hot lines, each table cut to its `top` first rows.
    pub fn report(&self, path: &str, source: &str, top: usize) -> String {
        let index = LineIndex::new(source);
        let mut out = String::new();
        let w = &mut out;
        let wall = self.wall_ns;
        let _ = writeln!(w, "atlas profile: {path}");
        let _ = writeln!(w);
        let _ = writeln!(w, "Totals");
        let _ = writeln!(w, "  wall time            {}", duration(wall));
        let _ = writeln!(w, "  instructions         {}", count(self.instructions));
        let _ = writeln!(
            w,
            "  instructions/s       {}",
            rate(ratio(self.instructions as f64, wall / 1e9))
        );
        let _ = writeln!(w, "  peak value stack     {} registers", self.peak_stack);
        let _ = writeln!(w, "  peak frames          {}", self.peak_frames);
        if self.other_stack_calls > 0 {
            let _ = writeln!(
                w,
                "  call stacks          tree full: {} calls into further stacks are charged to [other stacks]",
                count(self.other_stack_calls)
            );
        }
        let (allocs, bytes) = self.allocations;
        let _ = writeln!(
            w,
            "  allocations          {} strings, arrays and maps, {} (bytes estimated)",
            count(allocs),
            size(bytes)
        );

        let _ = writeln!(w);
        let _ = writeln!(
            w,
            "Functions by self time{}",
            shown(top, self.functions.len())
        );
        let _ = writeln!(
            w,
            "  {:<20} {:>6} {:>12} {:>14} {:>18} {:>18}",
            "function", "line", "calls", "instructions", "self time", "total time"
        );
        for f in self.functions.iter().take(top) {
            let line = if f.name == "<script>" {
                String::new()
            } else {
                (index.line_of(f.span.start.min(source.len() as u32)) + 1).to_string()
            };
            let _ = writeln!(
                w,
                "  {:<20} {:>6} {:>12} {:>14} {:>10} {:>7} {:>10} {:>7}",
                f.name,
                line,
                count(f.calls),
                count(f.instructions),
                duration(f.self_ns),
                percent(ratio(f.self_ns, wall)),
                duration(f.total_ns),
                percent(ratio(f.total_ns, wall)),
            );
        }

        let categories = self.categories_by_count();
        let _ = writeln!(w);
        let _ = writeln!(w, "Opcode categories{}", shown(top, categories.len()));
        let _ = writeln!(
            w,
            "  {:<20} {:>14} {:>7} {:>18}",
            "category", "count", "share", "est. time"
        );
        for (category, n, time) in categories.iter().take(top) {
            let _ = writeln!(
                w,
                "  {:<20} {:>14} {:>7} {:>10} {:>7}",
                category.name(),
                count(*n),
                percent(ratio(*n as f64, self.instructions as f64)),
                duration(*time),
                percent(ratio(*time, wall)),
            );
        }

        let opcodes = self.opcodes_by_count();
        let _ = writeln!(w);
        let _ = writeln!(w, "Opcodes{}", shown(top, opcodes.len()));
        let _ = writeln!(
            w,
            "  {:<20} {:<8} {:>14} {:>7} {:>18}",
            "opcode", "category", "count", "share", "est. time"
        );
        for (op, n) in opcodes.iter().take(top) {
            let time = self.opcode_time_ns(*op);
            let _ = writeln!(
                w,
                "  {:<20} {:<8} {:>14} {:>7} {:>10} {:>7}",
                op.info().name,
                op.info().category.name(),
                count(*n),
                percent(ratio(*n as f64, self.instructions as f64)),
                duration(time),
                percent(ratio(time, wall)),
            );
        }

        let hot = self.hot_lines(source);
        let _ = writeln!(w);
        let _ = writeln!(
            w,
            "Hot spots: source lines by instructions executed{}",
            shown(top, hot.len())
        );
        let _ = writeln!(
            w,
            "  {:>6} {:>14} {:>7}  source",
            "line", "instructions", "share"
        );
        for line in hot.iter().take(top) {
            let _ = writeln!(
                w,
                "  {:>6} {:>14} {:>7}  {}",
                line.line,
                count(line.instructions),
                percent(line.share),
                clip(&line.text, 72),
            );
        }

        let _ = writeln!(w);
        let _ = writeln!(
            w,
            "Exact: instruction, opcode, call and line counts, peak depths, allocation counts."
        );
        let _ = writeln!(
            w,
            "Estimated: all times, and allocated bytes. Function times come from a clock ({})",
            self.clock
        );
        let _ = writeln!(
            w,
            "read at every call and return, profiler overhead included; opcode times \
             extrapolate"
        );
        let _ = writeln!(w, "{} timed instructions.", count(self.op_samples));
        out
    }

    /// The JSON document described in `docs/profiler.md`; `error` is the run's runtime
    /// error, if it failed.
    pub fn to_json(&self, path: &str, source: &str, error: Option<&RuntimeError>) -> String {
        let index = LineIndex::new(source);
        let position = |offset: u32| {
            let offset = offset.min(source.len() as u32);
            index.line_col(source, offset)
        };
        let total = self.instructions as f64;
        let wall = self.wall_ns;
        let doc = JsonProfile {
            schema: JSON_SCHEMA,
            file: path,
            clock: self.clock,
            error: error.map(|e| {
                let (line, column) = position(e.span.start);
                JsonError {
                    message: &e.message,
                    line,
                    column,
                }
            }),
            totals: JsonTotals {
                wall_time_ns: wall,
                instructions: self.instructions,
                instructions_per_second: ratio(total, wall / 1e9),
                peak_stack: self.peak_stack,
                peak_frames: self.peak_frames,
                other_stack_calls: self.other_stack_calls,
                allocations: JsonAllocations {
                    count: self.allocations.0,
                    bytes: self.allocations.1,
                },
                timed_instructions: self.op_samples,
            },
            categories: self
                .categories_by_count()
                .into_iter()
                .map(|(c, n, time)| JsonOpcodeGroup {
                    name: c.name(),
                    category: None,
                    count: n,
                    share: ratio(n as f64, total),
                    time_ns: time,
                    time_share: ratio(time, wall),
                })
                .collect(),
            opcodes: self
                .opcodes_by_count()
                .into_iter()
                .map(|(op, n)| {
                    let time = self.opcode_time_ns(op);
                    JsonOpcodeGroup {
                        name: op.info().name,
                        category: Some(op.info().category.name()),
                        count: n,
                        share: ratio(n as f64, total),
                        time_ns: time,
                        time_share: ratio(time, wall),
                    }
                })
                .collect(),
            functions: self
                .functions
                .iter()
                .map(|f| JsonFunction {
                    name: &f.name,
                    line: if f.name == "<script>" {
                        None
                    } else {
                        Some(position(f.span.start).0)
                    },
                    calls: f.calls,
                    instructions: f.instructions,
                    self_time_ns: f.self_ns,
                    self_share: ratio(f.self_ns, wall),
                    total_time_ns: f.total_ns,
                    total_share: ratio(f.total_ns, wall),
                })
                .collect(),
            hot_lines: self.hot_lines(source),
            call_tree: self
                .call_tree
                .iter()
                .enumerate()
                .map(|(id, node)| JsonCallNode {
                    id,
                    parent: node.parent,
                    function: self.function_name(node.function),
                    depth: node.depth,
                    calls: node.calls,
                    self_instructions: node.self_instructions,
                    self_time_ns: node.self_ns,
                })
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&doc).expect("the profile serializes");
        text.push('\n');
        text
    }

    /// Folded stacks (`<script>;main;work 1234` per line, sorted), the input format
    /// of flame graph tools. Stacks deeper than [`FOLDED_MAX_DEPTH`] frames are cut
    /// there, what ran deeper being charged to a last frame named `[deeper]`; lines
    /// whose weight is 0 are left out.
    pub fn folded(&self, weight: Weight) -> String {
        let tree = &self.call_tree;
        // Each node's line: itself, or its ancestor at the depth limit (then `deeper`).
        let mut line_of: Vec<(u32, bool)> = Vec::with_capacity(tree.len());
        let mut weights: BTreeMap<(u32, bool), u64> = BTreeMap::new();
        for (i, node) in tree.iter().enumerate() {
            let line = match node.parent {
                Some(parent) if node.depth as usize > FOLDED_MAX_DEPTH => {
                    let (at, _) = line_of[parent as usize];
                    (at, true)
                }
                _ => (i as u32, false),
            };
            line_of.push(line);
            let value = match weight {
                Weight::Time => node.self_ns.round() as u64,
                Weight::Instructions => node.self_instructions,
            };
            *weights.entry(line).or_default() += value;
        }
        let mut lines: Vec<String> = weights
            .into_iter()
            .filter(|&(_, value)| value > 0)
            .map(|((node, deeper), value)| {
                let mut names = Vec::new();
                let mut at = Some(node);
                while let Some(i) = at {
                    names.push(self.function_name(tree[i as usize].function));
                    at = tree[i as usize].parent;
                }
                names.reverse();
                if deeper {
                    names.push("[deeper]");
                }
                format!("{} {value}", names.join(";"))
            })
            .collect();
        lines.sort();
        let mut out = lines.join("\n");
        out.push('\n');
        out
    }

    /// Writes an SVG flame graph of the call stacks (rendered by `inferno`).
    pub fn write_flamegraph(
        &self,
        weight: Weight,
        title: &str,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        let mut folded = self.folded(weight);
        if folded.trim().is_empty() {
            // Nothing measurable ran: still draw the script.
            folded = "<script> 1\n".to_string();
        }
        let mut options = inferno::flamegraph::Options::default();
        options.title = title.to_string();
        options.count_name = match weight {
            Weight::Time => "ns".to_string(),
            Weight::Instructions => "instructions".to_string(),
        };
        options.hash = true;
        options.deterministic = true;
        inferno::flamegraph::from_lines(&mut options, folded.lines(), out)
    }
}

#[derive(Serialize)]
struct JsonProfile<'a> {
    schema: &'static str,
    file: &'a str,
    clock: &'static str,
    error: Option<JsonError<'a>>,
    totals: JsonTotals,
    categories: Vec<JsonOpcodeGroup>,
    opcodes: Vec<JsonOpcodeGroup>,
    functions: Vec<JsonFunction<'a>>,
    hot_lines: Vec<HotLine>,
    call_tree: Vec<JsonCallNode<'a>>,
}

#[derive(Serialize)]
struct JsonError<'a> {
    message: &'a str,
    line: usize,
    column: usize,
}

#[derive(Serialize)]
struct JsonTotals {
    wall_time_ns: f64,
    instructions: u64,
    instructions_per_second: f64,
    peak_stack: usize,
    peak_frames: usize,
    other_stack_calls: u64,
    allocations: JsonAllocations,
    timed_instructions: u64,
}

#[derive(Serialize)]
struct JsonAllocations {
    count: u64,
    bytes: u64,
}

#[derive(Serialize)]
struct JsonOpcodeGroup {
    name: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    category: Option<&'static str>,
    count: u64,
    share: f64,
    time_ns: f64,
    time_share: f64,
}

#[derive(Serialize)]
struct JsonFunction<'a> {
    name: &'a str,
    line: Option<usize>,
    calls: u64,
    instructions: u64,
    self_time_ns: f64,
    self_share: f64,
    total_time_ns: f64,
    total_share: f64,
}

#[derive(Serialize)]
struct JsonCallNode<'a> {
    id: usize,
    parent: Option<u32>,
    function: &'a str,
    depth: u32,
    calls: u64,
    self_instructions: u64,
    self_time_ns: f64,
}

/// `a / b`, 0 when `b` is 0.
fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// " (top N of M)" when a table is cut.
fn shown(top: usize, len: usize) -> String {
    if len > top {
        format!(" (top {top} of {len})")
    } else {
        String::new()
    }
}

/// A count with thousands separators.
fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

fn duration(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn rate(per_second: f64) -> String {
    if per_second >= 1e9 {
        format!("{:.2} G", per_second / 1e9)
    } else if per_second >= 1e6 {
        format!("{:.1} M", per_second / 1e6)
    } else if per_second >= 1e3 {
        format!("{:.1} k", per_second / 1e3)
    } else {
        format!("{per_second:.0}")
    }
}

fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    } else if bytes >= 1 << 10 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} bytes")
    }
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut cut: String = text.chars().take(max - 1).collect();
        cut.push('…');
        cut
    }
}
