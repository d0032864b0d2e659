//! Settlement reports: the four files of a clearing cycle (reconcile.md §2), written from the
//! simulator's own books into a directory, on request (`POST /sim/reports`,
//! [`crate::Simulator::write_reports`]).
//!
//! What goes in: payments that succeeded (a cancelled-and-reversed payment is absent, as a
//! failed one) dated by `paymentTime`, and refunds that succeeded dated by `refundTime`, each
//! in its clearing cycle 00:00:00–23:59:59 UTC+8; one set of files per cycle and currency. By
//! default every cycle with a settled transaction is written, so a run that crosses midnight
//! UTC+8 gets both days; `date` asks for one cycle (written even when empty: zero count, no rows).
//!
//! Layout (the spec's columns are UNCERTAIN, reconcile.md §6; these follow its sample): a
//! summary header + value line, a blank line, a detail header and rows, `<END>`. Amounts are
//! integer minor units, refunds negative. Fees: `feeRateBps` basis points of each payment,
//! rounded down, one `SERVICE` row per payment, written as positive amounts the ACQP owes
//! (whether refunds return fees and the sign Alipay+ uses are UNCERTAIN; refunds carry none
//! here). The Settlement Report (one per cycle and currency, batch `S<next day>001`, value date
//! the next day) settles net transactions less fees.
//!
//! Planted discrepancies, to exercise a reconciler: `drop` leaves rows out of the Transaction
//! Detail Report, `changeAmount` alters a row's amount; the detail file's summary and the
//! Transaction Summary Report are computed from the rows as written (as Alipay+'s own files
//! would agree with each other), so only a comparison with the merchant's records finds them.
//! Fees and the Settlement Report keep the true figures. The simulator shares no code with
//! the client crates: this module writes CSV by hand.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use alipayplus_types::{Amount, Currency, DateTime};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::payment::Phase;
use crate::state::{Shared, lock};

/// Default fee rate: 0.60 %.
pub const DEFAULT_FEE_RATE_BPS: u32 = 60;

const UTC8: i64 = 8 * 3600;
const DAY: i64 = 86_400;

/// What to write (the body of `POST /sim/reports`).
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct ReportRequest {
    /// Directory to write into (created if missing).
    pub dir: PathBuf,
    /// One clearing cycle, `yyyy-mm-dd` or `yyyyMMdd` (UTC+8); none: every cycle with a
    /// settled transaction.
    pub date: Option<String>,
    /// participantId in file names (default: the simulator's acquirerId).
    pub participant_id: Option<String>,
    /// Fee in basis points of each payment (default [`DEFAULT_FEE_RATE_BPS`]).
    pub fee_rate_bps: Option<u32>,
    /// transactionRequestIds to leave out of the Transaction Detail Report.
    pub drop: Vec<String>,
    /// Amounts to write instead of the true ones.
    pub change_amount: Vec<ChangeAmount>,
    /// Write into the SFTP folder layout under `dir` (reconcile.md §3), as Alipay+ does under
    /// its root (`/v1/settlements`): the clearing reports of a cycle into
    /// `clearing/<participantId>/<yyyyMMdd>` and its Settlement Report into
    /// `settlement/<participantId>/<yyyyMMdd>`, both dated T+1 (the generation date: clearing
    /// reports at 08:00 UTC+8 on T+1, and this simulator settles on T+1). Default: flat in `dir`.
    pub sftp_layout: bool,
}

/// A planted amount change.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeAmount {
    /// The transactionRequestId.
    pub transaction_request_id: String,
    /// Minor units to write (signed as the report writes it: negative for a refund).
    pub value: i64,
}

/// What was written.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportsWritten {
    /// The cycles written (`yyyy-mm-dd`).
    pub cycles: Vec<String>,
    /// The file names written, in the directory (paths under it with `sftpLayout`).
    pub files: Vec<String>,
    /// Rows in the Transaction Detail Reports (after planted changes).
    pub rows: usize,
    /// The participantId in the file names (and SFTP folders).
    pub participant_id: String,
    /// With `sftpLayout`: the generation dates (`yyyyMMdd`) of the folders written.
    pub dates: Vec<String>,
}

