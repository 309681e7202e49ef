/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind hook create-symlinks | update-ldcache: run by the engine with the state on stdin. */
#include <getopt.h>

#include "cli/cli.h"
#include "hooks/hooks.h"
#include "oci/oci.h"

extern char **environ;

static void hook_usage(FILE *out)
{
	fprintf(out, "Usage: nvbind hook create-symlinks [--link TARGET::LINK]...\n"
		     "       nvbind hook update-ldcache [--folder DIR]... [--ldconfig PATH]\n"
		     "\n"
		     "CDI createContainer hooks: the OCI runtime runs them with the container state\n"
		     "on stdin. Every path is resolved inside the container root.\n");
}

/* Hooks run on the host as root: nothing from the container's environment may steer them. */
static void clear_ld_env(void)
{
	for (char **e = environ; e && *e;) {
		if (strncmp(*e, "LD_", 3) == 0) {
			char name[128];
			size_t len = strcspn(*e, "=");
			snprintf(name, sizeof(name), "%.*s", (int)(len < 127 ? len : 127), *e);
			unsetenv(name);
			e = environ; /* unsetenv shifted the array */
		} else {
			e++;
		}
	}
}

/* runc runs createContainer hooks inside the container's pid namespace while /proc is still
 * the host's: our pid means another process there. Tools that read /proc/self at exit (the
 * sanitizers' leak check in test builds) would then read a stranger's files, so leave at once. */
static void leave_if_foreign_proc(int rc)
{
	char buf[32];
	ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
	if (n > 0) {
		buf[n] = '\0';
		if (atol(buf) == (long)getpid())
			return;
	}
	fflush(NULL);
	_exit(rc);
}

static int open_container_root(struct nvb_error *err)
{
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	if (nvb_read_fd(STDIN_FILENO, "container state on stdin", NVB_OCI_STATE_MAX, &data, &len,
			err) < 0)
		return -1;
	struct nvb_oci_state state;
	if (nvb_oci_state_parse(data, len, &state, err) < 0)
		return -1;
	json_t *config = nvb_oci_config_load(state.bundle, err);
	int fd = config ? nvb_oci_rootfs_open(state.bundle, config, NULL, err) : -1;
	json_decref(config);
	nvb_oci_state_clear(&state);
	return fd;
}

int nvb_cmd_hook(struct nvb_cli *cli, int argc, char **argv)
{
	(void)cli;
	clear_ld_env();
	if (argc < 2) {
		hook_usage(stderr);
		return NVB_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
		hook_usage(stdout);
		return NVB_EXIT_OK;
	}
	bool symlinks = strcmp(name, "create-symlinks") == 0;
	if (!symlinks && strcmp(name, "update-ldcache") != 0)
		return nvb_cli_usage_error("unknown hook '%s' (use create-symlinks or update-ldcache)",
					   name);
	static const struct option opts[] = {
		{"link", required_argument, NULL, 'l'},
		{"folder", required_argument, NULL, 'f'},
		{"ldconfig", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char **values = calloc((size_t)argc, sizeof(char *));
	size_t n = 0;
	int rootfd = -1;
	const char *ldconfig = nvb_host_ldconfig();
	int c, rc = NVB_EXIT_OK;
	optind = 2;
	while (values && (c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if ((c == 'l' && !symlinks) || ((c == 'f' || c == 'c') && symlinks)) {
			rc = nvb_cli_usage_error("hook %s: option not valid here", name);
			goto out;
		}
		if (c == 'l' || c == 'f') {
			values[n++] = optarg;
		} else if (c == 'c') {
			ldconfig = optarg;
		} else if (c == 'h') {
			hook_usage(stdout);
			goto out;
		} else {
			hook_usage(stderr);
			rc = NVB_EXIT_USAGE;
			goto out;
		}
	}
	struct nvb_error err;
	nvb_error_clear(&err);
	rootfd = values ? open_container_root(&err) : -1;
	if (!values)
		nvb_error_nomem(&err);
	if (rootfd < 0 ||
	    (symlinks ? nvb_hook_create_symlinks(rootfd, values, n, &err)
		      : nvb_hook_update_ldcache(rootfd, values, n, ldconfig, &err)) < 0) {
		nvb_error_prefix(&err, "hook %s", name);
		rc = nvb_cli_fail(&err);
	}
out:
	if (rootfd >= 0)
		close(rootfd);
	free(values);
	leave_if_foreign_proc(rc);
	return rc;
}
