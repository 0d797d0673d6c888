--
-- Object-store options: settings on servers and foreign tables, credentials
-- only in user mappings, LanceDB's spellings accepted.  Nothing here reaches
-- a store (test/storage/run.sh runs the foreign tables against servers).
--
-- settings, by several of LanceDB's spellings, are fine on a server
CREATE SERVER s3 FOREIGN DATA WRAPPER lancedb_fdw
	OPTIONS (uri 's3://bucket/db', aws_region 'eu-west-1', endpoint 'http://127.0.0.1:9',
			 allow_http 'true', virtual_hosted_style_request 'false', timeout '5s',
			 max_requests_in_flight '8');
CREATE SERVER az FOREIGN DATA WRAPPER lancedb_fdw
	OPTIONS (uri 'az://container/db', account_name 'devstoreaccount1', use_emulator 'true');
-- and on a foreign table
CREATE FOREIGN TABLE t (id bigint) SERVER s3
	OPTIONS (table 'items', region 'us-east-1', connect_timeout '2s');
ALTER FOREIGN TABLE t OPTIONS (ADD aws_endpoint 'http://127.0.0.1:9');
-- credentials are refused on a server and on a foreign table, under every
-- spelling, and the value is never echoed
CREATE SERVER bad FOREIGN DATA WRAPPER lancedb_fdw
	OPTIONS (uri 's3://bucket/db', aws_secret_access_key 'SECRET-VALUE-1');
CREATE SERVER bad FOREIGN DATA WRAPPER lancedb_fdw
	OPTIONS (uri 's3://bucket/db', secret_access_key 'SECRET-VALUE-1');
ALTER SERVER s3 OPTIONS (ADD access_key_id 'AKIA-SECRET-VALUE');
ALTER SERVER az OPTIONS (ADD account_key 'SECRET-VALUE-2');
ALTER SERVER az OPTIONS (ADD sas_token 'sv=SECRET-VALUE-3');
ALTER SERVER s3 OPTIONS (ADD google_service_account_key '{"private_key":"SECRET"}');
ALTER SERVER s3 OPTIONS (ADD hmac_secret 'SECRET-VALUE-4');
ALTER SERVER s3 OPTIONS (ADD session_token 'SECRET-VALUE-5');
ALTER FOREIGN TABLE t OPTIONS (ADD aws_secret_access_key 'SECRET-VALUE-6');
ALTER FOREIGN TABLE t ALTER COLUMN id OPTIONS (ADD region 'us-east-1');
-- a user mapping takes credentials (any spelling, any case) and settings
CREATE USER MAPPING FOR CURRENT_USER SERVER s3
	OPTIONS (aws_access_key_id 'AKIAEXAMPLE', AWS_SECRET_ACCESS_KEY 'secret',
			 session_token 'token', region 'us-east-1');
CREATE USER MAPPING FOR PUBLIC SERVER az OPTIONS (sas_token 'sv=2024&sig=x');
ALTER USER MAPPING FOR PUBLIC SERVER az OPTIONS (ADD azure_storage_account_key 'k');
-- but nothing that is not an object-store option
CREATE USER MAPPING FOR CURRENT_USER SERVER az OPTIONS (table 'items');
-- a setting's value must have its form wherever it is set: a boolean, a
-- duration, an integer in range, a URL; the error names the option
CREATE SERVER bad FOREIGN DATA WRAPPER lancedb_fdw
	OPTIONS (uri 's3://bucket/db', allow_http 'ture');
ALTER SERVER s3 OPTIONS (SET timeout '30 seconds');
ALTER SERVER s3 OPTIONS (ADD client_retry_timeout '-1s');
ALTER SERVER s3 OPTIONS (SET max_requests_in_flight '0');
ALTER SERVER s3 OPTIONS (ADD list_page_size 'many');
ALTER SERVER s3 OPTIONS (SET endpoint '127.0.0.1:9');
ALTER FOREIGN TABLE t OPTIONS (ADD aws_virtual_hosted_style_request 'maybe');
ALTER USER MAPPING FOR CURRENT_USER SERVER s3 OPTIONS (ADD client_max_retries '1000');
ALTER USER MAPPING FOR CURRENT_USER SERVER s3 OPTIONS (ADD connect_timeout '2 hours');
-- good values in other forms pass (durations in ms and minutes, booleans
-- by any of their names)
ALTER SERVER s3 OPTIONS (SET timeout '1500ms', ADD client_retry_timeout '2m',
						 ADD aws_skip_signature 'off');
-- a credential's value is not checked, so never quoted
ALTER USER MAPPING FOR CURRENT_USER SERVER s3 OPTIONS (SET session_token 'not a number');
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname IN ('s3', 'az') ORDER BY 1;
SELECT ftoptions FROM pg_foreign_table WHERE ftrelid = 't'::regclass;
DROP USER MAPPING FOR CURRENT_USER SERVER s3;
DROP USER MAPPING FOR PUBLIC SERVER az;
DROP FOREIGN TABLE t;
DROP SERVER s3;
DROP SERVER az;
