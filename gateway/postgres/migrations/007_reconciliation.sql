-- Reconciliation: what period close settles and states, what platforms say
-- they paid, what the bank received, and how the two were matched.
--
-- Immutable tables (statements, their lines, settlement adjustments and
-- notices, remittance advice, bank imports and receipts, manual match
-- decisions) refuse UPDATE, DELETE and TRUNCATE. The results of the latest
-- matching run (allocations, suspense, outcomes, mismatches) are replaced
-- whole by each run, in one transaction.

CREATE FUNCTION reconciliation_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END $$;

-- A platform's number in RF references (rfref.Key.Platform): given on its
-- first statement, never reused. 2,176,782,335 is 36^6 - 1, the most the
-- reference's six-character field holds.
CREATE TABLE platform_numbers (
    platform_id text   NOT NULL,
    number      bigint GENERATED ALWAYS AS IDENTITY,
    CONSTRAINT platform_numbers_pkey PRIMARY KEY (platform_id),
    CONSTRAINT platform_numbers_number_key UNIQUE (number),
    CONSTRAINT platform_numbers_number_check CHECK (number BETWEEN 1 AND 2176782335),
    CONSTRAINT platform_numbers_platform_fkey FOREIGN KEY (platform_id) REFERENCES platforms (id)
);

-- A period whose close is complete: marked closed, settled, levied and
-- stated, all in the transaction that wrote this row. Closing it again
-- finds the row and changes nothing.
CREATE TABLE period_closes (
    scheme_id   text        NOT NULL,
    period      text        NOT NULL,
    closed_at   timestamptz NOT NULL,
    adjustments integer     NOT NULL,
    statements  integer     NOT NULL,
    CONSTRAINT period_closes_pkey PRIMARY KEY (scheme_id, period),
    CONSTRAINT period_closes_period_fkey FOREIGN KEY (scheme_id, period) REFERENCES scheme_periods (scheme_id, period)
);

-- Money a period close moves: adjustments from the plan engine's settlement
-- of each worker's period (refunds of provisional deductions, true-ups,
-- refunds of excess) and entity levies. They are rows of their own, not
-- ledger entries, so the ledger stays one entry per event; statements add
-- both up. booked_period is the period whose close made the row: the
-- period itself, or a later one when late events changed a closed period
-- (late). A levy belongs to the platform, not a worker: worker_id is
-- 'platform-levy'.
CREATE TABLE settlement_adjustments (
    id             bigint      GENERATED ALWAYS AS IDENTITY,
    platform_id    text        NOT NULL,
    scheme_id      text        NOT NULL,
    plan_id        text        NOT NULL,
    plan_version   integer     NOT NULL,
    worker_id      text        NOT NULL,
    period         text        NOT NULL,
    booked_period  text        NOT NULL,
    late           boolean     NOT NULL,
    kind           text        NOT NULL,
    currency       char(3)     NOT NULL,
    worker_minor   bigint      NOT NULL,
    platform_minor bigint      NOT NULL,
    detail         jsonb       NOT NULL DEFAULT '{}',
    created_at     timestamptz NOT NULL,
    CONSTRAINT settlement_adjustments_pkey PRIMARY KEY (id),
    CONSTRAINT settlement_adjustments_kind_check
        CHECK (kind IN ('refund_provisional', 'true_up', 'refund_excess', 'levy')),
    CONSTRAINT settlement_adjustments_levy_check CHECK ((kind = 'levy') = (worker_id = 'platform-levy')),
    CONSTRAINT settlement_adjustments_late_check CHECK (late = (booked_period <> period)),
    CONSTRAINT settlement_adjustments_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT settlement_adjustments_amount_check CHECK (worker_minor <> 0 OR platform_minor <> 0),
    CONSTRAINT settlement_adjustments_platform_fkey FOREIGN KEY (platform_id) REFERENCES platforms (id),
    CONSTRAINT settlement_adjustments_booked_fkey FOREIGN KEY (scheme_id, booked_period) REFERENCES scheme_periods (scheme_id, period)
);
CREATE INDEX settlement_adjustments_period_idx ON settlement_adjustments (scheme_id, period, platform_id);
CREATE INDEX settlement_adjustments_booked_idx ON settlement_adjustments (scheme_id, booked_period);
CREATE TRIGGER settlement_adjustments_immutable BEFORE UPDATE OR DELETE ON settlement_adjustments
    FOR EACH ROW EXECUTE FUNCTION reconciliation_immutable();
