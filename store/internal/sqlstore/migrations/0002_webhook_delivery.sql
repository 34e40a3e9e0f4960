-- 0002: the delivery state of webhook events (issue 12). An event stays in the outbox once
-- delivered or failed, so that the inspection API lists it; PruneEvents deletes the delivered
-- ones after a while. Times are Unix nanoseconds, 0 for none.

ALTER TABLE outbox ADD COLUMN status {{text}} NOT NULL DEFAULT 'pending'; -- pending, delivered, failed
ALTER TABLE outbox ADD COLUMN attempts BIGINT NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error {{text}} NOT NULL DEFAULT '';    -- of the last failed attempt
ALTER TABLE outbox ADD COLUMN last_attempt_at BIGINT NOT NULL DEFAULT 0;  -- when the last attempt ended
ALTER TABLE outbox ADD COLUMN next_attempt_at BIGINT NOT NULL DEFAULT 0;  -- pending: not before then

-- The oldest pending event of each business (NextEvents), and a business's events by status.
CREATE INDEX outbox_pending ON outbox (business, id) WHERE status = 'pending';
CREATE INDEX outbox_business_status ON outbox (business, status, id);

-- Who delivers a business's events (one sender at a time, so that they arrive in order).
CREATE TABLE webhook_leases (
    business {{text}} PRIMARY KEY,
    holder   {{text}} NOT NULL,
    until    BIGINT NOT NULL
);
