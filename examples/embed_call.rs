//! Calling into a script: compile once, run the top level, then call its functions by
//! name with Rust arguments and read and set its globals; host globals; resource limits.
//!
//! Run with `cargo run --example embed_call`.

use atlas::{Engine, ErrorKind, Limits};

const GAME: &str = r#"
var score = 0;
let bonus = 5;
var log: string[] = [];

fn hit(points: number) -> number {
    score += points * multiplier;
    push(log, "hit " + str(points));
    return score;
}

fn reset() -> void {
    score = 0;
    log = [];
}

fn depth(n: number) -> number {
    return depth(n + 1);
}
"#;

pub fn main() {
    let mut engine = Engine::new();
    // A global of the host: scripts compiled afterwards see it.
    engine.define_global("multiplier", 2).expect("a valid name");

    let script = engine.compile_named("game.at", GAME).expect("compiles");
    println!(
        "functions: {:?}",
        script.function_names().collect::<Vec<_>>()
    );
    engine.run(&script).expect("runs");

    // Call functions by name; arguments and results are checked against the signature.
    let score: f64 = engine.call("hit", (10,)).expect("calls");
    assert_eq!(score, 20.0);
    let score: i64 = engine.call("hit", (1.5,)).expect("calls");
    assert_eq!(score, 23);
    println!("score after two hits: {score}");

    // Globals of the script, read and set from Rust.
    assert_eq!(
        engine.global::<Vec<String>>("log").unwrap(),
        ["hit 10", "hit 1.5"]
    );
    engine.set_global("multiplier", 10).expect("a host global");
    engine.set_global("score", 100).expect("a var");
    assert_eq!(engine.call::<f64>("hit", (1,)).unwrap(), 110.0);
    let error = engine.set_global("bonus", 6).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Usage);
    println!("{error}");

    engine.call::<()>("reset", ()).expect("calls");
    assert_eq!(engine.global::<f64>("score").unwrap(), 0.0);

    // Wrong calls are errors before anything runs.
    let error = engine.call::<f64>("hit", ("ten",)).unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Conversion);
    println!("{error}");

    // Runaway recursion stops at the frame limit, with an error, not a crash.
    engine.set_limits(Limits::default().with_max_frames(1000));
    let error = engine.call::<f64>("depth", (0,)).unwrap_err();
    assert_eq!(error.message(), "stack overflow");
    assert_eq!(error.trace().len(), 999);
    println!("{}", error.to_string().lines().next().unwrap_or_default());

    // The same compiled script runs again from a fresh start; host globals keep theirs.
    engine.run(&script).expect("runs");
    assert_eq!(engine.global::<f64>("score").unwrap(), 0.0);
    assert_eq!(engine.global::<f64>("multiplier").unwrap(), 10.0);
}
