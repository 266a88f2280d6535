/*
 * Unit tests: spoolweb's request handlers (spoolweb/http.c, session.c, api.c, pages.c,
 * metrics.c), called as main.c calls them, with no socket: logins and their slowing
 * down, sessions and CSRF tokens, who may see and do what, the printer's status as a
 * job.xml edit, files of a job and nothing else, escaping, validators and metrics.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TEST_FIXTURE
#include "fault.h"
#include "web.h"

static struct web w;
static struct web_spool ws;
static char token[WEB_TOKEN_LEN + 1], csrf[WEB_TOKEN_LEN + 1];
static time_t now = 1763900000;

/* A request's answer, kept until the next one. */
static struct resp r;

static void
user(const char *name, enum spool_role role, const char *queue, const char *password)
{
	struct spool_user u;
	struct spool_err err;

	memset(&u, 0, sizeof u);
	snprintf(u.name, sizeof u.name, "%s", name);
	u.role = role;
	if (queue != NULL)
		snprintf(u.queues[u.nqueues++], sizeof u.queues[0], "%s", queue);
	if (spool_user_add(sp, &u, &err) < 0 || spool_user_hash(password, u.hash, sizeof u.hash,
	    &err) < 0 || spool_user_set_hash(sp, name, u.hash, &err) < 0)
		fail_msg("user %s: %s", name, err.msg);
}

/* Stitch and publish order 1001's jobs (press: content; covers: cover, JDF). */
static void
publish(void)
{
	struct spool_pjobs js;
	struct spool_err err;
	int i;

	if (spool_stitch_item(sp, "1001", "1", &err) < 0 ||
	    spool_stitch_item(sp, "1001", "2", &err) < 0 ||
	    spool_pjobs_plan(sp, "1001", 1, &js, &err) < 0)
		fail_msg("%s", err.msg);
	for (i = 0; i < js.n; i++) {
		if (spool_pjob_publish(sp, "1001", &js.v[i], &err) < 0)
			fail_msg("%s: %s", js.v[i].name, err.msg);
		js.v[i].status = SPOOL_JOB_QUEUED;
	}
	if (spool_pjobs_write(sp, "1001", &js, 0) < 0)
		fail_msg("jobs: %s", strerror(errno));
	spool_pjobs_free(&js);
}

static int
setup(void **state)
{
	(void)state;
	setup_order(state);
	publish();
	memset(&w, 0, sizeof w);
	memset(&ws, 0, sizeof ws);
	snprintf(ws.name, sizeof ws.name, "spool");
	snprintf(ws.path, sizeof ws.path, "%s", spool_path(sp));
	ws.sp = sp;
	w.spools = &ws;
	w.nspools = 1;
	user("alice", SPOOL_ROLE_ADMIN, NULL, "alice's secret");
	user("pete", SPOOL_ROLE_PRINTER, "press", "pete's secret");
	user("carl", SPOOL_ROLE_PRINTER, "covers", "carl's secret");
	token[0] = csrf[0] = '\0';
	return 0;
}

static int
teardown(void **state)
{
	free(r.body);
	memset(&r, 0, sizeof r);
	return teardown_spool(state);
}

/*
 * Send a request: "GET /path?query", with the session's cookie and, for "POST", body
 * (JSON unless form is set) and the CSRF token in the header when tok is set.
 */
