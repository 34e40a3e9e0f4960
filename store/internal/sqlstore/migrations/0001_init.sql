-- 0001: the first schema. Timestamps are Unix nanoseconds (exact); {{...}} are the types each
-- dialect spells its own way (sqlstore.Dialect). Keep a real column for what people search;
-- everything else of a record is JSON.

CREATE TABLE customers (
    business            {{text}} NOT NULL,
    external_id         {{text}} NOT NULL,
    customer_id         {{text}} NOT NULL,
    account_type        {{text}} NOT NULL,
    first_name          {{text}} NOT NULL,
    middle_name         {{text}} NOT NULL,
    last_name           {{text}} NOT NULL,
    company_name        {{text}} NOT NULL,
    trading_name        {{text}} NOT NULL,
    kyc_level           BIGINT,  -- NULL: the customer has no kyc_level
    kyc_level_requested BIGINT,  -- NULL: none requested
    disabled            BOOLEAN, -- NULL: never given
    risk_scan_disabled  BOOLEAN NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    data                {{json}} NOT NULL, -- the other fields, lists, custom fields, variations
    PRIMARY KEY (business, external_id)
);

CREATE TABLE relations (
    business             {{text}} NOT NULL,
    relation_external_id {{text}} NOT NULL,
    parent               {{text}} NOT NULL,
    child                {{text}} NOT NULL,
    relation_type        BIGINT NOT NULL,
    disabled             BOOLEAN NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    fields               {{json}}, -- NULL: no custom fields
    PRIMARY KEY (business, relation_external_id)
);
CREATE INDEX relations_parent ON relations (business, parent);
CREATE INDEX relations_child ON relations (business, child);

CREATE TABLE lockouts (
    username     {{text}} PRIMARY KEY,
    failures     BIGINT NOT NULL, -- failed attempts in a row
    locked_until BIGINT NOT NULL  -- 0: not locked
);

CREATE TABLE settings (
    name  {{text}} PRIMARY KEY,
    value {{bytes}} NOT NULL
);

CREATE TABLE outbox (
    id         {{serial}},
    business   {{text}} NOT NULL,
    payload    {{bytes}} NOT NULL, -- the webhook body, JSON
    created_at BIGINT NOT NULL
);
