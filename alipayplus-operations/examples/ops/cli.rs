//! Hand-written argument parsing: `SUBCOMMAND --name value ...` (the cashier example's rules;
//! `--declaration-request-id` may be repeated).

use std::collections::BTreeMap;

pub const USAGE: &str = "usage:
  ops register --request FILE
  ops registration-status --registration-request-id ID
  ops respond-retrieval --request FILE
  ops respond-escalation --request FILE
  ops declare --request FILE
  ops inquire-declarations --declaration-request-id ID [--declaration-request-id ID ...]
  ops listen --port N [--store sqlite:PATH]
FILE holds the API's request body as JSON.
environment: ALIPAYPLUS_BASE_URL, ALIPAYPLUS_CLIENT_ID, ALIPAYPLUS_PRIVATE_KEY, ALIPAYPLUS_PUBLIC_KEY
             (key file paths), optional ALIPAYPLUS_KEY_VERSION";

pub struct UsageError(pub String);

pub enum Command {
    Register(String),
    RegistrationStatus(String),
    RespondRetrieval(String),
    RespondEscalation(String),
    Declare(String),
    InquireDeclarations(Vec<String>),
    Listen { port: u16, store: Option<String> },
}

const ALLOWED: &[(&str, &str)] = &[
    ("register", "request"),
    ("registration-status", "registration-request-id"),
    ("respond-retrieval", "request"),
    ("respond-escalation", "request"),
    ("declare", "request"),
    ("inquire-declarations", "declaration-request-id"),
    ("listen", "port"),
];

pub fn parse(args: &[String]) -> Result<Command, UsageError> {
    let usage = |m: String| UsageError(m);
    let (sub, rest) = args
        .split_first()
        .ok_or_else(|| usage("a subcommand is required".into()))?;
    // `listen` alone takes two options: --port N [--store sqlite:PATH].
    let (rest, store) = match (sub.as_str(), rest) {
        ("listen", [a, b, tail @ ..]) if a == "--store" => (tail, Some(b.clone())),
        ("listen", [head @ .., a, b]) if a == "--store" => (head, Some(b.clone())),
        _ => (rest, None),
    };
    let option = ALLOWED
        .iter()
        .find(|(name, _)| name == sub)
        .map(|(_, opt)| *opt)
        .ok_or_else(|| usage(format!("unknown subcommand {sub:?}")))?;
    let repeatable = sub == "inquire-declarations";
    let mut values: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut it = rest.iter();
    while let Some(flag) = it.next() {
        let name = flag
            .strip_prefix("--")
            .ok_or_else(|| usage(format!("expected --option, got {flag:?}")))?;
        if name != option {
            return Err(usage(format!("{sub} has no option --{name}")));
        }
        let value = it
            .next()
            .ok_or_else(|| usage(format!("--{name} needs a value")))?;
        let list = values.entry(option).or_default();
        if !list.is_empty() && !repeatable {
            return Err(usage(format!("--{name} given twice")));
        }
        list.push(value.clone());
    }
    let mut list = values.remove(option).unwrap_or_default();
    if list.is_empty() {
        return Err(usage(format!("--{option} is required")));
    }
    let one = list.swap_remove(0);
    Ok(match sub.as_str() {
        "register" => Command::Register(one),
        "registration-status" => Command::RegistrationStatus(one),
        "respond-retrieval" => Command::RespondRetrieval(one),
        "respond-escalation" => Command::RespondEscalation(one),
        "declare" => Command::Declare(one),
        "inquire-declarations" => {
            list.insert(0, one);
            Command::InquireDeclarations(list)
        }
        _ => {
            let port = one
                .parse()
                .map_err(|_| usage(format!("--port {one:?} is not a port number")))?;
            Command::Listen { port, store }
        }
    })
}
