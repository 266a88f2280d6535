/*
 * libspool: the users of the web back office (spoolweb), kept in SPOOL/web/users:
 * who may log in, as an admin or as a printer that sees only its queues, and the
 * crypt(3) hash of each one's password.  Included by spool.h; see there for the
 * error contract.  The file's format is in spool-layout(5).
 */
#ifndef SPOOL_WEB_USERS_H
#define SPOOL_WEB_USERS_H

#include "../core/base.h"

#define SPOOL_USER_QUEUES_MAX 16
#define SPOOL_HASH_MAX 160

enum spool_role { SPOOL_ROLE_ADMIN = 1, SPOOL_ROLE_PRINTER = 2 };

struct spool_user {
	char name[SPOOL_NAME_MAX + 1];   /* spool_name_ok */
	enum spool_role role;
	char queues[SPOOL_USER_QUEUES_MAX][SPOOL_NAME_MAX + 1];  /* a printer's queues */
	int nqueues;
	char hash[SPOOL_HASH_MAX];       /* crypt(3) hash; "" = no password yet: cannot log in */
};

/* The users of a spool, in the file's order; v belongs to the caller (spool_users_free). */
struct spool_users {
	struct spool_user *v;
	int n;
};

/*
 * Read SPOOL/web/users; a missing file (or web/ folder) gives n = 0 and returns 0.
 * A bad line: -1/EINVAL, err "web/users: line N: ...".
 */
int spool_users_read(struct spool *sp, struct spool_users *u, struct spool_err *err);
void spool_users_free(struct spool_users *u);
/* The user called name, or NULL; points into u. */
const struct spool_user *spool_users_find(const struct spool_users *u, const char *name);
/* 1 if u may see queue (a printer listing it; an admin: always). */
int spool_user_has_queue(const struct spool_user *u, const char *queue);
/* yescrypt hash of password into hash (SPOOL_HASH_MAX); an empty password: EINVAL. */
int spool_user_hash(const char *password, char *hash, size_t len, struct spool_err *err);
/* 1 if password matches u's hash, 0 if not (also when u has none); constant-time compare. */
int spool_user_verify(const struct spool_user *u, const char *password);
/*
 * Changes, each under an fcntl lock on web/users.lock, read-modify-publish (the file
 * is replaced whole, so its # comments are not kept).
 */
/*
 * Add u: EEXIST if there; a printer's queues must be [queue NAME]s of spool.conf
 * (EINVAL, err names it), at least one; an admin has none.  Makes web/ if missing.
 */
int spool_user_add(struct spool *sp, const struct spool_user *u, struct spool_err *err);
int spool_user_del(struct spool *sp, const char *name, struct spool_err *err);   /* ENOENT */
/* Set name's hash ("" for none; else a crypt(3) string, EINVAL if not one); ENOENT. */
int spool_user_set_hash(struct spool *sp, const char *name, const char *hash,
    struct spool_err *err);

#endif
