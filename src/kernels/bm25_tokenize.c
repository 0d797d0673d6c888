/*-------------------------------------------------------------------------
 *
 * bm25_tokenize.c
 *	  The built-in "simple" tokenizer of the BM25 index.
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/bm25_tokenize.h"

#include "core/alloc.h"

static inline int
IsTokenByte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

uint32_t
bm25_tokenize_simple(const char *text, size_t len, Bm25TokenFn fn, void *arg)
{
	char		stackbuf[256];
	char	   *buf = stackbuf;
	size_t		bufcap = sizeof(stackbuf);
	uint32_t	pos = 0;
	size_t		i = 0;

	while (i < len)
	{
		size_t		start;
		size_t		n;

		while (i < len && !IsTokenByte((unsigned char) text[i]))
			i++;
		if (i >= len)
			break;
		start = i;
		while (i < len && IsTokenByte((unsigned char) text[i]))
			i++;
		n = i - start;

		/* a token longer than the stack buffer (rare) gets a heap one */
		if (n > bufcap)
		{
			char	   *nb = core_malloc(n);

			if (nb == NULL)
				break;
			if (buf != stackbuf)
				core_free(buf);
			buf = nb;
			bufcap = n;
		}
		for (size_t j = 0; j < n; j++)
		{
			unsigned char c = (unsigned char) text[start + j];

			buf[j] = (c >= 'A' && c <= 'Z') ? (char) (c + 32) : (char) c;
		}
		if (fn && fn(arg, buf, n, pos))
		{
			pos++;
			break;
		}
		pos++;
	}
	if (buf != stackbuf)
		core_free(buf);
	return pos;
}
