//! `atlas profile` (docs/profiler.md): exact, deterministic counts through the library
//! API (`atlas::profile::run_profiled`), the JSON document against its documented schema,
//! folded stacks, the SVG flame graph, and the command line (report on stderr, program
//! output on stdout, a failing program's profile before its error, exit codes).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::rc::Rc;

use atlas::bytecode::{Category, Opcode};
use atlas::compile::CompileOptions;
use atlas::profile::{run_profiled, Profile, Weight, JSON_SCHEMA};
use atlas::verify::VerifiedModule;
use atlas::vm::Options;
use rstest::rstest;
use serde_json::Value as Json;

const FIB: &str = "
fn fib(n: number) -> number {
    if (n < 2) {
        return n;
    }
    return fib(n - 1) + fib(n - 2);
}
print(fib(N));
";

fn fib_source(n: u32) -> String {
    FIB.replace("fib(N)", &format!("fib({n})"))
}

fn compile(source: &str, optimize: bool) -> Rc<VerifiedModule> {
    atlas::driver::compile_source(source, CompileOptions { optimize })
        .unwrap_or_else(|e| panic!("does not compile: {e:?}"))
}

/// Profiles `source`; returns its output, the run's result and the profile.
fn profile_source(source: &str, optimize: bool) -> (String, bool, Profile) {
    let mut out = Vec::new();
    let (result, profile) = run_profiled(compile(source, optimize), Options::default(), &mut out);
    (String::from_utf8(out).unwrap(), result.is_ok(), profile)
}

fn crate_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(crate_path(rel)).unwrap()
}

/// Calls of fib(n) by the naive recursion: 1 + calls(n-1) + calls(n-2).
fn fib_calls(n: u32) -> u64 {
    if n < 2 {
        1
    } else {
        1 + fib_calls(n - 1) + fib_calls(n - 2)
    }
}

/// The counts every profile must agree on: each view adds up to the instruction total.
fn check_consistency(profile: &Profile, source: &str) {
    let total = profile.instructions();
    assert!(total > 0);
    let by_opcode: u64 = Opcode::ALL.iter().map(|&op| profile.opcode_count(op)).sum();
    assert_eq!(by_opcode, total, "opcode counts add up to the total");
    let by_category: u64 = Category::ALL
        .iter()
        .map(|&c| profile.category_count(c))
        .sum();
    assert_eq!(by_category, total, "category counts add up to the total");
    let by_function: u64 = profile.functions().iter().map(|f| f.instructions).sum();
    assert_eq!(
        by_function, total,
        "function instructions add up to the total"
    );
    let by_stack: u64 = profile
        .call_tree()
        .iter()
        .map(|n| n.self_instructions)
        .sum();
    assert_eq!(
        by_stack, total,
        "call-tree instructions add up to the total"
    );
    let by_instruction: u64 = profile.instruction_counts().iter().map(|i| i.count).sum();
    assert_eq!(by_instruction, total);
    let by_line: u64 = profile
        .hot_lines(source)
        .iter()
        .map(|l| l.instructions)
        .sum();
    assert_eq!(by_line, total, "hot-line counts add up to the total");

    // Calls per function are the sums over the call tree; the script runs once.
    for f in profile.functions() {
        let from_tree: u64 = profile
            .call_tree()
            .iter()
            .filter(|n| n.function == f.index)
            .map(|n| n.calls)
            .sum();
        assert_eq!(f.calls, from_tree, "calls of {}", f.name);
    }
    assert_eq!(profile.calls("<script>"), 1);
    let deepest = profile.call_tree().iter().map(|n| n.depth).max().unwrap();
    if profile.other_stack_calls() == 0 {
        assert_eq!(profile.peak_frames(), deepest as usize);
    } else {
        assert!(profile.peak_frames() >= deepest as usize);
    }
    assert!(profile.peak_stack() > 0);

    // Times are estimates, but sane ones.
    let wall = profile.wall_time_ns();
    assert!(wall > 0.0);
    for f in profile.functions() {
        assert!(f.self_ns >= 0.0, "{f:?}");
        assert!(f.total_ns + 1.0 >= f.self_ns, "total includes self: {f:?}");
        // Recursion counted once: no function's total exceeds the run.
        assert!(f.total_ns <= wall * 1.001 + 1.0, "{f:?} wall {wall}");
    }
    let opcode_time: f64 = Opcode::ALL
        .iter()
        .map(|&op| profile.opcode_time_ns(op))
        .sum();
    assert!(
        (opcode_time - wall).abs() <= wall * 1e-6,
        "{opcode_time} vs {wall}"
    );
}

