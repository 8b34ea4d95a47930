//! Expressions inside `${...}`: the syntax (`syntax.rs`), their value as an `Expr`
//! (`eval.rs`) and the functions (`functions.rs`). Pure: names and files are read
//! through the [`Names`] the caller gives.

pub(crate) mod eval;
pub(crate) mod functions;
pub(crate) mod syntax;

pub use eval::{EvalError, Names};
pub use functions::FUNCTIONS;
pub use syntax::{parse, Ast, SyntaxError};

/// Evaluates an expression's text with `names`.
pub fn evaluate(ast: &Ast, names: &mut dyn Names) -> Result<trellis_core::Expr, EvalError> {
    eval::eval(ast, names)
}
