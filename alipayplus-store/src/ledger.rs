//! Customs declaration ledgers (feature `operations`): one
//! [`DeclarationLedger`] per payment, written compare-and-swap.

use alipayplus_operations::customs::DeclarationLedger;
use alipayplus_types::Timestamp;

use crate::error::Error;
use crate::ids::Version;
use crate::records::StoredRecord;
use crate::store::Store;

const LEDGERS: &str = "declaration_ledger";
const WHAT: &str = "declaration ledger";

impl Store {
    /// The ledger of `payment_request_id`, if stored.
    ///
    /// # Errors
    /// [`Error::Deserialize`], [`Error::Database`].
    pub fn ledger(
        &self,
        payment_request_id: &str,
    ) -> Result<Option<StoredRecord<DeclarationLedger>>, Error> {
        self.get_record(LEDGERS, payment_request_id, WHAT)
    }

    /// Stores `ledger` under its `paymentRequestId`: new when `expected` is `None`, else
    /// replacing that version. Store it after each declare outcome, before the next declare
    /// of the payment (write-ahead rule 2).
    ///
    /// ```
    /// use alipayplus_operations::customs::DeclarationLedger;
    /// use alipayplus_store::{Error, Options, Store};
    /// use alipayplus_types::{Amount, Currency, Timestamp};
    ///
    /// let store = Store::open("sqlite::memory:", Options::default())?;
    /// let t = Timestamp::from_unix_secs(1_751_000_000);
    /// let ledger = DeclarationLedger::new("PAY-1", Amount::new(Currency::CNY, 10_000)).unwrap();
    /// let v1 = store.save_ledger(&ledger, None, t)?;
    /// let back = store.ledger("PAY-1")?.unwrap();
    /// assert_eq!((back.value, back.version), (ledger, v1));
    /// # Ok::<(), Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Exists`] / [`Error::Stale`] when the stored version is not `expected`;
    /// [`Error::Serialize`], [`Error::Database`].
    pub fn save_ledger(
        &self,
        ledger: &DeclarationLedger,
        expected: Option<Version>,
        now: Timestamp,
    ) -> Result<Version, Error> {
        self.put_record(
            LEDGERS,
            ledger.payment_request_id(),
            expected,
            ledger,
            false,
            WHAT,
            now,
        )
    }
}
