//! The `ops` example (filled in by the next commit).
fn main() {}