/// Everything of a profile that must not change from run to run.
fn exact_parts(profile: &Profile, source: &str) -> String {
    let mut parts = format!(
        "instructions {} peak_stack {} peak_frames {} allocations {:?}\n",
        profile.instructions(),
        profile.peak_stack(),
        profile.peak_frames(),
        profile.allocations()
    );
    for op in Opcode::ALL {
        parts += &format!("{op:?} {}\n", profile.opcode_count(op));
    }
    let mut functions: Vec<_> = profile
        .functions()
        .iter()
        .map(|f| (f.index, f.calls, f.instructions))
        .collect();
    functions.sort();
    parts += &format!("{functions:?}\n{:?}\n", profile.hot_lines(source));
    parts += &profile.folded(Weight::Instructions);
    parts
}

#[rstest]
#[case(0)]
#[case(1)]
#[case(2)]
#[case(5)]
#[case(10)]
#[case(15)]
fn fib_calls_are_exact(#[case] n: u32) {
    let source = fib_source(n);
    for optimize in [true, false] {
        let (_, ok, profile) = profile_source(&source, optimize);
        assert!(ok);
        assert_eq!(profile.calls("fib"), fib_calls(n), "fib({n})");
        // The script, then one frame per level of recursion (fib(n) .. fib(1)).
        assert_eq!(profile.peak_frames(), 1 + n.max(1) as usize);
        check_consistency(&profile, &source);
    }
    assert_eq!(fib_calls(10), 177);
}

#[test]
fn fib_10_makes_177_calls_and_as_many_returns() {
    let source = fib_source(10);
    let (out, ok, profile) = profile_source(&source, true);
    assert!(ok);
    assert_eq!(out, "55\n");
    assert_eq!(profile.calls("fib"), 177);
    // 177 calls, and as many returns plus the script's: the only call-category
    // instructions of this program.
    assert_eq!(profile.category_count(Category::Call), 177 + 178);
    let fib = &profile.functions()[0];
    assert_eq!(fib.name, "fib", "fib has the most self time");
    assert_eq!(profile.calls("nothing"), 0);
    // The call tree: one node per depth of the recursion.
    let tree = profile.call_tree();
    assert_eq!(tree.len(), 11);
    assert_eq!(profile.function_name(tree[0].function), "<script>");
    assert_eq!(tree[0].parent, None);
    assert_eq!(tree[1].calls, 1);
    assert_eq!(tree.iter().skip(1).map(|n| n.calls).sum::<u64>(), 177);
}

/// Programs of the examples and the benchmarks: the counts agree with each other, match
/// a second run exactly, and the output is that of a normal run.
#[rstest]
#[case("examples/fibonacci.at")]
#[case("examples/bank.at")]
#[case("examples/higher_order.at")]
#[case("examples/life.at")]
#[case("examples/primes.at")]
#[case("examples/sort.at")]
#[case("examples/strings.at")]
#[case("tests/corpus/functions/return_function.at")]
#[case("tests/corpus/functions/array_of_functions.at")]
#[case("tests/corpus/prelude/split.at")]
fn counts_are_consistent_and_deterministic(#[case] path: &str) {
    let source = read(path);
    let (out, ok, first) = profile_source(&source, true);
    assert!(ok, "{path} fails");
    let mut normal = Vec::new();
    atlas::vm::run_module(compile(&source, true), Options::default(), &mut normal).unwrap();
    assert_eq!(out.as_bytes(), &normal[..], "profiled output of {path}");
    check_consistency(&first, &source);
    let (_, _, second) = profile_source(&source, true);
    assert_eq!(exact_parts(&first, &source), exact_parts(&second, &source));
}

