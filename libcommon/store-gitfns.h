/*
 * Every libgit2 function mig calls, with its prototype from git2.h, for
 * store-gitlib.c to define as a call into libgit2 loaded when first needed.
 * The compiler checks each against git2.h. A new call into libgit2
 * needs its line here; the link fails until it has one.
 *
 *   MIG_GIT_FN(return type, name, (parameters), (arguments))
 *   MIG_GIT_VOID(name, (parameters), (arguments))     a free (NULL is fine) or a clear
 */
MIG_GIT_FN(int, git_blob_create_from_buffer,
	   (git_oid *id, git_repository *repo, const void *buffer, size_t len),
	   (id, repo, buffer, len))
MIG_GIT_VOID(git_blob_free, (git_blob *blob), (blob))
MIG_GIT_FN(int, git_blob_lookup,
	   (git_blob **blob, git_repository *repo, const git_oid *id),
	   (blob, repo, id))
MIG_GIT_FN(const void *, git_blob_rawcontent, (const git_blob *blob), (blob))
MIG_GIT_FN(git_object_size_t, git_blob_rawsize, (const git_blob *blob), (blob))
MIG_GIT_VOID(git_buf_dispose, (git_buf *buffer), (buffer))
MIG_GIT_FN(const git_signature *, git_commit_author, (const git_commit *commit), (commit))
MIG_GIT_FN(int, git_commit_create,
	   (git_oid *id, git_repository *repo, const char *update_ref,
	    const git_signature *author, const git_signature *committer,
	    const char *message_encoding, const char *message, const git_tree *tree,
	    size_t parent_count, const git_commit *parents[]),
	   (id, repo, update_ref, author, committer, message_encoding, message, tree,
	    parent_count, parents))
MIG_GIT_VOID(git_commit_free, (git_commit *commit), (commit))
MIG_GIT_FN(int, git_commit_lookup,
	   (git_commit **commit, git_repository *repo, const git_oid *id),
	   (commit, repo, id))
MIG_GIT_FN(const char *, git_commit_message, (const git_commit *commit), (commit))
MIG_GIT_FN(git_time_t, git_commit_time, (const git_commit *commit), (commit))
MIG_GIT_FN(int, git_commit_tree,
	   (git_tree **tree_out, const git_commit *commit),
	   (tree_out, commit))
MIG_GIT_FN(const git_oid *, git_commit_tree_id, (const git_commit *commit), (commit))
MIG_GIT_FN(int, git_config_foreach,
	   (const git_config *cfg, git_config_foreach_cb callback, void *payload),
	   (cfg, callback, payload))
MIG_GIT_VOID(git_config_free, (git_config *cfg), (cfg))
MIG_GIT_FN(int, git_config_get_bool,
	   (int *out, const git_config *cfg, const char *name),
	   (out, cfg, name))
MIG_GIT_FN(int, git_config_get_int32,
	   (int32_t *out, const git_config *cfg, const char *name),
	   (out, cfg, name))
MIG_GIT_FN(int, git_config_get_string_buf,
	   (git_buf *out, const git_config *cfg, const char *name),
	   (out, cfg, name))
MIG_GIT_FN(int, git_config_open_ondisk, (git_config **out, const char *path), (out, path))
MIG_GIT_VOID(git_error_clear, (void), ())
MIG_GIT_FN(const git_error *, git_error_last, (void), ())
MIG_GIT_FN(int, git_libgit2_init, (void), ())
MIG_GIT_FN(int, git_libgit2_shutdown, (void), ())
MIG_GIT_FN(int, git_mempack_new, (git_odb_backend **out), (out))
MIG_GIT_FN(int, git_odb_add_backend,
	   (git_odb *odb, git_odb_backend *backend, int priority),
	   (odb, backend, priority))
MIG_GIT_FN(int, git_odb_exists, (git_odb *db, const git_oid *id), (db, id))
MIG_GIT_FN(int, git_odb_exists_ext, (git_odb *db, const git_oid *id, unsigned int flags), (db, id, flags))
MIG_GIT_VOID(git_odb_free, (git_odb *db), (db))
MIG_GIT_FN(int, git_odb_foreach, (git_odb *db, git_odb_foreach_cb cb, void *payload), (db, cb, payload))
MIG_GIT_FN(int, git_odb_hash,
	   (git_oid *out, const void *data, size_t len, git_object_t type),
	   (out, data, len, type))
