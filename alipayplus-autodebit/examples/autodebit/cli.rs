//! Hand-written argument parsing: `SUBCOMMAND --name value ...` (the cashier example's rules).

use std::collections::BTreeMap;

pub const USAGE: &str = "usage:
  autodebit prepare --auth-client-id ID --auth-redirect-url URL [--auth-client-name NAME]
                    [--display-name NAME] [--wallet GCASH] [--terminal WEB|WAP|APP|MINI_APP]
                    [--os IOS|ANDROID] [--state STATE] [--reference-agreement-id ID]
  autodebit apply-token --auth-client-id ID --auth-code CODE [--wallet GCASH]
  autodebit refresh-token --auth-client-id ID --refresh-token RT
  autodebit cancel-token --auth-client-id ID --access-token T
  autodebit pay --access-token T --currency USD --value 1000 --request-id ID [--order-id ID]
                [--merchant-id ID] [--description TEXT] [--notify-url URL] [--follow yes]
  autodebit redirect --url URL --state STATE
  autodebit listen --port N [--store sqlite:PATH]  (with ALIPAYPLUS_STORE_KEY: 64 hex digits)
environment: ALIPAYPLUS_BASE_URL, ALIPAYPLUS_CLIENT_ID, ALIPAYPLUS_PRIVATE_KEY, ALIPAYPLUS_PUBLIC_KEY
             (key file paths), optional ALIPAYPLUS_KEY_VERSION";

pub struct UsageError(pub String);

/// `--name value` options of a subcommand.
pub struct Args(BTreeMap<String, String>);

impl Args {
    pub fn required(&self, name: &str) -> Result<&str, String> {
        self.optional(name)
            .ok_or_else(|| format!("--{name} is required"))
    }

    pub fn optional(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

pub enum Command {
    Prepare(Args),
    ApplyToken(Args),
    RefreshToken(Args),
    CancelToken(Args),
    Pay(Args),
    Redirect(Args),
    Listen { port: u16, store: Option<String> },
}

const ALLOWED: &[(&str, &[&str])] = &[
    (
        "prepare",
        &[
            "auth-client-id",
            "auth-redirect-url",
            "auth-client-name",
            "display-name",
            "wallet",
            "terminal",
            "os",
            "state",
            "reference-agreement-id",
        ],
    ),
    ("apply-token", &["auth-client-id", "auth-code", "wallet"]),
    ("refresh-token", &["auth-client-id", "refresh-token"]),
    ("cancel-token", &["auth-client-id", "access-token"]),
    (
        "pay",
        &[
            "access-token",
            "currency",
            "value",
            "request-id",
            "order-id",
            "merchant-id",
            "description",
            "notify-url",
            "follow",
        ],
    ),
    ("redirect", &["url", "state"]),
    ("listen", &["port", "store"]),
];

pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let usage = |m: String| UsageError(m);
    let (sub, rest) = args
        .split_first()
        .ok_or_else(|| usage("a subcommand is required".into()))?;
    let allowed = ALLOWED
        .iter()
        .find(|(name, _)| name == sub)
        .map(|(_, opts)| *opts)
        .ok_or_else(|| usage(format!("unknown subcommand {sub:?}")))?;
    let mut map = BTreeMap::new();
    let mut it = rest.iter();
    while let Some(flag) = it.next() {
        let name = flag
            .strip_prefix("--")
            .ok_or_else(|| usage(format!("expected --option, got {flag:?}")))?;
        if !allowed.contains(&name) {
            return Err(usage(format!("{sub} has no option --{name}")));
        }
        let value = it
            .next()
            .ok_or_else(|| usage(format!("--{name} needs a value")))?;
        if map.insert(name.to_string(), value.clone()).is_some() {
            return Err(usage(format!("--{name} given twice")));
        }
    }
    let args = Args(map);
    Ok(match sub.as_str() {
        "prepare" => Command::Prepare(args),
        "apply-token" => Command::ApplyToken(args),
        "refresh-token" => Command::RefreshToken(args),
        "cancel-token" => Command::CancelToken(args),
        "pay" => Command::Pay(args),
        "redirect" => Command::Redirect(args),
        _ => {
            let port = args.required("port").map_err(usage)?;
            let port = port
                .parse()
                .map_err(|_| usage(format!("--port {port:?} is not a port number")))?;
            let store = args.optional("store").map(String::from);
            Command::Listen { port, store }
        }
    })
}