#[rstest]
// Ten concatenations in a loop, each a new string (kept alive in an array).
#[case(
    "var s = \"\"; let all: string[] = []; \
     for (var i = 0; i < 10; i++) { s = s + \"x\"; push(all, s); } print(len(all));",
    11
)]
// An empty array, then five one-element literals pushed into it.
#[case(
    "var rows: number[][] = []; for (var i = 0; i < 5; i++) { push(rows, [i]); } print(len(rows));",
    6
)]
// `split` makes an array and its three strings; `str` of a number makes one string,
// kept in a new array.
#[case(
    "let parts = split(\"a,b,c\", \",\"); let t: string[] = [str(len(parts))]; print(t);",
    6
)]
// Constants are shared, never copied; a trimmed string is returned unchanged.
#[case("let a = \"abc\"; let b = a; print(b); print(trim(a));", 0)]
fn allocations_are_counted(#[case] source: &str, #[case] count: u64) {
    let (_, ok, profile) = profile_source(source, true);
    assert!(ok);
    let (n, bytes) = profile.allocations();
    assert_eq!(n, count, "{source}");
    assert_eq!(bytes > 0, count > 0);
}

#[test]
fn peak_stack_counts_the_registers_of_all_frames() {
    let source = fib_source(10);
    let module = compile(&source, true);
    let (_, _, profile) = profile_source(&source, true);
    let fib = module.functions.iter().find(|f| f.name == "fib").unwrap();
    let script = &module.functions[module.script as usize];
    // Ten nested fib frames on top of the script's registers, each starting inside its
    // caller's window: at least ten windows apart, at most the sum of the windows.
    assert!(profile.peak_stack() > 10);
    assert!(
        profile.peak_stack() <= script.num_regs as usize + 10 * fib.num_regs as usize,
        "{}",
        profile.peak_stack()
    );
}

#[test]
fn a_failing_program_still_has_its_profile() {
    let source = read("tests/corpus/runtime_errors/division_by_zero_nested.at");
    let (out, ok, profile) = profile_source(&source, true);
    assert!(!ok);
    assert_eq!(out, "1.5\n", "output before the error");
    assert_eq!(profile.calls("outer"), 2);
    assert_eq!(profile.calls("inner"), 2);
    // The failing division ran (and is counted); the frames it left are closed.
    assert_eq!(profile.opcode_count(Opcode::DivNum), 2);
    check_consistency(&profile, &source);
}

#[test]
fn deep_recursion_is_profiled_and_folded_stacks_are_cut() {
    let source = read("tests/corpus/runtime_errors/stack_overflow.at");
    let (_, ok, profile) = profile_source(&source, true);
    assert!(!ok, "stack overflow");
    assert_eq!(profile.peak_frames(), Options::default().max_frames);
    check_consistency(&profile, &source);
    let folded = profile.folded(Weight::Instructions);
    let deepest = folded
        .lines()
        .map(|l| l.matches(';').count())
        .max()
        .unwrap();
    assert_eq!(deepest, atlas::profile::FOLDED_MAX_DEPTH);
    assert!(folded.contains(";down;[deeper] "));
    let total: u64 = folded
        .lines()
        .map(|l| l.rsplit_once(' ').unwrap().1.parse::<u64>().unwrap())
        .sum();
    assert_eq!(total, profile.instructions());
}

/// Two functions that each call both of them, `DEPTH` levels down: every call is a new
/// call stack (2^(DEPTH+1) - 2 of them), more than the profiler keeps.
const EVERY_CALL_A_NEW_STACK: &str = "
fn a(n: number) -> number {
    if (n == 0) { return 1; }
    return a(n - 1) + b(n - 1);
}
fn b(n: number) -> number {
    if (n == 0) { return 1; }
    return a(n - 1) + b(n - 1);
}
print(a(DEPTH) + b(DEPTH));
";

