CREATE TABLE sessions (
    id VARCHAR(36) NOT NULL PRIMARY KEY,
    account_id VARCHAR(36) NOT NULL REFERENCES accounts (id),
    title VARCHAR(200) NOT NULL,
    created_at BIGINT NOT NULL,
    last_active_at BIGINT NOT NULL
);
CREATE INDEX sessions_account_id ON sessions (account_id);
