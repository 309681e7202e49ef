/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checks of the libnvbind API beyond the example, built by tests/e2e/api.bats against the
 * installed library (pkg-config nvbind) and only through nvbind.h's accessors:
 *
 *   check spec ROOT json|yaml [--naming WORDS] [--caps WORDS] [--kind K] [--hook PATH]
 *   check apply ROOT CONFIG [--string] [--device NAME]... [--visible V] [--caps WORDS]
 *               [--spec-dir DIR]... [--no-spec-dirs] [--flags N] [--bundle DIR]
 *   check errors ROOT TMP   every misuse gives its error code, nothing crashes
 *   check log ROOT          the callback gets the library's messages, and stops getting them
 *   check threads ROOT CONFIG N [SPEC_DIR]   N threads with a host each: the same spec and
 *                                            config
 *
 * Output: the spec or the edited config on stdout; failures on stderr with exit status 1.
 */
#define NVBIND_OPAQUE
#include <nvbind/nvbind.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...)                                                                         \
	do {                                                                                     \
		if (!(cond)) {                                                                   \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                     \
			fprintf(stderr, __VA_ARGS__);                                            \
			fputc('\n', stderr);                                                     \
			failures++;                                                              \
		}                                                                                \
	} while (0)

static int die(const char *what, const struct nvb_error *err)
{
	fprintf(stderr, "%s: %s [%s] hint: %s\n", what, err->message, nvb_errc_name(err->code),
		err->hint);
	return 1;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return NULL;
	char *data = NULL;
	size_t cap = 0;
	ssize_t n = getdelim(&data, &cap, '\0', f);
	fclose(f);
	if (n < 0) {
		free(data);
		return NULL;
	}
	return data;
}

/* ------------------------------------------------------------------- spec */

static int cmd_spec(const char *root, int argc, char **argv)
{
	struct nvb_cdi_options o = {.size = sizeof(o)};
	struct nvb_error err;
	o.format = strcmp(argv[0], "yaml") == 0 ? NVB_SPEC_YAML : NVB_SPEC_JSON;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--naming") && nvb_naming_parse(argv[i + 1], &o.naming, &err) < 0)
			return die("--naming", &err);
		if (!strcmp(argv[i], "--caps") && nvb_caps_parse(argv[i + 1], &o.caps, &err) < 0)
			return die("--caps", &err);
		if (!strcmp(argv[i], "--kind"))
			o.kind = argv[i + 1];
		if (!strcmp(argv[i], "--hook"))
			o.hook_path = argv[i + 1];
	}
	struct nvb_host *host = nvb_host_open(root, &err);
	if (!host)
		return die("host", &err);
	/* no inventory: the library discovers as `nvbind cdi generate` does */
	char *text = nvb_cdi_generate_string(host, NULL, &o, &err);
	nvb_host_free(host);
	if (!text)
		return die("generate", &err);
	fputs(text, stdout);
	nvb_free(text);
	return 0;
}

/* ------------------------------------------------------------------ apply */

static int cmd_apply(const char *root, const char *config, int argc, char **argv)
{
	const char *devices[16], *dirs[16];
	struct nvb_apply_options o = {.size = sizeof(o), .devices = devices, .spec_dirs = dirs};
	bool as_string = false, no_dirs = false;
	for (int i = 0; i < argc; i++) {
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--string"))
			as_string = true;
		else if (!strcmp(argv[i], "--no-spec-dirs"))
			no_dirs = true;
		else if (!next)
			break;
		else if (!strcmp(argv[i], "--device") && o.n_devices < 16)
			devices[o.n_devices++] = argv[++i];
		else if (!strcmp(argv[i], "--spec-dir") && o.n_spec_dirs < 16)
			dirs[o.n_spec_dirs++] = argv[++i];
		else if (!strcmp(argv[i], "--visible"))
			o.visible_devices = argv[++i];
		else if (!strcmp(argv[i], "--caps"))
			o.capabilities = argv[++i];
		else if (!strcmp(argv[i], "--flags"))
			o.flags = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--bundle"))
			o.bundle = argv[++i];
	}
	if (!o.n_spec_dirs && !no_dirs)
		o.spec_dirs = NULL; /* the default directories inside the root */
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(root, &err);
	if (!host)
		return die("host", &err);
	char *edited = NULL;
	if (as_string) {
		char *text = read_file(config);
		edited = text ? nvb_oci_apply(host, text, &o, &err) : NULL;
		free(text);
	} else {
		edited = nvb_oci_apply_file(host, config, &o, &err);
	}
	nvb_host_free(host);
	if (!edited)
		return die("apply", &err);
	printf("%s\n", edited);
	nvb_free(edited);
	return 0;
}

