/*
 * SHA-1, for git's blob ids only: a revision's id is what 'git
 * hash-object' prints for its file, and working it out must not need
 * libgit2 (which is loaded only when the store or mig.conf is used).
 * FIPS 180-4, byte at a time into a 64-byte block; nothing here is
 * secret, so no care is taken over timing.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

struct sha1 {
	uint32_t h[5];
	uint64_t len;		/* bytes so far */
	unsigned char block[64];
};

static uint32_t rol(uint32_t x, int n)
{
	return x << n | x >> (32 - n);
}

#define ROUND(f, k) \
	do { \
		t = rol(a, 5) + (f) + e + (k) + w[i]; \
		e = d; \
		d = c; \
		c = rol(b, 30); \
		b = a; \
		a = t; \
	} while (0)

static void sha1_block(struct sha1 *s, const unsigned char *p)
{
	uint32_t w[80], a = s->h[0], b = s->h[1], c = s->h[2], d = s->h[3], e = s->h[4], t;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
		       p[4 * i + 3];
	for (; i < 80; i++)
		w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	/* a loop per function, not a test in every round */
	for (i = 0; i < 20; i++)
		ROUND((b & c) | (~b & d), 0x5a827999);
	for (; i < 40; i++)
		ROUND(b ^ c ^ d, 0x6ed9eba1);
	for (; i < 60; i++)
		ROUND((b & c) | (b & d) | (c & d), 0x8f1bbcdc);
	for (; i < 80; i++)
		ROUND(b ^ c ^ d, 0xca62c1d6);
	s->h[0] += a;
	s->h[1] += b;
	s->h[2] += c;
	s->h[3] += d;
	s->h[4] += e;
}

static void sha1_init(struct sha1 *s)
{
	static const uint32_t h0[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };

	memcpy(s->h, h0, sizeof(h0));
	s->len = 0;
}

static void sha1_update(struct sha1 *s, const void *data, size_t n)
{
	const unsigned char *p = data;
	size_t have = (size_t)(s->len % 64);

	s->len += n;
	if (have) {
		size_t take = n < 64 - have ? n : 64 - have;

		memcpy(s->block + have, p, take);
		p += take;
		n -= take;
		if (have + take < 64)
			return;
		sha1_block(s, s->block);
	}
	for (; n >= 64; p += 64, n -= 64)
		sha1_block(s, p);
	memcpy(s->block, p, n);
}

static void sha1_final(struct sha1 *s, unsigned char out[20])
{
	uint64_t bits = s->len * 8;
	unsigned char pad[72] = { 0x80 };
	size_t have = (size_t)(s->len % 64), n = have < 56 ? 56 - have : 120 - have;
	int i;

	for (i = 0; i < 8; i++)
		pad[n + i] = (unsigned char)(bits >> (56 - 8 * i));
	sha1_update(s, pad, n + 8);
	for (i = 0; i < 20; i++)
		out[i] = (unsigned char)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}

void mig_blob_id(char out[41], const void *data, size_t len)
{
	struct sha1 s;
	unsigned char md[20];
	char hdr[32];
	int i;

	sha1_init(&s);
	sha1_update(&s, hdr, (size_t)snprintf(hdr, sizeof(hdr), "blob %zu", len) + 1);
	sha1_update(&s, data, len);
	sha1_final(&s, md);
	for (i = 0; i < 20; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}
