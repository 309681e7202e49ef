/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind doctor: what is wrong with this host's GPU container setup, and how to fix it
 * (the checks are in src/doctor; docs/doctor.md lists them). */
#include <getopt.h>

#include "cli/cli.h"
#include "config/config.h"
#include "doctor/doctor.h"

#define DOCTOR_EXIT_WARNINGS 4

static void doctor_usage(FILE *out)
{
	fprintf(
	    out,
	    "Usage: nvbind [--root DIR] doctor [--json]\n"
	    "\n"
	    "Check the driver and its files, device node permissions, the CDI spec against the\n"
	    "running driver and GPUs, docker and podman registration, the cgroup version and\n"
	    "the rootless prerequisites; print each finding with its fix.\n"
	    "  --json   machine-readable output: {\"findings\": [{\"severity\", \"code\", "
	    "\"message\",\n"
	    "           \"fix\", \"check\"}], \"worst\": \"ok|info|warning|error\"}\n"
	    "Exit status: 0 nothing worse than info, 4 warnings, 3 errors, 1 the host could not\n"
	    "be read, 2 usage error.\n");
}

static void print_finding(const struct nvb_doctor_finding *f)
{
	printf("  %-8s %s: %s\n", nvb_doctor_severity_name(f->severity), f->code, f->message);
	if (f->fix)
		printf("           fix: %s\n", f->fix);
}

static void print_text(const struct nvb_doctor_report *rep, const char *root, int rc)
{
	size_t count[NVB_DOCTOR_ERROR + 1] = {0};
	size_t n_checks;
	const struct nvb_doctor_check *checks = nvb_doctor_checks(&n_checks);
	if (strcmp(root, "/") != 0)
		printf("Host root: %s\n\n", root);
	/* one section per check, under the title the doctor's table gives it */
	for (size_t s = 0; s < n_checks; s++) {
		bool any = false;
		for (size_t i = 0; i < rep->n_findings; i++) {
			const struct nvb_doctor_finding *f = &rep->findings[i];
			if (strcmp(f->check, checks[s].name) != 0)
				continue;
			if (!any)
				printf("%s\n", checks[s].title);
			any = true;
			print_finding(f);
			count[f->severity]++;
		}
		if (any)
			printf("\n");
	}
	printf("Summary: %zu ok, %zu info, %zu warning(s), %zu error(s): %s (exit %d)\n",
	       count[NVB_DOCTOR_OK], count[NVB_DOCTOR_INFO], count[NVB_DOCTOR_WARNING],
	       count[NVB_DOCTOR_ERROR],
	       rep->worst == NVB_DOCTOR_ERROR	  ? "errors need fixing"
	       : rep->worst == NVB_DOCTOR_WARNING ? "warnings to look at"
						  : "all good",
	       rc);
}

int nvb_cmd_doctor(struct nvb_cli *cli, int argc, char **argv)
{
	bool json = false;
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			doctor_usage(stdout);
			return NVB_EXIT_OK;
		default:
			doctor_usage(stderr);
			return NVB_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return nvb_cli_usage_error("doctor: unexpected argument '%s'", argv[optind]);

	struct nvb_error err;
	nvb_error_clear(&err);
	struct nvb_config *cfg = nvb_cli_config(cli, &err);
	if (!cfg)
		return nvb_cli_fail(&err);
	struct nvb_host *host = nvb_cli_host(cli, &err);
	if (!host)
		return nvb_cli_fail(&err);
	struct nvb_doctor_report *rep = NULL;
	if (nvb_doctor_run(host, cfg, &rep, &err) < 0) {
		nvb_host_free(host);
		return nvb_cli_fail(&err);
	}
	int rc = rep->worst == NVB_DOCTOR_ERROR	    ? NVB_EXIT_PROBLEMS
		 : rep->worst == NVB_DOCTOR_WARNING ? DOCTOR_EXIT_WARNINGS
						    : NVB_EXIT_OK;
	if (json) {
		char *text = nvb_doctor_report_to_json(rep, &err);
		if (!text)
			rc = nvb_cli_fail(&err);
		else
			printf("%s\n", text);
		free(text);
	} else {
		print_text(rep, nvb_host_root(host), rc);
	}
	nvb_doctor_report_free(rep);
	nvb_host_free(host);
	return rc;
}
