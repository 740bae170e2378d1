-- Credit carried forward: money a receipt identified for one period pays
-- beyond what that period owes goes to the platform's other open
-- statements of the scheme (match_allocations.carried, with the statement
-- it was identified for in credit_of); an outcome says how much came in
-- that way and how much went out to other periods.
ALTER TABLE match_allocations
    ADD COLUMN carried   boolean NOT NULL DEFAULT false,
    ADD COLUMN credit_of text    NOT NULL DEFAULT '',
    ADD CONSTRAINT match_allocations_carried_check CHECK (carried = (credit_of <> '') AND NOT (carried AND overpayment));

ALTER TABLE reconciliation_outcomes
    ADD COLUMN carried_in_minor  bigint NOT NULL DEFAULT 0,
    ADD COLUMN carried_out_minor bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT reconciliation_outcomes_carried_check CHECK (carried_in_minor >= 0 AND carried_out_minor >= 0);