MIG_GIT_FN(int, git_odb_new, (git_odb **out), (out))
MIG_GIT_FN(const void *, git_odb_object_data, (git_odb_object *object), (object))
MIG_GIT_VOID(git_odb_object_free, (git_odb_object *object), (object))
MIG_GIT_FN(size_t, git_odb_object_size, (git_odb_object *object), (object))
MIG_GIT_FN(git_object_t, git_odb_object_type, (git_odb_object *object), (object))
MIG_GIT_FN(int, git_odb_open, (git_odb **out, const char *objects_dir), (out, objects_dir))
MIG_GIT_FN(int, git_odb_read, (git_odb_object **out, git_odb *db, const git_oid *id), (out, db, id))
MIG_GIT_FN(int, git_odb_refresh, (struct git_odb *db), (db))
MIG_GIT_FN(int, git_odb_write,
	   (git_oid *out, git_odb *odb, const void *data, size_t len, git_object_t type),
	   (out, odb, data, len, type))
MIG_GIT_FN(int, git_odb_write_pack,
	   (git_odb_writepack **out, git_odb *db, git_indexer_progress_cb progress_cb,
	    void *progress_payload),
	   (out, db, progress_cb, progress_payload))
MIG_GIT_VOID(git_object_free, (git_object *object), (object))
MIG_GIT_FN(int, git_object_lookup,
	   (git_object **object, git_repository *repo, const git_oid *id, git_object_t type),
	   (object, repo, id, type))
MIG_GIT_FN(git_object_t, git_object_type, (const git_object *obj), (obj))
MIG_GIT_FN(int, git_oid_cmp, (const git_oid *a, const git_oid *b), (a, b))
MIG_GIT_FN(int, git_oid_fromstr, (git_oid *out, const char *str), (out, str))
MIG_GIT_FN(char *, git_oid_tostr, (char *out, size_t n, const git_oid *id), (out, n, id))
MIG_GIT_VOID(git_packbuilder_free, (git_packbuilder *pb), (pb))
MIG_GIT_FN(int, git_packbuilder_insert,
	   (git_packbuilder *pb, const git_oid *id, const char *name),
	   (pb, id, name))
MIG_GIT_FN(const char *, git_packbuilder_name, (git_packbuilder *pb), (pb))
MIG_GIT_FN(int, git_packbuilder_new, (git_packbuilder **out, git_repository *repo), (out, repo))
MIG_GIT_FN(unsigned int, git_packbuilder_set_threads,
	   (git_packbuilder *pb, unsigned int n),
	   (pb, n))
MIG_GIT_FN(int, git_packbuilder_write,
	   (git_packbuilder *pb, const char *path, unsigned int mode, git_indexer_progress_cb progress_cb,
	    void *progress_cb_payload),
	   (pb, path, mode, progress_cb, progress_cb_payload))
MIG_GIT_FN(int, git_packbuilder_write_buf, (git_buf *buf, git_packbuilder *pb), (buf, pb))
MIG_GIT_FN(int, git_reference_create,
	   (git_reference **out, git_repository *repo, const char *name, const git_oid *id,
	    int force, const char *log_message),
	   (out, repo, name, id, force, log_message))
MIG_GIT_FN(int, git_reference_foreach_name,
	   (git_repository *repo, git_reference_foreach_name_cb callback, void *payload),
	   (repo, callback, payload))
MIG_GIT_FN(int, git_reference_foreach_glob,
	   (git_repository *repo, const char *glob, git_reference_foreach_name_cb callback,
	    void *payload),
	   (repo, glob, callback, payload))
MIG_GIT_VOID(git_reference_free, (git_reference *ref), (ref))
MIG_GIT_FN(int, git_reference_name_to_id,
	   (git_oid *out, git_repository *repo, const char *name),
	   (out, repo, name))
