/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind serve: the metrics and health daemon (src/serve; docs/serve.md). */
#include <getopt.h>
#include <limits.h>

#include "cli/cli.h"
#include "config/config.h"
#include "oci/records.h"
#include "serve/serve.h"

#define SERVE_DEFAULT_LISTEN "127.0.0.1:9464"

static void serve_usage(FILE *out)
{
	fprintf(out,
		"Usage: nvbind [--root DIR] serve [--listen ADDR:PORT] [--socket PATH]\n"
		"                                 [--deadline MS] [--refresh SECONDS]\n"
		"                                 [--state-dir DIR]\n"
		"\n"
		"Serve Prometheus metrics (/metrics) and health probes (/healthz, /readyz) until\n"
		"SIGINT or SIGTERM.\n"
		"  --listen ADDR:PORT  TCP address (default " SERVE_DEFAULT_LISTEN ", loopback; all\n"
		"                      interfaces only when asked: 0.0.0.0:9464 or [::]:9464);\n"
		"                      'none' with --socket: no TCP\n"
		"  --socket PATH       also (or only) listen on this Unix socket\n"
		"  --deadline MS       the longest a request waits on NVML (default 200); past it\n"
		"                      the last good values are served with their age\n"
		"  --refresh SECONDS   the longest /metrics reuses the driver and CDI spec state\n"
		"                      (default 5; /readyz always looks again)\n"
		"  --state-dir DIR     nvbind-runtime's records and counters (default\n"
		"                      $NVBIND_STATE_DIR, else " NVB_STATE_DIR_DEFAULT ")\n");
}

static int parse_uint(const char *opt, const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		return nvb_cli_usage_error("serve: %s %s: a number from %u to %u", opt, s, min, max);
	*out = (unsigned)v;
	return 0;
}

int nvb_cmd_serve(struct nvb_cli *cli, int argc, char **argv)
{
	struct nvb_serve_opts o = {.listen = NULL, .deadline_ms = 200, .refresh_s = 5};
	const char *listen = NULL;
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"socket", required_argument, NULL, 's'},
	    {"deadline", required_argument, NULL, 'd'},
	    {"refresh", required_argument, NULL, 'r'},
	    {"state-dir", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'l':
			listen = optarg;
			break;
		case 's':
			o.socket = optarg;
			break;
		case 'd':
			if (parse_uint("--deadline", optarg, 1, 60000, &o.deadline_ms))
				return NVB_EXIT_USAGE;
			break;
		case 'r':
			if (parse_uint("--refresh", optarg, 0, 86400, &o.refresh_s))
				return NVB_EXIT_USAGE;
			break;
		case 'S':
			o.state_dir = optarg;
			break;
		case 'h':
			serve_usage(stdout);
			return NVB_EXIT_OK;
		default:
			serve_usage(stderr);
			return NVB_EXIT_USAGE;
		}
	}
	if (optind < argc)
		return nvb_cli_usage_error("serve: unexpected argument '%s'", argv[optind]);
	if (listen && !strcmp(listen, "none")) {
		if (!o.socket)
			return nvb_cli_usage_error("serve: --listen none needs --socket PATH");
	} else {
		/* a Unix socket alone was asked for: no TCP unless --listen says so too */
		o.listen = listen ? listen : o.socket ? NULL : SERVE_DEFAULT_LISTEN;
	}
	if (!o.state_dir)
		o.state_dir = nvb_state_dir();

	struct nvb_error err;
	nvb_error_clear(&err);
	struct nvb_config *cfg = nvb_cli_config(cli, &err);
	if (!cfg)
		return nvb_cli_fail(&err);
	struct nvb_host *host = nvb_cli_host(cli, &err);
	if (!host)
		return nvb_cli_fail(&err);
	int r = nvb_serve_run(host, cfg, &o, &err);
	nvb_host_free(host);
	return r < 0 ? nvb_cli_fail(&err) : NVB_EXIT_OK;
}