CREATE TRIGGER settlement_adjustments_no_truncate BEFORE TRUNCATE ON settlement_adjustments
    FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_immutable();

-- What a period close asks to tell a worker: a shortfall against the plan's
-- amount, or an excess to choose about. Notices move no money.
CREATE TABLE settlement_notices (
    id             bigint      GENERATED ALWAYS AS IDENTITY,
    platform_id    text        NOT NULL,
    scheme_id      text        NOT NULL,
    plan_id        text        NOT NULL,
    worker_id      text        NOT NULL,
    period         text        NOT NULL,
    booked_period  text        NOT NULL,
    kind           text        NOT NULL,
    currency       char(3)     NOT NULL,
    amount_minor   bigint      NOT NULL,
    expected_minor bigint      NOT NULL,
    withheld_minor bigint      NOT NULL,
    created_at     timestamptz NOT NULL,
    CONSTRAINT settlement_notices_pkey PRIMARY KEY (id),
    CONSTRAINT settlement_notices_kind_check CHECK (kind IN ('shortfall', 'excess')),
    CONSTRAINT settlement_notices_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT settlement_notices_booked_fkey FOREIGN KEY (scheme_id, booked_period) REFERENCES scheme_periods (scheme_id, period)
);
CREATE INDEX settlement_notices_period_idx ON settlement_notices (scheme_id, period, platform_id);
CREATE TRIGGER settlement_notices_immutable BEFORE UPDATE OR DELETE ON settlement_notices
    FOR EACH ROW EXECUTE FUNCTION reconciliation_immutable();

-- Statements: what a platform owes for one period under one scheme, never
-- edited once issued. id is the RF creditor reference (electronic format).
-- seq 0 is the original; later late adjustments give supplementary
-- statements 1, 2, … that supplement the original. scheme_code is the
-- scheme's short code in the reference.
CREATE TABLE statements (
    id             text        NOT NULL,
    platform_id    text        NOT NULL,
    scheme_id      text        NOT NULL,
    scheme_code    text        NOT NULL,
    period         text        NOT NULL,
    seq            integer     NOT NULL,
    kind           text        NOT NULL,
    supplements    text,
    reference      text        NOT NULL,
    currency       char(3)     NOT NULL,
    worker_minor   bigint      NOT NULL,
    platform_minor bigint      NOT NULL,
    total_minor    bigint      NOT NULL,
    due_date       date        NOT NULL,
    late_entries   integer     NOT NULL,
    lines          integer     NOT NULL,
    booked_period  text        NOT NULL,
    issued_at      timestamptz NOT NULL,
    CONSTRAINT statements_pkey PRIMARY KEY (id),
    CONSTRAINT statements_reference_key UNIQUE (reference),
    CONSTRAINT statements_seq_key UNIQUE (platform_id, scheme_id, period, seq),
    CONSTRAINT statements_kind_check CHECK (kind IN ('original', 'supplementary')),
    CONSTRAINT statements_seq_check CHECK (seq >= 0 AND (seq = 0) = (kind = 'original')),
    CONSTRAINT statements_supplements_check CHECK ((kind = 'original') = (supplements IS NULL)),
    CONSTRAINT statements_reference_check CHECK (reference ~ '^RF[0-9]{2}[A-Z0-9]{1,21}$'),
    CONSTRAINT statements_scheme_code_check CHECK (scheme_code ~ '^[A-Z][A-Z0-9]{0,3}$'),
    CONSTRAINT statements_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT statements_total_check CHECK (total_minor = worker_minor + platform_minor),
    CONSTRAINT statements_lines_check CHECK (lines >= 0 AND late_entries >= 0),
    CONSTRAINT statements_platform_fkey FOREIGN KEY (platform_id) REFERENCES platforms (id),
    CONSTRAINT statements_supplements_fkey FOREIGN KEY (supplements) REFERENCES statements (id),
    CONSTRAINT statements_booked_fkey FOREIGN KEY (scheme_id, booked_period) REFERENCES scheme_periods (scheme_id, period)
);
CREATE INDEX statements_period_idx ON statements (scheme_id, period, platform_id);
CREATE INDEX statements_issued_idx ON statements (issued_at, id);
CREATE TRIGGER statements_immutable BEFORE UPDATE OR DELETE ON statements
    FOR EACH ROW EXECUTE FUNCTION reconciliation_immutable();
