/*
 * git's blob ids: a revision's id is what 'git hash-object' prints for
 * its file. Worked out with nettle's SHA-1, so that reading revisions
 * never needs libgit2 (which is loaded only when the store or mig.conf
 * is used).
 */
#include <stdio.h>

#include <nettle/sha1.h>

#include "util.h"

void mig_blob_id(char out[41], const void *data, size_t len)
{
	struct sha1_ctx c;
	uint8_t digest[SHA1_DIGEST_SIZE];
	char head[32];
	int n = snprintf(head, sizeof(head), "blob %zu", len);
	size_t i;

	sha1_init(&c);
	/* the header ends with its NUL */
	sha1_update(&c, (size_t)n + 1, (const uint8_t *)head);
	sha1_update(&c, len, data);
	sha1_digest(&c, sizeof(digest), digest);
	for (i = 0; i < sizeof(digest); i++)
		snprintf(out + 2 * i, 3, "%02x", digest[i]);
}