/* ----------------------------------------------------------------- errors */

static void expect(int rc_or_null_failed, const struct nvb_error *err, enum nvb_errc code,
		   const char *what)
{
	CHECK(rc_or_null_failed, "%s: succeeded", what);
	CHECK(err->code == code, "%s: error %s, expected %s (%s)", what, nvb_errc_name(err->code),
	      nvb_errc_name(code), err->message);
	CHECK(err->message[0], "%s: no message", what);
}

static int cmd_errors(const char *root, const char *tmp)
{
	struct nvb_error err;
	struct nvb_host *host = nvb_host_open(root, &err);
	if (!host)
		return die("host", &err);
	const char *cfg = "{\"ociVersion\":\"1.0.2\",\"process\":{\"env\":[]},\"root\":{\"path\":\"r\"}}";

	/* option structs: a forgotten size, a newer caller's unknown field, its zero tail */
	struct nvb_apply_options o = {0};
	expect(!nvb_oci_apply(host, cfg, &o, &err), &err, NVB_ERR_USAGE, "size 0");
	struct {
		struct nvb_apply_options o;
		unsigned long newer;
	} big = {.o = {.size = sizeof(big)}, .newer = 1};
	expect(!nvb_oci_apply(host, cfg, &big.o, &err), &err, NVB_ERR_UNSUPPORTED, "unknown field set");
	big.newer = 0;
	char *ok = nvb_oci_apply(host, cfg, &big.o, &err);
	CHECK(ok && err.code == NVB_OK, "zero tail refused: %s", err.message);
	CHECK(ok && !strstr(ok, "nvidia"), "no request, yet edited: %s", ok);
	nvb_free(ok);
	/* an older caller's shorter struct: the fields it lacks are unset */
	struct nvb_apply_options old = {.size = offsetof(struct nvb_apply_options, capabilities)};
	ok = nvb_oci_apply(host, cfg, &old, &err);
	CHECK(ok != NULL, "shorter struct refused: %s", err.message);
	nvb_free(ok);

	/* configs and requests */
	expect(!nvb_oci_apply(host, "{\"a\":", NULL, &err), &err, NVB_ERR_PARSE, "bad JSON");
	expect(!nvb_oci_apply(host, "[1]", NULL, &err), &err, NVB_ERR_INVALID, "not an object");
	expect(!nvb_oci_apply(host, NULL, NULL, &err), &err, NVB_ERR_USAGE, "NULL config");
	expect(!nvb_oci_apply(NULL, cfg, NULL, &err), &err, NVB_ERR_USAGE, "NULL host");
	const char *bad[] = {"gpu0"};
	struct nvb_apply_options req = {.size = sizeof(req), .devices = bad, .n_devices = 1};
	expect(!nvb_oci_apply(host, cfg, &req, &err), &err, NVB_ERR_USAGE, "unqualified name");
	const char *missing[] = {"nvidia.com/gpu=7"};
	req.devices = missing;
	expect(!nvb_oci_apply(host, cfg, &req, &err), &err, NVB_ERR_NOT_FOUND, "no such GPU");
	req.n_devices = 0;
	req.visible_devices = "0";
	req.capabilities = "compute,warp-drive";
	expect(!nvb_oci_apply(host, cfg, &req, &err), &err, NVB_ERR_INVALID, "unknown capability");
	req.visible_devices = "bogus";
	req.capabilities = NULL;
	expect(!nvb_oci_apply(host, cfg, &req, &err), &err, NVB_ERR_INVALID, "bad visible devices");
	req.visible_devices = NULL;
	req.flags = 0x80;
	expect(!nvb_oci_apply(host, cfg, &req, &err), &err, NVB_ERR_USAGE, "unknown flag");
	char link[4096];
	snprintf(link, sizeof(link), "%s/link.json", tmp);
	if (symlink("/etc/hostname", link) == 0 || errno == EEXIST)
		expect(!nvb_oci_apply_file(host, link, NULL, &err), &err, NVB_ERR_SECURITY,
		       "config.json through a symbolic link");
	expect(!nvb_oci_apply_file(host, "/nonexistent/config.json", NULL, &err), &err,
	       NVB_ERR_NOT_FOUND, "no config file");

	/* spec generation */
	struct nvb_cdi_options c = {.size = sizeof(c), .kind = "nvidia"};
	expect(!nvb_cdi_generate_string(host, NULL, &c, &err), &err, NVB_ERR_USAGE, "bad kind");
	c.kind = NULL;
	c.format = (enum nvb_spec_format)7;
	expect(!nvb_cdi_generate_string(host, NULL, &c, &err), &err, NVB_ERR_USAGE, "bad format");
	c.format = NVB_SPEC_JSON;
	c.naming = 0x100;
	expect(!nvb_cdi_generate_string(host, NULL, &c, &err), &err, NVB_ERR_USAGE, "bad naming");
	unsigned naming;
	expect(nvb_naming_parse("index,serial", &naming, &err) < 0, &err, NVB_ERR_USAGE, "naming word");
	char path[4096];
	snprintf(path, sizeof(path), "%s/spec.yml", tmp);
	expect(nvb_cdi_generate_file(host, NULL, NULL, path, &err) < 0, &err, NVB_ERR_USAGE, ".yml");
	snprintf(path, sizeof(path), "%s/no/such/dir/spec.json", tmp);
	expect(nvb_cdi_generate_file(host, NULL, NULL, path, &err) < 0, &err, NVB_ERR_NOT_FOUND,
	       "missing directory");
	expect(!nvb_host_open("/nonexistent-root", &err), &err, NVB_ERR_NOT_FOUND, "no root");

	/* the NULL error pointer is allowed; accessors take NULL and indexes out of range */
	CHECK(!nvb_oci_apply(host, "{", NULL, NULL), "bad JSON without err");
	struct nvb_inventory *inv = nvb_inventory_probe(host, NVB_PROBE_NO_NVML, &err);
	CHECK(inv != NULL, "probe: %s", err.message);
	size_t n = nvb_inventory_gpu_count(inv);
	CHECK(n > 0 && nvb_inventory_gpu(inv, n) == NULL, "gpu index out of range");
	CHECK(nvb_gpu_uuid(NULL) == NULL && nvb_gpu_minor(NULL) == -1 && nvb_gpu_mig(NULL, 0) == NULL,
	      "NULL gpu");
	CHECK(nvb_inventory_gpu_count(NULL) == 0 && nvb_inventory_file(inv, (size_t)-1) == NULL,
	      "NULL inventory");
	CHECK(nvb_problem_code(nvb_inventory_problem(inv, 1000)) == NULL, "problem out of range");
	const struct nvb_device_node *node = nvb_gpu_node(nvb_inventory_gpu(inv, 0), 0);
	CHECK(node && !strcmp(nvb_device_node_path(node), "/dev/nvidia0") && nvb_device_node_major(node) == 195,
	      "gpu 0 node");
	CHECK(nvb_inventory_file_count(inv) > 0 &&
		      nvb_driver_file_path(nvb_inventory_file(inv, 0))[0] == '/',
	      "driver files");
	nvb_inventory_free(inv);
	nvb_host_free(host);
	if (!failures)
		printf("errors: all checks passed\n");
	return failures ? 1 : 0;
}

