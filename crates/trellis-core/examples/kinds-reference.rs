//! Prints the kind reference that `cargo xtask docs` puts into docs/spec.md.
fn main() {
    print!("{}", trellis_core::kinds::reference_markdown());
}