CREATE TRIGGER statements_no_truncate BEFORE TRUNCATE ON statements
    FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_immutable();

-- One line per worker: on a supplementary statement, the difference.
CREATE TABLE statement_lines (
    statement_id   text    NOT NULL,
    worker_key     text    NOT NULL,
    worker_minor   bigint  NOT NULL,
    platform_minor bigint  NOT NULL,
    late           boolean NOT NULL,
    CONSTRAINT statement_lines_pkey PRIMARY KEY (statement_id, worker_key),
    CONSTRAINT statement_lines_statement_fkey FOREIGN KEY (statement_id) REFERENCES statements (id)
);
CREATE TRIGGER statement_lines_immutable BEFORE UPDATE OR DELETE ON statement_lines
    FOR EACH ROW EXECUTE FUNCTION reconciliation_immutable();
CREATE TRIGGER statement_lines_no_truncate BEFORE TRUNCATE ON statement_lines
    FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_immutable();

-- Remittance advice: a platform's declaration of a payment, per worker.
-- advice_ref is the platform's own id of the advice (for a CSV file, one
-- derived from the file's digest), so sending it again stores nothing;
-- request_hash tells a retry from another advice under the same id.
-- scheme_id and period name the period when the payment reference is not
-- a statement's.
CREATE TABLE remittance_advices (
    id                bigint      GENERATED ALWAYS AS IDENTITY,
    platform_id       text        NOT NULL,
    advice_ref        text        NOT NULL,
    payment_reference text        NOT NULL,
    currency          char(3)     NOT NULL,
    amount_minor      bigint      NOT NULL,
    value_date        date        NOT NULL,
    scheme_id         text        NOT NULL DEFAULT '',
    period            text        NOT NULL DEFAULT '',
    source            text        NOT NULL,
    lines             integer     NOT NULL,
    request_hash      bytea       NOT NULL,
    received_at       timestamptz NOT NULL,
    CONSTRAINT remittance_advices_pkey PRIMARY KEY (id),
    CONSTRAINT remittance_advices_ref_key UNIQUE (platform_id, advice_ref),
    CONSTRAINT remittance_advices_ref_check CHECK (char_length(advice_ref) BETWEEN 1 AND 200),
    CONSTRAINT remittance_advices_reference_check CHECK (char_length(payment_reference) BETWEEN 1 AND 140),
    CONSTRAINT remittance_advices_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT remittance_advices_amount_check CHECK (amount_minor >= 0),
    CONSTRAINT remittance_advices_period_check CHECK ((scheme_id = '') = (period = '')),
    CONSTRAINT remittance_advices_source_check CHECK (source IN ('api', 'csv')),
    CONSTRAINT remittance_advices_hash_check CHECK (octet_length(request_hash) = 32),
    CONSTRAINT remittance_advices_platform_fkey FOREIGN KEY (platform_id) REFERENCES platforms (id)
);
CREATE INDEX remittance_advices_reference_idx ON remittance_advices (payment_reference);
CREATE TRIGGER remittance_advices_immutable BEFORE UPDATE OR DELETE ON remittance_advices
    FOR EACH ROW EXECUTE FUNCTION reconciliation_immutable();

CREATE TABLE remittance_advice_lines (
    advice_id    bigint  NOT NULL,
    worker_key   text    NOT NULL,
    amount_minor bigint  NOT NULL,
    line         integer NOT NULL,
    CONSTRAINT remittance_advice_lines_pkey PRIMARY KEY (advice_id, worker_key),
    CONSTRAINT remittance_advice_lines_amount_check CHECK (amount_minor >= 0),
    CONSTRAINT remittance_advice_lines_advice_fkey FOREIGN KEY (advice_id) REFERENCES remittance_advices (id)
);
CREATE TRIGGER remittance_advice_lines_immutable BEFORE UPDATE OR DELETE ON remittance_advice_lines
    FOR EACH ROW EXECUTE FUNCTION reconciliation_immutable();

