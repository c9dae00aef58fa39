//! The opcode generator: reads `opcodes.toml`, validates it, and writes the Rust code that
//! must agree with it (see the header of `opcodes.toml`).
//!
//! `build.rs` includes this module with `#[path]`, and so do the crate's tests, so the
//! generator is tested on small fixtures like any other code.

use proc_macro2::{Ident, Literal, Span, TokenStream};
use quote::{format_ident, quote};

mod emit;
pub use emit::generate_emitters;

/// The operand kinds of `opcodes.toml`, with their encoded width in bytes.
pub const OPERAND_KINDS: &[(&str, usize)] = &[
    ("reg", 1),
    ("dst", 1),
    ("u8", 1),
    ("u32", 4),
    ("u64", 8),
    ("f64", 8),
    ("jump", 4),
    ("const", 2),
    ("global", 2),
    ("func", 2),
    ("native", 1),
];

/// The categories, one per handler module in `src/vm/`.
pub const CATEGORIES: &[&str] = &[
    "load", "arith", "compare", "branch", "array", "string", "call", "io", "map", "closure",
];

pub const FLAGS: &[&str] = &["jump", "call", "throws"];

/// One operand of an instruction.
#[derive(Debug, Clone, PartialEq)]
pub struct Operand {
    pub name: String,
    pub kind: String,
    pub width: usize,
}

/// One validated row of `opcodes.toml`.
#[derive(Debug, Clone, PartialEq)]
pub struct OpSpec {
    pub name: String,
    pub operands: Vec<Operand>,
    pub reads: Vec<String>,
    pub writes: Vec<String>,
    pub effect: String,
    pub category: String,
    pub flags: Vec<String>,
    pub doc: String,
}

impl OpSpec {
    /// Encoded size: the opcode byte plus the operands.
    pub fn size(&self) -> usize {
        1 + self.operands.iter().map(|o| o.width).sum::<usize>()
    }

    pub fn has_flag(&self, flag: &str) -> bool {
        self.flags.iter().any(|f| f == flag)
    }
}

/// Parses and validates the TOML text. Errors name the offending row.
pub fn parse_spec(text: &str) -> Result<Vec<OpSpec>, String> {
    let table: toml::Table = text
        .parse()
        .map_err(|e| format!("opcodes.toml is not valid TOML: {e}"))?;
    let rows = match table.get("op") {
        Some(toml::Value::Array(rows)) => rows,
        _ => return Err("opcodes.toml: expected [[op]] rows".to_string()),
    };
    let mut ops: Vec<OpSpec> = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let op = parse_row(index, row)?;
        if ops.iter().any(|o| o.name == op.name) {
            return Err(format!(
                "opcodes.toml: row {} ('{}'): duplicate opcode name",
                index + 1,
                op.name
            ));
        }
        ops.push(op);
    }
    if ops.len() > 255 {
        return Err(format!(
            "opcodes.toml: {} opcodes; at most 255 fit in a byte (one value is kept invalid)",
            ops.len()
        ));
    }
    Ok(ops)
}

