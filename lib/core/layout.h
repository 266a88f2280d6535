/*
 * libspool: the spool: opening it, its folders, and the files shipped inside libspool.
 * Included by spool.h; see there for the error contract.
 */
#ifndef SPOOL_CORE_LAYOUT_H
#define SPOOL_CORE_LAYOUT_H

#include "base.h"

/* ---- the spool --------------------------------------------------------- */

struct spool;

enum {
	SPOOL_OPEN_LENIENT = 1 << 0, /* open even if folders are missing or modes are wrong */
};

/*
 * Create a spool at path from a workflow's text; name is what errors call the text.
 * path must be absent, or empty but for the folders of an init that died.
 */
int spool_init(const char *path, const char *name, const char *conf_text, size_t conf_len,
    struct spool_err *err);
/*
 * The same, giving the spool's folder and every folder in it the group `group`
 * ((gid_t)-1: the caller's effective group) and mode SPOOL_DIR_MODE.  Giving a group
 * the caller is not in fails with EPERM.
 */
int spool_init_group(const char *path, const char *name, const char *conf_text,
    size_t conf_len, gid_t group, struct spool_err *err);
int spool_open(const char *path, int flags, struct spool **sp, struct spool_err *err);
void spool_close(struct spool *sp);
const struct spool_conf *spool_conf(const struct spool *sp);
const char *spool_path(const struct spool *sp);
/*
 * The spool's id: a random UUID (RFC 9562 version 4, lower case, SPOOL_UUID_LEN
 * characters) that spoolctl init writes into spool-id at the spool's top, so that
 * what a spool names for the world outside (JDF tickets) never collides with what
 * another spool names.  A spool made before spool-id existed gets one on first need,
 * published without replacing, so that two programs asking at once agree.
 */
#define SPOOL_UUID_LEN 36
int spool_uuid(struct spool *sp, char out[SPOOL_UUID_LEN + 1], struct spool_err *err);
/* Check folders, file system and modes; one line per problem via the callback. */
int spool_validate(struct spool *sp, void (*report)(void *, const char *), void *arg);

/* The descriptor of a spool folder, kept open for the life of sp. */
enum spool_dir {
	SPOOL_DIR_ROOT, SPOOL_DIR_STATE, SPOOL_DIR_ORDERS, SPOOL_DIR_INCOMING, SPOOL_DIR_TMP,
	SPOOL_DIR_OUTBOX, SPOOL_DIR_HOT, SPOOL_DIR_CORRUPT, SPOOL_DIR_RUN, SPOOL_DIR_COUNT
};
int spool_dirfd(const struct spool *sp, enum spool_dir d);
int spool_statefd(const struct spool *sp, int state);

#endif