-- Bank files imported: one row per distinct file (its SHA-256), so the
-- same file imported again stores nothing.
CREATE TABLE bank_imports (
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    digest      bytea       NOT NULL,
    file_name   text        NOT NULL,
    format      text        NOT NULL,
    message_id  text        NOT NULL,
    statements  integer     NOT NULL,
    skipped     integer     NOT NULL,
    receipts    integer     NOT NULL,
    imported_by text        NOT NULL,
    imported_at timestamptz NOT NULL,
    CONSTRAINT bank_imports_pkey PRIMARY KEY (id),
    CONSTRAINT bank_imports_digest_key UNIQUE (digest),
    CONSTRAINT bank_imports_digest_check CHECK (octet_length(digest) = 32),
    CONSTRAINT bank_imports_format_check
        CHECK (format IN ('camt.053.001.02', 'camt.053.001.08', 'camt.054.001.02', 'camt.054.001.08', 'csv'))
);
CREATE TRIGGER bank_imports_immutable BEFORE UPDATE OR DELETE ON bank_imports
    FOR EACH ROW EXECUTE FUNCTION reconciliation_immutable();

-- One account statement (camt.053, CSV) or notification (camt.054) of a
-- file. The same statement in another file is skipped: (account, kind,
-- statement_ref) is unique. account is the IBAN or other identifier, upper
-- case without spaces. Balances are signed, NULL when the file has none.
CREATE TABLE bank_statements (
    id             bigint  GENERATED ALWAYS AS IDENTITY,
    import_id      bigint  NOT NULL,
    kind           text    NOT NULL,
    statement_ref  text    NOT NULL,
    account        text    NOT NULL,
    account_iban   text    NOT NULL,
    account_other  text    NOT NULL,
    currency       char(3) NOT NULL,
    opening_minor  bigint,
    opening_date   date,
    closing_minor  bigint,
    closing_date   date,
    credits_minor  bigint  NOT NULL,
    debits_minor   bigint  NOT NULL,
    line           integer NOT NULL,
    CONSTRAINT bank_statements_pkey PRIMARY KEY (id),
    CONSTRAINT bank_statements_ref_key UNIQUE (account, kind, statement_ref),
    CONSTRAINT bank_statements_kind_check CHECK (kind IN ('statement', 'notification')),
    CONSTRAINT bank_statements_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT bank_statements_opening_check CHECK ((opening_minor IS NULL) = (opening_date IS NULL)),
    CONSTRAINT bank_statements_closing_check CHECK ((closing_minor IS NULL) = (closing_date IS NULL)),
    CONSTRAINT bank_statements_balance_check CHECK (opening_minor IS NULL OR closing_minor IS NULL
                                                    OR opening_minor + credits_minor - debits_minor = closing_minor),
    CONSTRAINT bank_statements_import_fkey FOREIGN KEY (import_id) REFERENCES bank_imports (id)
);
CREATE TRIGGER bank_statements_immutable BEFORE UPDATE OR DELETE ON bank_statements
    FOR EACH ROW EXECUTE FUNCTION reconciliation_immutable();

-- Receipts: one per transaction of a bank statement (a batch entry gives
-- several), credits and debits alike; matching uses booked credits and
-- lets a reversal undo the credit it reverses. position is the order in
-- the statement.
CREATE TABLE receipts (
    id                bigint  GENERATED ALWAYS AS IDENTITY,
    bank_statement_id bigint  NOT NULL,
    position          integer NOT NULL,
    entry_ref         text    NOT NULL,
    bank_ref          text    NOT NULL,
    end_to_end_id     text    NOT NULL,
    direction         text    NOT NULL,
    currency          char(3) NOT NULL,
    amount_minor      bigint  NOT NULL,
    status            text    NOT NULL,
    reversal          boolean NOT NULL,
    booking_date      date,
    value_date        date,
    creditor_ref      text    NOT NULL,
    remittance        text    NOT NULL,
    debtor_name       text    NOT NULL,
    debtor_iban       text    NOT NULL,
    debtor_other      text    NOT NULL,
    line              integer NOT NULL,
    CONSTRAINT receipts_pkey PRIMARY KEY (id),
    CONSTRAINT receipts_position_key UNIQUE (bank_statement_id, position),
    CONSTRAINT receipts_direction_check CHECK (direction IN ('CRDT', 'DBIT')),
    CONSTRAINT receipts_status_check CHECK (status IN ('BOOK', 'PDNG', 'INFO', 'FUTR')),
    CONSTRAINT receipts_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
    CONSTRAINT receipts_amount_check CHECK (amount_minor >= 0),
    CONSTRAINT receipts_statement_fkey FOREIGN KEY (bank_statement_id) REFERENCES bank_statements (id)
);
CREATE TRIGGER receipts_immutable BEFORE UPDATE OR DELETE ON receipts
    FOR EACH ROW EXECUTE FUNCTION reconciliation_immutable();