/// One settled transaction.
struct Item {
    transaction_id: String,
    request_id: String,
    original_request_id: String,
    refund: bool,
    time: i64,
    amount: Amount,
}

impl Item {
    fn signed(&self) -> i64 {
        let v = i64::try_from(self.amount.minor()).unwrap_or(i64::MAX);
        if self.refund { -v } else { v }
    }
}

fn day_of(unix: i64) -> i64 {
    (unix + UTC8).div_euclid(DAY)
}

/// `yyyy-mm-dd` of a UTC+8 day number.
fn date_text(day: i64) -> String {
    DateTime::from_unix(day * DAY - UTC8, 480)
        .map(|t| t.as_str()[..10].to_owned())
        .unwrap_or_default()
}

fn parse_day(text: &str) -> Result<i64, Error> {
    let digits: String = text.chars().filter(|c| *c != '-').collect();
    let bad = || Error::BadControlRequest(format!("date {text:?} is not yyyy-mm-dd"));
    if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let iso = format!(
        "{}-{}-{}T00:00:00+08:00",
        &digits[..4],
        &digits[4..6],
        &digits[6..]
    );
    DateTime::parse(&iso)
        .map(|t| day_of(t.unix_seconds()))
        .map_err(|_| bad())
}

/// A CSV field, quoted when it holds a delimiter, quote or line break.
fn field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

fn line(fields: &[&str]) -> String {
    let mut s = fields
        .iter()
        .map(|f| field(f))
        .collect::<Vec<_>>()
        .join(",");
    s.push('\n');
    s
}

/// The settled transactions in the books.
fn settled(shared: &Shared) -> Vec<Item> {
    let store = lock(&shared.store);
    let mut items = Vec::new();
    for p in store.payments.values() {
        if let (Phase::Succeeded, Some(paid)) = (&p.phase, p.paid_at) {
            items.push(Item {
                transaction_id: p.payment_id.clone(),
                request_id: p.payment_request_id.clone(),
                original_request_id: String::new(),
                refund: false,
                time: paid,
                amount: p.amount(),
            });
        }
    }
    for (id, r) in &store.refunds {
        let ok = r.response.result.result_status.is_success();
        if let (true, Some(time)) = (ok, r.response.refund_time.as_ref()) {
            items.push(Item {
                transaction_id: r.response.refund_id.clone().unwrap_or_default(),
                request_id: id.clone(),
                original_request_id: r.payment_request_id.clone(),
                refund: true,
                time: time.unix_seconds(),
                amount: r.amount,
            });
        }
    }
    items.sort_by(|a, b| (a.time, &a.request_id).cmp(&(b.time, &b.request_id)));
    items
}

/// Writes the reports `request` asks for.
pub(crate) fn write(shared: &Shared, request: &ReportRequest) -> Result<ReportsWritten, Error> {
    let items = settled(shared);
    let mut cycles: BTreeMap<(i64, Currency), Vec<&Item>> = BTreeMap::new();
    let only = request.date.as_deref().map(parse_day).transpose()?;
    for item in &items {
        let day = day_of(item.time);
        if only.is_none_or(|d| d == day) {
            cycles
                .entry((day, item.amount.currency))
                .or_default()
                .push(item);
        }
    }
    if let (Some(day), true) = (only, cycles.is_empty()) {
        // An empty cycle still gets its files; the simulator's currency is that of its books.
        let currency = items.first().map_or(Currency::USD, |i| i.amount.currency);
        cycles.insert((day, currency), Vec::new());
    }
    let io = |e: std::io::Error| {
        Error::BadControlRequest(format!(
            "cannot write reports into {}: {e}",
            request.dir.display()
        ))
    };
    std::fs::create_dir_all(&request.dir).map_err(io)?;
    let mut out = ReportsWritten {
        participant_id: request
            .participant_id
            .clone()
            .unwrap_or_else(|| shared.acquirer_id.clone()),
        ..ReportsWritten::default()
    };
    for ((day, currency), items) in cycles {
        let files = cycle_files(shared, request, day, currency, &items);
        let generated = date_text(day + 1).replace('-', "");
        for (name, text) in files.files {
            let folder = if request.sftp_layout {
                let kind = if name.starts_with("settlement_") {
                    "settlement"
                } else {
                    "clearing"
                };
                format!("{kind}/{}/{generated}/", out.participant_id)
            } else {
                String::new()
            };
            std::fs::create_dir_all(request.dir.join(&folder)).map_err(io)?;
            std::fs::write(request.dir.join(&folder).join(&name), text).map_err(io)?;
            out.files.push(format!("{folder}{name}"));
        }
        if request.sftp_layout && !out.dates.contains(&generated) {
            out.dates.push(generated);
        }
        out.rows += files.rows;
        let date = date_text(day);
        if !out.cycles.contains(&date) {
            out.cycles.push(date);
        }
    }
    Ok(out)
}

