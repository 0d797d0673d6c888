--
-- Savepoints on Lance foreign tables: ROLLBACK TO SAVEPOINT takes back
-- exactly the changes made since (rows buffered or already in files,
-- updates, deletes), RELEASE keeps them, and the commit makes one version
-- of what is left.  PL/pgSQL EXCEPTION blocks and psql's ON_ERROR_ROLLBACK
-- use the same subtransactions.
--
\getenv scratch LANCEDB_SCRATCH
\! rm -rf "$LANCEDB_SCRATCH/savepoint"; mkdir -p "$LANCEDB_SCRATCH/savepoint"; chmod 777 "$LANCEDB_SCRATCH/savepoint"
SELECT :'scratch' || '/savepoint' AS sp_root \gset
CREATE SERVER sps FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri :'sp_root');
-- four rows per data file, so a savepoint's rows cross file boundaries
CREATE FOREIGN TABLE sp (id bigint NOT NULL, name text, n int) SERVER sps
	OPTIONS (max_rows_per_file '4');
SELECT lance_create_table('sp', '2.2');
INSERT INTO sp VALUES (1, 'one', 1), (2, 'two', 2), (3, 'three', 3);
CREATE VIEW sp_versions AS
	SELECT count(*) AS versions, max(version) AS newest FROM lance_versions('sp');
SELECT * FROM sp_versions;

--
-- Insert, update and delete after a savepoint, read inside it, rolled back
--
BEGIN;
INSERT INTO sp VALUES (10, 'ten', 10), (11, 'eleven', 11);
SAVEPOINT a;
INSERT INTO sp VALUES (20, 'twenty', 20);
-- 10 is a row of this transaction, 1 a committed one
UPDATE sp SET n = n + 100 WHERE id IN (1, 10);
DELETE FROM sp WHERE id IN (2, 11);
SELECT * FROM sp ORDER BY id;
ROLLBACK TO SAVEPOINT a;
SELECT * FROM sp ORDER BY id;
-- the rolled-back rows stay gone when the transaction writes on
UPDATE sp SET n = -n WHERE id = 11;
SELECT * FROM sp ORDER BY id;
COMMIT;
SELECT * FROM sp ORDER BY id;
SELECT * FROM sp_versions;

--
-- Nested savepoints: an inner rollback keeps the outer savepoint's
-- changes; a released savepoint's changes go with its parent
--
BEGIN;
SAVEPOINT a;
INSERT INTO sp VALUES (30, 'thirty', 30);
SAVEPOINT b;
INSERT INTO sp VALUES (31, 'inner', 31);
DELETE FROM sp WHERE id = 10;
ROLLBACK TO SAVEPOINT b;
INSERT INTO sp VALUES (32, 'after inner', 32);
SAVEPOINT c;
DELETE FROM sp WHERE id = 30;
RELEASE SAVEPOINT c;
RELEASE SAVEPOINT a;
SAVEPOINT d;
DELETE FROM sp WHERE id = 3;
ROLLBACK TO SAVEPOINT d;
COMMIT;
SELECT id, name FROM sp ORDER BY id;
SELECT * FROM sp_versions;
-- rolling back an outer savepoint takes back what released inner ones did
BEGIN;
SAVEPOINT a;
SAVEPOINT b;
INSERT INTO sp VALUES (33, 'released inner', 33);
RELEASE SAVEPOINT b;
DELETE FROM sp WHERE id = 32;
ROLLBACK TO SAVEPOINT a;
SELECT count(*) AS rows_after_outer_rollback FROM sp;
COMMIT;
-- nothing was left to commit: no new version
SELECT * FROM sp_versions;

--
-- Rows buffered before the savepoint share a data file with rows after it:
-- the file stays, its later rows are deleted
--
BEGIN;
INSERT INTO sp SELECT g, 'kept ' || g, g FROM generate_series(40, 42) g;
SAVEPOINT s;
INSERT INTO sp SELECT g, 'taken back ' || g, g FROM generate_series(43, 52) g;
SELECT count(*) FILTER (WHERE id >= 40) AS rows_inside FROM sp;
ROLLBACK TO SAVEPOINT s;
SELECT id, name FROM sp WHERE id >= 40 ORDER BY id;
INSERT INTO sp VALUES (53, 'after rollback', 53);
COMMIT;
SELECT id, name FROM sp WHERE id >= 40 ORDER BY id;

--
-- PL/pgSQL EXCEPTION blocks
--
DO $$
BEGIN
	INSERT INTO sp VALUES (70, 'before the block', 70);
	BEGIN
		INSERT INTO sp VALUES (71, 'taken back', 71);
		DELETE FROM sp WHERE id = 70;
		INSERT INTO sp VALUES (NULL, 'not nullable', 0);
	EXCEPTION WHEN not_null_violation THEN
		RAISE NOTICE 'caught %: % rows 70..79 left', SQLSTATE,
			(SELECT count(*) FROM sp WHERE id BETWEEN 70 AND 79);
	END;
	INSERT INTO sp VALUES (72, 'after the block', 72);
END
$$;
SELECT id, name FROM sp WHERE id BETWEEN 70 AND 79 ORDER BY id;
-- a loop whose every other iteration fails after writing
DO $$
BEGIN
	FOR i IN 1..6 LOOP
		BEGIN
			INSERT INTO sp VALUES (80 + i, 'iteration ' || i, i);
			IF i % 2 = 0 THEN
				RAISE EXCEPTION 'iteration % fails', i;
			END IF;
		EXCEPTION WHEN raise_exception THEN
			NULL;
		END;
	END LOOP;
	RAISE NOTICE 'rows 81..86 in the transaction: %',
		(SELECT array_agg(id ORDER BY id) FROM sp WHERE id BETWEEN 81 AND 86);
END
$$;
SELECT id FROM sp WHERE id BETWEEN 81 AND 86 ORDER BY id;

--
-- psql's ON_ERROR_ROLLBACK: a failed statement is taken back, the
-- transaction goes on
--
\set ON_ERROR_ROLLBACK on
\set VERBOSITY terse
BEGIN;
INSERT INTO sp VALUES (90, 'first', 90);
INSERT INTO sp VALUES (91, 'second', 91), (NULL, 'fails', 0);
INSERT INTO sp VALUES (92, 'third', 92);
COMMIT;
\set VERBOSITY default
\unset ON_ERROR_ROLLBACK
SELECT id, name FROM sp WHERE id >= 90 ORDER BY id;

SELECT count(*), sum(id) FROM sp;
SELECT * FROM sp_versions;

DROP VIEW sp_versions;
DROP SERVER sps CASCADE;
\! rm -rf "$LANCEDB_SCRATCH/savepoint"