static int
send_req(const char *method, const char *target, const char *body, int form, const char *tok)
{
	static char path[1024], query[1024], buf[8192];
	struct req q;
	char *qm, *kv, *save = NULL, *eq;

	memset(&q, 0, sizeof q);
	snprintf(path, sizeof path, "%s", target);
	if ((qm = strchr(path, '?')) != NULL) {
		*qm = '\0';
		snprintf(query, sizeof query, "%s", qm + 1);
		for (kv = strtok_r(query, "&", &save); kv != NULL; kv = strtok_r(NULL, "&", &save))
			if ((eq = strchr(kv, '=')) != NULL) {
				*eq = '\0';
				q.args[q.nargs].k = kv;
				q.args[q.nargs++].v = eq + 1;
			}
	}
	q.method = method;
	q.path = path;
	q.now = now;
	q.addr = "127.0.0.1";
	q.cookie = token[0] ? token : NULL;
	q.csrf = tok;
	snprintf(buf, sizeof buf, "%s", body != NULL ? body : "");
	q.body = buf;
	q.blen = strlen(buf);
	if (body != NULL)
		q.ctype = form ? "application/x-www-form-urlencoded" : "application/json";
	free(r.body);
	assert_int_equal(resp_init(&r), 0);
	web_handle(&w, &q, &r);
	resp_finish(&q, &r);
	resp_done(&r);
	return r.status;
}

static int
get(const char *target)
{
	return send_req("GET", target, NULL, 0, NULL);
}

static int
post(const char *target, const char *json)
{
	return send_req("POST", target, json, 0, csrf);
}

static int
has(const char *needle)
{
	return r.body != NULL && strstr(r.body, needle) != NULL;
}

/* Log in with the JSON API; keeps the cookie's token and the CSRF token. */
static int
log_in(const char *name, const char *password)
{
	char body[256], *p;

	snprintf(body, sizeof body, "{\"user\": \"%s\", \"password\": \"%s\"}", name, password);
	if (send_req("POST", "/api/login", body, 0, NULL) != 200)
		return r.status;
	assert_non_null(p = strstr(r.cookie, WEB_COOKIE "="));
	snprintf(token, sizeof token, "%.64s", p + strlen(WEB_COOKIE "="));
	assert_non_null(p = strstr(r.body, "\"csrf\":\""));
	snprintf(csrf, sizeof csrf, "%.64s", p + 8);
	return 200;
}

static int
state_of(const char *id)
{
	int st;

	assert_int_equal(spool_locate(sp, id, &st), 1);
	return st;
}

static const char *
state_name(const char *id)
{
	return spool_conf(sp)->states[state_of(id)].name;
}

static void
test_login(void **state)
{
	(void)state;
	assert_int_equal(log_in("alice", "alice's secret"), 200);
	assert_true(has("\"role\":\"admin\""));
	assert_int_equal(strspn(token, "0123456789abcdef"), WEB_TOKEN_LEN);
	assert_int_equal(strspn(csrf, "0123456789abcdef"), WEB_TOKEN_LEN);
	assert_string_not_equal(token, csrf);
	assert_non_null(strstr(r.cookie, "; HttpOnly"));
	assert_non_null(strstr(r.cookie, "; SameSite=Strict"));
	assert_null(strstr(r.cookie, "Secure"));
	/* and the session works: the orders of the spool */
	assert_int_equal(get("/api/orders"), 200);
	assert_true(has("\"id\":\"1001\""));

	token[0] = '\0';
	assert_int_equal(log_in("alice", "wrong"), 401);
	assert_false(has("csrf"));
	assert_string_equal(r.cookie, "");
	assert_int_equal(log_in("mallory", "alice's secret"), 401);
	assert_int_equal(log_in("../alice", "x"), 401);
	assert_int_equal(send_req("POST", "/api/login", "{\"user\": \"alice\"}", 0, NULL), 400);
	assert_int_equal(send_req("POST", "/api/login", "[1, 2]", 0, NULL), 400);
	assert_int_equal(send_req("POST", "/api/login", "{\"user\": \"alice\", \"password\": "
	    "[\"x\"]}", 0, NULL), 400);
	/* no session: the API says 401, a page goes to the login page */
	assert_int_equal(get("/api/orders"), 401);
	assert_int_equal(get("/orders"), 303);
	assert_string_equal(r.location, "/");
	assert_int_equal(get("/"), 200);
	assert_true(has("<form id=\"login\""));
	token[0] = '\0';
	assert_int_equal(get("/api/jobs"), 401);
	snprintf(token, sizeof token, "%064d", 0);
	assert_int_equal(get("/api/jobs"), 401);
}