CREATE TRIGGER receipts_no_truncate BEFORE TRUNCATE ON receipts
    FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_immutable();

-- Finance's manual decisions, the audit trail: who matched or unmatched
-- which receipt, to which statement, how much, when and why. A decision
-- is never edited; a later one undoes an earlier one.
CREATE TABLE match_decisions (
    id           bigint      GENERATED ALWAYS AS IDENTITY,
    kind         text        NOT NULL,
    receipt_id   bigint      NOT NULL,
    statement_id text,
    amount_minor bigint,
    currency     char(3),
    reason       text        NOT NULL,
    decided_by   text        NOT NULL,
    decided_at   timestamptz NOT NULL,
    CONSTRAINT match_decisions_pkey PRIMARY KEY (id),
    CONSTRAINT match_decisions_kind_check CHECK (kind IN ('match', 'unmatch')),
    CONSTRAINT match_decisions_statement_check CHECK (kind = 'unmatch' OR statement_id IS NOT NULL),
    CONSTRAINT match_decisions_amount_check CHECK ((amount_minor IS NULL) = (currency IS NULL)
                                                   AND (amount_minor IS NULL OR (kind = 'match' AND amount_minor > 0))),
    CONSTRAINT match_decisions_reason_check CHECK (char_length(btrim(reason)) BETWEEN 1 AND 1000),
    CONSTRAINT match_decisions_decided_by_check CHECK (char_length(decided_by) BETWEEN 1 AND 200),
    CONSTRAINT match_decisions_receipt_fkey FOREIGN KEY (receipt_id) REFERENCES receipts (id),
    CONSTRAINT match_decisions_statement_fkey FOREIGN KEY (statement_id) REFERENCES statements (id)
);
CREATE INDEX match_decisions_receipt_idx ON match_decisions (receipt_id);
CREATE TRIGGER match_decisions_immutable BEFORE UPDATE OR DELETE ON match_decisions
    FOR EACH ROW EXECUTE FUNCTION reconciliation_immutable();

-- Matching runs, newest last. digest is the SHA-256 of the run's result in
-- a canonical form: two runs over the same data and clock have the same.
CREATE TABLE reconciliation_runs (
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    trigger     text        NOT NULL,
    as_of       timestamptz NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    statements  integer     NOT NULL,
    advices     integer     NOT NULL,
    receipts    integer     NOT NULL,
    allocations integer     NOT NULL,
    suspense    integer     NOT NULL,
    mismatches  integer     NOT NULL,
    digest      bytea       NOT NULL,
    CONSTRAINT reconciliation_runs_pkey PRIMARY KEY (id),
    CONSTRAINT reconciliation_runs_trigger_check CHECK (trigger IN ('import', 'manual', 'decision', 'schedule', 'close')),
    CONSTRAINT reconciliation_runs_digest_check CHECK (octet_length(digest) = 32)
);

-- The latest run's result; each run replaces it whole. Its run, receipt,
-- statement and decision ids were written or read in the run's own
-- transaction, from immutable rows, so these tables carry no foreign keys:
-- a key would cost a lookup per row on every run.
CREATE TABLE match_allocations (
    run_id         bigint  NOT NULL,
    position       integer NOT NULL,
    receipt_id     bigint  NOT NULL,
    statement_id   text    NOT NULL,
    rule           text    NOT NULL,
    currency       char(3) NOT NULL,
    amount_minor   bigint  NOT NULL,
    overpayment    boolean NOT NULL,
    value_date     date,
    late           integer NOT NULL,
    interest_minor bigint  NOT NULL,
    CONSTRAINT match_allocations_pkey PRIMARY KEY (position),
    CONSTRAINT match_allocations_rule_check CHECK (rule IN ('manual', 'reference', 'end_to_end', 'account')),
    CONSTRAINT match_allocations_amount_check CHECK (amount_minor > 0 AND interest_minor >= 0 AND late >= 0)
);
CREATE INDEX match_allocations_receipt_idx ON match_allocations (receipt_id);
CREATE INDEX match_allocations_statement_idx ON match_allocations (statement_id);

