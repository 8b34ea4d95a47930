fn main() {
    std::process::exit(trellis_cli::main())
}