static void
test_login_slowed(void **state)
{
	int i;

	(void)state;
	for (i = 0; i < 3; i++)
		assert_int_equal(log_in("alice", "guess"), 401);
	/* the fourth within the second waits, even with the right password */
	assert_int_equal(log_in("alice", "alice's secret"), 429);
	assert_int_equal(r.retry_after, 1);
	now += 2;
	assert_int_equal(log_in("alice", "guess"), 401);
	assert_int_equal(log_in("alice", "alice's secret"), 429);
	assert_int_equal(r.retry_after, 2);
	/* per address too: another user from the same address waits as well */
	assert_int_equal(log_in("pete", "pete's secret"), 429);
	now += 3;
	assert_int_equal(log_in("alice", "alice's secret"), 200);
	/* a quarter of an hour later, the address is forgiven */
	now += 901;
	assert_int_equal(log_in("pete", "wrong"), 401);
	assert_int_equal(log_in("pete", "pete's secret"), 200);
	/* refused for waiting is not a failed login */
	assert_int_equal(w.logins_failed, 5);
}

static void
test_csrf(void **state)
{
	int before;

	(void)state;
	assert_int_equal(log_in("alice", "alice's secret"), 200);
	before = state_of("1001");
	assert_int_equal(send_req("POST", "/api/orders/1001/transitions",
	    "{\"name\": \"cancel\"}", 0, NULL), 403);
	assert_true(has("CSRF"));
	assert_int_equal(send_req("POST", "/api/orders/1001/transitions",
	    "{\"name\": \"cancel\"}", 0, token), 403);
	/* a form's field counts only in a form */
	assert_int_equal(send_req("POST", "/orders/1001/transitions", "name=cancel&csrf=0000", 1,
	    NULL), 403);
	assert_int_equal(state_of("1001"), before);
	assert_int_equal(send_req("POST", "/api/logout", "", 0, NULL), 403);
	assert_int_equal(post("/api/logout", ""), 204);
	assert_non_null(strstr(r.cookie, "Max-Age=0"));
	/* the old cookie is dead */
	assert_int_equal(get("/api/orders"), 401);
}

static void
test_transitions(void **state)
{
	struct spool_move m = { .actor = SPOOL_ACTOR_SYSTEM, .who = "test" };
	struct spool_err err;
	char line[4200];
	int found = 0;
	FILE *f;

	(void)state;
	assert_int_equal(log_in("alice", "alice's secret"), 200);
	assert_string_equal(state_name("1001"), "queued");
	/* only the admin's moves from here are offered */
	assert_int_equal(get("/api/orders/1001"), 200);
	assert_true(has("\"actions\":[{\"name\":\"process\",\"to\":\"processing\"},"
	    "{\"name\":\"fail\",\"to\":\"failed\"},{\"name\":\"cancel\",\"to\":\"cancelled\"}]"));
	assert_true(has("\"history\":["));
	assert_int_equal(spool_move(sp, "1001", -1, spool_conf_state(spool_conf(sp), "unpaid"), &m,
	    &err), 0);
	assert_int_equal(get("/api/orders/1001"), 200);
	assert_true(has("\"actions\":[{\"name\":\"pay\",\"to\":\"queued\"},"
	    "{\"name\":\"cancel\",\"to\":\"cancelled\"}]"));
	assert_int_equal(post("/api/orders/1001/transitions", "{\"name\": \"pay\"}"), 200);
	assert_int_equal(post("/api/orders/1001/transitions", "{\"name\": \"requeue\"}"), 409);
	assert_true(has("does not start from queued"));
	assert_int_equal(post("/api/orders/1001/transitions", "{\"name\": \"nonsense\"}"), 409);
	assert_int_equal(post("/api/orders/1001/transitions", "{}"), 409);
	assert_string_equal(state_name("1001"), "queued");
	assert_int_equal(post("/api/orders/1001/transitions",
	    "{\"name\": \"process\", \"comment\": \"by hand\\nsecond line\"}"), 200);
	assert_true(has("\"state\":\"processing\""));
	assert_string_equal(state_name("1001"), "processing");
	/* the history names the web user, and the comment stays on its line */
	snprintf(line, sizeof line, "%s/spool/orders/1001/history", dir);
	assert_non_null(f = fopen(line, "r"));
	while (fgets(line, sizeof line, f) != NULL)
		if (strstr(line, "\talice via web\tqueued\tprocessing\tby hand\\nsecond line\n"))
			found = 1;
	fclose(f);
	assert_true(found);
	/* unknown orders, and ids that are no ids */
	assert_int_equal(post("/api/orders/9999/transitions", "{\"name\": \"ship\"}"), 404);
	assert_int_equal(post("/api/orders/..%2fspool.conf/transitions", "{\"name\": \"ship\"}"),
	    404);
	assert_int_equal(get("/api/orders/.hidden"), 404);
	/* from a form: a redirect back to the order */
	assert_int_equal(send_req("POST", "/orders/1001/transitions", "name=ship", 1, NULL), 403);
	snprintf(line, sizeof line, "name=ship&comment=on+its+way&csrf=%s", csrf);
	assert_int_equal(send_req("POST", "/orders/1001/transitions", line, 1, NULL), 303);
	assert_string_equal(r.location, "/orders/1001");
	assert_string_equal(state_name("1001"), "shipping");
}