fn parse_row(index: usize, row: &toml::Value) -> Result<OpSpec, String> {
    let table = row
        .as_table()
        .ok_or_else(|| format!("opcodes.toml: row {} is not a table", index + 1))?;
    let label = match table.get("name").and_then(|v| v.as_str()) {
        Some(name) => format!("row {} ('{name}')", index + 1),
        None => format!("row {}", index + 1),
    };
    let err = |msg: String| format!("opcodes.toml: {label}: {msg}");
    for key in table.keys() {
        if !["name", "operands", "effect", "category", "flags", "doc"].contains(&key.as_str()) {
            return Err(err(format!("unknown field '{key}'")));
        }
    }
    let string = |field: &str| -> Result<String, String> {
        match table.get(field) {
            Some(toml::Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(err(format!("field '{field}' must be a string"))),
            None => Err(err(format!("missing field '{field}'"))),
        }
    };
    let strings = |field: &str, required: bool| -> Result<Vec<String>, String> {
        match table.get(field) {
            Some(toml::Value::Array(items)) => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .ok_or_else(|| err(format!("field '{field}' must hold strings")))
                })
                .collect(),
            Some(_) => Err(err(format!("field '{field}' must be an array"))),
            None if required => Err(err(format!("missing field '{field}'"))),
            None => Ok(Vec::new()),
        }
    };

    let name = string("name")?;
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        || !name.starts_with(|c: char| c.is_ascii_lowercase())
    {
        return Err(err("name must be snake_case".to_string()));
    }
    let mut operands = Vec::new();
    for spec in strings("operands", true)? {
        let (oname, kind) = spec
            .split_once(':')
            .ok_or_else(|| err(format!("operand '{spec}' must be written name:kind")))?;
        let width = OPERAND_KINDS
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, w)| *w)
            .ok_or_else(|| {
                let kinds: Vec<&str> = OPERAND_KINDS.iter().map(|(k, _)| *k).collect();
                err(format!(
                    "unknown operand kind '{kind}' (known: {})",
                    kinds.join(", ")
                ))
            })?;
        if operands.iter().any(|o: &Operand| o.name == oname) {
            return Err(err(format!("operand name '{oname}' used twice")));
        }
        operands.push(Operand {
            name: oname.to_string(),
            kind: kind.to_string(),
            width,
        });
    }
    let effect = string("effect")?;
    let (reads, writes) = parse_effect(&effect, &operands).map_err(err)?;
    let category = string("category")?;
    if !CATEGORIES.contains(&category.as_str()) {
        return Err(err(format!(
            "unknown category '{category}' (known: {})",
            CATEGORIES.join(", ")
        )));
    }
    let flags = strings("flags", false)?;
    if let Some(bad) = flags.iter().find(|f| !FLAGS.contains(&f.as_str())) {
        return Err(err(format!("unknown flag '{bad}'")));
    }
    let has_jump_operand = operands.iter().any(|o| o.kind == "jump");
    if has_jump_operand != flags.iter().any(|f| f == "jump") {
        return Err(err(
            "an op has a 'jump' operand exactly when it has the 'jump' flag".to_string(),
        ));
    }
    let doc = string("doc")?;
    if doc.trim().is_empty() {
        return Err(err("empty doc".to_string()));
    }
    Ok(OpSpec {
        name,
        operands,
        reads,
        writes,
        effect,
        category,
        flags,
        doc,
    })
}

/// Checks an effect `"a b -- dst"` against the operands: every name must be a register
/// operand (`base[argc]` names a register and a count), reads must be `reg` operands and
/// writes `dst` operands or registers also read.
fn parse_effect(effect: &str, operands: &[Operand]) -> Result<(Vec<String>, Vec<String>), String> {
    let (lhs, rhs) = effect
        .split_once("--")
        .ok_or_else(|| format!("effect '{effect}' must contain '--'"))?;
    let kind_of = |name: &str| {
        operands
            .iter()
            .find(|o| o.name == name)
            .map(|o| &o.kind[..])
    };
    let names = |side: &str| -> Result<Vec<String>, String> {
        side.split_whitespace()
            .map(|item| {
                let reg = match item.split_once('[') {
                    Some((reg, count)) => {
                        let count = count.strip_suffix(']').unwrap_or(count);
                        if kind_of(count) != Some("u8") {
                            return Err(format!(
                                "effect '{effect}': '{count}' is not a u8 operand"
                            ));
                        }
                        reg
                    }
                    None => item,
                };
                match kind_of(reg) {
                    Some("reg" | "dst") => Ok(item.to_string()),
                    _ => Err(format!(
                        "effect '{effect}': '{reg}' is not a register operand"
                    )),
                }
            })
            .collect()
    };
    let reads = names(lhs)?;
    let writes = names(rhs)?;
    for r in &reads {
        if kind_of(r) == Some("dst") {
            return Err(format!(
                "effect '{effect}': '{r}' is a dst operand but is read"
            ));
        }
    }
    for operand in operands.iter().filter(|o| o.kind == "dst") {
        if !writes.contains(&operand.name) {
            return Err(format!(
                "effect '{effect}': dst operand '{}' is not written",
                operand.name
            ));
        }
    }
    Ok((reads, writes))
}

