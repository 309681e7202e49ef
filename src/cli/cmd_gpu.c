/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind gpu checkpoint|restore|state: GPU snapshots of CUDA processes with the driver's
 * checkpoint API (src/snapshot, docs/snapshot.md). */
#include <getopt.h>
#include <limits.h>

#include "cli/cli.h"

/* Exit status beyond cli.h's: a failure left some process locked or checkpointed. */
#define GPU_EXIT_NOT_UNDONE 4

static void gpu_usage(FILE *out)
{
	fprintf(out,
		"Usage: nvbind [--root DIR] gpu checkpoint|restore|state (--pid PID... | --container ID)\n"
		"                  [--runtime PATH] [--runtime-root DIR] [--timeout MS] [--json]\n"
		"\n"
		"Snapshot the GPU state of CUDA processes with the CUDA driver's checkpoint API\n"
		"(driver r570 or later, libcuda.so.1 of the host root):\n"
		"  checkpoint   lock every process (waiting for its CUDA work), then checkpoint each:\n"
		"               GPU memory is copied to host memory and the GPU is released. On a\n"
		"               failure, what was done is undone in reverse order.\n"
		"  restore      restore every checkpointed process, then unlock every one (reverse\n"
		"               order): the processes run on the GPU again.\n"
		"  state        print each process's state: running, locked, checkpointed, failed.\n"
		"  --pid PID          a process (repeat for several; order kept)\n"
		"  --container ID     every CUDA process of the container's cgroup, found from\n"
		"                     'RUNTIME --root DIR state ID'\n"
		"  --runtime PATH     the OCI runtime to ask (default runc)\n"
		"  --runtime-root DIR its state directory (default: the runtime's own)\n"
		"  --timeout MS       how long a lock may wait for CUDA work (default 10000)\n"
		"  --json             the report as JSON\n"
		"Not supported by the driver: UVM or CUDA IPC memory, MIG, MPS; restore needs the\n"
		"same GPU type (docs/snapshot.md).\n"
		"Exit status: 0 done; 1 failed and nothing is left changed (rolled back), or the\n"
		"driver or container could not be used; 2 usage error; 3 state: some process is\n"
		"not a CUDA process or is in the failed state, restore: some process could not be\n"
		"restored; 4 checkpoint failed and some process could not be undone (the report\n"
		"says which).\n");
}

struct gpu_args {
	const char *sub;
	int *pids;
	size_t n_pids;
	const char *container;
	struct nvb_snapshot_options opts;
	bool json;
};

