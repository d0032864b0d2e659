-- The reference for `cargo xtask bench-reconcile` (issue 24): the same reconciliation of one
-- clearing cycle as the `reconcile` example, written as a finance team would in DuckDB. Read
-- both CSVs, bucket the ledger into clearing cycles (00:00 UTC+8 cutoff), full outer join on
-- transactionRequestId, count matches and each kind of mismatch, check the report's summary
-- section. duckdb_reconcile.py sets the variables `report` and `ledger` to the two paths and
-- prints the one result row; both sides must report every row matched and no finding.
WITH report AS (
    -- The detail section: after the summary header, its value line and the blank line; the
    -- closing <END> line is padded with NULLs and dropped.
    SELECT transactionRequestId AS id,
           transactionType AS type,
           CAST(transactionAmountValue AS BIGINT) AS amount,
           transactionCurrency AS currency
    FROM read_csv(getvariable('report'), skip = 3, header = true, null_padding = true,
                  types = {'transactionId': 'VARCHAR'})
    WHERE transactionId IS DISTINCT FROM '<END>'
),
summary AS (
    SELECT CAST(totalCount AS BIGINT) AS total_count,
           CAST(netTotalAmount AS BIGINT) AS net_total,
           clearingBatchId AS batch
    FROM read_csv(getvariable('report'), header = true, null_padding = true, all_varchar = true)
    LIMIT 1
),
ledger AS (
    SELECT transactionRequestId AS id,
           transactionType AS type,
           CAST(transactionAmountValue AS BIGINT) AS amount,
           transactionCurrency AS currency,
           -- Days since 1970-01-01 in UTC+8: the clearing cycle.
           (CAST(epoch(CAST(transactionTime AS TIMESTAMPTZ)) AS BIGINT) + 28800) // 86400 AS cycle_day
    FROM read_csv(getvariable('ledger'), header = true)
),
cycle AS (
    SELECT CAST(epoch(strptime(batch, '%Y%m%d')) AS BIGINT) // 86400 AS day FROM summary
),
own AS (
    SELECT * FROM ledger WHERE cycle_day = (SELECT day FROM cycle)
),
joined AS (
    SELECT r.id AS rid, o.id AS oid, r.type AS rtype, o.type AS otype,
           r.currency AS rccy, o.currency AS occy, r.amount AS ramount,
           CASE o.type WHEN 'REFUND' THEN -o.amount ELSE o.amount END AS oamount
    FROM report r FULL OUTER JOIN own o ON r.id = o.id
)
SELECT
    count(*) FILTER (WHERE rid IS NOT NULL AND oid IS NOT NULL AND rccy = occy AND rtype = otype AND ramount = oamount) AS matched,
    count(*) FILTER (WHERE rid IS NULL) AS missing_in_report,
    count(*) FILTER (WHERE oid IS NULL) AS missing_in_ledger,
    count(*) FILTER (WHERE rid IS NOT NULL AND oid IS NOT NULL AND rccy <> occy) AS currency_mismatch,
    count(*) FILTER (WHERE rid IS NOT NULL AND oid IS NOT NULL AND rccy = occy AND rtype <> otype) AS type_mismatch,
    count(*) FILTER (WHERE rid IS NOT NULL AND oid IS NOT NULL AND rccy = occy AND rtype = otype AND ramount <> oamount) AS amount_mismatch,
    (SELECT count(*) - count(DISTINCT id) FROM report) AS duplicate_in_report,
    (SELECT CAST(s.total_count <> (SELECT count(*) FROM report)
                 OR s.net_total <> (SELECT sum(amount) FROM report) AS INTEGER) FROM summary s) AS summary_mismatch,
    (SELECT count(*) FROM ledger) - (SELECT count(*) FROM own) AS uncompared_own
FROM joined;
