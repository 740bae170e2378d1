// Package reconciliation is the side of Coverbridge that compares what a
// platform owed with what the insurer's bank received.
//
// Its subpackages are pure building blocks with no I/O of their own:
//
//   - rfref makes and checks ISO 11649 RF creditor references, the payment
//     reference printed on every statement;
//   - calendar computes due dates from a scheme's rule and a holiday
//     calendar, rolling weekends and holidays to the next working day;
//   - bankstatement reads ISO 20022 camt.053 and camt.054 files and CSV
//     exports into one receipt model, rejecting malformed files whole;
//   - interest computes late-payment interest and charges per scheme with
//     exact integer arithmetic;
//   - statement builds what a platform owes per scheme and period from the
//     ledger (original and supplementary statements, never edited once
//     issued) and reads the platforms' remittance advice;
//   - matching reconciles receipts with statements and advice: rules in
//     order, manual decisions, reversals, suspense, and an outcome per
//     platform, scheme and period (paid, underpaid, overpaid, late with
//     interest, missing, advice mismatch), the same on every rerun; money
//     beyond what a period owes is carried forward to the platform's other
//     open statements;
//   - gaps turns the matching results and the ledger into compliance gaps
//     (with severity and evidence) and runs their case workflow;
//   - notice renders the letter to a platform listing its gaps (PDF);
//   - report writes the finance reports (reconciliation, receivables aging,
//     suspense) as JSON, CSV and streamed XLSX;
//   - coverage decides whether a worker is covered on a date under a
//     scheme's rule (on withholding, or once payment is recognised) and
//     counts coverage for the insurer's statistics.
//
// books (the one package here with I/O) runs them against PostgreSQL:
// period close, statements, bank files, advice and matching.
package reconciliation
