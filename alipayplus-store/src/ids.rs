//! The identifiers rows are keyed and versioned by: a follow-up's [`Kind`], a row's
//! [`Version`], an inbox entry's [`Seq`]. A leaf module: the follow-up and inbox modules both
//! use them without importing each other.

/// A kind of follow-up: its name in the store, and whether its state holds secrets.
///
/// Kinds are constants of the caller (one per machine type); the name is stored, so keep it
/// stable. A kind holding secrets (the Auto Debit pay body carries the access token) is
/// sealed with the store's [`SealingKey`](crate::SealingKey).
///
/// ```
/// use alipayplus_store::Kind;
///
/// const CASHIER_PAY: Kind = Kind::new("cashier.pay");
/// const AGREEMENT_PAY: Kind = Kind::holding_secrets("autodebit.pay");
/// assert!(!CASHIER_PAY.secret() && AGREEMENT_PAY.secret());
/// assert_eq!(AGREEMENT_PAY.name(), "autodebit.pay");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Kind {
    name: &'static str,
    secret: bool,
}

impl Kind {
    /// A kind whose state holds no secret (stored as JSON in clear).
    pub const fn new(name: &'static str) -> Self {
        Kind {
            name,
            secret: false,
        }
    }

    /// A kind whose state holds secrets (sealed; needs the store's sealing key).
    pub const fn holding_secrets(name: &'static str) -> Self {
        Kind { name, secret: true }
    }

    /// The stored name.
    pub const fn name(self) -> &'static str {
        self.name
    }

    /// Whether its state is sealed.
    pub const fn secret(self) -> bool {
        self.secret
    }
}

/// A row's version, for compare-and-swap writes: 1 at [`Store::create`](crate::Store::create), one more at each
/// write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub(crate) i64);

impl Version {
    /// The number (1, 2, ...).
    pub fn get(self) -> i64 {
        self.0
    }
}

/// An inbox entry's number: increasing in the order entries were stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Seq(pub(crate) i64);

impl Seq {
    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }
}