/// A program that recursed 20 k deep along random paths made the profiler take 1.27 GB
/// (run: 4.5 MB): one node per distinct stack, without end. Past the cap, calls are
/// charged to `[other stacks]`; the counts stay exact and the report says so.
#[test]
fn the_call_tree_is_capped_and_counts_stay_exact() {
    let depth = 17;
    let source = EVERY_CALL_A_NEW_STACK.replace("DEPTH", &depth.to_string());
    let (out, ok, profile) = profile_source(&source, true);
    assert!(ok);
    assert_eq!(out.trim(), (1u64 << (depth + 1)).to_string());
    let calls = (1u64 << (depth + 2)) - 2;
    assert_eq!(profile.calls("a") + profile.calls("b"), calls);
    check_consistency(&profile, &source);
    let tree = profile.call_tree();
    // The kept stacks, `[other stacks]` and one node under it per function.
    assert!(tree.len() <= (1 << 16) + 1 + 3, "{} nodes", tree.len());
    assert!(profile.other_stack_calls() > 0, "the cap is reached");
    let other = tree
        .iter()
        .position(|n| n.function == atlas::profile::OTHER_STACKS)
        .expect("an [other stacks] node");
    let charged: u64 = tree
        .iter()
        .filter(|n| n.parent == Some(other as u32))
        .map(|n| n.calls)
        .sum();
    assert_eq!(charged, profile.other_stack_calls());
    let kept: u64 = tree
        .iter()
        .filter(|n| n.parent != Some(other as u32) && n.function != atlas::profile::OTHER_STACKS)
        .map(|n| n.calls)
        .sum();
    assert_eq!(kept + charged, calls + 1, "every call, and the script's");
    assert_eq!(profile.peak_frames(), depth + 2);
    let report = profile.report("t.at", &source, 10);
    assert!(
        report.contains("call stacks          tree full: "),
        "{report}"
    );
    let folded = profile.folded(Weight::Instructions);
    assert!(folded.contains("\n[other stacks];a "), "{folded:.200}");
}

/// Deep recursion along one path is one stack per depth and stays whole.
#[test]
fn deep_recursion_along_one_path_is_kept_whole() {
    let source = "
fn down(n: number) -> number {
    if (n == 0) { return 0; }
    return down(n - 1) + 1;
}
print(down(9000));
";
    let (out, ok, profile) = profile_source(source, true);
    assert!(ok);
    assert_eq!(out, "9000\n");
    assert_eq!(profile.other_stack_calls(), 0);
    assert_eq!(profile.call_tree().len(), 9002);
    assert!(!profile.report("t.at", source, 10).contains("tree full"));
}

#[test]
fn folded_stacks_name_every_call_path() {
    let source = fib_source(10);
    let (_, _, profile) = profile_source(&source, true);
    let folded = profile.folded(Weight::Instructions);
    let mut weights = BTreeMap::new();
    for line in folded.lines() {
        let (stack, weight) = line.rsplit_once(' ').expect("`stack weight`");
        let frames: Vec<&str> = stack.split(';').collect();
        assert_eq!(frames[0], "<script>");
        assert!(frames[1..].iter().all(|&f| f == "fib"), "{line}");
        weights.insert(frames.len(), weight.parse::<u64>().unwrap());
    }
    assert_eq!(weights.len(), 11, "{folded}");
    assert_eq!(weights.values().sum::<u64>(), profile.instructions());
    assert!(folded.contains("\n<script>;fib;fib "));
    // Time weights are positive integers too.
    for line in profile.folded(Weight::Time).lines() {
        let weight: u64 = line.rsplit_once(' ').unwrap().1.parse().unwrap();
        assert!(weight > 0);
    }
}

/// Checks that `text` is well-formed XML: tags nest and close, attributes are quoted.
fn check_well_formed_xml(text: &str) {
    let mut open: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('<') {
        rest = &rest[at..];
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").expect("CDATA closes");
            rest = &after[end + 3..];
        } else if let Some(after) = rest.strip_prefix("<!--") {
            let end = after.find("-->").expect("comment closes");
            rest = &after[end + 3..];
        } else if rest.starts_with("<?") || rest.starts_with("<!") {
            let end = rest.find('>').expect("declaration closes");
            rest = &rest[end + 1..];
        } else {
            let end = rest.find('>').expect("tag closes");
            let tag = &rest[1..end];
            rest = &rest[end + 1..];
            assert_eq!(tag.matches('"').count() % 2, 0, "quotes in <{tag}>");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(
                    open.pop().as_deref(),
                    Some(name.trim()),
                    "closing </{name}>"
                );
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().expect("a tag name");
                open.push(name.to_string());
            }
        }
    }
    assert!(open.is_empty(), "unclosed: {open:?}");
}

