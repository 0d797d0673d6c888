-- vector_in sizes its result by the typmod a column or a cast gives it
-- and grows it for a longer literal: the literal is still parsed to its
-- end, so a syntax error anywhere is reported before the dimension check.
SELECT '[1,2,3,4,5,6,7,8,9,10]'::vector(2);
SELECT '[1,2,3,4,5,6,7,8,9,x]'::vector(2);
SELECT '[1,2,3,4,5,6,7,8,9,10'::vector(2);
SELECT '[1,2]'::vector(5);
SELECT '[ 1 , 2 ]'::vector(2);

-- the same through a column's typmod, on INSERT and COPY
CREATE TABLE vector_in_typmod_t (v vector(2));
INSERT INTO vector_in_typmod_t VALUES ('[1,2,3,4,5,6,7,8,9,10]');
INSERT INTO vector_in_typmod_t VALUES ('[1,2,3,4,5,6,7,8,9,10,]');
COPY vector_in_typmod_t FROM stdin;
[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]
\.
COPY vector_in_typmod_t FROM stdin;
[0.5,-0.25]
[3e-3, 1.5e2]
\.
SELECT v FROM vector_in_typmod_t;
DROP TABLE vector_in_typmod_t;

-- a typmod of the largest dimension still stops at 16000 elements
DO $$
BEGIN
	EXECUTE format('SELECT %L::vector(16000)',
				   '[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']');
EXCEPTION WHEN program_limit_exceeded THEN
	RAISE NOTICE '%', SQLERRM;
END
$$;
DO $$
DECLARE
	d int;
BEGIN
	EXECUTE format('SELECT vector_dims(%L::vector(16000))',
				   '[' || array_to_string(array_fill(1, ARRAY[16000]), ',') || ']') INTO d;
	RAISE NOTICE 'dimensions: %', d;
END
$$;
