/*
 * A snapshot's manifest: the image's page size, size and chunk size, a
 * checksum, and per chunk its XXH3-128 and the blob (or delta and base)
 * that holds it. The one text every reader and writer of snapshots
 * goes by, so it is parsed strictly: only what mig writes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-internal.h"

size_t chunk_size(void)
{
	const char *e = getenv("MIG_CHUNK_SIZE");
	long kib = e ? strtol(e, NULL, 10) : 0;

	return kib >= 64 && kib * 1024 <= MAX_CHUNK_SIZE && kib % 64 == 0 ? (size_t)kib * 1024 : CHUNK_SIZE;
}

static void hash_hex(char out[33], XXH128_hash_t h)
{
	XXH128_canonical_t c;
	int i;

	XXH128_canonicalFromHash(&c, h);
	for (i = 0; i < 16; i++)
		sprintf(out + 2 * i, "%02x", c.digest[i]);
}

/* 32 hex digits, no fewer: sscanf's %2x alone took "f" of "fg" */
static int hash_parse(XXH128_hash_t *h, const char *s)
{
	XXH128_canonical_t c;
	int i;

	if (strspn(s, "0123456789abcdef") != 32)
		return -1;
	for (i = 0; i < 16; i++) {
		unsigned v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		c.digest[i] = (unsigned char)v;
	}
	*h = XXH128_hashFromCanonical(&c);
	return 0;
}

int hash_cmp(XXH128_hash_t a, XXH128_hash_t b)
{
	if (a.high64 != b.high64)
		return a.high64 < b.high64 ? -1 : 1;
	return a.low64 < b.low64 ? -1 : a.low64 > b.low64;
}

void manifest_release(struct manifest *m)
{
	free(m->c);
	m->c = NULL;
	m->n = 0;
}

/* The image checksum: XXH3-128 of the chunks' XXH3-128s, in order. */
void image_checksum(char out[80], const struct chunk_ref *c, size_t n)
{
	XXH3_state_t *st = XXH3_createState();
	char hex[33];
	size_t i;

	XXH3_128bits_reset(st);
	for (i = 0; i < n; i++) {
		XXH128_canonical_t can;

		XXH128_canonicalFromHash(&can, c[i].h);
		XXH3_128bits_update(st, can.digest, sizeof(can.digest));
	}
	hash_hex(hex, XXH3_128bits_digest(st));
	XXH3_freeState(st);
	snprintf(out, 80, "xxh128-list:%s", hex);
}

void manifest_format(struct mig_buf *b, const struct manifest *m)
{
	size_t i;

	mig_buf_addf(b, "mig-snapshot %d\npage-size %u\nsize %llu\nchunk-size %zu\nchecksum %s\n",
		     m->version, m->page_size, (unsigned long long)m->size, m->chunk_size, m->checksum);
	for (i = 0; i < m->n; i++) {
		char hex[33], oid[GIT_OID_HEXSZ + 1];

		hash_hex(hex, m->c[i].h);
		git_oid_tostr(oid, sizeof(oid), &m->c[i].oid);
		if (m->c[i].delta) {
			char base[GIT_OID_HEXSZ + 1];

			git_oid_tostr(base, sizeof(base), &m->c[i].base);
			mig_buf_addf(b, "delta %s %s %s\n", hex, oid, base);
		} else {
			mig_buf_addf(b, "chunk %s %s\n", hex, oid);
		}
	}
}