#[rstest]
#[case(Weight::Time)]
#[case(Weight::Instructions)]
fn the_flame_graph_is_an_svg_with_the_function_names(#[case] weight: Weight) {
    let source = read("examples/fibonacci.at");
    let (_, _, profile) = profile_source(&source, true);
    let mut svg = Vec::new();
    profile
        .write_flamegraph(weight, "atlas profile: fibonacci", &mut svg)
        .unwrap();
    let svg = String::from_utf8(svg).unwrap();
    assert!(svg.contains("<svg"), "{}", &svg[..200.min(svg.len())]);
    check_well_formed_xml(&svg);
    // Frames narrower than a tenth of a pixel are left out: by time, fibLoop and
    // fibMemo (a few microseconds) may be; by instructions (exact) they are wide enough.
    let names: &[&str] = match weight {
        Weight::Time => &["fibRec", "&lt;script&gt;"],
        Weight::Instructions => &["fibRec", "fibLoop", "fibMemo", "&lt;script&gt;"],
    };
    for name in names {
        assert!(svg.contains(name), "{name} in the flame graph");
    }
}

fn number(v: &Json) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("a number: {v}"))
}

fn integer(v: &Json) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("an integer: {v}"))
}

fn string(v: &Json) -> &str {
    v.as_str().unwrap_or_else(|| panic!("a string: {v}"))
}

fn share(v: &Json) -> f64 {
    let s = number(v);
    assert!((0.0..=1.0 + 1e-9).contains(&s), "a share: {s}");
    s
}

