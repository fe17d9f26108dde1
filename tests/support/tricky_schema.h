// A schema of values whose text form is tricky, for integration tests.
#pragma once

namespace vouch::testing {

// Values whose text form is tricky, identifiers that need quoting, a
// partitioned table, a generated column, an empty table.
inline constexpr char kTrickySchema[] = R"SQL(
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TYPE pair AS (a integer, b text);
CREATE DOMAIN positive AS numeric CHECK (VALUE > 0);
CREATE TABLE "Odd ""Table"" Näme" ("ID" integer PRIMARY KEY, "col with space" text, "ÜBER" text);
CREATE TABLE types (id integer PRIMARY KEY, f4 real, f8 double precision, num numeric, j jsonb, arr integer[],
  tarr text[], comp pair, dom positive, m mood, iv interval, t text, b bytea, ts timestamptz, d date, tm time,
  gen integer GENERATED ALWAYS AS (id * 2) STORED);
CREATE TABLE empty_one (id integer);
CREATE TABLE parted (id integer, region text, v text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');
CREATE TABLE parted_us PARTITION OF parted FOR VALUES IN ('us');
CREATE TABLE nokey (v text);
CREATE DOMAIN moment AS timestamptz;
CREATE TABLE events (id integer PRIMARY KEY, at moment, ats timestamptz[], during tstzrange,
  at3 timestamp(3) with time zone);
CREATE TABLE events_archive (note text) INHERITS (events);
INSERT INTO "Odd ""Table"" Näme" VALUES (1, 'a b', 'ü'), (2, NULL, '');
INSERT INTO types (id, f4, f8, num, j, arr, tarr, comp, dom, m, iv, t, b, ts, d, tm) VALUES
  (1, 'NaN', 'Infinity', 1.10, '{"b": 1, "a": [1, 2.50]}', '{1,2,3}', '{"a b","c\"d",NULL}', '(1,"x y")', 3.5,
   'happy', '1 year 2 mons 3 days 04:05:06.5', E'tab\there\nnewline\\backslash', '\xdeadbeef',
   '2025-09-15 08:22:15.123456+02', '2025-01-01', '12:34:56.789'),
  (2, '-0', '-Infinity', 1.1, '{}', '{}', '{}', '(,)', 0.001, 'sad', '-1 days', '', '\x', '-infinity', 'infinity', '00:00'),
  (3, 1.0e-30, 0.1, 123456789012345678901234567890.123456789, 'null', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
   '1999-12-31 23:59:59.999999-05', '0044-03-15 BC', NULL),
  (4, 3.4028235e38, 2.2250738585072014e-308, -0.0, '"日本"', '{{1,2},{3,4}}', '{é}', '(2,)', 1, 'ok', '0', 'é日本', '\x00ff', 'infinity', NULL, NULL);
INSERT INTO parted VALUES (1, 'eu', 'a'), (2, 'us', 'b'), (3, 'eu', 'c');
INSERT INTO nokey VALUES ('x'), ('x'), (NULL);
INSERT INTO events VALUES
  (1, '2025-09-15 08:22:15.5+00', '{"2025-01-01 00:00:00+00",NULL}', '[2025-01-01 00:00+00,2025-01-02 00:00+00)',
   '1800-01-01 00:00:00.123+00'),
  (2, '0044-03-15 12:00:00+00 BC', '{}', 'empty', 'infinity'),
  (3, '0001-01-01 01:00:00+00', '{"2025-11-02 05:30:00+00"}', '(,2025-03-30 01:30:00+00]', '2025-03-30 01:00:00+00');
INSERT INTO events_archive VALUES (4, '2025-11-02 05:30:00+00', NULL, NULL, NULL, 'x');
)SQL";

}  // namespace vouch::testing
