fn main() {
    std::process::exit(rustemd_shell::run());
}