/// Checks a JSON profile against the schema of docs/profiler.md; returns it.
fn check_schema(doc: &Json) {
    let keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    for key in [
        "schema",
        "file",
        "clock",
        "error",
        "totals",
        "categories",
        "opcodes",
        "functions",
        "hot_lines",
        "call_tree",
    ] {
        assert!(keys.contains(&key), "missing {key}");
    }
    assert_eq!(string(&doc["schema"]), JSON_SCHEMA);
    assert_eq!(JSON_SCHEMA, "atlas-profile/1");
    string(&doc["file"]);
    assert!(["tsc", "instant"].contains(&string(&doc["clock"])));
    if !doc["error"].is_null() {
        string(&doc["error"]["message"]);
        assert!(integer(&doc["error"]["line"]) >= 1);
        assert!(integer(&doc["error"]["column"]) >= 1);
    }
    let totals = &doc["totals"];
    assert!(number(&totals["wall_time_ns"]) > 0.0);
    let total = integer(&totals["instructions"]);
    assert!(number(&totals["instructions_per_second"]) > 0.0);
    assert!(integer(&totals["peak_stack"]) >= 1);
    assert!(integer(&totals["peak_frames"]) >= 1);
    integer(&totals["allocations"]["count"]);
    integer(&totals["allocations"]["bytes"]);
    integer(&totals["timed_instructions"]);
    integer(&totals["other_stack_calls"]);

    for list in ["categories", "opcodes"] {
        let rows = doc[list].as_array().unwrap();
        let mut sum = 0;
        let mut previous = u64::MAX;
        let mut time_share = 0.0;
        let mut time_sum = 0.0;
        for row in rows {
            string(&row["name"]);
            let count = integer(&row["count"]);
            assert!(count > 0 && count <= previous, "{list} sorted by count");
            previous = count;
            sum += count;
            share(&row["share"]);
            let time = number(&row["time_ns"]);
            assert!(time >= 0.0);
            time_sum += time;
            time_share += share(&row["time_share"]);
            if list == "opcodes" {
                let category = string(&row["category"]);
                assert!(Category::ALL.iter().any(|c| c.name() == category));
                assert!(Opcode::ALL
                    .iter()
                    .any(|op| op.info().name == string(&row["name"])));
            }
        }
        assert_eq!(sum, total, "{list} add up to the instructions");
        let wall = number(&totals["wall_time_ns"]);
        assert!(
            (time_sum - wall).abs() <= wall * 1e-3 + 1.0,
            "{list} times add up to {time_sum}, not the wall time {wall}"
        );
        assert!(
            (time_share - 1.0).abs() < 1e-6,
            "{list} time shares: {time_share}"
        );
    }

    let functions = doc["functions"].as_array().unwrap();
    let mut previous = f64::INFINITY;
    let mut sum = 0;
    for f in functions {
        let name = string(&f["name"]);
        assert!(f["line"].is_null() == (name == "<script>"));
        assert!(integer(&f["calls"]) >= 1);
        sum += integer(&f["instructions"]);
        let self_time = number(&f["self_time_ns"]);
        assert!(self_time <= previous, "functions sorted by self time");
        previous = self_time;
        share(&f["self_share"]);
        let total_time = number(&f["total_time_ns"]);
        assert!(total_time + 1.0 >= self_time, "total includes self: {name}");
        assert!(
            total_time <= number(&totals["wall_time_ns"]) * 1.001 + 1.0,
            "{name}: no total exceeds the run"
        );
        share(&f["total_share"]);
    }
    assert_eq!(sum, total);

    let lines = doc["hot_lines"].as_array().unwrap();
    let mut previous = u64::MAX;
    let mut sum = 0;
    for line in lines {
        assert!(integer(&line["line"]) >= 1);
        string(&line["text"]);
        let n = integer(&line["instructions"]);
        assert!(n <= previous, "hot lines sorted");
        previous = n;
        sum += n;
        share(&line["share"]);
    }
    assert_eq!(sum, total);

    let tree = doc["call_tree"].as_array().unwrap();
    let mut sum = 0;
    for (i, node) in tree.iter().enumerate() {
        assert_eq!(integer(&node["id"]), i as u64);
        let depth = integer(&node["depth"]);
        match node["parent"].as_u64() {
            Some(parent) => {
                assert!(parent < i as u64, "parents first");
                assert_eq!(integer(&tree[parent as usize]["depth"]) + 1, depth);
            }
            None => {
                assert!(node["parent"].is_null());
                assert_eq!(string(&node["function"]), "<script>");
                assert_eq!(depth, 1);
            }
        }
        string(&node["function"]);
        integer(&node["calls"]);
        sum += integer(&node["self_instructions"]);
        assert!(number(&node["self_time_ns"]) >= 0.0);
    }
    // A function's own time is the sum over its nodes of the call tree.
    for f in functions {
        let name = string(&f["name"]);
        let self_time: f64 = tree
            .iter()
            .filter(|n| string(&n["function"]) == name)
            .map(|n| number(&n["self_time_ns"]))
            .sum();
        let expected = number(&f["self_time_ns"]);
        assert!(
            (self_time - expected).abs() <= expected * 1e-3 + 1.0,
            "{name}: nodes' self time {self_time}, function's {expected}"
        );
    }
    assert_eq!(sum, total);
    // Calls of a function are the sums over its nodes.
    for f in functions {
        let name = string(&f["name"]);
        let calls: u64 = tree
            .iter()
            .filter(|n| string(&n["function"]) == name)
            .map(|n| integer(&n["calls"]))
            .sum();
        assert_eq!(calls, integer(&f["calls"]), "{name}");
    }
}

#[rstest]
#[case("examples/fibonacci.at")]
#[case("examples/sort.at")]
#[case("tests/corpus/runtime_errors/division_by_zero_nested.at")]
fn the_json_matches_its_schema(#[case] path: &str) {
    let source = read(path);
    let mut out = Vec::new();
    let (result, profile) = run_profiled(compile(&source, true), Options::default(), &mut out);
    let text = profile.to_json(path, &source, result.as_ref().err());
    let doc: Json = serde_json::from_str(&text).expect("valid JSON");
    check_schema(&doc);
    assert_eq!(string(&doc["file"]), path);
    assert_eq!(
        integer(&doc["totals"]["instructions"]),
        profile.instructions()
    );
    assert_eq!(doc["error"].is_null(), result.is_ok());
}

// ---- the command line ------------------------------------------------------------------

