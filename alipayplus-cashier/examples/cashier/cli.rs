//! Hand-written argument parsing: `SUBCOMMAND --name value ...`.

use std::collections::BTreeMap;

pub const USAGE: &str = "usage:
  cashier pay --currency USD --value 1000 --request-id ID [--wallet T] [--order-id ID]
              [--merchant-id ID] [--description TEXT] [--terminal WEB|WAP|APP|MINI_APP]
              [--os IOS|ANDROID] [--notify-url URL] [--redirect-url URL] [--expiry-minutes N]
              [--presentment-mode MODE]
  cashier inquire --request-id ID
  cashier cancel --request-id ID
  cashier refund --request-id ID --refund-request-id RID --currency USD --value 500 [--reason TEXT]
  cashier consult --currency USD --value 1000 [--user-region KR]
  cashier listen --port N [--store sqlite:PATH]
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
    Pay(Args),
    Inquire(Args),
    Cancel(Args),
    Refund(Args),
    Consult(Args),
    Listen { port: u16, store: Option<String> },
}

const ALLOWED: &[(&str, &[&str])] = &[
    (
        "pay",
        &[
            "currency",
            "value",
            "request-id",
            "wallet",
            "order-id",
            "merchant-id",
            "description",
            "terminal",
            "os",
            "notify-url",
            "redirect-url",
            "expiry-minutes",
            "presentment-mode",
        ],
    ),
    ("inquire", &["request-id"]),
    ("cancel", &["request-id"]),
    (
        "refund",
        &[
            "request-id",
            "refund-request-id",
            "currency",
            "value",
            "reason",
        ],
    ),
    ("consult", &["currency", "value", "user-region"]),
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
        "pay" => Command::Pay(args),
        "inquire" => Command::Inquire(args),
        "cancel" => Command::Cancel(args),
        "refund" => Command::Refund(args),
        "consult" => Command::Consult(args),
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
