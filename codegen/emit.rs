//! The typed emitters: one `FnState::emit_<name>` per row of `opcodes.toml`, taking each
//! operand as the Rust type of its kind, so the compiler cannot pass a register where a
//! constant index belongs, and every range check happens once, where a wider integer
//! becomes an operand type (see `src/compile/emit.rs`). Emitters of jump opcodes take no
//! offset: they write a placeholder and return the `JumpSite` to patch.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::OpSpec;

/// The operand type the compiler passes for an operand kind (`None`: a jump, patched later).
fn operand_type(kind: &str) -> Option<TokenStream> {
    Some(match kind {
        "reg" | "dst" => quote!(Reg),
        "u8" => quote!(u8),
        "u32" => quote!(u32),
        "u64" => quote!(u64),
        "f64" => quote!(f64),
        "const" => quote!(ConstIdx),
        "global" => quote!(GlobalSlot),
        "func" => quote!(FuncIdx),
        "native" => quote!(NativeIdx),
        "jump" => return None,
        _ => unreachable!("validated operand kind"),
    })
}

/// `OUT_DIR/emit.rs`: `impl FnState { emit_... }`. Included by `src/compile/emit.rs`,
/// which provides the operand types, `Operand::encode`, `FnState::start` and `JumpSite`.
pub fn generate_emitters(ops: &[OpSpec]) -> TokenStream {
    let emitters = ops.iter().map(|op| {
        let name = format_ident!("emit_{}", op.name);
        let opcode = super::camel(&op.name);
        let doc = format!(
            " `{}`: {}",
            op.name.to_uppercase(),
            super::rustdoc_text(&op.doc)
        );
        let params = op.operands.iter().filter_map(|o| {
            let n = format_ident!("{}", o.name);
            operand_type(&o.kind).map(|t| quote!(#n: #t))
        });
        let encodes = op.operands.iter().map(|o| {
            let n = format_ident!("{}", o.name);
            match operand_type(&o.kind) {
                Some(_) => quote! { #n.encode(&mut self.code); },
                None => quote! {
                    let site = JumpSite { at, operand: self.code.len() };
                    0i32.encode(&mut self.code);
                },
            }
        });
        let jumps = op.operands.iter().any(|o| o.kind == "jump");
        let (ret, result) = if jumps {
            (quote!(-> JumpSite), quote!(site))
        } else {
            (quote!(), quote!())
        };
        quote! {
            #[doc = #doc]
            pub(super) fn #name(&mut self, #(#params,)* span: Span) #ret {
                let at = self.start(Opcode::#opcode, span);
                #(#encodes)*
                debug_assert_eq!(self.code.len() - at, Opcode::#opcode.size());
                #result
            }
        }
    });
    quote! {
        impl FnState {
            #(#emitters)*
        }
    }
}