static void
test_filters(void **state)
{
	(void)state;
	assert_int_equal(log_in("alice", "alice's secret"), 200);
	assert_int_equal(get("/api/orders?state=queued"), 200);
	assert_true(has("\"id\":\"1001\""));
	assert_true(has("{\"state\":\"queued\",\"code\":2,\"count\":1,"));
	assert_int_equal(get("/api/orders?state=shipping"), 200);
	assert_false(has("\"id\":\"1001\""));
	/* the counts stay the whole spool's */
	assert_true(has("{\"state\":\"queued\",\"code\":2,\"count\":1,"));
	assert_int_equal(get("/api/orders?since=2040-01-01"), 200);
	assert_false(has("\"id\":\"1001\""));
	assert_int_equal(get("/api/orders?until=2000-01-01"), 200);
	assert_false(has("\"id\":\"1001\""));
	assert_int_equal(get("/api/orders?since=2000-01-01&until=2040-01-01"), 200);
	assert_true(has("\"id\":\"1001\""));
	assert_int_equal(get("/api/orders?q=EXAMPLE"), 200);
	assert_true(has("\"id\":\"1001\""));
	assert_int_equal(get("/api/orders?q=no-such-customer"), 200);
	assert_false(has("\"id\":\"1001\""));
	assert_true(has("\"more\":0"));
}

static void
test_remove(void **state)
{
	int st;

	(void)state;
	assert_int_equal(log_in("alice", "alice's secret"), 200);
	assert_int_equal(post("/api/orders/1001/remove", "{\"comment\": \"a test order\"}"), 200);
	assert_int_equal(spool_locate(sp, "1001", &st), 0);
	assert_int_equal(post("/api/orders/1001/remove", "{}"), 404);
}