/* -------------------------------------------------------------------- log */

struct counter {
	unsigned n;
	char last[512];
};

static void count_message(enum nvb_log_level level, const char *module, const char *message,
			  void *user_data)
{
	struct counter *c = user_data;
	c->n++;
	snprintf(c->last, sizeof(c->last), "%d %s %s", (int)level, module, message);
}

static int cmd_log(const char *root)
{
	struct counter c = {0};
	struct nvb_error err;
	nvb_log_set_callback(count_message, &c);
	nvb_log_set_level(NVB_LOG_INFO);
	struct nvb_host *host = nvb_host_open(root, &err);
	const char *devices[] = {"nvidia.com/gpu=0"};
	const char *none[] = {NULL};
	/* no spec directory: the spec is generated in memory, which is logged at info */
	struct nvb_apply_options o = {.size = sizeof(o), .devices = devices, .n_devices = 1,
				      .spec_dirs = none, .n_spec_dirs = 0};
	char *edited = host ? nvb_oci_apply(host, "{\"process\":{\"env\":[]}}", &o, &err) : NULL;
	CHECK(edited != NULL, "apply: %s", err.message);
	CHECK(c.n > 0 && strstr(c.last, "generated one in memory"), "no message: %u '%s'", c.n, c.last);
	nvb_free(edited);
	unsigned before = c.n;
	nvb_log_set_level(NVB_LOG_ERROR); /* below the level: not even formatted */
	edited = nvb_oci_apply(host, "{\"process\":{\"env\":[]}}", &o, &err);
	CHECK(c.n == before, "message below the level");
	nvb_free(edited);
	nvb_log_set_level(NVB_LOG_INFO);
	nvb_log_set_callback(NULL, NULL); /* back to stderr */
	edited = nvb_oci_apply(host, "{\"process\":{\"env\":[]}}", &o, &err);
	CHECK(c.n == before, "callback called after its removal");
	nvb_free(edited);
	nvb_host_free(host);
	if (!failures)
		printf("log: %u message(s), last: %s\n", before, c.last);
	return failures ? 1 : 0;
}

