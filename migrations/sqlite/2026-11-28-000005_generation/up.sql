-- One counter that every committed write moves (src/db/mod.rs, write_transaction). A cached
-- representation remembers the counter it was built at and is used only while it has not moved,
-- so every process against this database sees every other process's writes.
CREATE TABLE registry_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    generation BIGINT NOT NULL
);
INSERT INTO registry_state (id, generation) VALUES (1, 0);
