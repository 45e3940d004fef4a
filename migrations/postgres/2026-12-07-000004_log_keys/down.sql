DROP TABLE log_keys;
