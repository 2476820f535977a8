DROP TABLE registry_state;
