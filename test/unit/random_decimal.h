/*-------------------------------------------------------------------------
 *
 * random_decimal.h
 *	  Random decimal literals for the fast float parsers' tests: an optional
 *	  sign, 1 to max_digits digits with the point anywhere among them (or
 *	  none), and now and then an exponent.
 *
 * Header-only (static inline), like fixture_file.h; draws from rand(), so a
 * test's srand() seed fixes its strings.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_TEST_RANDOM_DECIMAL_H
#define LANCEDB_TEST_RANDOM_DECIMAL_H

#include <stdio.h>
#include <stdlib.h>

/*
 * Write one literal into buf (64 bytes are plenty); one in exp_one_in gets
 * an exponent in [-exp_max, exp_max].
 */
static inline void
random_decimal(char *buf, size_t size, int max_digits, int exp_one_in, int exp_max)
{
	int			digits = 1 + rand() % max_digits;
	int			point = rand() % (digits + 1);
	int			pos = 0;

	if (rand() % 2)
		buf[pos++] = '-';
	for (int k = 0; k < digits; k++)
	{
		if (k == point)
			buf[pos++] = '.';
		buf[pos++] = (char) ('0' + rand() % 10);
	}
	if (rand() % exp_one_in == 0)
		pos += snprintf(buf + pos, size - pos, "e%d", rand() % (2 * exp_max + 1) - exp_max);
	buf[pos] = '\0';
}

#endif							/* LANCEDB_TEST_RANDOM_DECIMAL_H */