-- Money received that pays no statement: unidentified, unmatched by
-- finance, what manual matches left, or undated.
CREATE TABLE suspense_items (
    run_id       bigint  NOT NULL,
    receipt_id   bigint  NOT NULL,
    currency     char(3) NOT NULL,
    amount_minor bigint  NOT NULL,
    reason       text    NOT NULL,
    CONSTRAINT suspense_items_pkey PRIMARY KEY (receipt_id),
    CONSTRAINT suspense_items_reason_check CHECK (reason IN ('unidentified', 'unmatched', 'manual_remainder', 'undated')),
    CONSTRAINT suspense_items_amount_check CHECK (amount_minor > 0)
);

-- Receipts that take no part in matching (debits, pending entries,
-- reversals without their original, …) and the reversals paired with the
-- credits they undo.
CREATE TABLE ignored_receipts (
    run_id     bigint NOT NULL,
    receipt_id bigint NOT NULL,
    reason     text   NOT NULL,
    CONSTRAINT ignored_receipts_pkey PRIMARY KEY (receipt_id)
);

CREATE TABLE receipt_reversals (
    run_id      bigint NOT NULL,
    reversal_id bigint NOT NULL,
    receipt_id  bigint NOT NULL,
    CONSTRAINT receipt_reversals_pkey PRIMARY KEY (reversal_id),
    CONSTRAINT receipt_reversals_receipt_key UNIQUE (receipt_id)
);

-- The outcome per platform, scheme and period. status is the payment
-- status; late, interest and accrued say what was or is late, mismatches
-- how many workers the advice and the statements disagree on.
CREATE TABLE reconciliation_outcomes (
    run_id          bigint  NOT NULL,
    platform_id     text    NOT NULL,
    scheme_id       text    NOT NULL,
    period          text    NOT NULL,
    currency        char(3) NOT NULL,
    status          text    NOT NULL,
    due_minor       bigint  NOT NULL,
    due_date        date    NOT NULL,
    paid_minor      bigint  NOT NULL,
    shortfall_minor bigint  NOT NULL,
    overpaid_minor  bigint  NOT NULL,
    late            boolean NOT NULL,
    interest_minor  bigint  NOT NULL,
    accrued_minor   bigint  NOT NULL,
    advised_minor   bigint  NOT NULL,
    mismatches      integer NOT NULL,
    statements      jsonb   NOT NULL,
    CONSTRAINT reconciliation_outcomes_pkey PRIMARY KEY (platform_id, scheme_id, period),
    CONSTRAINT reconciliation_outcomes_status_check CHECK (status IN ('paid', 'overpaid', 'open', 'underpaid', 'missing'))
);
CREATE INDEX reconciliation_outcomes_period_idx ON reconciliation_outcomes (period);

CREATE TABLE advice_mismatches (
    run_id        bigint   NOT NULL,
    platform_id   text     NOT NULL,
    scheme_id     text     NOT NULL,
    period        text     NOT NULL,
    position      integer  NOT NULL,
    kind          text     NOT NULL,
    statement_id  text     NOT NULL,
    worker_key    text     NOT NULL,
    currency      char(3)  NOT NULL,
    stated_minor  bigint   NOT NULL,
    advised_minor bigint   NOT NULL,
    advice_ids    bigint[] NOT NULL,
    CONSTRAINT advice_mismatches_pkey PRIMARY KEY (platform_id, scheme_id, period, position),
    CONSTRAINT advice_mismatches_kind_check CHECK (kind IN ('missing_worker', 'different_amount', 'unknown_worker'))
);

-- How each manual decision took effect in the latest run.
CREATE TABLE decision_results (
    run_id      bigint  NOT NULL,
    decision_id bigint  NOT NULL,
    applied     boolean NOT NULL,
    note        text    NOT NULL,
    CONSTRAINT decision_results_pkey PRIMARY KEY (decision_id)
);