static int parse_pid(const char *s, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

static int gpu_parse(int argc, char **argv, struct gpu_args *a)
{
	enum { O_PID = 1, O_CONT, O_RT, O_RTROOT, O_TIMEOUT, O_JSON };
	static const struct option opts[] = {
		{"pid", required_argument, NULL, O_PID},
		{"container", required_argument, NULL, O_CONT},
		{"runtime", required_argument, NULL, O_RT},
		{"runtime-root", required_argument, NULL, O_RTROOT},
		{"timeout", required_argument, NULL, O_TIMEOUT},
		{"json", no_argument, NULL, O_JSON},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c, v;
	optind = 2;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case O_PID:
			if (parse_pid(optarg, &v) < 0)
				return nvb_cli_usage_error("gpu: --pid '%s' is not a process id", optarg);
			int *slot = nvb_array_push(&a->pids, &a->n_pids, sizeof(int));
			if (!slot)
				return NVB_EXIT_FAILURE;
			*slot = v;
			break;
		case O_CONT: a->container = optarg; break;
		case O_RT: a->opts.runtime = optarg; break;
		case O_RTROOT: a->opts.runtime_root = optarg; break;
		case O_TIMEOUT:
			if (parse_pid(optarg, &v) < 0)
				return nvb_cli_usage_error("gpu: --timeout '%s' is not a number of "
							   "milliseconds above 0", optarg);
			a->opts.timeout_ms = (unsigned)v;
			break;
		case O_JSON: a->json = true; break;
		case 'h': gpu_usage(stdout); return -1;
		default: gpu_usage(stderr); return NVB_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return nvb_cli_usage_error("gpu %s: unexpected argument '%s'", a->sub, argv[optind]);
	if (!a->n_pids == !a->container)
		return nvb_cli_usage_error("gpu %s: give --pid or --container (one of them)", a->sub);
	if (a->n_pids && (a->opts.runtime || a->opts.runtime_root))
		return nvb_cli_usage_error("gpu %s: --runtime and --runtime-root go with --container",
					   a->sub);
	return 0;
}

static void print_report(const struct nvb_snapshot_report *r, bool json)
{
	if (json) {
		char *text = nvb_snapshot_report_json(r);
		if (text)
			printf("%s\n", text);
		nvb_free(text);
		return;
	}
	static const char *const outcome[] = {"", "FAILED", "rolled back", "NOT UNDONE", "skipped"};
	for (size_t i = 0; i < nvb_snapshot_report_count(r); i++) {
		enum nvb_snapshot_outcome o = nvb_snapshot_report_outcome(r, i);
		const char *msg = nvb_snapshot_report_message(r, i);
		printf("pid %d: %s", nvb_snapshot_report_pid(r, i),
		       nvb_gpu_state_name(nvb_snapshot_report_state(r, i)));
		if (o != NVB_SNAPSHOT_DONE && (unsigned)o < NVB_ARRAY_SIZE(outcome))
			printf(" (%s)", outcome[o]);
		if (msg[0])
			printf(": %s", msg);
		putchar('\n');
	}
}

/* The exit status of an operation that returned rc with report r. */
static int gpu_status(const struct gpu_args *a, int rc, const struct nvb_snapshot_report *r)
{
	bool failed = false, stuck = false;
	for (size_t i = 0; i < nvb_snapshot_report_count(r); i++) {
		enum nvb_snapshot_outcome o = nvb_snapshot_report_outcome(r, i);
		failed = failed || o == NVB_SNAPSHOT_FAILED;
		stuck = stuck || o == NVB_SNAPSHOT_NOT_UNDONE;
	}
	if (!strcmp(a->sub, "checkpoint"))
		return rc == 0 ? NVB_EXIT_OK : stuck ? GPU_EXIT_NOT_UNDONE : NVB_EXIT_FAILURE;
	if (rc < 0 && !r)
		return NVB_EXIT_FAILURE;
	return failed || rc < 0 ? NVB_EXIT_PROBLEMS : NVB_EXIT_OK;
}

static int gpu_run(struct nvb_host *host, struct gpu_args *a, struct nvb_error *err)
{
	if (a->container) {
		if (nvb_gpu_container_pids(host, a->container, &a->opts, &a->pids, &a->n_pids, err) < 0)
			return nvb_cli_fail(err);
		if (a->n_pids == 0) {
			if (a->json)
				printf("{\"operation\": \"%s\", \"processes\": []}\n", a->sub);
			else
				printf("container %s has no CUDA process: nothing to %s\n", a->container,
				       a->sub);
			return NVB_EXIT_OK;
		}
	}
	struct nvb_snapshot_report *r = NULL;
	int rc;
	if (!strcmp(a->sub, "checkpoint"))
		rc = nvb_gpu_checkpoint(host, a->pids, a->n_pids, &a->opts, &r, err);
	else if (!strcmp(a->sub, "restore"))
		rc = nvb_gpu_restore(host, a->pids, a->n_pids, &a->opts, &r, err);
	else
		rc = nvb_gpu_state(host, a->pids, a->n_pids, &r, err);
	if (r)
		print_report(r, a->json);
	int status = gpu_status(a, rc, r);
	if (rc < 0) {
		int usage = nvb_cli_fail(err);
		if (usage == NVB_EXIT_USAGE)
			status = usage;
	}
	nvb_snapshot_report_free(r);
	return status;
}

int nvb_cmd_gpu(struct nvb_cli *cli, int argc, char **argv)
{
	if (argc < 2) {
		gpu_usage(stderr);
		return NVB_EXIT_USAGE;
	}
	struct gpu_args a = {.sub = argv[1]};
	a.opts.size = sizeof(a.opts);
	if (!strcmp(a.sub, "--help") || !strcmp(a.sub, "-h")) {
		gpu_usage(stdout);
		return NVB_EXIT_OK;
	}
	static const char *const subs[] = {"checkpoint", "restore", "state"};
	if (strcmp(a.sub, subs[0]) && strcmp(a.sub, subs[1]) && strcmp(a.sub, subs[2]))
		return nvb_cli_unknown("gpu command", a.sub, subs, NVB_ARRAY_SIZE(subs));
	int rc = gpu_parse(argc, argv, &a);
	if (rc != 0) {
		free(a.pids);
		return rc < 0 ? NVB_EXIT_OK : rc;
	}
	struct nvb_error err;
	nvb_error_clear(&err);
	struct nvb_host *host = nvb_cli_host(cli, &err);
	if (!host) {
		free(a.pids);
		return nvb_cli_fail(&err);
	}
	rc = gpu_run(host, &a, &err);
	nvb_host_free(host);
	free(a.pids);
	return rc;
}
