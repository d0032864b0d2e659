//! signtool: sign, verify and show Alipay+ content to be signed, for integrators debugging
//! signatures. See `cli.rs` for the interface, or run with `--help`.
//!
//! ```text
//! cargo run -q -p alipayplus-sign --example signtool -- sign --key FILE --method M --uri U \
//!     --client-id C --time T --body-file F [--key-version N]
//! cargo run -q -p alipayplus-sign --example signtool -- verify --key PUBFILE --method M --uri U \
//!     --client-id C --time T --body-file F --header H
//! cargo run -q -p alipayplus-sign --example signtool -- content --method M --uri U \
//!     --client-id C --time T --body-file F
//! ```
//!
//! Add `--features aws-lc` to sign and verify with the aws-lc-rs backend instead of the
//! pure-Rust default (same keys, same output); `--help` names the backend of the build.

mod cli;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = cli::run(
        &args,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    );
    std::process::exit(code);
}
