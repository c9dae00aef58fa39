//! The type checker: enforces LANGUAGE.md's rules, fills in expression types and name
//! resolution in the AST.