static void
test_printer(void **state)
{
	char path[4200], *p;
	struct stat st;
	int before;

	(void)state;
	assert_int_equal(log_in("pete", "pete's secret"), 200);
	assert_true(has("\"role\":\"printer\""));
	/* no orders for a printer, nor the admin's pages */
	assert_int_equal(get("/api/orders"), 403);
	assert_int_equal(get("/api/orders/1001"), 403);
	assert_int_equal(get("/orders"), 403);
	assert_true(has("id=\"error\""));
	before = state_of("1001");
	assert_int_equal(post("/api/orders/1001/transitions", "{\"name\": \"cancel\"}"), 403);
	assert_int_equal(state_of("1001"), before);
	/* its queue's jobs only */
	assert_int_equal(get("/api/jobs"), 200);
	assert_true(has("\"id\":\"1001-1-press\""));
	assert_false(has("covers"));
	assert_int_equal(get("/api/jobs/1001-1-covers/files/1001-1-cover.pdf"), 403);
	assert_int_equal(get("/jobs/1001-1-covers"), 403);
	assert_int_equal(get("/api/jobs/1001-9-press/files/job.xml"), 404);
	/* a file of the job, and nothing else */
	assert_int_equal(get("/api/jobs/1001-1-press/files/job.xml"), 200);
	assert_true(r.fd >= 0);
	assert_string_equal(r.ctype, "application/xml");
	snprintf(path, sizeof path, "%s/spool/hot/press/1001-1-press/job.xml", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(r.size, st.st_size);
	close(r.fd);
	assert_int_equal(get("/api/jobs/1001-1-press/files/1001-1-content.pdf"), 200);
	assert_string_equal(r.ctype, "application/pdf");
	assert_non_null(strstr(r.disposition, "attachment"));
	close(r.fd);
	assert_int_equal(get("/api/jobs/1001-1-press/files/..%2f..%2fspool.conf"), 404);
	assert_int_equal(get("/api/jobs/1001-1-press/files/spool.conf"), 404);
	assert_int_equal(get("/api/jobs/1001-1-press/files/.job.xml.tmp"), 404);
	/* a symlink planted in the hot folder is not followed */
	if (asprintf(&p, "%s/spool/hot/press/1001-1-press/secret.pdf", dir) < 0)
		abort();
	assert_int_equal(symlink("../../../spool.conf", p), 0);
	free(p);
	assert_int_equal(get("/api/jobs/1001-1-press/files/secret.pdf"), 404);
	assert_int_equal(get("/api/jobs/1001-1-press/files/1001-1-content.pdf"), 200);
	close(r.fd);
}

/* OrderStatus in the job's job.xml, as spoold will read it. */
static int
jobxml_status(char *msg, size_t len)
{
	struct spool_jobxml jx;
	struct spool_err err;
	char path[4200];
	int fd;

	snprintf(path, sizeof path, "%s/spool/hot/press/1001-1-press", dir);
	assert_true((fd = open(path, O_RDONLY | O_DIRECTORY)) >= 0);
	if (spool_jobxml_read(fd, "job.xml", &jx, &err) < 0)
		fail_msg("%s", err.msg);
	close(fd);
	snprintf(msg, len, "%s", jx.message);
	return jx.status;
}

static void
test_status(void **state)
{
	char msg[SPOOL_JOB_MSG_MAX + 1], body[256], path[4400];

	(void)state;
	assert_int_equal(log_in("pete", "pete's secret"), 200);
	/* the printer's rules: Queued goes to Processing, not to Shipping */
	assert_int_equal(post("/api/jobs/1001-1-press/status", "{\"status\": 3}"), 409);
	assert_int_equal(jobxml_status(msg, sizeof msg), SPOOL_JOB_QUEUED);
	assert_int_equal(post("/api/jobs/1001-1-press/status", "{\"status\": 10}"), 409);
	assert_true(has("OrderStatusMessage"));
	assert_int_equal(post("/api/jobs/1001-1-press/status", "{\"status\": \"x\"}"), 400);
	assert_int_equal(post("/api/jobs/1001-1-covers/status", "{\"status\": 15}"), 403);
	assert_int_equal(post("/api/jobs/1001-1-press/status",
	    "{\"status\": 15, \"message\": \"on press 2\\r\\nat 3 pm\"}"), 200);
	assert_int_equal(jobxml_status(msg, sizeof msg), SPOOL_JOB_PROCESSING);
	assert_string_equal(msg, "on press 2\nat 3 pm");
	/*
	 * The file says 15 and spoold has not read it yet: the job's page shows what the
	 * file says, and Shipping from the form goes on from there.
	 */
	assert_int_equal(get("/jobs/1001-1-press"), 200);
	assert_true(has("id=\"status\" data-code=\"15\""));
	snprintf(body, sizeof body, "status=3&message=&csrf=%s", csrf);
	assert_int_equal(send_req("POST", "/jobs/1001-1-press/status", body, 1, NULL), 303);
	assert_int_equal(jobxml_status(msg, sizeof msg), SPOOL_JOB_SHIPPING);
	/* and from Shipping the rules allow no way back to Processing */
	snprintf(body, sizeof body, "status=15&message=&csrf=%s", csrf);
	assert_int_equal(send_req("POST", "/jobs/1001-1-press/status", body, 1, NULL), 409);
	assert_true(has("id=\"error\""));
	assert_int_equal(jobxml_status(msg, sizeof msg), SPOOL_JOB_SHIPPING);
	/* a status in the file that the rules refuse (Queued to Shipping) is not the job's */
	snprintf(path, sizeof path, "sed -i 's|<OrderStatus>2<|<OrderStatus>3<|' "
	    "'%s/spool/hot/press/1001-2-press/job.xml'", dir);
	assert_int_equal(sh("%s", path), 0);
	assert_int_equal(sh("grep -q '<OrderStatus>3<' '%s/spool/hot/press/1001-2-press/job.xml'",
	    dir), 0);
	assert_int_equal(get("/jobs/1001-2-press"), 200);
	assert_true(has("id=\"status\" data-code=\"2\""));
}

static void
test_pages(void **state)
{
	char etag[40];

	(void)state;
	assert_int_equal(log_in("alice", "alice's secret"), 200);
	assert_int_equal(get("/"), 303);
	assert_string_equal(r.location, "/orders");
	assert_int_equal(get("/orders?q=%3Cscript%3E"), 200);
	assert_int_equal(get("/orders?q=<script>alert(1)</script>"), 200);
	assert_false(has("<script>alert"));
	assert_true(has("&lt;script&gt;alert(1)&lt;/script&gt;"));
	assert_true(has("<meta name=\"csrf-token\""));
	assert_true(has(csrf));
	assert_int_equal(get("/orders?state=nonsense"), 400);
	assert_int_equal(get("/orders?since=yesterday"), 400);
	assert_int_equal(get("/orders/1001"), 200);
	assert_true(has("<span id=\"state\">queued</span>"));
	assert_true(has("form class=\"transition\" data-name=\"cancel\""));
	assert_true(has("form class=\"transition\" data-name=\"process\""));
	assert_false(has("data-name=\"requeue\""));
	/* the same page again: 304 with its validator */
	snprintf(etag, sizeof etag, "%s", r.etag);
	assert_int_equal(etag[0], '"');
	{
		struct req q;

		memset(&q, 0, sizeof q);
		q.method = "GET";
		q.path = "/orders/1001";
		q.now = now;
		q.addr = "127.0.0.1";
		q.cookie = token;
		q.etag = etag;
		q.body = (char[1]){ 0 };
		free(r.body);
		assert_int_equal(resp_init(&r), 0);
		web_handle(&w, &q, &r);
		resp_finish(&q, &r);
		resp_done(&r);
		assert_int_equal(r.status, 304);
	}
	assert_int_equal(get("/jobs"), 200);
	assert_true(has("data-job=\"1001-1-press\""));
	assert_true(has("data-job=\"1001-1-covers\""));
	assert_int_equal(get("/jobs/1001-1-press"), 200);
	assert_true(has("href=\"/api/jobs/1001-1-press/files/1001-1-content.pdf\""));
	assert_int_equal(get("/static/app.js"), 200);
	assert_string_equal(r.ctype, "text/javascript; charset=utf-8");
	assert_int_equal(get("/static/nothing.js"), 404);
	assert_int_equal(get("/nothing"), 404);
	assert_int_equal(send_req("DELETE", "/api/orders/1001", NULL, 0, NULL), 405);
}

static void
test_user_removed(void **state)
{
	struct spool_err err;

	(void)state;
	assert_int_equal(log_in("pete", "pete's secret"), 200);
	assert_int_equal(get("/api/jobs"), 200);
	assert_int_equal(spool_user_del(sp, "pete", &err), 0);
	assert_int_equal(get("/api/jobs"), 401);
	/* a session that expires: used last over 8 hours ago */
	assert_int_equal(log_in("alice", "alice's secret"), 200);
	now += WEB_SESSION_IDLE + 1;
	assert_int_equal(get("/api/orders"), 401);
}

/* Requests no page makes: each gets a plain refusal, and nothing moves. */
static void
test_hostile(void **state)
{
	static const char *const paths[] = { "//", "/api//orders", "/api/orders/1001/transitions/x/y",
		"/api/jobs/../files/x", "/api/jobs/1001-1-press/files/", "/static/../spool.conf",
		"/orders/1001%00/remove", "/api", "/api/", "/jobs/-/", "/jobs/1001-", "/jobs/-1-press",
		"/api/jobs/1001--press/files/job.xml" };
	char *big, *deep;
	size_t i, n = 8000;
	int st = state_of("1001");

	(void)state;
	assert_int_equal(log_in("alice", "alice's secret"), 200);
	for (i = 0; i < sizeof paths / sizeof *paths; i++) {
		get(paths[i]);
		assert_true(r.status == 404 || r.status == 400 || r.status == 403);
		post(paths[i], "{}");
		assert_true(r.status == 404 || r.status == 400 || r.status == 403 || r.status == 409);
	}
	assert_non_null(big = malloc(4000));
	memset(big, 'a', 3999);
	big[0] = '/';
	big[3999] = '\0';
	assert_int_equal(get(big), 404);
	free(big);
	/* bodies that are no JSON object of strings and numbers */
	assert_int_equal(post("/api/orders/1001/transitions", "{"), 400);
	assert_int_equal(post("/api/orders/1001/transitions", "{\"name\": 1e999}"), 400);
	assert_int_equal(post("/api/orders/1001/transitions", "{\"name\": null}"), 400);
	assert_int_equal(post("/api/orders/1001/transitions", "{\"name\": \"a\", \"name\": \"b\"}"),
	    400);
	assert_int_equal(post("/api/orders/1001/transitions", "{\"name\": \"can\\u0000cel\"}"), 400);
	assert_non_null(deep = malloc(2 * n + 1));
	memset(deep, '[', n);
	memset(deep + n, ']', n);
	deep[2 * n] = '\0';
	assert_int_equal(post("/api/orders/1001/transitions", deep), 400);
	free(deep);
	/* a form with more fields than kept, and a field without a value */
	assert_int_equal(send_req("POST", "/orders/1001/transitions", "a=1&b=2&c=3&d=4&e=5&f=6&g=7"
	    "&h=8&i=9&j=10&k=11&l=12&m=13&n=14&o=15&p=16&csrf=x&name=cancel", 1, NULL), 403);
	assert_int_equal(send_req("POST", "/orders/1001/transitions", "name&csrf", 1, NULL), 403);
	assert_int_equal(state_of("1001"), st);
}

static void
test_metrics(void **state)
{
	(void)state;
	assert_int_equal(get("/metrics"), 200);
	assert_string_equal(r.ctype, "text/plain; version=0.0.4; charset=utf-8");
	assert_true(has("# TYPE spool_orders gauge\n"));
	assert_true(has("spool_orders{spool=\"spool\",state=\"queued\"} 1\n"));
	assert_true(has("spool_orders{spool=\"spool\",state=\"uploading\"} 0\n"));
	assert_true(has("spool_spoold_up{spool=\"spool\"} 0\n"));
	assert_true(has("spool_nodes{spool=\"spool\"} 0\n"));
	assert_true(has("spool_outbox_mails{spool=\"spool\",folder=\"new\"} 0\n"));
	assert_false(has("1001"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_login, setup, teardown),
		cmocka_unit_test_setup_teardown(test_login_slowed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csrf, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transitions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_printer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_user_removed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
	};

	spool_domain_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
