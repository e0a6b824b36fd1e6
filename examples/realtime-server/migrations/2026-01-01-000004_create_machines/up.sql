CREATE TABLE machines (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    account_id VARCHAR(36) NOT NULL REFERENCES accounts (id),
    name VARCHAR(200) NOT NULL,
    created_at BIGINT NOT NULL,
    last_active_at BIGINT NOT NULL
);
CREATE INDEX machines_account_id ON machines (account_id);
