/* SPDX-License-Identifier: Apache-2.0 */
/* doctor: the checks on small synthetic host roots (a temporary directory holding only the
 * files a check reads), the table of checks and the report's JSON. Checks that read the
 * inventory get one built by hand where a real probe would need a whole driver installation;
 * the driver-missing cases use the real probe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "config/config.h"
#include "doctor/doctor.h"

#define VERSION "550.54.14"
#define OLD_VERSION "535.104.05"
#define LIBDIR "/usr/lib/x86_64-linux-gnu"

/* One synthetic root with its host, configuration, inventory and report. */
struct fx {
	char root[64];
	struct nvb_host *host;
	struct nvb_config *cfg;
	struct nvb_inventory inv; /* built by hand: no nvb_inventory_free */
	struct nvb_gpu gpu;
	struct nvb_doctor_report *report;
	struct nvb_doctor_ctx ctx;
};

static void put(struct fx *f, const char *rel, const char *text, mode_t mode)
{
	char path[512];
	snprintf(path, sizeof(path), "%s%s", f->root, rel);
	for (char *p = path + strlen(f->root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		*p = '/';
	}
	if (!text) { /* a directory */
		assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
		return;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(fchmod(fd, mode), 0); /* also when the file was there */
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	snprintf(f->root, sizeof(f->root), "/tmp/nvb-doctor-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	struct nvb_error err;
	assert_non_null(f->host = nvb_host_open(f->root, &err));
	assert_non_null(f->cfg = nvb_config_defaults(&err));
	assert_non_null(f->report = calloc(1, sizeof(*f->report)));
	f->ctx = (struct nvb_doctor_ctx){
	    .host = f->host, .cfg = f->cfg, .inv = &f->inv, .report = f->report};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->root);
	assert_int_equal(system(cmd), 0);
	nvb_doctor_report_free(f->report);
	nvb_config_free(f->cfg);
	nvb_host_free(f->host);
	free(f);
	return 0;
}

/* A driver of VERSION with one GPU (minor 0, no nodes) and no problems. */
static void driver(struct fx *f)
{
	f->inv.driver.version = (char *)VERSION;
	f->inv.driver.kernel_module = (char *)"open";
	f->gpu = (struct nvb_gpu){.index = 0, .minor = 0, .pci_bus_id = (char *)"0000:01:00.0"};
	f->inv.gpus = &f->gpu;
	f->inv.n_gpus = 1;
}

/* The finding with this code, or NULL; fails the test when there are several. */
static const struct nvb_doctor_finding *find(const struct fx *f, const char *code)
{
	const struct nvb_doctor_finding *hit = NULL;
	for (size_t i = 0; i < f->report->n_findings; i++)
		if (strcmp(f->report->findings[i].code, code) == 0) {
			assert_null(hit);
			hit = &f->report->findings[i];
		}
	return hit;
}

static const struct nvb_doctor_finding *expect(const struct fx *f, const char *code,
					       enum nvb_doctor_severity sev, const char *check)
{
	const struct nvb_doctor_finding *hit = find(f, code);
	if (!hit)
		fail_msg("no finding %s (%zu findings, first %s)", code, f->report->n_findings,
			 f->report->n_findings ? f->report->findings[0].code : "-");
	assert_int_equal(hit->severity, sev);
	assert_string_equal(hit->check, check);
	return hit;
}

/* ------------------------------------------------------------------ driver */

static void test_driver_ok(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	driver(f);
	assert_int_equal(nvb_doctor_check_driver(&f->ctx, &err), 0);
	assert_int_equal(f->report->n_findings, 1);
	const struct nvb_doctor_finding *ok = expect(f, "driver-ok", NVB_DOCTOR_OK, "driver");
	assert_non_null(
	    strstr(ok->message, "NVIDIA driver " VERSION " (open kernel module), 1 GPU"));
	assert_null(ok->fix);
	assert_int_equal(f->report->worst, NVB_DOCTOR_OK);
}

static void test_driver_libcuda_missing(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	driver(f);
	struct nvb_driver_file lib = {.path = (char *)LIBDIR "/libnvidia-ml.so." VERSION,
				      .kind = NVB_FILE_LIBRARY};
	char *missing[] = {(char *)"libcuda.so"};
	f->inv.files = &lib;
	f->inv.n_files = 1;
	f->inv.missing = missing;
	f->inv.n_missing = 1;
	assert_int_equal(nvb_doctor_check_driver(&f->ctx, &err), 0);
	const struct nvb_doctor_finding *e =
	    expect(f, "library-missing", NVB_DOCTOR_ERROR, "driver");
	/* named as the file the driver ships, and what containers lose */
	assert_non_null(strstr(e->message, "libcuda.so." VERSION " not found"));
	assert_non_null(strstr(e->message, "containers get no CUDA"));
	assert_non_null(strstr(e->fix, "nvbind --root "));
	assert_null(find(f, "driver-ok"));
}

/* The real probe on roots without a driver: the driver check reports what the probe found. */
static void test_driver_missing(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	struct nvb_doctor_report *rep = NULL;
	assert_int_equal(nvb_doctor_run(f->host, f->cfg, &rep, &err), 0);
	nvb_doctor_report_free(f->report);
	f->report = rep;
	expect(f, "no-gpu", NVB_DOCTOR_INFO, "driver");
	assert_null(find(f, "driver-ok"));

	/* a loaded kernel module without its user-space libraries */
	put(f, "/proc/driver/nvidia/version",
	    "NVRM version: NVIDIA UNIX x86_64 Kernel Module  " VERSION "  Thu Feb 22 2024\n", 0644);
	assert_int_equal(nvb_doctor_run(f->host, f->cfg, &rep, &err), 0);
	nvb_doctor_report_free(f->report);
	f->report = rep;
	const struct nvb_doctor_finding *e =
	    expect(f, "libraries-missing", NVB_DOCTOR_ERROR, "driver");
	assert_non_null(strstr(e->message, VERSION));
	assert_null(find(f, "driver-ok"));
	assert_int_equal(rep->worst, NVB_DOCTOR_ERROR);
}

/* --------------------------------------------------------------------- CDI */

static void spec(struct fx *f, const char *version, const char *node)
{
	char text[1024];
	snprintf(
	    text, sizeof(text),
	    "{\"cdiVersion\": \"0.6.0\", \"kind\": \"nvidia.com/gpu\", \"devices\": [{\"name\": "
	    "\"all\", \"containerEdits\": {\"deviceNodes\": [{\"path\": \"%s\"}]}}], "
	    "\"containerEdits\": {\"mounts\": [{\"hostPath\": \"" LIBDIR
	    "/libcuda.so.%s\", \"containerPath\": \"" LIBDIR "/libcuda.so.%s\", "
	    "\"options\": [\"ro\", \"nosuid\", \"nodev\", \"bind\"]}]}}\n",
	    node, version, version);
	put(f, "/etc/cdi/nvidia.com-gpu.json", text, 0644);
}

static bool can_mknod(struct fx *f, const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s%s", f->root, rel);
	put(f, "/dev", NULL, 0);
	return geteuid() == 0 && mknod(path, S_IFCHR | 0666, makedev(195, 0)) == 0;
}

static void test_cdi_spec_stale(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	driver(f);
	f->inv.n_gpus = 0; /* no GPU whose node the spec must have */
	put(f, LIBDIR "/libcuda.so." OLD_VERSION, "", 0644);
	spec(f, OLD_VERSION, "/dev/nvidia0");
	bool node = can_mknod(f, "/dev/nvidia0");
	assert_int_equal(nvb_doctor_check_cdi(&f->ctx, &err), 0);
	const struct nvb_doctor_finding *e = expect(f, "cdi-spec-stale", NVB_DOCTOR_ERROR, "cdi");
	assert_non_null(strstr(e->message, "1 mount(s) are of driver " OLD_VERSION
					   ", the running driver is " VERSION));
	assert_non_null(strstr(e->message, "/etc/cdi/nvidia.com-gpu.json is stale"));
	/* the file exists: only the version is wrong */
	assert_null(strstr(e->message, "no longer exist"));
	assert_true((strstr(e->message, "device node(s) are missing") != NULL) == !node);
	assert_non_null(strstr(e->fix, "cdi generate"));
	assert_true(f->ctx.have_cdi_spec);
}

static void test_cdi_spec_ok(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	driver(f);
	f->inv.n_gpus = 0;
	if (!can_mknod(f, "/dev/nvidia0"))
		skip(); /* the spec's node must be a character device */
	put(f, LIBDIR "/libcuda.so." VERSION, "", 0644);
	spec(f, VERSION, "/dev/nvidia0");
	assert_int_equal(nvb_doctor_check_cdi(&f->ctx, &err), 0);
	assert_int_equal(f->report->n_findings, 1);
	expect(f, "cdi-spec-ok", NVB_DOCTOR_OK, "cdi");
}

static void test_cdi_spec_missing(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	driver(f);
	assert_int_equal(nvb_doctor_check_cdi(&f->ctx, &err), 0);
	const struct nvb_doctor_finding *w =
	    expect(f, "cdi-spec-missing", NVB_DOCTOR_WARNING, "cdi");
	assert_non_null(strstr(w->message, "no CDI spec of kind nvidia.com/gpu"));
	assert_false(f->ctx.have_cdi_spec);
}

/* ------------------------------------------------------------------ docker */

static void test_docker_not_configured(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	assert_int_equal(nvb_doctor_check_docker(&f->ctx, &err), 0);
	const struct nvb_doctor_finding *i =
	    expect(f, "docker-not-configured", NVB_DOCTOR_INFO, "docker");
	assert_non_null(strstr(i->fix, "setup docker"));
}

static void test_docker_not_registered(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	put(f, "/etc/docker/daemon.json",
	    "{\"runtimes\": {\"nvidia\": {\"path\": \"nvidia-container-runtime\"}}}", 0644);
	assert_int_equal(nvb_doctor_check_docker(&f->ctx, &err), 0);
	expect(f, "nvidia-runtime-configured", NVB_DOCTOR_INFO, "docker");
	const struct nvb_doctor_finding *w =
	    expect(f, "runtime-not-registered", NVB_DOCTOR_WARNING, "docker");
	assert_non_null(strstr(w->message, "has no runtimes.nvbind"));
	assert_non_null(strstr(w->message, "migrate docker"));
}

static void test_docker_registered(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	put(f, "/usr/bin/nvbind-runtime", "#!/bin/sh\n", 0755);
	put(f, "/etc/docker/daemon.json",
	    "{\"runtimes\": {\"nvbind\": {\"path\": \"/usr/bin/nvbind-runtime\"}}}", 0644);
	assert_int_equal(nvb_doctor_check_docker(&f->ctx, &err), 0);
	assert_int_equal(f->report->n_findings, 1);
	expect(f, "runtime-registered", NVB_DOCTOR_OK, "docker");

	/* the same entry, but the program is not executable */
	put(f, "/usr/bin/nvbind-runtime", "#!/bin/sh\n", 0644);
	assert_int_equal(nvb_doctor_check_docker(&f->ctx, &err), 0);
	expect(f, "runtime-path-missing", NVB_DOCTOR_WARNING, "docker");
}

static void test_docker_invalid(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	put(f, "/etc/docker/daemon.json", "{\"runtimes\": {,}}\n", 0644);
	assert_int_equal(nvb_doctor_check_docker(&f->ctx, &err), 0);
	const struct nvb_doctor_finding *w =
	    expect(f, "docker-config-invalid", NVB_DOCTOR_WARNING, "docker");
	assert_non_null(strstr(w->message, "daemon.json:1:"));
}

/* ----------------------------------------------------------------- cgroups */

static void test_cgroup(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	assert_int_equal(nvb_doctor_check_cgroup(&f->ctx, &err), 0);
	expect(f, "cgroup-unknown", NVB_DOCTOR_INFO, "cgroup");

	put(f, "/sys/fs/cgroup/memory", NULL, 0);
	assert_int_equal(nvb_doctor_check_cgroup(&f->ctx, &err), 0);
	const struct nvb_doctor_finding *v1 = expect(f, "cgroup-v1", NVB_DOCTOR_INFO, "cgroup");
	assert_non_null(strstr(v1->message, "systemd is not running"));

	/* v1 controllers and v2 at unified/: hybrid, whatever systemd does */
	put(f, "/sys/fs/cgroup/unified/cgroup.controllers", "cpu memory\n", 0644);
	assert_int_equal(nvb_doctor_check_cgroup(&f->ctx, &err), 0);
	const struct nvb_doctor_finding *h =
	    expect(f, "cgroup-hybrid", NVB_DOCTOR_WARNING, "cgroup");
	assert_non_null(strstr(h->fix, "systemd.unified_cgroup_hierarchy=1"));

	put(f, "/sys/fs/cgroup/cgroup.controllers", "cpu memory\n", 0644);
	assert_int_equal(nvb_doctor_check_cgroup(&f->ctx, &err), 0);
	expect(f, "cgroup-v2", NVB_DOCTOR_OK, "cgroup");
}

static void test_cgroup_v1_systemd(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	put(f, "/sys/fs/cgroup/devices", NULL, 0);
	put(f, "/run/systemd/system", NULL, 0);
	assert_int_equal(nvb_doctor_check_cgroup(&f->ctx, &err), 0);
	expect(f, "cgroup-v1", NVB_DOCTOR_WARNING, "cgroup");
}

/* ---------------------------------------------------------------- rootless */

static void test_subids(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	put(f, "/etc/subuid", "# comment\nalice:100000:65536\nbob:165536:0\n", 0644);
	put(f, "/etc/subgid", "", 0644);
	assert_int_equal(nvb_doctor_check_subids(&f->ctx, &err), 0);
	const struct nvb_doctor_finding *w =
	    expect(f, "rootless-subids", NVB_DOCTOR_WARNING, "rootless");
	assert_non_null(strstr(w->message, "subgid has no entries"));
	assert_null(strstr(w->message, "subuid"));

	put(f, "/etc/subgid", "alice:100000:65536\n", 0644);
	assert_int_equal(nvb_doctor_check_subids(&f->ctx, &err), 0);
	const struct nvb_doctor_finding *ok =
	    expect(f, "rootless-subids-ok", NVB_DOCTOR_OK, "rootless");
	assert_non_null(strstr(ok->message, "subuid (1 entry)"));
}

/* ------------------------------------------------------------ report, table */

static void test_report_json(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	assert_int_equal(nvb_doctor_add(f->report, NVB_DOCTOR_OK, "driver", "driver-ok", NULL,
					"driver %s", VERSION),
			 0);
	assert_int_equal(nvb_doctor_add(f->report, NVB_DOCTOR_WARNING, "cdi", "cdi-spec-missing",
					"nvbind cdi generate", "no spec"),
			 0);
	assert_int_equal(f->report->worst, NVB_DOCTOR_WARNING);
	char *text = nvb_doctor_report_to_json(f->report, &err);
	assert_non_null(text);
	json_t *root = json_loads(text, 0, NULL);
	assert_non_null(root);
	assert_int_equal(json_object_size(root), 2);
	assert_string_equal(json_string_value(json_object_get(root, "worst")), "warning");
	json_t *arr = json_object_get(root, "findings");
	assert_int_equal(json_array_size(arr), 2);
	/* keys in this order, "fix" null when there is nothing to do */
	static const char *const keys[] = {"severity", "code", "message", "fix", "check"};
	for (size_t i = 0; i < 2; i++) {
		json_t *o = json_array_get(arr, i);
		assert_int_equal(json_object_size(o), NVB_ARRAY_SIZE(keys));
		size_t k = 0;
		for (void *it = json_object_iter(o); it; it = json_object_iter_next(o, it), k++)
			assert_string_equal(json_object_iter_key(it), keys[k]);
	}
	assert_true(json_is_null(json_object_get(json_array_get(arr, 0), "fix")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "check")),
			    "driver");
	json_t *w = json_array_get(arr, 1);
	assert_string_equal(json_string_value(json_object_get(w, "severity")), "warning");
	assert_string_equal(json_string_value(json_object_get(w, "fix")), "nvbind cdi generate");
	assert_string_equal(json_string_value(json_object_get(json_array_get(arr, 0), "message")),
			    "driver " VERSION);
	json_decref(root);
	free(text);
}

/* Every finding of a whole run belongs to a check of the table, in the table's order (front
 * ends print one section per table entry: a finding of another name would be lost). */
static void test_table_and_run(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	size_t n;
	const struct nvb_doctor_check *checks = nvb_doctor_checks(&n);
	assert_true(n >= 8);
	assert_string_equal(checks[0].name, "driver"); /* the others read ctx->inv */
	for (size_t i = 0; i < n; i++) {
		assert_non_null(checks[i].run);
		assert_true(checks[i].title && checks[i].title[0]);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(checks[i].name, checks[j].name);
	}
	put(f, "/etc/docker/daemon.json", "{}", 0644);
	put(f, "/sys/fs/cgroup/cgroup.controllers", "cpu\n", 0644);
	struct nvb_doctor_report *rep = NULL;
	assert_int_equal(nvb_doctor_run(f->host, f->cfg, &rep, &err), 0);
	nvb_doctor_report_free(f->report);
	f->report = rep;
	size_t at = 0;
	for (size_t i = 0; i < rep->n_findings; i++) {
		while (at < n && strcmp(checks[at].name, rep->findings[i].check) != 0)
			at++;
		if (at == n)
			fail_msg("finding %s: check %s out of order or not in the table",
				 rep->findings[i].code, rep->findings[i].check);
	}
	expect(f, "runtime-not-registered", NVB_DOCTOR_WARNING, "docker");
	expect(f, "cgroup-v2", NVB_DOCTOR_OK, "cgroup");
	expect(f, "rootless-subids", NVB_DOCTOR_WARNING, "rootless");
}

/* ------------------------------------------------- rootless: the user's side */

/* A fresh report, so that a check run again is judged alone. */
static void reset_report(struct fx *f)
{
	nvb_doctor_report_free(f->report);
	assert_non_null(f->report = calloc(1, sizeof(*f->report)));
	f->ctx.report = f->report;
}

static void test_rootless_user_subids(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	setenv("SUDO_USER", "alice", 1);
	put(f, "/etc/passwd", "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n",
	    0644);
	put(f, "/etc/subuid", "alice:100000:65536\n", 0644);
	put(f, "/etc/subgid", "bob:100000:65536\nalice:165536:0\n", 0644);
	assert_int_equal(nvb_doctor_check_subids(&f->ctx, &err), 0);
	const struct nvb_doctor_finding *w =
	    expect(f, "rootless-user-subids", NVB_DOCTOR_WARNING, "rootless");
	assert_non_null(strstr(w->message, "user alice has no entry in"));
	assert_non_null(strstr(w->message, "/etc/subgid"));
	assert_null(strstr(w->message, "/etc/subuid"));
	assert_non_null(strstr(w->fix, "--add-subgids"));
	assert_null(find(f, "rootless-user-subids-ok"));

	/* an entry by UID counts as well as one by name */
	reset_report(f);
	put(f, "/etc/subgid", "1000:200000:65536\n", 0644);
	assert_int_equal(nvb_doctor_check_subids(&f->ctx, &err), 0);
	expect(f, "rootless-user-subids-ok", NVB_DOCTOR_OK, "rootless");
	assert_null(find(f, "rootless-user-subids"));
	unsetenv("SUDO_USER");
}

static void test_rootless_root_has_no_user(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	unsetenv("SUDO_USER");
	put(f, "/etc/subuid", "", 0644);
	assert_int_equal(nvb_doctor_check_subids(&f->ctx, &err), 0);
	if (getuid() == 0) /* root: no rootless user to judge */
		assert_null(find(f, "rootless-user-subids"));
	else /* the caller has no entry in this root's empty files */
		expect(f, "rootless-user-subids", NVB_DOCTOR_WARNING, "rootless");
}

static void test_rootless_user_nodes(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	driver(f);
	struct nvb_device_node nodes[] = {
	    {.path = (char *)"/dev/nvidia0", .major = 195, .mode = 0660, .gid = 44},
	    {.path = (char *)"/dev/dri/renderD128", .major = 226, .minor = 128, .mode = 0660,
	     .gid = 105},
	};
	struct nvb_device_node ctl = {.path = (char *)"/dev/nvidiactl", .major = 195,
				      .minor = 255, .mode = 0666};
	f->gpu.nodes = nodes;
	f->gpu.n_nodes = 2;
	f->inv.control_nodes = &ctl;
	f->inv.n_control_nodes = 1;
	setenv("SUDO_USER", "alice", 1);
	put(f, "/etc/passwd", "alice:x:1000:1000::/home/alice:/bin/sh\n", 0644);
	put(f, "/etc/group", "video:x:44:bob,alice\nrender:x:105:bob\nalice:x:1000:\n", 0644);
	assert_int_equal(nvb_doctor_check_subids(&f->ctx, &err), 0);
	const struct nvb_doctor_finding *w =
	    expect(f, "rootless-user-nodes", NVB_DOCTOR_WARNING, "rootless");
	assert_non_null(strstr(w->message, "cannot open 1 of 3"));
	assert_non_null(strstr(w->message, "renderD128 (mode 0660, owner 0, group render)"));
	assert_null(strstr(w->message, "nvidia0"));
	assert_string_equal(w->fix, "usermod -aG render alice (then log in again), or make the "
				    "nodes 0666 (see the devices check)");

	/* a member of both groups: works on the host, but only through the groups */
	reset_report(f);
	put(f, "/etc/group", "video:x:44:alice\nrender:x:105:bob, alice\n", 0644);
	assert_int_equal(nvb_doctor_check_subids(&f->ctx, &err), 0);
	const struct nvb_doctor_finding *g =
	    expect(f, "rootless-user-nodes-group", NVB_DOCTOR_INFO, "rootless");
	assert_non_null(strstr(g->message, "/dev/nvidia0 (group video)"));
	assert_non_null(strstr(g->fix, "keep-groups"));
	assert_null(find(f, "rootless-user-nodes"));

	/* the owner's bits count for the owner; a node no group opens needs chmod */
	reset_report(f);
	nodes[0] = (struct nvb_device_node){.path = (char *)"/dev/nvidia0", .mode = 0600, .uid = 1000};
	nodes[1].mode = 0600;
	assert_int_equal(nvb_doctor_check_subids(&f->ctx, &err), 0);
	w = expect(f, "rootless-user-nodes", NVB_DOCTOR_WARNING, "rootless");
	assert_non_null(strstr(w->message, "cannot open 1 of 3"));
	assert_non_null(strstr(w->fix, "no group of theirs grants the access"));

	/* world read and write: nothing lacks */
	reset_report(f);
	nodes[0].mode = nodes[1].mode = 0666;
	assert_int_equal(nvb_doctor_check_subids(&f->ctx, &err), 0);
	const struct nvb_doctor_finding *ok =
	    expect(f, "rootless-user-nodes-ok", NVB_DOCTOR_OK, "rootless");
	assert_non_null(strstr(ok->message, "user alice can open all 3"));
	unsetenv("SUDO_USER");
}

static void test_cgroup_rootless_hint(void **state)
{
	struct fx *f = *state;
	struct nvb_error err;
	put(f, "/sys/fs/cgroup/devices", NULL, 0);
	assert_int_equal(nvb_doctor_check_cgroup(&f->ctx, &err), 0);
	const struct nvb_doctor_finding *v1 = expect(f, "cgroup-v1", NVB_DOCTOR_INFO, "cgroup");
	assert_non_null(strstr(v1->message, "--cgroups=disabled"));
	assert_non_null(strstr(v1->message, "no-cgroups"));
	put(f, "/sys/fs/cgroup/unified/cgroup.controllers", "cpu\n", 0644);
	assert_int_equal(nvb_doctor_check_cgroup(&f->ctx, &err), 0);
	const struct nvb_doctor_finding *h =
	    expect(f, "cgroup-hybrid", NVB_DOCTOR_WARNING, "cgroup");
	assert_non_null(strstr(h->message, "--cgroups=disabled"));
	reset_report(f);
	put(f, "/sys/fs/cgroup/cgroup.controllers", "cpu\n", 0644);
	assert_int_equal(nvb_doctor_check_cgroup(&f->ctx, &err), 0);
	assert_null(strstr(expect(f, "cgroup-v2", NVB_DOCTOR_OK, "cgroup")->message, "rootless"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_driver_ok),
	    T(test_driver_libcuda_missing),
	    T(test_driver_missing),
	    T(test_cdi_spec_stale),
	    T(test_cdi_spec_ok),
	    T(test_cdi_spec_missing),
	    T(test_docker_not_configured),
	    T(test_docker_not_registered),
	    T(test_docker_registered),
	    T(test_docker_invalid),
	    T(test_cgroup),
	    T(test_cgroup_v1_systemd),
	    T(test_subids),
	    T(test_report_json),
	    T(test_table_and_run),
	    T(test_rootless_user_subids),
	    T(test_rootless_root_has_no_user),
	    T(test_rootless_user_nodes),
	    T(test_cgroup_rootless_hint),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
