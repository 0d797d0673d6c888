/*-------------------------------------------------------------------------
 *
 * field_batch.c
 *	  A batch of text fields parsed on a thread (field_batch.h).
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/field_batch.h"

#include <signal.h>
#include <string.h>

#include "kernels/field_parse.h"
#include "kernels/float_parse.h"

/* field_batch_unjoined's count */
static int	unjoined;

/* One field in kind's canonical spelling into *v (or list); false if not. */
static bool
parse_one(FieldKind kind, const char *s, FieldValue *v, float *list, int dim)
{
	const char *end;

	switch (kind)
	{
		case FIELD_BOOL:
			if ((s[0] != 't' && s[0] != 'f') || s[1] != '\0')
				return false;
			v->b = s[0] == 't';
			return true;
		case FIELD_INT16:
			return field_parse_int64(s, &v->i) && v->i >= INT16_MIN && v->i <= INT16_MAX;
		case FIELD_INT32:
			return field_parse_int64(s, &v->i) && v->i >= INT32_MIN && v->i <= INT32_MAX;
		case FIELD_INT64:
			return field_parse_int64(s, &v->i);
		case FIELD_FLOAT32:
			return float_parse_fast(s, &v->f, &end) && *end == '\0';
		case FIELD_FLOAT64:
			return double_parse_fast(s, &v->d, &end) && *end == '\0';
		case FIELD_TIMESTAMP:
			return field_parse_timestamp(s, &v->i);
		case FIELD_FLOAT_LIST:
			return field_parse_float_list(s, list, dim);
		case FIELD_OTHER:
			break;
	}
	return false;
}

void
field_batch_parse(FieldBatch *b)
{
	for (int r = 0; r < b->nrows; r++)
		for (int c = 0; c < b->ncols; c++)
		{
			size_t		i = (size_t) r * b->ncols + c;
			const char *s = b->strings[i];

			b->parsed[i] = s != NULL &&
				parse_one(b->kinds[c], s, &b->values[i],
						  b->kinds[c] == FIELD_FLOAT_LIST ? b->lists[c] + (size_t) r * b->dims[c] : NULL,
						  b->dims[c]);
		}
}

static void *
parse_main(void *arg)
{
	field_batch_parse(arg);
	return NULL;
}

void
field_batch_start(FieldBatch *b)
{
	sigset_t	all;
	sigset_t	old;

	/* the thread inherits the mask: signals stay the caller's to handle */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	b->threaded = pthread_create(&b->thread, NULL, parse_main, b) == 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (b->threaded)
		unjoined++;
	else
		field_batch_parse(b);
}

void
field_batch_wait(FieldBatch *b)
{
	if (b->threaded)
	{
		pthread_join(b->thread, NULL);
		unjoined--;
	}
	b->threaded = false;
}

int
field_batch_unjoined(void)
{
	return unjoined;
}
