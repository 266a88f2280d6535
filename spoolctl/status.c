/*
 * spoolctl status: who runs the spool.  The leader (the spoold that holds run/leader),
 * and on a shared spool every node with its last heartbeat and the orders it has
 * claimed.  It reads files only, so it works from any node.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "spoolctl.h"

#define NODES_MAX 64

struct node_view {
	struct spool_node n;
	int nclaims;
	char (*claims)[SPOOL_ID_MAX + 1];
};

struct status {
	struct node_view v[NODES_MAX];
	int n;
};

static struct node_view *
view_of(struct status *st, const char *name)
{
	int i;

	for (i = 0; i < st->n; i++)
		if (strcmp(st->v[i].n.name, name) == 0)
			return &st->v[i];
	if (st->n == NODES_MAX)
		return NULL;
	memset(&st->v[st->n], 0, sizeof st->v[0]);
	snprintf(st->v[st->n].n.name, sizeof st->v[0].n.name, "%s", name);
	return &st->v[st->n++];
}

static int
node_seen(void *arg, const struct spool_node *n)
{
	struct node_view *v = view_of(arg, n->name);

	if (v != NULL)
		v->n = *n;
	return 0;
}

static int
claim_seen(void *arg, const char *id, const char *node, time_t deadline)
{
	struct node_view *v = view_of(arg, node);
	void *grown;

	(void)deadline;
	if (v == NULL)
		return 0;
	if ((grown = realloc(v->claims, (size_t)(v->nclaims + 1) * sizeof v->claims[0])) == NULL)
		die(SPOOL_EX_FAIL, "out of memory");
	v->claims = grown;
	snprintf(v->claims[v->nclaims++], sizeof v->claims[0], "%s", id);
	return 0;
}

static int
by_name(const void *a, const void *b)
{
	return strcmp(((const struct node_view *)a)->n.name, ((const struct node_view *)b)->n.name);
}

static void
print_json(const struct status *st, int led, const char *leader, long pid, time_t now)
{
	struct json j;
	int i, k;

	json_init(&j, stdout);
	json_obj(&j);
	json_key(&j, "leader");
	if (led)
		json_str(&j, leader);
	else
		json_nil(&j);
	json_kint_or_null(&j, "leader_pid", led && pid > 0, pid);
	json_key(&j, "nodes");
	json_arr(&j);
	for (i = 0; i < st->n; i++) {
		const struct node_view *v = &st->v[i];
		json_obj(&j);
		json_kstr(&j, "name", v->n.name);
		json_kint_or_null(&j, "pid", v->n.beat > 0, v->n.pid);
		json_kint_or_null(&j, "heartbeat_age", v->n.beat > 0, (long long)(now - v->n.time));
		json_key(&j, "silent");
		json_bool(&j, v->n.beat == 0 || now - v->n.time >= SPOOL_NODE_SILENT);
		json_key(&j, "claims");
		json_arr(&j);
		for (k = 0; k < v->nclaims; k++)
			json_str(&j, v->claims[k]);
		json_end(&j, ']');
		json_end(&j, '}');
	}
	json_end(&j, ']');
	json_end(&j, '}');
	json_done(&j);
}

int
cmd_status(int argc, char **argv)
{
	char leader[SPOOL_NODE_MAX + 1] = "";
	struct status st = { .n = 0 };
	time_t now = time(NULL);
	struct spool *sp;
	long pid = 0;
	int json = 0, led, i;

	if (json_flag(argc, argv, &json) != argc)
		usage();
	sp = open_spool();
	if ((led = spool_leader_read(sp, leader, &pid)) < 0)
		die(excode(errno), "cannot read %s/%s: %s", spooldir, SPOOL_NAME(SPOOL_F_LEADER, NULL),
		    strerror(errno));
	if (spool_nodes_read(sp, node_seen, &st) < 0 || spool_claims_read(sp, claim_seen, &st) < 0)
		die(excode(errno), "cannot read %s/run: %s", spooldir, strerror(errno));
	qsort(st.v, (size_t)st.n, sizeof st.v[0], by_name);
	if (json)
		print_json(&st, led, leader, pid, now);
	else {
		if (led)
			printf("leader: %s (pid %ld)\n", leader, pid);
		else
			printf("leader: none (no spoold runs)\n");
		for (i = 0; i < st.n; i++) {
			const struct node_view *v = &st.v[i];
			if (v->n.beat > 0)
				printf("node %s: heartbeat %llds ago, %d claim%s%s\n", v->n.name,
				    (long long)(now - v->n.time), v->nclaims, v->nclaims == 1 ? "" : "s",
				    now - v->n.time >= SPOOL_NODE_SILENT ? ", silent" : "");
			else
				printf("node %s: no heartbeat, %d claim%s, silent\n", v->n.name, v->nclaims,
				    v->nclaims == 1 ? "" : "s");
		}
	}
	for (i = 0; i < st.n; i++)
		free(st.v[i].claims);
	close_spool();
	return 0;
}