fn atlas(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_atlas"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("atlas-profile-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn cli_profile_of_fibonacci_reports_on_stderr() {
    let output = atlas(&["profile", "examples/fibonacci.at"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        read("examples/fibonacci.out"),
        "the program's output, unchanged"
    );
    let report = String::from_utf8_lossy(&output.stderr);
    for part in [
        "atlas profile: examples/fibonacci.at",
        "wall time",
        "instructions/s",
        "peak value stack",
        "peak frames",
        "allocations",
        "Functions by self time",
        "fibRec",
        "Opcode categories",
        "Opcodes",
        "Hot spots",
        "return fibRec(n - 1) + fibRec(n - 2);",
        "Exact:",
        "Estimated:",
    ] {
        assert!(report.contains(part), "{part:?} in\n{report}");
    }
    assert!(!report.contains("panicked"));
}

#[test]
fn cli_top_limits_the_tables() {
    let output = atlas(&["profile", "--top", "2", "examples/fibonacci.at"]);
    let report = String::from_utf8_lossy(&output.stderr);
    assert!(report.contains("Opcodes (top 2 of "), "{report}");
    let hot = report.split("Hot spots").nth(1).unwrap();
    let rows = hot
        .lines()
        .skip(2)
        .take_while(|l| !l.trim().is_empty())
        .count();
    assert_eq!(rows, 2, "{hot}");
}

#[test]
fn cli_writes_json_folded_and_flamegraph() {
    let dir = temp_dir("files");
    let source = dir.join("fib.at");
    std::fs::write(&source, fib_source(10)).unwrap();
    let (json, folded, svg) = (dir.join("p.json"), dir.join("p.txt"), dir.join("p.svg"));
    let output = atlas(&[
        "profile",
        source.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--folded",
        folded.to_str().unwrap(),
        "--flamegraph",
        svg.to_str().unwrap(),
        "--weight",
        "instructions",
    ]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stdout), "55\n");
    assert!(output.stderr.is_empty(), "the report went to the JSON file");

    let doc: Json = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    check_schema(&doc);
    let fib = doc["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "fib")
        .unwrap();
    assert_eq!(integer(&fib["calls"]), 177);
    assert_eq!(integer(&fib["line"]), 2);
    assert_eq!(integer(&doc["totals"]["peak_frames"]), 11);

    let folded = std::fs::read_to_string(&folded).unwrap();
    for line in folded.lines() {
        let (stack, weight) = line.rsplit_once(' ').unwrap();
        assert!(weight.parse::<u64>().unwrap() > 0);
        assert!(stack.starts_with("<script>"), "{line}");
        assert!(stack.split(';').all(|f| f == "<script>" || f == "fib"));
    }
    assert!(folded.lines().any(|l| l.starts_with("<script>;fib;fib ")));

    let svg = std::fs::read_to_string(&svg).unwrap();
    check_well_formed_xml(&svg);
    assert!(svg.contains("<svg") && svg.contains("fib") && svg.contains("&lt;script&gt;"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cli_failing_program_writes_its_profile_then_the_error() {
    let path = "tests/corpus/runtime_errors/division_by_zero_nested.at";
    let output = atlas(&["profile", path]);
    assert_eq!(output.status.code(), Some(70));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "1.5\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let report = stderr.find("Functions by self time").expect("the profile");
    let error = stderr.find("error: division by zero").expect("the error");
    assert!(report < error, "profile first, then the error:\n{stderr}");
    assert!(stderr.contains("at inner ("), "with its trace");

    let dir = temp_dir("failing");
    let json = dir.join("p.json");
    let output = atlas(&["profile", path, "--json", json.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(70));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("error: division by zero"), "{stderr}");
    let doc: Json = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    check_schema(&doc);
    assert_eq!(string(&doc["error"]["message"]), "division by zero");
    assert_eq!(integer(&doc["error"]["line"]), 3);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn cli_exit_codes() {
    let output = atlas(&["profile", "tests/corpus/compile_errors/undefined_name.at"]);
    assert_eq!(output.status.code(), Some(65));
    let output = atlas(&["profile", "no/such/file.at"]);
    assert_eq!(output.status.code(), Some(66));
    let output = atlas(&["profile", "--top"]);
    assert_eq!(output.status.code(), Some(64));
    let output = atlas(&[
        "profile",
        "examples/primes.at",
        "--json",
        "/no/such/dir/p.json",
    ]);
    assert_eq!(output.status.code(), Some(73));
    assert!(String::from_utf8_lossy(&output.stderr).contains("cannot write /no/such/dir/p.json"));
}
