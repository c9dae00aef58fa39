//! The function layout of the `atlas` binary (build.rs, link/atlas.order): the
//! functions runs execute are linked together, in the listed order, which keeps the
//! pages a run maps few. This test fails when the list has gone stale (too many of its
//! names no longer exist, after a toolchain update or a large change): regenerate it
//! with `python3 benches/link_order.py`.

#![cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]

use std::collections::{HashMap, HashSet};
use std::process::Command;

/// Mangled name -> address of every function of the binary, or `None` without `nm`.
fn function_addresses(binary: &str) -> Option<HashMap<String, u64>> {
    let out = Command::new("nm").arg(binary).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Some(
        text.lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let address = u64::from_str_radix(fields.next()?, 16).ok()?;
                let kind = fields.next()?;
                let name = fields.next()?;
                matches!(kind, "t" | "T" | "w" | "W").then(|| (name.to_string(), address))
            })
            .collect(),
    )
}

/// A legacy-mangled name without its hash (`...17h0123456789abcdefE` -> `...`).
fn unhashed(name: &str) -> &str {
    match name.len().checked_sub(20) {
        Some(at) if name[at..].starts_with("17h") && name.ends_with('E') => &name[..at],
        _ => name,
    }
}

#[test]
fn hot_functions_are_linked_together_in_order() {
    if std::env::var_os("ATLAS_NO_LINK_ORDER").is_some() {
        return;
    }
    let Some(addresses) = function_addresses(env!("CARGO_BIN_EXE_atlas")) else {
        eprintln!("skipped: no nm");
        return;
    };
    let listed = include_str!("../link/atlas.order");
    let names: Vec<&str> = listed
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .collect();
    let found: Vec<u64> = names
        .iter()
        .filter_map(|name| addresses.get(*name).copied())
        .collect();
    // The list names most functions twice, as `cargo build` and `cargo test` name them
    // (their hashes differ): count functions by their name without the hash.
    let functions: HashSet<&str> = names.iter().map(|name| unhashed(name)).collect();
    let present: HashSet<&str> = names
        .iter()
        .filter(|name| addresses.contains_key(**name))
        .map(|name| unhashed(name))
        .collect();
    assert!(
        present.len() * 10 >= functions.len() * 8,
        "only {} of the {} functions of link/atlas.order exist in the binary: \
         regenerate it with `python3 benches/link_order.py`",
        present.len(),
        functions.len()
    );
    // LLD placed them in the listed order (the few from C objects, e.g. `_start`, are
    // in sections of their own that keep their place).
    let in_order = found.windows(2).filter(|w| w[0] < w[1]).count();
    assert!(
        in_order * 100 >= (found.len() - 1) * 95,
        "{in_order} of {} neighbours in order: is the ordering file passed to the linker?",
        found.len() - 1
    );
}