struct CycleFiles {
    files: Vec<(String, String)>,
    rows: usize,
}

fn cycle_files(
    shared: &Shared,
    request: &ReportRequest,
    day: i64,
    currency: Currency,
    items: &[&Item],
) -> CycleFiles {
    let participant = request
        .participant_id
        .clone()
        .unwrap_or_else(|| shared.acquirer_id.clone());
    let batch = date_text(day).replace('-', "");
    let settle_batch = format!("S{}001", date_text(day + 1).replace('-', ""));
    let ccy = currency.as_str();
    let name = |kind: &str, batch: &str| {
        format!("{kind}_{participant}_{ccy}_{batch}_{participant}{ccy}_000.csv")
    };
    let rate = i64::from(request.fee_rate_bps.unwrap_or(DEFAULT_FEE_RATE_BPS));

    // Transaction Detail Report, with the planted changes.
    let mut rows = String::new();
    let (mut count, mut net) = (0usize, 0i64);
    let mut written: Vec<(bool, i64)> = Vec::new();
    for item in items
        .iter()
        .filter(|i| !request.drop.contains(&i.request_id))
    {
        let value = request
            .change_amount
            .iter()
            .find(|c| c.transaction_request_id == item.request_id)
            .map_or(item.signed(), |c| c.value);
        let time = DateTime::from_unix(item.time, 480)
            .map(|t| t.as_str().to_owned())
            .unwrap_or_default();
        let v = value.to_string();
        let kind = if item.refund { "REFUND" } else { "PAYMENT" };
        rows += &line(&[
            &item.transaction_id,
            &item.request_id,
            &item.original_request_id,
            kind,
            &time,
            &v,
            ccy,
            &v,
            ccy,
            &shared.psp_id,
        ]);
        count += 1;
        net += value;
        written.push((item.refund, value));
    }
    let mut details = line(&[
        "totalCount",
        "netTotalAmount",
        "settlementCurrency",
        "clearingBatchId",
    ]);
    details += &line(&[&count.to_string(), &net.to_string(), ccy, &batch]);
    details += "\n";
    details += &line(&[
        "transactionId",
        "transactionRequestId",
        "originalTransactionRequestId",
        "transactionType",
        "transactionTime",
        "transactionAmountValue",
        "transactionCurrency",
        "settlementAmountValue",
        "settlementCurrency",
        "pspId",
    ]);
    details += &rows;
    details += "<END>\n";

    // Fee Report: SERVICE fee on each payment (true amounts: fees are Alipay+'s own figures).
    let mut fees = String::new();
    let (mut fee_count, mut fee_total) = (0usize, 0i64);
    for item in items.iter().filter(|i| !i.refund) {
        let fee = item.signed().saturating_mul(rate) / 10_000;
        let _ = write!(
            fees,
            "{}",
            line(&[
                &item.transaction_id,
                &item.request_id,
                "SERVICE",
                &fee.to_string(),
                ccy
            ])
        );
        fee_count += 1;
        fee_total += fee;
    }
    let mut fee_file = line(&[
        "totalCount",
        "totalFeeAmount",
        "settlementCurrency",
        "clearingBatchId",
    ]);
    fee_file += &line(&[&fee_count.to_string(), &fee_total.to_string(), ccy, &batch]);
    fee_file += "\n";
    fee_file += &line(&[
        "transactionId",
        "transactionRequestId",
        "feeType",
        "feeAmountValue",
        "feeCurrency",
    ]);
    fee_file += &fees;
    fee_file += "<END>\n";

    // Transaction Summary Report: the figures of the detail rows as written, one row per type.
    let by_type = |refund: bool| {
        let rows = written.iter().filter(|(r, _)| *r == refund);
        (rows.clone().count(), rows.map(|(_, v)| v).sum::<i64>())
    };
    let mut summary = line(&[
        "totalCount",
        "netTotalAmount",
        "settlementCurrency",
        "clearingBatchId",
    ]);
    summary += &line(&[&count.to_string(), &net.to_string(), ccy, &batch]);
    summary += "\n";
    summary += &line(&["transactionType", "count", "amountValue", "currency"]);
    for (kind, refund) in [("PAYMENT", false), ("REFUND", true)] {
        let (n, sum) = by_type(refund);
        summary += &line(&[kind, &n.to_string(), &sum.to_string(), ccy]);
    }
    summary += "<END>\n";

    // Settlement Report: this cycle's clearing batch (true figures), net less fees.
    let true_net: i64 = items.iter().map(|i| i.signed()).sum();
    let settle = true_net - fee_total;
    let value_date = date_text(day + 1);
    let mut settlement = line(&[
        "settlementBatchId",
        "settlementAmountValue",
        "settlementCurrency",
        "valueDate",
        "participantAgreementId",
    ]);
    settlement += &line(&[
        &settle_batch,
        &settle.to_string(),
        ccy,
        &value_date,
        &format!("{participant}{ccy}"),
    ]);
    settlement += "\n";
    settlement += &line(&[
        "clearingBatchId",
        "transactionAmountValue",
        "feeAmountValue",
        "settlementAmountValue",
        "settlementCurrency",
    ]);
    settlement += &line(&[
        &batch,
        &true_net.to_string(),
        &fee_total.to_string(),
        &settle.to_string(),
        ccy,
    ]);
    settlement += "<END>\n";

    CycleFiles {
        files: vec![
            (name("transactionItems", &batch), details),
            (name("feeItems", &batch), fee_file),
            (name("summary", &batch), summary),
            (name("settlement", &settle_batch), settlement),
        ],
        rows: count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimConfig;
    use crate::payment::Payment;
    use crate::state::RefundRecord;
    use alipayplus_types::{
        Merchant, Order, PayRequest, PaymentFactor, PaymentMethod, RefundResponse,
    };

    fn at(text: &str) -> i64 {
        DateTime::parse(text).unwrap().unix_seconds()
    }

    fn shared() -> Shared {
        Shared::new(SimConfig::bundled().unwrap(), "http://127.0.0.1:1".into())
    }

    fn pay(shared: &Shared, id: &str, minor: u64, paid: Option<&str>, phase: Phase) {
        let amount = Amount::new(Currency::SGD, minor);
        let order = Order::new("o".into(), "d".into(), amount, Merchant::new("m".into()));
        let request = PayRequest::new(
            id.into(),
            order,
            amount,
            PaymentMethod::new("SIMWALLET".into()),
            PaymentFactor::new(),
        );
        let payment = Payment {
            payment_request_id: id.into(),
            payment_id: format!("SIM{id}"),
            request,
            phase,
            created_at: paid.map_or(0, at),
            expires_at: None,
            paid_at: paid.map(at),
            refunded: 0,
            refunds: Vec::new(),
            notify_url: None,
            redirect_url: None,
            notified: false,
        };
        lock(&shared.store).payments.insert(id.into(), payment);
    }

    fn refund(shared: &Shared, id: &str, of: &str, minor: u64, time: &str, status: &str) {
        let response: RefundResponse = serde_json::from_value(serde_json::json!({
            "result": {"resultCode": "SUCCESS", "resultStatus": status, "resultMessage": "m"},
            "refundId": format!("SIM{id}"),
            "refundTime": time,
        }))
        .unwrap();
        let record = RefundRecord {
            payment_request_id: of.into(),
            amount: Amount::new(Currency::SGD, minor),
            response,
        };
        lock(&shared.store).refunds.insert(id.into(), record);
    }

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("sim-reports-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn every_cycle_touched_is_written_with_settled_items_only() {
        let s = shared();
        pay(
            &s,
            "P1",
            1500,
            Some("2025-06-01T23:59:59+08:00"),
            Phase::Succeeded,
        );
        pay(
            &s,
            "P2",
            700,
            Some("2025-06-01T16:00:00Z"),
            Phase::Succeeded,
        ); // 06-02 00:00 UTC+8
        pay(&s, "P3", 900, None, Phase::Failed { code: "X".into() });
        pay(
            &s,
            "P4",
            900,
            Some("2025-06-01T10:00:00+08:00"),
            Phase::Cancelled { reversed: true },
        );
        refund(&s, "R1", "P1", 300, "2025-06-02T09:00:00+08:00", "S");
        refund(&s, "R2", "P1", 5000, "2025-06-02T09:00:00+08:00", "F");
        let d = dir("all");
        let request = ReportRequest {
            dir: d.clone(),
            fee_rate_bps: Some(100),
            ..Default::default()
        };
        let out = write(&s, &request).unwrap();
        assert_eq!(out.cycles, ["2025-06-01", "2025-06-02"]);
        assert_eq!(out.files.len(), 8);
        assert_eq!(out.rows, 3);
        let day2 = std::fs::read_to_string(
            d.join("transactionItems_SIMACQUIRER0001_SGD_20250602_SIMACQUIRER0001SGD_000.csv"),
        )
        .unwrap();
        assert!(day2.starts_with("totalCount,netTotalAmount,settlementCurrency,clearingBatchId\n2,400,SGD,20250602\n\n"), "{day2}");
        assert!(
            day2.contains(",P2,,PAYMENT,2025-06-02T00:00:00+08:00,700,SGD,700,SGD,"),
            "{day2}"
        );
        assert!(
            day2.contains(",R1,P1,REFUND,2025-06-02T09:00:00+08:00,-300,SGD,-300,SGD,"),
            "{day2}"
        );
        assert!(day2.ends_with("<END>\n"));
        let fees = std::fs::read_to_string(
            d.join("feeItems_SIMACQUIRER0001_SGD_20250602_SIMACQUIRER0001SGD_000.csv"),
        )
        .unwrap();
        assert!(fees.contains("\n1,7,SGD,20250602\n"), "{fees}");
        let settlement = std::fs::read_to_string(
            d.join("settlement_SIMACQUIRER0001_SGD_S20250603001_SIMACQUIRER0001SGD_000.csv"),
        )
        .unwrap();
        assert!(
            settlement.contains("\nS20250603001,393,SGD,2025-06-03,"),
            "{settlement}"
        );
        let _ = std::fs::remove_dir_all(d);
    }

    #[test]
    fn planted_discrepancies_and_empty_cycles() {
        let s = shared();
        pay(
            &s,
            "P1",
            1500,
            Some("2025-06-01T10:00:00+08:00"),
            Phase::Succeeded,
        );
        pay(
            &s,
            "P2",
            700,
            Some("2025-06-01T11:00:00+08:00"),
            Phase::Succeeded,
        );
        let d = dir("plant");
        let request = ReportRequest {
            dir: d.clone(),
            date: Some("2025-06-01".into()),
            participant_id: Some("P_1".into()),
            drop: vec!["P2".into()],
            change_amount: vec![ChangeAmount {
                transaction_request_id: "P1".into(),
                value: 1400,
            }],
            ..Default::default()
        };
        let out = write(&s, &request).unwrap();
        assert_eq!(out.rows, 1);
        let text =
            std::fs::read_to_string(d.join("transactionItems_P_1_SGD_20250601_P_1SGD_000.csv"))
                .unwrap();
        assert!(text.contains("\n1,1400,SGD,20250601\n"), "{text}");
        assert!(!text.contains(",P2,"));
        // A day without transactions: files with zero count and no rows.
        let empty = ReportRequest {
            dir: d.clone(),
            date: Some("20250605".into()),
            ..Default::default()
        };
        let out = write(&s, &empty).unwrap();
        assert_eq!(
            (out.cycles.as_slice(), out.rows),
            (["2025-06-05".to_string()].as_slice(), 0)
        );
        let bad = ReportRequest {
            dir: d.clone(),
            date: Some("June".into()),
            ..Default::default()
        };
        assert!(matches!(write(&s, &bad), Err(Error::BadControlRequest(_))));
        let _ = std::fs::remove_dir_all(d);
        assert_eq!(field("a,\"b\""), "\"a,\"\"b\"\"\"");
    }
}
