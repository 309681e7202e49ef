/* SPDX-License-Identifier: Apache-2.0 */
/* nvbind hook libraries | create-symlinks | update-ldcache: run by the engine with the state on
 * stdin. Specs nvbind generates name the static nvbind-hook program instead; these stay for
 * specs written by earlier versions. */
#include "cli/cli.h"
#include "hooks/hooks.h"
#include "oci/oci.h"

extern char **environ;

static void hook_usage(FILE *out)
{
	fprintf(out, "Usage: nvbind hook libraries [--stage STAGE] [--lib PATH::SONAME::ARCH]...\n"
		     "                             [--link TARGET::LINK]...\n"
		     "       nvbind hook create-symlinks [--link TARGET::LINK]...\n"
		     "       nvbind hook update-ldcache [--folder DIR]...\n"
		     "\n"
		     "CDI hooks: the OCI runtime runs them with the container state on stdin, at\n"
		     "createContainer (libraries: at --stage createRuntime, the hook joins the\n"
		     "container's mount namespace first). Every path is resolved inside the container\n"
		     "root, and no other program runs: the loader cache is written by nvbind itself.\n"
		     "Generated specs use the statically linked nvbind-hook program for 'libraries'.\n");
}

/* Hooks run on the host as root: nothing from the container's environment may steer them
 * (what the dynamic loader already did cannot be undone: generated specs use the static
 * nvbind-hook, and apply always gives hooks an explicit environment). */
static void clear_ld_env(void)
{
	for (size_t i = 0; environ && environ[i];) {
		if (strncmp(environ[i], "LD_", 3) != 0) {
			i++;
			continue;
		}
		/* unsetenv needs the bare name, of any length */
		char *entry = environ[i];
		char *eq = strchr(entry, '=');
		_cleanup_free_ char *name = eq ? strndup(entry, (size_t)(eq - entry)) : strdup(entry);
		if (name)
			unsetenv(name);
		if (environ[i] == entry) /* not removable by name (no '='): drop the pointer */
			for (size_t k = i; environ[k]; k++)
				environ[k] = environ[k + 1];
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
	enum { LIBRARIES, SYMLINKS, LDCACHE } kind;
	if (!strcmp(name, NVB_HOOK_LIBRARIES))
		kind = LIBRARIES;
	else if (!strcmp(name, "create-symlinks"))
		kind = SYMLINKS;
	else if (!strcmp(name, "update-ldcache"))
		kind = LDCACHE;
	else
		return nvb_cli_usage_error("unknown hook '%s' (use libraries, create-symlinks or "
					   "update-ldcache)", name);
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			hook_usage(stdout);
			return NVB_EXIT_OK;
		}
	struct nvb_error err;
	nvb_error_clear(&err);
	struct nvb_libplan plan = {0};
	char **values = calloc((size_t)argc, sizeof(char *));
	size_t n = 0;
	int rootfd = -1, r = 0;
	if (!values)
		r = nvb_error_nomem(&err);
	else if (kind == LIBRARIES)
		r = nvb_libplan_parse(&plan, argc - 2, argv + 2, &err);
	for (int i = 2; r == 0 && kind != LIBRARIES && i < argc; i++) {
		const char *want = kind == SYMLINKS ? "--link" : "--folder";
		if (kind == LDCACHE && !strcmp(argv[i], "--ldconfig") && i + 1 < argc) {
			/* specs of earlier versions: nvbind no longer runs any ldconfig */
			nvb_warn("hook", "--ldconfig %s ignored: nvbind writes the loader cache itself",
				 argv[++i]);
		} else if (!strcmp(argv[i], want) && i + 1 < argc) {
			values[n++] = argv[++i];
		} else {
			r = nvb_error_set(&err, NVB_ERR_USAGE, 0, "see 'nvbind hook --help'",
					  "unknown or incomplete argument '%s'", argv[i]);
		}
	}
	if (r == 0)
		r = rootfd = nvb_oci_hook_rootfs_open(STDIN_FILENO, plan.stage, &err);
	if (r >= 0) {
		if (kind == LIBRARIES)
			r = nvb_libplan_apply(rootfd, &plan, &err);
		else if (kind == SYMLINKS)
			r = nvb_hook_create_symlinks(rootfd, values, n, &err);
		else
			r = nvb_hook_update_ldcache(rootfd, values, n, &err);
	}
	int rc = NVB_EXIT_OK;
	if (r < 0) {
		nvb_error_prefix(&err, "hook %s", name);
		rc = nvb_cli_fail(&err);
	}
	if (rootfd >= 0)
		close(rootfd);
	free(values);
	nvb_libplan_clear(&plan);
	leave_if_foreign_proc(rc);
	return rc;
}