/* ---------------------------------------------------------------- threads */

struct job {
	const char *root, *config, *spec_dir;
	char *spec, *edited;
	struct nvb_error err;
};

/* The thread rule: each thread its own host; nothing shared but the (global) log settings. */
static void *run_job(void *arg)
{
	struct job *j = arg;
	struct nvb_host *host = nvb_host_open(j->root, &j->err);
	const char *devices[] = {"nvidia.com/gpu=0"}, *dirs[] = {j->spec_dir};
	struct nvb_apply_options o = {.size = sizeof(o), .devices = devices, .n_devices = 1,
				      .spec_dirs = j->spec_dir ? dirs : NULL, .n_spec_dirs = 1};
	for (int round = 0; host && round < 5; round++) {
		nvb_free(j->spec);
		nvb_free(j->edited);
		j->spec = nvb_cdi_generate_string(host, NULL, NULL, &j->err);
		j->edited = j->spec ? nvb_oci_apply_file(host, j->config, &o, &j->err) : NULL;
		if (!j->edited)
			break;
	}
	nvb_host_free(host);
	return NULL;
}

static int cmd_threads(const char *root, const char *config, int n, const char *spec_dir)
{
	struct job jobs[32] = {{0}};
	pthread_t tids[32];
	n = n < 1 ? 1 : n > 32 ? 32 : n;
	for (int i = 0; i < n; i++) {
		jobs[i] = (struct job){.root = root, .config = config, .spec_dir = spec_dir};
		pthread_create(&tids[i], NULL, run_job, &jobs[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(tids[i], NULL);
	for (int i = 0; i < n; i++) {
		CHECK(jobs[i].spec && jobs[i].edited, "thread %d: %s", i, jobs[i].err.message);
		CHECK(jobs[i].spec && jobs[0].spec && !strcmp(jobs[i].spec, jobs[0].spec), "thread %d: another spec", i);
		CHECK(jobs[i].edited && jobs[0].edited && !strcmp(jobs[i].edited, jobs[0].edited),
		      "thread %d: another config", i);
	}
	for (int i = 0; i < n; i++) {
		nvb_free(jobs[i].spec);
		nvb_free(jobs[i].edited);
	}
	if (!failures)
		printf("threads: %d threads, the same spec and config\n", n);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && !strcmp(argv[1], "spec"))
		return cmd_spec(argv[2], argc - 3, argv + 3);
	if (argc >= 4 && !strcmp(argv[1], "apply"))
		return cmd_apply(argv[2], argv[3], argc - 4, argv + 4);
	if (argc == 4 && !strcmp(argv[1], "errors"))
		return cmd_errors(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "log"))
		return cmd_log(argv[2]);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "threads"))
		return cmd_threads(argv[2], argv[3], atoi(argv[4]), argc == 6 ? argv[5] : NULL);
	fprintf(stderr, "usage: see the comment at the top of tests/api/check.c\n");
	return 2;
}
