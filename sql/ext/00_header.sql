/* lancedb_fdw install script, assembled from sql/ext/ by the Makefile. */

-- complain if script is sourced in psql, rather than via CREATE EXTENSION
\echo Use "CREATE EXTENSION lancedb_fdw" to load this file. \quit