int manifest_parse(struct manifest *m, const char *text, size_t len, struct mig_err *err)
{
	const char *p = text, *end = text + len;
	size_t alloc = 0, want;
	unsigned long long size = 0;
	unsigned ps = 0;
	int header = 0;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		char line[160];
		size_t n = (size_t)((eol ? eol : end) - p);

		if (n >= sizeof(line))
			goto bad;
		memcpy(line, p, n);
		line[n] = '\0';
		p = eol ? eol + 1 : end;
		if (!strcmp(line, "mig-snapshot 1") || !strcmp(line, "mig-snapshot 2"))
			m->version = line[13] - '0', header |= 1;
		else if (sscanf(line, "page-size %u", &ps) == 1)
			header |= 2;
		else if (sscanf(line, "size %llu", &size) == 1)
			header |= 4;
		else if (sscanf(line, "chunk-size %zu", &m->chunk_size) == 1)
			header |= 8;
		else if (!strncmp(line, "checksum ", 9) && n - 9 < sizeof(m->checksum))
			strcpy(m->checksum, line + 9), header |= 16;
		else if ((!strncmp(line, "chunk ", 6) && n == 6 + 32 + 1 + GIT_OID_HEXSZ && line[38] == ' ') ||
			 (!strncmp(line, "delta ", 6) && n == 6 + 32 + 2 + 2 * GIT_OID_HEXSZ && line[38] == ' ' &&
			  line[79] == ' ')) {
			struct chunk_ref *c;

			MIG_GROW(m->c, m->n + 1, alloc);
			c = &m->c[m->n++];
			memset(c, 0, sizeof(*c));
			c->delta = line[0] == 'd';
			line[38] = '\0';
			if (c->delta)
				line[79] = '\0';
			if (hash_parse(&c->h, line + 6) < 0 || git_oid_fromstr(&c->oid, line + 39) < 0 ||
			    (c->delta && git_oid_fromstr(&c->base, line + 80) < 0))
				goto bad;
		} else {
			goto bad;
		}
	}
	m->page_size = ps;
	m->size = size;
	/*
	 * Only what mig writes: whole pages of a size SQLite has, chunks
	 * chunk_size() makes (the readers allocate a few), as many as the
	 * size needs, counted without overflow. A size near 2^64 made none,
	 * and restore waited for chunk 0 forever.
	 */
	if (header != 31 || ps < 512 || ps > 65536 || (ps & (ps - 1)) || size % ps || !m->chunk_size ||
	    m->chunk_size % 65536 || m->chunk_size > MAX_CHUNK_SIZE)
		goto bad;
	want = (size_t)(size / m->chunk_size + (size % m->chunk_size != 0));
	if (m->n != want)
		goto bad;
	return 0;
bad:
	manifest_release(m);
	return mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: its manifest does not parse", m->id);
}

/*
 * Load snapshot id's manifest, and check its tree's chunks against it,
 * so what the manifest says is what git sees.
 */
int manifest_load(struct manifest *m, struct mig_store *s, const char *id, struct mig_err *err)
{
	git_repository *repo = s->repo;
	git_commit *c = NULL;
	git_tree *tree = NULL, *chunks = NULL;
	git_blob *blob = NULL;
	const git_tree_entry *e;
	git_oid oid;
	size_t i, n;
	int rc = 0;

	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", id);
	if (git_oid_fromstr(&oid, id) < 0 || git_commit_lookup(&c, repo, &oid) < 0 ||
	    git_commit_tree(&tree, c) < 0 || !(e = git_tree_entry_byname(tree, "manifest")) ||
	    git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0) {
		rc = mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: cannot read its manifest: %s", id,
				 store_git_why());
		goto out;
	}
	if ((rc = manifest_parse(m, git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), err)) < 0)
		goto out;
	for (i = 0, n = m->n; i < m->n; i++)
		n += m->c[i].delta;
	if (!(e = git_tree_entry_byname(tree, "chunks")) || git_tree_lookup(&chunks, repo, git_tree_entry_id(e)) < 0 ||
	    git_tree_entrycount(chunks) != n) {
		rc = mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: its chunk list does not match its manifest",
				 id);
		goto out;
	}
	for (i = 0; i < m->n; i++) {
		char name[32];
		const git_tree_entry *base = NULL;

		snprintf(name, sizeof(name), "%08zu-base", i);
		if (m->c[i].delta)
			base = git_tree_entry_byname(chunks, name);
		name[8] = '\0';
		e = git_tree_entry_byname(chunks, name);
		if (!e || git_oid_cmp(git_tree_entry_id(e), &m->c[i].oid) ||
		    (m->c[i].delta && (!base || git_oid_cmp(git_tree_entry_id(base), &m->c[i].base)))) {
			rc = mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: chunk %zu differs between its tree "
					 "and its manifest", id, i);
			goto out;
		}
	}
	{
		char sum[80];

		image_checksum(sum, m->c, m->n);
		if (strcmp(sum, m->checksum))
			rc = mig_err_set(err, MIG_EENV, "snapshot %.12s is damaged: its checksum does not match its "
					 "chunks", id);
	}
out:
	if (rc < 0)
		manifest_release(m);
	git_blob_free(blob);
	git_tree_free(chunks);
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

size_t chunk_len(const struct manifest *m, size_t i)
{
	return i + 1 < m->n ? m->chunk_size : (size_t)(m->size - (uint64_t)i * m->chunk_size);
}

int manifest_newest(struct mig_store *s, struct manifest *m)
{
	struct mig_err ignored = MIG_ERR_INIT;
	struct mig_snapshot_list l;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if (mig_snapshot_list(s, &l, &ignored) < 0)
		return -1;
	if (l.nr)
		rc = manifest_load(m, s, l.v[0].id, &ignored);
	mig_snapshot_list_release(&l);
	return rc;
}

