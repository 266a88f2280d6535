/*
 * Sessions and logging in.  A session is 256 random bits in an HttpOnly,
 * SameSite=Strict cookie (Secure under TLS), with its own CSRF token of 256 more; it
 * lives in memory only, so a restart logs everyone out.  Failed logins are slowed per
 * user name and per address, each on its own: after the third, the next try must wait
 * 1 s, after the fourth 2 s, then 4, ... up to 64 s; a quiet quarter of an hour
 * forgives them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "web.h"

#define STRIKES_FREE 3          /* failures before any wait */
#define STRIKES_FORGET 900      /* seconds after the last failure that forget them */
#define STRIKE_WAIT_MAX 64

int
token_eq(const char *a, const char *b)
{
	unsigned char d = 0;
	size_t i;

	if (strlen(a) != WEB_TOKEN_LEN || strlen(b) != WEB_TOKEN_LEN)
		return 0;
	for (i = 0; i < WEB_TOKEN_LEN; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

/* 256 bits from the kernel's generator, in hex. */
static int
token(char out[WEB_TOKEN_LEN + 1])
{
	unsigned char raw[WEB_TOKEN_LEN / 2];
	size_t i;

	if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw)
		return -1;
	for (i = 0; i < sizeof raw; i++)
		sprintf(out + 2 * i, "%02x", raw[i]);
	return 0;
}

static int
expired(const struct session *s, time_t now)
{
	return now - s->used > WEB_SESSION_IDLE || now - s->born > WEB_SESSION_LIFE;
}

struct session *
session_find(struct web *w, const char *tok, time_t now)
{
	struct session *s;
	int i;

	for (i = 0; i < WEB_SESSIONS_MAX; i++) {
		s = &w->sessions[i];
		if (s->token[0] == '\0' || !token_eq(tok, s->token))
			continue;
		if (expired(s, now)) {
			session_end(s);
			return NULL;
		}
		s->used = now;
		return s;
	}
	return NULL;
}

struct session *
session_new(struct web *w, const char *user, int spool, time_t now)
{
	struct session *s = NULL, *c;
	int i;

	/* a free slot, or an expired one, or else the one unused longest */
	for (i = 0; i < WEB_SESSIONS_MAX; i++) {
		c = &w->sessions[i];
		if (c->token[0] == '\0' || expired(c, now)) {
			s = c;
			break;
		}
		if (s == NULL || c->used < s->used)
			s = c;
	}
	memset(s, 0, sizeof *s);
	if (token(s->token) < 0 || token(s->csrf) < 0) {
		memset(s, 0, sizeof *s);
		return NULL;
	}
	snprintf(s->user, sizeof s->user, "%s", user);
	s->spool = spool;
	s->born = s->used = now;
	return s;
}

void
session_end(struct session *s)
{
	memset(s, 0, sizeof *s);
}

static struct strike *
strike_get(struct web *w, const char *key, int make, time_t now)
{
	struct strike *old = NULL, *k;
	int i;

	for (i = 0; i < WEB_STRIKES_MAX; i++) {
		k = &w->strikes[i];
		if (k->key[0] != '\0' && strcmp(k->key, key) == 0) {
			if (now - k->last > STRIKES_FORGET)
				k->fails = 0;
			return k;
		}
		if (old == NULL || k->key[0] == '\0' || (old->key[0] != '\0' && k->last < old->last))
			old = k;
	}
	if (!make)
		return NULL;
	memset(old, 0, sizeof *old);
	snprintf(old->key, sizeof old->key, "%s", key);
	return old;
}

long
strike_wait(struct web *w, const char *key, time_t now)
{
	struct strike *k = strike_get(w, key, 0, now);

	return k != NULL && k->until > now ? (long)(k->until - now) : 0;
}

void
strike_add(struct web *w, const char *key, time_t now)
{
	struct strike *k = strike_get(w, key, 1, now);
	int over;

	k->fails++;
	k->last = now;
	over = k->fails - STRIKES_FREE;
	if (over >= 0)
		k->until = now + (over >= 6 ? STRIKE_WAIT_MAX : 1 << over);
}

void
strike_clear(struct web *w, const char *key)
{
	struct strike *k = strike_get(w, key, 0, 0);

	if (k != NULL)
		memset(k, 0, sizeof *k);
}

/* The spool a login is for: the one named, the only one, or the first that knows the user. */
static int
login_spool(struct web *w, const char *name, const char *user)
{
	struct spool_users us;
	struct spool_err err;
	int i, found;

	for (i = 0; i < w->nspools; i++)
		if (name != NULL && strcmp(name, w->spools[i].name) == 0)
			return i;
	if (name != NULL)
		return -1;
	if (w->nspools == 1)
		return 0;
	for (i = 0; i < w->nspools; i++) {
		if (spool_users_read(w->spools[i].sp, &us, &err) < 0)
			continue;
		found = spool_users_find(&us, user) != NULL;
		spool_users_free(&us);
		if (found)
			return i;
	}
	return 0;
}

/*
 * Does user have password in spool i?  An unknown user costs a hash too, against one
 * made of random bits at the first login, so that the time taken does not tell which
 * names exist.
 */
static int
password_ok(struct web *w, int i, const char *user, const char *password)
{
	const struct spool_user *u = NULL;
	struct spool_users us = { 0 };
	struct spool_err err = { "no random bits" };
	char noise[WEB_TOKEN_LEN + 1];
	int ok;

	if (w->nobody.hash[0] == '\0' && (token(noise) < 0 ||
	    spool_user_hash(noise, w->nobody.hash, sizeof w->nobody.hash, &err) < 0))
		web_log("cannot make the hash for unknown users: %s", err.msg);
	if (spool_users_read(w->spools[i].sp, &us, &err) < 0)
		web_log("%s: %s", w->spools[i].name, err.msg);
	else
		u = spool_users_find(&us, user);
	ok = spool_user_verify(u != NULL ? u : &w->nobody, password) && u != NULL;
	if (ok)
		w->user = *u;
	spool_users_free(&us);
	return ok;
}

void
login(struct web *w, struct req *q, struct resp *r)
{
	const char *user = field(q, "user"), *pw = field(q, "password");
	char ukey[80], akey[80];
	struct session *s;
	struct json j;
	long wait;
	int i;

	if (user == NULL || pw == NULL || !spool_name_ok(user)) {
		w->logins_failed++;
		if (from_form(q))
			page_login(w, q, r, 401, "Wrong user name or password.");
		else
			refuse(w, q, r, user == NULL || pw == NULL ? 400 : 401, "%s",
			    user == NULL || pw == NULL ? "a login needs user and password" :
			    "wrong user name or password");
		return;
	}
	if ((i = login_spool(w, field(q, "spool"), user)) < 0) {
		refuse(w, q, r, 404, "no such spool");
		return;
	}
	snprintf(ukey, sizeof ukey, "u:%d:%s", i, user);
	snprintf(akey, sizeof akey, "a:%s", q->addr);
	if ((wait = strike_wait(w, ukey, q->now)) < strike_wait(w, akey, q->now))
		wait = strike_wait(w, akey, q->now);
	if (wait > 0) {
		r->retry_after = (int)wait;
		web_log("login of %s from %s: refused, too many failures (wait %lds)", user, q->addr,
		    wait);
		w->refusals++;
		if (from_form(q))
			page_login(w, q, r, 429, "Too many failed logins: wait a moment and try again.");
		else
			json_error(r, 429, "too many failed logins: try again in %ld s", wait);
		return;
	}
	if (!password_ok(w, i, user, pw)) {
		strike_add(w, ukey, q->now);
		strike_add(w, akey, q->now);
		w->logins_failed++;
		w->refusals++;
		web_log("login of %s from %s: wrong user name or password", user, q->addr);
		if (from_form(q))
			page_login(w, q, r, 401, "Wrong user name or password.");
		else
			json_error(r, 401, "wrong user name or password");
		return;
	}
	strike_clear(w, ukey);
	if ((s = session_new(w, user, i, q->now)) == NULL) {
		json_error(r, 503, "cannot make a session: %s", strerror(errno));
		return;
	}
	snprintf(r->cookie, sizeof r->cookie, WEB_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; "
	    "Max-Age=%d%s", s->token, WEB_SESSION_LIFE, w->tls ? "; Secure" : "");
	web_log("login of %s from %s to spool %s", user, q->addr, w->spools[i].name);
	if (from_form(q)) {
		redirect(r, w->user.role == SPOOL_ROLE_ADMIN ? "/orders" : "/jobs");
		return;
	}
	json_init(&j, r->f);
	json_obj(&j);
	json_kstr(&j, "csrf", s->csrf);
	json_kstr(&j, "role", w->user.role == SPOOL_ROLE_ADMIN ? "admin" : "printer");
	json_kstr(&j, "user", user);
	json_kstr(&j, "spool", w->spools[i].name);
	json_end(&j, '}');
	json_done(&j);
}

void
logout(struct web *w, struct req *q, struct resp *r)
{
	web_log("logout of %s from %s", w->s->user, q->addr);
	session_end(w->s);
	w->s = NULL;
	snprintf(r->cookie, sizeof r->cookie, WEB_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; "
	    "Max-Age=0%s", w->tls ? "; Secure" : "");
	if (from_form(q))
		redirect(r, "/");
	else
		r->status = 204;
}