fn camel(name: &str) -> Ident {
    let mut out = String::new();
    for part in name.split('_') {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    Ident::new(&out, Span::call_site())
}

fn rust_type(kind: &str) -> TokenStream {
    match kind {
        "reg" | "dst" | "u8" | "native" => quote!(u8),
        "u32" => quote!(u32),
        "u64" => quote!(u64),
        "f64" => quote!(f64),
        "jump" => quote!(i32),
        "const" | "global" | "func" => quote!(u16),
        _ => unreachable!("validated operand kind"),
    }
}

fn reader(kind: &str) -> Ident {
    let width = match kind {
        "reg" | "dst" | "u8" | "native" => "u8",
        "u32" => "u32",
        "u64" => "u64",
        "f64" => "f64",
        "jump" => "i32",
        _ => "u16",
    };
    format_ident!("operand_{}", width)
}

fn operand_kind_variant(kind: &str) -> Ident {
    camel(match kind {
        "const" => "constant",
        other => other,
    })
}

/// A row's doc as rustdoc text: `R[dst]` would otherwise be read as a link to `dst`.
fn rustdoc_text(doc: &str) -> String {
    doc.replace('[', "\\[").replace(']', "\\]")
}

/// `OUT_DIR/opcodes.rs`: the enum, decoding and metadata. Included by `src/bytecode/`.
pub fn generate_opcodes(ops: &[OpSpec]) -> TokenStream {
    let count = ops.len();
    let variants = ops.iter().enumerate().map(|(i, op)| {
        let doc = format!(" {}", rustdoc_text(&op.doc));
        let ident = camel(&op.name);
        let value = Literal::u8_unsuffixed(i as u8);
        quote! { #[doc = #doc] #ident = #value, }
    });
    let idents: Vec<Ident> = ops.iter().map(|op| camel(&op.name)).collect();
    let decode_arms = idents.iter().enumerate().map(|(i, ident)| {
        let value = Literal::u8_unsuffixed(i as u8);
        quote! { #value => Some(Opcode::#ident), }
    });
    let size_arms = ops.iter().map(|op| {
        let ident = camel(&op.name);
        let size = op.size();
        quote! { Opcode::#ident => #size, }
    });
    let categories: Vec<Ident> = CATEGORIES.iter().map(|c| camel(c)).collect();
    let category_names = CATEGORIES.iter();
    let infos = ops.iter().map(|op| {
        let name = &op.name;
        let mnemonic = op.name.to_uppercase();
        let size = op.size();
        let mut offset = 1usize;
        let operands = op.operands.iter().map(|o| {
            let oname = &o.name;
            let kind = operand_kind_variant(&o.kind);
            let at = offset;
            offset += o.width;
            quote! { OperandInfo { name: #oname, kind: OperandKind::#kind, offset: #at } }
        });
        let category = camel(&op.category);
        let effect = &op.effect;
        let reads = &op.reads;
        let writes = &op.writes;
        let doc = &op.doc;
        let jump = op.has_flag("jump");
        let call = op.has_flag("call");
        let throws = op.has_flag("throws");
        quote! {
            OpInfo {
                name: #name,
                mnemonic: #mnemonic,
                size: #size,
                operands: &[#(#operands),*],
                effect: #effect,
                reads: &[#(#reads),*],
                writes: &[#(#writes),*],
                category: Category::#category,
                jumps: #jump,
                calls: #call,
                throws: #throws,
                doc: #doc,
            },
        }
    });
    quote! {
        /// Every instruction of the VM, numbered in `opcodes.toml` order.
        #[repr(u8)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Opcode { #(#variants)* }

        impl Opcode {
            /// Number of opcodes; bytes from `COUNT` to 255 are invalid.
            pub const COUNT: usize = #count;
            /// All opcodes in discriminant order.
            pub const ALL: [Opcode; #count] = [#(Opcode::#idents),*];

            /// The byte that encodes this opcode.
            #[inline(always)]
            pub const fn discriminant(self) -> u8 {
                self as u8
            }

            /// Decodes a byte; `None` for a byte that is no opcode.
            #[inline]
            pub const fn from_u8(byte: u8) -> Option<Opcode> {
                match byte {
                    #(#decode_arms)*
                    _ => None,
                }
            }

            /// Encoded size in bytes, opcode included (usable in constants).
            pub const fn size(self) -> usize {
                match self { #(#size_arms)* }
            }

            /// The opcode's row of `opcodes.toml`.
            #[inline(always)]
            pub fn info(self) -> &'static OpInfo {
                &OP_INFO[self as usize]
            }
        }

        /// What an instruction is for, as declared in `opcodes.toml`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Category { #(#categories),* }

        impl Category {
            pub const ALL: &'static [Category] = &[#(Category::#categories),*];

            pub fn name(self) -> &'static str {
                match self { #(Category::#categories => #category_names),* }
            }
        }

        /// Metadata of every opcode, indexed by discriminant.
        pub static OP_INFO: [OpInfo; #count] = [#(#infos)*];
    }
}

/// `OUT_DIR/dispatch.rs`: the `Handlers` trait, the inline stubs and the dispatch loops.
/// Included by `src/vm/dispatch.rs`, which provides `Cx`, `Flow` and `Vm`.
pub fn generate_dispatch(ops: &[OpSpec]) -> TokenStream {
    let method = |op: &OpSpec| {
        let doc = format!(" `{}`: {}", op.name.to_uppercase(), rustdoc_text(&op.doc));
        let name = format_ident!("{}", op.name);
        let params = op.operands.iter().map(|o| {
            let n = format_ident!("{}", o.name);
            let t = rust_type(&o.kind);
            quote!(#n: #t)
        });
        quote! {
            #[doc = #doc]
            fn #name(&mut self, cx: &mut Cx, #(#params),*) -> Flow;
        }
    };
    let category_traits: Vec<Ident> = CATEGORIES
        .iter()
        .map(|c| format_ident!("{}Handlers", camel(c)))
        .collect();
    let trait_defs = CATEGORIES
        .iter()
        .zip(&category_traits)
        .map(|(category, name)| {
            let methods = ops.iter().filter(|op| op.category == *category).map(method);
            let doc = format!(
                " Handlers of the `{category}` opcodes, implemented in `src/vm/{category}.rs`."
            );
            quote! {
                #[doc = #doc]
                pub trait #name { #(#methods)* }
            }
        });
    let stubs = ops.iter().map(|op| {
        let name = format_ident!("{}", op.name);
        let stub = format_ident!("exec_{}", op.name);
        let size = op.size();
        let mut offset = 1usize;
        let decodes = op.operands.iter().map(|o| {
            let n = format_ident!("{}", o.name);
            let read = reader(&o.kind);
            let at = offset;
            offset += o.width;
            quote! { let #n = cx.#read(#at); }
        });
        let args = op.operands.iter().map(|o| format_ident!("{}", o.name));
        let comment = format!(" {}: {}", op.name.to_uppercase(), rustdoc_text(&op.doc));
        // Every backward (or self-) jump, a loop's next iteration, polls the interrupt flag, so a
        // script stops within one iteration of an embedder's request.
        let interrupt_check = if op.has_flag("jump") {
            quote! {
                if let Flow::Jump(offset) = flow {
                    if offset <= 0 && h.interrupt_requested() {
                        return h.stop_interrupted(cx);
                    }
                }
            }
        } else {
            quote! {}
        };
        quote! {
            #[doc = #comment]
            #[inline(always)]
            pub fn #stub<H: Handlers>(h: &mut H, cx: &mut Cx) -> bool {
                #(#decodes)*
                let flow = h.#name(cx, #(#args),*);
                #interrupt_check
                cx.finish(flow, #size)
            }
        }
    });
    let match_arms: Vec<TokenStream> = ops
        .iter()
        .enumerate()
        .map(|(i, op)| {
            let value = Literal::u8_unsuffixed(i as u8);
            let stub = format_ident!("exec_{}", op.name);
            quote! { #value => #stub(h, cx), }
        })
        .collect();
    let profiled_arms = match_arms.iter();
    let metered_arms = match_arms.iter();
    let threaded_fns: Vec<Ident> = ops
        .iter()
        .map(|op| format_ident!("threaded_{}", op.name))
        .collect();
    let stub_names: Vec<Ident> = ops
        .iter()
        .map(|op| format_ident!("exec_{}", op.name))
        .collect();
    let padding = (0..256 - ops.len()).map(|_| quote!(threaded_invalid));
    quote! {
        #(#trait_defs)*

        /// The handwritten handlers, one per opcode, grouped by category: the VM
        /// implements these traits, so an opcode without a handler fails to compile with
        /// its name in the error.
        pub trait Handlers: #(#category_traits)+* {
            /// A byte that is no opcode (only reachable with unverified bytecode).
            fn invalid_opcode(&mut self, cx: &mut Cx) -> Flow;
            /// Whether an embedder asked the run to stop (polled at backward jumps).
            fn interrupt_requested(&self) -> bool;
            /// Records the interruption as the run's error; returns true (stop).
            fn stop_interrupted(&mut self, cx: &Cx) -> bool;
        }

        #(#stubs)*

        #[inline(always)]
        fn exec_invalid<H: Handlers>(h: &mut H, cx: &mut Cx) -> bool {
            let flow = h.invalid_opcode(cx);
            cx.finish(flow, 1)
        }

        /// The baseline backend: a `loop` over a `match` on the opcode byte.
        pub fn run_match<H: Handlers>(h: &mut H, cx: &mut Cx) {
            loop {
                let stop = match cx.opcode_byte() {
                    #(#match_arms)*
                    _ => exec_invalid(h, cx),
                };
                if stop {
                    return;
                }
            }
        }

        /// The instrumented backend for `atlas profile`: the `match` loop with a hook
        /// before every instruction. The other backends contain no profiling code.
        pub fn run_profiled<H: Handlers + ProfileHook>(h: &mut H, cx: &mut Cx) {
            loop {
                let byte = cx.opcode_byte();
                h.before_instruction(cx, byte);
                let stop = match byte {
                    #(#profiled_arms)*
                    _ => exec_invalid(h, cx),
                };
                if stop {
                    return;
                }
            }
        }

        /// The metered backend, used only when a run has an instruction budget or a
        /// timeout: the `match` loop charging every instruction before it runs. The
        /// other backends pay nothing for limits they do not have.
        pub fn run_metered<H: Handlers + MeterHook>(h: &mut H, cx: &mut Cx) {
            loop {
                if h.charge(cx) {
                    return;
                }
                let stop = match cx.opcode_byte() {
                    #(#metered_arms)*
                    _ => exec_invalid(h, cx),
                };
                if stop {
                    return;
                }
            }
        }

        /// A handler of the threaded backend.
        #[cfg(atlas_tail_calls)]
        type Threaded = fn(&mut Vm, Cx);
        /// A handler of the table backend when tail calls are not available.
        #[cfg(not(atlas_tail_calls))]
        type Threaded = fn(&mut Vm, &mut Cx) -> bool;

        /// The static handler table, indexed by opcode byte and padded to 256 entries so
        /// indexing by a `u8` needs no bounds check.
        static HANDLER_TABLE: [Threaded; 256] = [#(#threaded_fns,)* #(#padding),*];

        /// Threading: each handler ends by calling the next one from the table in tail
        /// position, which LLVM compiles to a jump (build.rs enables this form only at
        /// opt-level 2 or 3; a test guards that it does not grow the host stack).
        #[cfg(atlas_tail_calls)]
        mod threaded_handlers {
            use super::*;
            #(
                pub(super) fn #threaded_fns(vm: &mut Vm, mut cx: Cx) {
                    if #stub_names(vm, &mut cx) {
                        return;
                    }
                    HANDLER_TABLE[cx.opcode_byte() as usize](vm, cx)
                }
            )*
            pub(super) fn threaded_invalid(vm: &mut Vm, mut cx: Cx) {
                if exec_invalid(vm, &mut cx) {
                    return;
                }
                HANDLER_TABLE[cx.opcode_byte() as usize](vm, cx)
            }
        }

        #[cfg(not(atlas_tail_calls))]
        mod threaded_handlers {
            use super::*;
            #(
                pub(super) fn #threaded_fns(vm: &mut Vm, cx: &mut Cx) -> bool {
                    #stub_names(vm, cx)
                }
            )*
            pub(super) fn threaded_invalid(vm: &mut Vm, cx: &mut Cx) -> bool {
                exec_invalid(vm, cx)
            }
        }
        use threaded_handlers::*;

        /// The table backend: enters the threaded handlers.
        #[cfg(atlas_tail_calls)]
        pub fn run_table(vm: &mut Vm, cx: &mut Cx) {
            HANDLER_TABLE[cx.opcode_byte() as usize](vm, *cx)
        }

        /// The table backend without tail calls: a loop through the table.
        #[cfg(not(atlas_tail_calls))]
        pub fn run_table(vm: &mut Vm, cx: &mut Cx) {
            while !HANDLER_TABLE[cx.opcode_byte() as usize](vm, cx) {}
        }
    }
}

/// Renders tokens as a formatted Rust file with a do-not-edit header.
pub fn render(tokens: TokenStream) -> Result<String, String> {
    let file: syn::File =
        syn::parse2(tokens).map_err(|e| format!("generated code does not parse: {e}"))?;
    Ok(format!(
        "// Generated by build.rs from opcodes.toml; do not edit.\n\n{}",
        prettyplease::unparse(&file)
    ))
}