MIG_GIT_FN(int, git_reference_remove, (git_repository *repo, const char *name), (repo, name))
MIG_GIT_FN(int, git_reference_symbolic_create,
	   (git_reference **out, git_repository *repo, const char *name, const char *target,
	    int force, const char *log_message),
	   (out, repo, name, target, force, log_message))
MIG_GIT_VOID(git_repository_free, (git_repository *repo), (repo))
MIG_GIT_FN(int, git_repository_init,
	   (git_repository **out, const char *path, unsigned is_bare),
	   (out, path, is_bare))
MIG_GIT_FN(int, git_repository_odb, (git_odb **out, git_repository *repo), (out, repo))
MIG_GIT_FN(int, git_repository_open_bare,
	   (git_repository **out, const char *bare_path),
	   (out, bare_path))
MIG_GIT_FN(int, git_repository_wrap_odb, (git_repository **out, git_odb *odb), (out, odb))
MIG_GIT_VOID(git_revwalk_free, (git_revwalk *walk), (walk))
MIG_GIT_FN(int, git_revwalk_hide, (git_revwalk *walk, const git_oid *commit_id), (walk, commit_id))
MIG_GIT_FN(int, git_revwalk_new, (git_revwalk **out, git_repository *repo), (out, repo))
MIG_GIT_FN(int, git_revwalk_next, (git_oid *out, git_revwalk *walk), (out, walk))
MIG_GIT_FN(int, git_revwalk_push, (git_revwalk *walk, const git_oid *id), (walk, id))
MIG_GIT_FN(int, git_revwalk_push_ref, (git_revwalk *walk, const char *refname), (walk, refname))
MIG_GIT_FN(int, git_revwalk_sorting, (git_revwalk *walk, unsigned int sort_mode), (walk, sort_mode))
MIG_GIT_VOID(git_signature_free, (git_signature *sig), (sig))
MIG_GIT_FN(int, git_signature_now,
	   (git_signature **out, const char *name, const char *email),
	   (out, name, email))
MIG_GIT_FN(const git_oid *, git_tag_target_id, (const git_tag *tag), (tag))
MIG_GIT_FN(const git_tree_entry *, git_tree_entry_byindex,
	   (const git_tree *tree, size_t idx),
	   (tree, idx))
MIG_GIT_FN(const git_tree_entry *, git_tree_entry_byname,
	   (const git_tree *tree, const char *filename),
	   (tree, filename))
MIG_GIT_FN(const git_oid *, git_tree_entry_id, (const git_tree_entry *entry), (entry))
MIG_GIT_FN(git_object_t, git_tree_entry_type, (const git_tree_entry *entry), (entry))
MIG_GIT_FN(size_t, git_tree_entrycount, (const git_tree *tree), (tree))
MIG_GIT_VOID(git_tree_free, (git_tree *tree), (tree))
MIG_GIT_FN(int, git_tree_lookup,
	   (git_tree **out, git_repository *repo, const git_oid *id),
	   (out, repo, id))
MIG_GIT_VOID(git_treebuilder_free, (git_treebuilder *bld), (bld))
MIG_GIT_FN(int, git_treebuilder_insert,
	   (const git_tree_entry **out, git_treebuilder *bld, const char *filename,
	    const git_oid *id, git_filemode_t filemode),
	   (out, bld, filename, id, filemode))
MIG_GIT_FN(int, git_treebuilder_new,
	   (git_treebuilder **out, git_repository *repo, const git_tree *source),
	   (out, repo, source))
MIG_GIT_FN(int, git_treebuilder_write, (git_oid *id, git_treebuilder *bld), (id, bld))
MIG_GIT_FN(int, git_patch_from_buffers,
	   (git_patch **out, const void *old_buffer, size_t old_len, const char *old_as_path,
	    const void *new_buffer, size_t new_len, const char *new_as_path, const git_diff_options *opts),
	   (out, old_buffer, old_len, old_as_path, new_buffer, new_len, new_as_path, opts))
MIG_GIT_FN(int, git_patch_to_buf, (git_buf *out, git_patch *patch), (out, patch))
MIG_GIT_VOID(git_patch_free, (git_patch *patch), (patch))
MIG_GIT_FN(int, git_diff_options_init, (git_diff_options *opts, unsigned int version), (opts, version))
