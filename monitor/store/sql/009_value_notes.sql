-- Schema version 9: notes with values (monitor/store/notes.py).
--
-- Any value (region, indicator, month) can carry comments and a follow-up flag 跟踪核实. A note is
-- never edited in place: each comment, each raising and each clearing of the flag is a row of its
-- own, so the history of a value's notes is kept as it was written. The flag of a key is open when
-- its last row that says something about the flag raised it. Not part of the observations tables:
-- a note changes no value, and the writer of observations (monitor/store/writer.py) is not involved.
CREATE SEQUENCE value_notes_seq START 1;

CREATE TABLE value_notes (
    id           BIGINT    PRIMARY KEY DEFAULT nextval('value_notes_seq'),
    region_code  VARCHAR   NOT NULL,
    indicator_id VARCHAR   NOT NULL,   -- as stored, e.g. a flow's 1–N月累计 series is <indicator>@ytd
    month        VARCHAR   NOT NULL,
    text         VARCHAR,              -- the comment; NULL when a flag was raised or cleared without one
    flag         VARCHAR,              -- raised | cleared | NULL (a comment only)
    author       VARCHAR   NOT NULL,
    written_at   TIMESTAMP NOT NULL
);
CREATE INDEX value_notes_key ON value_notes (region_code, indicator_id, month);
